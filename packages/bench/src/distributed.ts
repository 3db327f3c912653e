/**
 * `pnpm bench --distributed`: what an EM iteration costs on @gmmkit/distributed
 * against the local fit of the same rows from the same initialization.
 *
 * On this machine: a throw-away redis-server, W = 1, 2, 4 `gmm worker`
 * processes (wasm), the rows written as 8 CSV shards. Per iteration it
 * records the wall time (from onIteration), each worker's compute time per
 * pass job (from the workers' "done job" lines) and the overhead = wall -
 * the busiest worker's compute (Redis round trips, job scheduling, encoding,
 * merging, the M-step). A flow over tiny shards with the same K and D gives
 * the pure per-iteration overhead; the projection to M machines is
 * overhead + N x (compute per row) / M.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startRedisServer } from '@gmmkit/distributed/testing';
import type { Dataset } from './data.js';
import { createTempDir, generateDataset, initialParameters } from './data.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const BENCH_ROOT = resolve(HERE, '..');
const REPO_ROOT = resolve(BENCH_ROOT, '..', '..');
const GMM = join(REPO_ROOT, 'packages', 'cli', 'bin', 'gmm.js');
const log = (msg: string): void => void process.stderr.write(`[bench:distributed] ${msg}\n`);

export const DISTRIBUTED_USAGE = `Usage: pnpm bench --distributed [options]

  --quick          N = 100,000 instead of 1,000,000 (writes results/distributed-quick.json, leaves docs alone)
  --workers LIST   worker processes to try (default 1,2,4)
  --iters T        EM iterations per fit (default 5; the first is not timed)
  --no-docs        do not rewrite the measured section of docs/distributed.md
`;

interface Options {
  n: number;
  d: number;
  k: number;
  shards: number;
  workers: number[];
  iters: number;
  quick: boolean;
  docs: boolean;
}

class HelpRequested extends Error {}

function parse(argv: readonly string[]): Options {
  const o: Options = {
    n: 1_000_000,
    d: 16,
    k: 8,
    shards: 8,
    workers: [1, 2, 4],
    iters: 5,
    quick: false,
    docs: true,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--distributed') continue;
    else if (a === '-h' || a === '--help') throw new HelpRequested();
    else if (a === '--quick') {
      o.quick = true;
      o.n = 100_000;
      o.docs = false;
    } else if (a === '--no-docs') o.docs = false;
    else if (a === '--workers') o.workers = (argv[++i] ?? '').split(',').map(Number);
    else if (a === '--iters') o.iters = Number(argv[++i]);
    else throw new Error(`unknown option '${a}'\n\n${DISTRIBUTED_USAGE}`);
  }
  if (o.workers.some((w) => !Number.isInteger(w) || w < 1))
    throw new Error('--workers needs a list of positive integers');
  if (!Number.isInteger(o.iters) || o.iters < 2) throw new Error('--iters needs an integer >= 2');
  return o;
}

const median = (v: number[]): number => {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** Milliseconds between consecutive onIteration calls (iteration 2 onwards: one E-step pass + M-step each). */
function iterationTimer(): { onIteration: () => void; deltas: number[] } {
  const stamps: number[] = [];
  return {
    onIteration: () => void stamps.push(performance.now()),
    get deltas() {
      return stamps.slice(1).map((t, i) => t - stamps[i]!);
    },
  };
}

function writeShards(ds: Dataset, parts: number, dir: string, rows = ds.n): string[] {
  const header = Array.from({ length: ds.d }, (_, j) => `x${j + 1}`).join(',');
  const per = Math.ceil(rows / parts);
  const files: string[] = [];
  for (let p = 0; p < parts; p++) {
    const lines = [header];
    for (let r = p * per; r < Math.min(rows, (p + 1) * per); r++)
      lines.push(Array.from(ds.data.subarray(r * ds.d, (r + 1) * ds.d), (v) => v.toFixed(4)).join(','));
    const file = join(dir, `part-${p + 1}.csv`);
    writeFileSync(file, lines.join('\n') + '\n');
    files.push(file);
  }
  return files;
}

