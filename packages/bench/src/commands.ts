/**
 * Whole commands, as users run them: `gmm fit`, `gmm sweep` and `gmm predict`
 * on CSV files, each timed as a process from start to exit with its peak
 * resident memory, against the same job done by pandas.read_csv +
 * scikit-learn (and mclust for the sweep) in the same run.
 *
 * `pnpm --filter @gmmkit/bench run bench:commands [--quick] [--repeats N] [--no-mclust]`
 * (--no-mclust: the sweep's mclust column is left out, the slowest cell) writes results/commands.json and results/commands.md, the section of
 * docs/benchmarks.md it also updates.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { generateDataset, createTempDir } from './data.js';
import { BENCH_ROOT, PYTHON, RSCRIPT, probeMclust, probeSklearn, pythonEnv } from './external.js';
import { median } from './stats.js';

const REPO_ROOT = resolve(BENCH_ROOT, '..', '..');
const GMM = join(REPO_ROOT, 'packages', 'cli', 'bin', 'gmm.js');
const MEASURE = join(BENCH_ROOT, 'python', 'measure.py');
const SKLEARN_E2E = join(BENCH_ROOT, 'python', 'e2e_sklearn.py');
const MCLUST_E2E = join(BENCH_ROOT, 'r', 'e2e_mclust.R');

export interface Run {
  seconds: number;
  peakBytes: number;
}

export interface CommandResult {
  command: string;
  /** What the rows are: size and job. */
  job: string;
  gmmkit?: Run | { error: string };
  sklearn?: Run | { error: string };
  mclust?: Run | { error: string };
}

/** Writes n x d rows of the benchmark mixture as CSV with 4 decimals, as users' files look. */
export function writeCsv(path: string, n: number, d: number, k: number, seed: number): void {
  const ds = generateDataset(n, d, k, seed);
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, Array.from({ length: d }, (_, j) => `x${j + 1}`).join(',') + '\n');
    const block = 20_000;
    for (let r0 = 0; r0 < n; r0 += block) {
      const lines: string[] = [];
      for (let r = r0; r < Math.min(n, r0 + block); r++) {
        const row: string[] = [];
        for (let j = 0; j < d; j++) row.push(ds.data[r * d + j]!.toFixed(4));
        lines.push(row.join(','));
      }
      writeSync(fd, lines.join('\n') + '\n');
    }
  } finally {
    closeSync(fd);
  }
}

