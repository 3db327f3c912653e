/**
 * The reference implementations run as child processes: scikit-learn through
 * /usr/bin/python3 and R's mclust through Rscript, each reading the data file
 * the harness wrote.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PYTHON = process.env['GMM_BENCH_PYTHON'] ?? '/usr/bin/python3';
export const RSCRIPT = process.env['GMM_BENCH_RSCRIPT'] ?? 'Rscript';

const here = dirname(fileURLToPath(import.meta.url));
/** packages/bench (works from src/ under vitest and from dist/). */
export const BENCH_ROOT = join(here, '..');
export const SKLEARN_SCRIPT = join(BENCH_ROOT, 'python', 'bench_sklearn.py');
export const MCLUST_SCRIPT = join(BENCH_ROOT, 'r', 'bench_mclust.R');

/** Variables that, where set, pin OpenBLAS to an old kernel; unset together for the benchmark's python only. */
export const OPENBLAS_PINS = ['OPENBLAS_CORETYPE', 'OPENBLAS_L2_SIZE'] as const;

/** The environment for the benchmark's python: ours minus the OpenBLAS pins. */
export function pythonEnv(base: NodeJS.ProcessEnv = process.env): {
  env: NodeJS.ProcessEnv;
  unset: string[];
} {
  const env = { ...base };
  const unset: string[] = [];
  for (const name of OPENBLAS_PINS) {
    if (env[name] !== undefined) {
      unset.push(`${name}=${env[name]}`);
      delete env[name];
    }
  }
  return { env, unset };
}

/** True when `python -c 'import sklearn'` succeeds. */
export function sklearnAvailable(python = PYTHON): boolean {
  try {
    const r = spawnSync(python, ['-c', 'import sklearn'], {
      stdio: 'ignore',
      env: pythonEnv().env,
      timeout: 60_000,
    });
    return r.status === 0;
  } catch {
    return false;
  }
}

export interface SklearnEnv {
  available: boolean;
  reason?: string;
  python?: string;
  sklearn?: string;
  numpy?: string;
  blas?: { library?: string; version?: string; kernel?: string; threads?: number; note?: string }[];
  /** OpenBLAS pins that were set in our environment and removed for python. */
  unsetForPython?: string[];
}

export function probeSklearn(python = PYTHON): SklearnEnv {
  if (!sklearnAvailable(python)) {
    return {
      available: false,
      reason: `\`${python} -c 'import sklearn'\` failed (apt-get install python3-sklearn)`,
    };
  }
  const { env, unset } = pythonEnv();
  const r = spawnSync(python, [SKLEARN_SCRIPT, '--probe'], { encoding: 'utf8', env });
  try {
    const info = JSON.parse(r.stdout) as SklearnEnv;
    return { ...info, unsetForPython: unset };
  } catch {
    return { available: false, reason: `probe failed: ${r.stderr.trim().split('\n').pop() ?? ''}` };
  }
}

export interface SklearnTaskResult {
  id: string;
  msPerIter?: number;
  ms?: number;
  runs?: number[];
  peakRssBytes?: number;
  best?: unknown;
  [key: string]: unknown;
}

/** Run the python tasks described in `configPath`; progress goes to our stderr. */
export function runSklearn(
  configPath: string,
  python = PYTHON,
): { env: SklearnEnv; results: SklearnTaskResult[] } {
  const { env } = pythonEnv();
  const r = spawnSync(python, [SKLEARN_SCRIPT, configPath], {
    encoding: 'utf8',
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0) throw new Error(`bench_sklearn.py exited with ${r.status ?? r.signal}`);
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as { env: SklearnEnv; results: SklearnTaskResult[] };
}

export interface MclustEnv {
  available: boolean;
  reason?: string;
  r?: string;
  mclust?: string;
}

export const MCLUST_SKIP = 'skipped: R/mclust not installed (apt-get install r-cran-mclust)';

export function probeMclust(rscript = RSCRIPT): MclustEnv {
  if (!existsSync(MCLUST_SCRIPT)) return { available: false, reason: `missing ${MCLUST_SCRIPT}` };
  try {
    const r = spawnSync(rscript, [MCLUST_SCRIPT, 'probe'], { encoding: 'utf8', timeout: 60_000 });
    if (r.error || r.status !== 0) return { available: false, reason: MCLUST_SKIP };
    const info = JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as MclustEnv;
    return info.available ? info : { available: false, reason: MCLUST_SKIP };
  } catch {
    return { available: false, reason: MCLUST_SKIP };
  }
}

/** Run bench_mclust.R with `args`; returns its JSON line. */
export function runMclust(args: string[], rscript = RSCRIPT): Record<string, unknown> {
  const r = spawnSync(rscript, [MCLUST_SCRIPT, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 16 * 1024 * 1024,
  });
  if (r.status !== 0)
    throw new Error(`bench_mclust.R ${args[0]} failed: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
}