class WorkerProcess {
  readonly child: ChildProcessWithoutNullStreams;
  readonly lines: string[] = [];
  ready: Promise<void>;
  constructor(url: string) {
    this.child = spawn(process.execPath, [GMM, 'worker', '--redis', url, '--backend', 'wasm'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let buffer = '';
    let resolveReady: () => void = () => undefined;
    this.ready = new Promise((r) => (resolveReady = r));
    this.child.stdout.on('data', (b: Buffer) => {
      buffer += b.toString();
      const parts = buffer.split('\n');
      buffer = parts.pop()!;
      for (const line of parts) {
        this.lines.push(line);
        if (line.includes('ready for jobs')) resolveReady();
      }
    });
    this.child.stderr.resume();
    // A worker that exits before it is ready fails the benchmark instead of hanging it.
    const ready = this.ready;
    this.ready = Promise.race([
      ready,
      new Promise<void>((_, reject) =>
        this.child.once('exit', (code) => reject(new Error(`gmm worker exited (code ${code}) before it was ready`))),
      ),
    ]);
  }
  /** Compute ms of each pass job, by flow number (seq). */
  passJobMs(): Map<number, number> {
    const ops = new Map<string, string>();
    const out = new Map<number, number>();
    for (const line of this.lines) {
      const took = /^took job (\S+): fit \S+ (\w+) /.exec(line);
      if (took) ops.set(took[1]!, took[2]!);
      const done = /^done job (\S+): ok in (\d+) ms/.exec(line);
      if (done && ops.get(done[1]!) === 'pass') {
        const seq = Number(done[1]!.split('.')[1]);
        out.set(seq, (out.get(seq) ?? 0) + Number(done[2]));
      }
    }
    return out;
  }
  stop(): Promise<void> {
    return new Promise((r) => {
      this.child.once('exit', () => r());
      this.child.kill('SIGTERM');
    });
  }
}

interface DistributedRun {
  workers: number;
  /** Median wall ms per iteration. */
  iterationMs: number;
  /** Median over iterations of the busiest worker's compute ms. */
  computeMs: number;
  /** Median over iterations of wall - busiest compute. */
  overheadMs: number;
  iterations: number;
}

export interface DistributedResults {
  date: string;
  machine: { cpu: string; cores: number; node: string; loadAverage: [number, number] };
  n: number;
  d: number;
  k: number;
  shards: number;
  iterations: number;
  localMs: number;
  local2ThreadsMs: number;
  runs: DistributedRun[];
  /** Pure overhead: 8 shards of 1000 rows, same K and D, 2 workers. */
  tinyOverheadMs: number;
  /** Compute ms per row and pass on one worker (from the 1-worker run). */
  msPerRow: number;
  projection: { machines: number; iterationMs: number; speedup: number }[];
}

export async function runDistributedBench(argv: readonly string[]): Promise<void> {
  let o: Options;
  try {
    o = parse(argv);
  } catch (err) {
    if (err instanceof HelpRequested) {
      process.stdout.write(DISTRIBUTED_USAGE);
      return;
    }
    process.stderr.write(`${(err as Error).message}\n`);
    process.exitCode = 2;
    return;
  }
  const loadStart = os.loadavg()[0]!;
  const { GaussianMixture, initBackend } = await import('@gmmkit/tfjs');
  const { fitDistributed } = await import('@gmmkit/distributed');
  await initBackend('wasm');
  const tmp = createTempDir('gmmkit-bench-dist-');
  const redis = await startRedisServer();
  try {
    log(`data: N=${o.n}, D=${o.d}, K=${o.k} (full), ${o.shards} CSV shards`);
    const ds = generateDataset(o.n, o.d, o.k, 1);
    // Four decimals, as in the CSV shards: the local fit sees exactly the numbers the workers parse.
    for (let i = 0; i < ds.data.length; i++) ds.data[i] = Number(ds.data[i]!.toFixed(4));
    const init = initialParameters(ds, o.k, 'full', 2);
    const fitOptions = {
      nComponents: o.k,
      covarianceType: 'full',
      tol: 0,
      maxIter: o.iters,
      weightsInit: init.weights,
      meansInit: init.means,
      precisionsInit: init.precisions as number[][][],
      backend: 'wasm' as const,
    };
    const shards = writeShards(ds, o.shards, tmp.path);

    const local = async (workers: number): Promise<number> => {
      const t = iterationTimer();
      const gm = new GaussianMixture({ ...fitOptions, workers, onIteration: t.onIteration });
      await gm.fit({ data: ds.data, shape: [ds.n, ds.d] });
      return median(t.deltas);
    };
    log('local fit, 1 thread');
    const localMs = await local(0);
    log(`  ${localMs.toFixed(0)} ms per iteration; local fit, 2 worker threads`);
    const local2ThreadsMs = await local(2);
    log(`  ${local2ThreadsMs.toFixed(0)} ms per iteration`);

    const distributed = async (w: number, files: string[], iters = o.iters): Promise<DistributedRun> => {
      const workers = Array.from({ length: w }, () => new WorkerProcess(redis.url));
      await Promise.all(workers.map((p) => p.ready));
      try {
        const t = iterationTimer();
        await fitDistributed({
          redis: redis.url,
          shards: files,
          ...fitOptions,
          maxIter: iters,
          onIteration: t.onIteration,
        });
        const walls = t.deltas; // iterations 2..iters = flows seq 2..iters (seq 0 is the scan)
        const per = workers.map((p) => p.passJobMs());
        const compute = walls.map((_, i) => Math.max(...per.map((m) => m.get(i + 2) ?? 0)));
        return {
          workers: w,
          iterationMs: median(walls),
          computeMs: median(compute),
          overheadMs: median(walls.map((wall, i) => wall - compute[i]!)),
          iterations: walls.length,
        };
      } finally {
        await Promise.all(workers.map((p) => p.stop()));
      }
    };
    const runs: DistributedRun[] = [];
    for (const w of o.workers) {
      log(`distributed, ${w} worker${w === 1 ? '' : 's'}`);
      const r = await distributed(w, shards);
      log(
        `  ${r.iterationMs.toFixed(0)} ms per iteration (busiest worker ${r.computeMs.toFixed(0)} ms, overhead ${r.overheadMs.toFixed(0)} ms)`,
      );
      runs.push(r);
    }
    log('pure overhead: 8 shards of 1000 rows, 2 workers, 10 iterations');
    const tinyDir = join(tmp.path, 'tiny');
    mkdirSync(tinyDir);
    const tiny = await distributed(2, writeShards(ds, 8, tinyDir, 8000), 10);
    log(`  ${tiny.iterationMs.toFixed(1)} ms per iteration`);

    const one = runs.find((r) => r.workers === 1) ?? runs[0]!;
    const msPerRow = one.computeMs / o.n / one.workers;
    const projection = [1, 2, 4, 8, 16, 32, 64].map((m) => {
      const iterationMs = tiny.iterationMs + (msPerRow * o.n) / m;
      return { machines: m, iterationMs, speedup: localMs / iterationMs };
    });
    const results: DistributedResults = {
      date: new Date().toISOString(),
      machine: {
        cpu: os.cpus()[0]?.model.trim() ?? 'unknown',
        cores: os.cpus().length,
        node: process.version,
        loadAverage: [loadStart, os.loadavg()[0]!],
      },
      n: o.n,
      d: o.d,
      k: o.k,
      shards: o.shards,
      iterations: o.iters,
      localMs,
      local2ThreadsMs,
      runs,
      tinyOverheadMs: tiny.iterationMs,
      msPerRow,
      projection,
    };
    const markdown = renderDistributed(results);
    process.stdout.write('\n' + markdown + '\n');
    const out = join(BENCH_ROOT, 'results', o.quick ? 'distributed-quick.json' : 'distributed.json');
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, JSON.stringify(results, null, 2) + '\n');
    process.stdout.write(`wrote ${out}\n`);
    if (o.docs) {
      const doc = join(REPO_ROOT, 'docs', 'distributed.md');
      writeFileSync(doc, replaceSection(readFileSync(doc, 'utf8'), markdown));
      process.stdout.write(`wrote ${doc}\n`);
    }
  } finally {
    await redis.dispose();
    tmp.cleanup();
  }
  process.exit(0);
}

const START = '<!-- bench:distributed:start (written by pnpm bench --distributed) -->';
const END = '<!-- bench:distributed:end -->';

function replaceSection(doc: string, body: string): string {
  const a = doc.indexOf(START);
  const b = doc.indexOf(END);
  if (a < 0 || b < a) return `${doc.trimEnd()}\n\n${START}\n${body}\n${END}\n`;
  return `${doc.slice(0, a)}${START}\n${body}\n${doc.slice(b)}`;
}

export function renderDistributed(r: DistributedResults): string {
  const f = (v: number, digits = 0): string => v.toFixed(digits);
  const lines = [
    `Measured ${r.date.slice(0, 10)} on ${r.machine.cpu} (${r.machine.cores} cores, Node ${r.machine.node}, load ${f(r.machine.loadAverage[0], 1)} → ${f(r.machine.loadAverage[1], 1)}); ` +
      `N = ${r.n.toLocaleString('en')}, D = ${r.d}, K = ${r.k}, full covariance, wasm, ${r.shards} CSV shards, median of ${r.iterations - 1} iterations; Redis, coordinator and workers on the same machine.`,
    '',
    '| fit | ms per EM iteration | busiest worker computing | overhead (wall - busiest) |',
    '| --- | ---: | ---: | ---: |',
    `| local, 1 thread | ${f(r.localMs)} | | |`,
    `| local, 2 worker threads | ${f(r.local2ThreadsMs)} | | |`,
    ...r.runs.map(
      (x) =>
        `| distributed, ${x.workers} worker${x.workers === 1 ? '' : 's'} | ${f(x.iterationMs)} | ${f(x.computeMs)} | ${f(x.overheadMs)} |`,
    ),
    `| distributed, 8 shards x 1000 rows, 2 workers (pure overhead) | ${f(r.tinyOverheadMs, 1)} | | |`,
    '',
    `Projection to M machines with one such worker each and the data in M or more shards: ` +
      `iteration ≈ ${f(r.tinyOverheadMs, 1)} ms overhead + N x ${(r.msPerRow * 1000).toFixed(3)} µs per row / M ` +
      `(per-row compute from the 1-worker run; the overhead was measured over localhost: on a network every Redis round trip adds its latency).`,
    '',
    '| machines | projected ms per iteration | vs local 1 thread |',
    '| ---: | ---: | ---: |',
    ...r.projection.map((p) => `| ${p.machines} | ${f(p.iterationMs)} | ${f(p.speedup, 1)}x |`),
  ];
  return lines.join('\n');
}