/** One process run through measure.py: wall seconds and peak RSS of the child. */
export function measure(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Run | { error: string } {
  const res = spawnSync(PYTHON, [MEASURE, '--', ...argv], { encoding: 'utf8', env, maxBuffer: 1 << 26 });
  if (res.status !== 0) return { error: (res.stderr || `exit ${res.status}`).trim().split('\n').slice(-1)[0]! };
  const out = JSON.parse(res.stdout.trim().split('\n').slice(-1)[0]!) as { exit: number; seconds: number; peakBytes: number };
  if (out.exit !== 0) return { error: `exit ${out.exit}: ${res.stderr.trim().split('\n').slice(-1)[0] ?? ''}` };
  return { seconds: out.seconds, peakBytes: out.peakBytes };
}

/** Median seconds and the largest peak over `repeats` runs (the first error ends it). */
function repeated(repeats: number, run: () => Run | { error: string }): Run | { error: string } {
  const runs: Run[] = [];
  for (let i = 0; i < repeats; i++) {
    const r = run();
    if ('error' in r) return r;
    runs.push(r);
  }
  return { seconds: median(runs.map((r) => r.seconds)), peakBytes: Math.max(...runs.map((r) => r.peakBytes)) };
}

export interface CommandSizes {
  fit: { n: number; d: number; k: number };
  sweep: { n: number; d: number; kMax: number };
}

export const COMMAND_SIZES: CommandSizes = { fit: { n: 1_000_000, d: 8, k: 5 }, sweep: { n: 200_000, d: 8, kMax: 8 } };
export const QUICK_COMMAND_SIZES: CommandSizes = { fit: { n: 100_000, d: 8, k: 5 }, sweep: { n: 20_000, d: 8, kMax: 4 } };

export function runCommands(sizes: CommandSizes, repeats: number, log: (m: string) => void, withMclust = true): CommandResult[] {
  const tmp = createTempDir('gmmkit-bench-commands-');
  try {
    const sklearn = probeSklearn();
    const mclust = probeMclust();
    const pandas = sklearn.available && spawnSync(PYTHON, ['-c', 'import pandas'], { env: pythonEnv().env }).status === 0;
    const py = (args: string[]) =>
      pandas ? measure([PYTHON, SKLEARN_E2E, ...args], pythonEnv().env) : { error: 'scikit-learn or pandas not installed' };
    const gmm = (args: string[]) => measure([process.execPath, GMM, ...args]);
    const { fit, sweep } = sizes;
    const fitCsv = join(tmp.path, 'fit.csv');
    const sweepCsv = join(tmp.path, 'sweep.csv');
    log(`writing ${fit.n} x ${fit.d} and ${sweep.n} x ${sweep.d} CSVs`);
    writeCsv(fitCsv, fit.n, fit.d, fit.k, 11);
    writeCsv(sweepCsv, sweep.n, sweep.d, 4, 12);
    const out = (name: string) => join(tmp.path, name);
    const results: CommandResult[] = [];

    log('gmm fit');
    results.push({
      command: 'fit',
      job: `${fit.n.toLocaleString('en')} x ${fit.d} CSV, k = ${fit.k}, full, defaults`,
      gmmkit: repeated(repeats, () => gmm(['fit', fitCsv, '-k', String(fit.k), '--covariance', 'full', '-o', out('g.json'), '--force'])),
      sklearn: repeated(repeats, () => py(['fit', fitCsv, String(fit.k), 'full', out('s.json')])),
    });

    log('gmm predict');
    const haveModels = existsSync(out('g.json')) && existsSync(out('s.json'));
    results.push({
      command: 'predict',
      job: `${fit.n.toLocaleString('en')} x ${fit.d} CSV, labels to CSV`,
      gmmkit: haveModels
        ? repeated(repeats, () => gmm(['predict', out('g.json'), fitCsv, '-o', out('g.csv'), '--force']))
        : { error: 'no model' },
      sklearn: haveModels ? repeated(repeats, () => py(['predict', out('s.json'), fitCsv, out('s.csv')])) : { error: 'no model' },
    });

    log('gmm sweep');
    const families = 'full,tied,diag,spherical';
    results.push({
      command: 'sweep',
      job: `${sweep.n.toLocaleString('en')} x ${sweep.d} CSV, k = 1..${sweep.kMax}, four families, BIC, defaults`,
      gmmkit: repeated(repeats, () =>
        gmm(['sweep', sweepCsv, '-k', `1..${sweep.kMax}`, '--covariance', families, '-o', out('gs.json'), '--force']),
      ),
      sklearn: repeated(repeats, () => py(['sweep', sweepCsv, String(sweep.kMax), families, out('ss.json')])),
      mclust: !withMclust
        ? { error: 'skipped (--no-mclust)' }
        : mclust.available
        ? repeated(repeats, () => measure([RSCRIPT, MCLUST_E2E, sweepCsv, String(sweep.kMax), 'VVV,EEE,VVI,VII']))
        : { error: 'R/mclust not installed' },
    });
    return results;
  } finally {
    tmp.cleanup();
  }
}

const fmtS = (r: CommandResult['gmmkit']): string => (r === undefined ? '' : 'error' in r ? 'error' : `${r.seconds.toFixed(2)} s`);
const fmtM = (r: CommandResult['gmmkit']): string =>
  r === undefined || 'error' in r ? '' : `${(r.peakBytes / 2 ** 20).toFixed(0)} MiB`;
function ratio(a: CommandResult['gmmkit'], b: CommandResult['gmmkit'], key: keyof Run): string {
  if (a === undefined || b === undefined || 'error' in a || 'error' in b) return '';
  return `${(a[key] / b[key]).toFixed(2)}x`;
}

export function renderCommandsMarkdown(results: readonly CommandResult[], header: string): string {
  const rows = results.map((r) =>
    [
      `\`gmm ${r.command}\``,
      r.job,
      fmtS(r.gmmkit),
      fmtS(r.sklearn),
      ratio(r.gmmkit, r.sklearn, 'seconds'),
      fmtM(r.gmmkit),
      fmtM(r.sklearn),
      ratio(r.gmmkit, r.sklearn, 'peakBytes'),
      r.mclust === undefined ? '' : `${fmtS(r.mclust)} (${ratio(r.gmmkit, r.mclust, 'seconds')})`,
    ].join(' | '),
  );
  const errors = results.flatMap((r) =>
    (['gmmkit', 'sklearn', 'mclust'] as const).flatMap((who) => {
      const v = r[who];
      return v !== undefined && 'error' in v ? [`- ${r.command}, ${who}: ${v.error}`] : [];
    }),
  );
  return [
    header,
    '',
    '| command | job | gmmkit | scikit-learn | time ratio | gmmkit peak RSS | scikit-learn peak RSS | memory ratio | mclust (ratio) |',
    '|---|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r} |`),
    ...(errors.length > 0 ? ['', 'Errors:', ...errors] : []),
    '',
  ].join('\n');
}

async function main(argv: readonly string[]): Promise<void> {
  const quick = argv.includes('--quick');
  const ri = argv.indexOf('--repeats');
  const repeats = ri >= 0 ? Number(argv[ri + 1]) : 1;
  const load0 = os.loadavg()[0]!;
  const log = (m: string) => process.stderr.write(`[bench:commands] ${m}\n`);
  const results = runCommands(quick ? QUICK_COMMAND_SIZES : COMMAND_SIZES, repeats, log, !argv.includes('--no-mclust'));
  const cpus = os.cpus();
  const header = [
    `Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${cpus[0]?.model.trim() ?? 'unknown'}, ${cpus.length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version};`,
    `1-minute load ${load0.toFixed(1)} at the start, ${os.loadavg()[0]!.toFixed(1)} at the end; median of ${repeats} run${repeats === 1 ? '' : 's'} per cell.`,
    'Each cell is one whole process, from start to exit (reading the CSV, fitting, writing the output), timed by packages/bench/python/measure.py,',
    'with its peak resident set (worker threads included). scikit-learn reads with pandas.read_csv (packages/bench/python/e2e_sklearn.py); mclust with read.csv (packages/bench/r/e2e_mclust.R).',
  ].join('\n');
  const md = renderCommandsMarkdown(results, header);
  process.stdout.write(md);
  const resultsDir = join(BENCH_ROOT, 'results');
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, quick ? 'commands-quick.json' : 'commands.json'), JSON.stringify({ results, load0 }, null, 2));
  if (!quick) {
    // docs/benchmarks.md includes results/commands.md (report.ts); its section is replaced in place here too.
    const section = `${COMMANDS_HEADING}\n\n_\`pnpm --filter @gmmkit/bench run bench:commands\`._ ${md}`;
    writeFileSync(join(resultsDir, 'commands.md'), section);
    const doc = join(REPO_ROOT, 'docs', 'benchmarks.md');
    if (existsSync(doc)) writeFileSync(doc, withCommandsSection(readFileSync(doc, 'utf8'), section));
  }
}

const COMMANDS_HEADING = '## Whole commands against scikit-learn and mclust';

/**
 * docs/benchmarks.md with its generated part of the whole-commands section
 * (the heading through the first table after it) replaced by `section`, or
 * `section` appended when there is none. What follows the table (notes on
 * this and earlier runs) stays.
 */
export function withCommandsSection(text: string, section: string): string {
  const at = text.indexOf(COMMANDS_HEADING);
  if (at < 0) return text.trimEnd() + '\n\n' + section;
  return text.slice(0, at) + section.trimEnd() + (notesAfterCommands(text) || '\n');
}

/**
 * `generated` (`pnpm bench`'s docs/benchmarks.md, whose whole-commands
 * section comes from results/commands.md) with the notes that follow that
 * section's table in `previous` (the file it replaces) kept after it.
 */
export function withCommandsNotes(generated: string, previous: string): string {
  const notes = notesAfterCommands(previous);
  return notes === '' ? generated : generated.trimEnd() + notes;
}

/** What follows the whole-commands section's first table in `text` (from the blank line after it), or ''. */
function notesAfterCommands(text: string): string {
  const at = text.indexOf(COMMANDS_HEADING);
  const table = at < 0 ? -1 : text.indexOf('\n|', at);
  const end = table < 0 ? -1 : text.indexOf('\n\n', table);
  return end < 0 ? '' : text.slice(end);
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) {
  await main(process.argv.slice(2));
}
