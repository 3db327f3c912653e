/**
 * `pnpm bench`: gmmkit against scikit-learn, R's mclust and the npm package
 * gaussian-mixture-model, on the same data in one run. Prints tables, writes
 * packages/bench/results/latest.json and docs/benchmarks.md.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Dataset, Family, TempDir } from './data.js';
import { withCommandsNotes } from './commands.js';
import { runDistributedBench } from './distributed.js';
import { FAMILIES, MCLUST_MODEL, createTempDir, generateDataset, initialParameters } from './data.js';
import type { MclustEnv, SklearnEnv, SklearnTaskResult } from './external.js';
import { BENCH_ROOT, probeMclust, probeSklearn, runMclust, runSklearn } from './external.js';
import type { Loaded } from './gmmkit.js';
import { loadModelSelection, loadTfjs, timeGmmkitPerIter, timeGmmkitSweep, useBackend } from './gmmkit.js';
import type { BenchOptions } from './options.js';
import { USAGE, parseArgs } from './options.js';
import { matMulGflops } from './roofline.js';
import type { PeerLoad } from './peer.js';
import { loadPeer, timePeer } from './peer.js';
import type { BenchResults, MachineInfo, Measurement } from './report.js';
import { MCLUST, PEER, SKLEARN, renderMarkdown, renderStdout } from './report.js';

const REPO_ROOT = resolve(BENCH_ROOT, '..', '..');
const log = (msg: string): void => {
  process.stderr.write(`[bench] ${msg}\n`);
};
const errMsg = (err: unknown): string => (err instanceof Error ? err.message.split('\n')[0]! : String(err));
/** `workers` undefined: the engine's default ('auto': shard rows across worker threads when it pays); 0: one thread. */
const gmmkitName = (backend: string, workers?: number): string =>
  workers === undefined
    ? `gmmkit (${backend})`
    : workers === 0
      ? `gmmkit (${backend}, 1 thread)`
      : `gmmkit (${backend}, ${workers} workers)`;

interface Context {
  opts: BenchOptions;
  tmp: TempDir;
  sklearn: SklearnEnv;
  mclust: MclustEnv;
  peer: PeerLoad;
  tfjs: Awaited<ReturnType<typeof loadTfjs>>;
  notes: string[];
}

export function machineInfo(loadStart: number): MachineInfo {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryBytes: os.totalmem(),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    loadAverage: { start: loadStart, end: os.loadavg()[0]! },
  };
}

/** scikit-learn per-iteration tasks for `families` on one data file; results by family. */
function sklearnPerIter(
  ctx: Context,
  ds: Dataset,
  dataPath: string,
  k: number,
  families: readonly Family[],
  idPrefix: string,
): Map<Family, Measurement> {
  const out = new Map<Family, Measurement>();
  if (!ctx.sklearn.available) {
    for (const f of families)
      out.set(f, { implementation: SKLEARN, skipped: ctx.sklearn.reason ?? 'not available' });
    return out;
  }
  const tasks = families.map((family) => ({
    kind: 'per-iter',
    id: `${idPrefix}-${family}`,
    dataPath,
    n: ds.n,
    d: ds.d,
    k,
    covarianceType: family,
    iters: ctx.opts.sizes.iters,
    repeats: ctx.opts.repeats,
    init: initialParameters(ds, k, family, 11),
  }));
  try {
    log(`${SKLEARN}: per-iteration ${families.join(', ')} at N=${ds.n}, D=${ds.d}, K=${k}`);
    const { results } = runSklearn(ctx.tmp.writeJson(`${idPrefix}-sklearn.json`, { tasks }));
    for (const f of families) {
      const r = results.find((x: SklearnTaskResult) => x.id === `${idPrefix}-${f}`);
      if (r?.msPerIter === undefined) {
        out.set(f, { implementation: SKLEARN, skipped: 'no result' });
        continue;
      }
      const m: Measurement = { implementation: SKLEARN, msPerIter: r.msPerIter, runs: r.runs ?? [] };
      if (typeof r['lowerBound'] === 'number') m.lowerBound = r['lowerBound'];
      out.set(f, m);
    }
  } catch (err) {
    for (const f of families) out.set(f, { implementation: SKLEARN, skipped: errMsg(err) });
  }
  return out;
}

function mclustPerIter(
  ctx: Context,
  ds: Dataset,
  dataPath: string,
  k: number,
  family: Family,
  tag: string,
): Measurement {
  if (!ctx.mclust.available) return { implementation: MCLUST, skipped: ctx.mclust.reason ?? 'not available' };
  const init = initialParameters(ds, k, family, 11);
  const meansPath = ctx.tmp.writeDataset(`${tag}-means.f64`, {
    n: k,
    d: ds.d,
    data: Float64Array.from(init.means.flat()),
    kTrue: k,
    seed: 0,
  });
  try {
    log(`${MCLUST}: me() ${MCLUST_MODEL[family]} at N=${ds.n}, D=${ds.d}, K=${k}`);
    const r = runMclust([
      'per-iter',
      dataPath,
      String(ds.n),
      String(ds.d),
      MCLUST_MODEL[family],
      String(k),
      String(ctx.opts.sizes.iters),
      String(ctx.opts.repeats),
      meansPath,
    ]);
    const m: Measurement = {
      implementation: MCLUST,
      msPerIter: r['msPerIter'] as number,
      runs: r['runs'] as number[],
    };
    if (typeof r['iters'] === 'number' && r['iters'] < ctx.opts.sizes.iters)
      m.note = `converged exactly after ${r['iters']} iterations`;
    return m;
  } catch (err) {
    return { implementation: MCLUST, skipped: errMsg(err) };
  }
}

async function gmmkitPerIter(
  ctx: Context,
  backend: string,
  ds: Dataset,
  k: number,
  family: Family,
  workers?: number,
): Promise<{ m: Measurement; iters: number }> {
  const name = gmmkitName(backend, workers);
  const iters = backend === 'cpu' ? ctx.opts.sizes.cpuIters : ctx.opts.sizes.iters;
  if (!ctx.tfjs.ok) return { m: { implementation: name, skipped: ctx.tfjs.reason }, iters };
  try {
    await useBackend(ctx.tfjs.mod, backend);
  } catch (err) {
    return { m: { implementation: name, skipped: errMsg(err) }, iters };
  }
  const repeats = backend === 'cpu' ? 1 : ctx.opts.repeats;
  try {
    log(`${name}: ${family} at N=${ds.n}, D=${ds.d}, K=${k}, ${iters} iterations x ${repeats}`);
    const t = await timeGmmkitPerIter(
      ctx.tfjs.mod,
      backend,
      ds,
      k,
      family,
      initialParameters(ds, k, family, 11),
      iters,
      repeats,
      workers,
    );
    const m: Measurement = { implementation: name, msPerIter: t.msPerIter, runs: t.runs };
    if (t.lowerBound !== null) m.lowerBound = t.lowerBound;
    if (t.nIter !== null && t.nIter !== iters) m.note = `ran ${t.nIter} iterations, not ${iters}`;
    return { m, iters };
  } catch (err) {
    return { m: { implementation: name, skipped: errMsg(err) }, iters };
  }
}

/** The main backend's matMul throughput on one thread, for the per-iteration table's roofline column. */
async function roofline(ctx: Context): Promise<{ roofline?: { backend: string; gflops: number; size: number } }> {
  const tf = ctx.tfjs.ok ? ctx.tfjs.mod.tf : undefined;
  if (!ctx.tfjs.ok || tf === undefined) return {};
  const backend = mainBackend(ctx.opts);
  try {
    await useBackend(ctx.tfjs.mod, backend);
    const size = 1024;
    const gflops = matMulGflops(tf, size);
    log(`roofline: ${backend} matMul ${size}x${size}: ${gflops.toFixed(1)} GFLOP/s`);
    return { roofline: { backend, gflops, size } };
  } catch (err) {
    log(`roofline: not measured (${errMsg(err)})`);
    return {};
  }
}

async function perIterSection(ctx: Context, res: BenchResults): Promise<void> {
  const { n, d, k } = ctx.opts.sizes.perIter;
  const ds = generateDataset(n, d, k, 1);
  const dataPath = ctx.tmp.writeDataset('per-iter.f64', ds);
  const sk = sklearnPerIter(ctx, ds, dataPath, k, FAMILIES, 'per-iter');
  const iters: Record<string, number> = {};
  const families: NonNullable<BenchResults['perIter']>['families'] = [];
  for (const family of FAMILIES) {
    const entries: Measurement[] = [];
    for (const backend of ctx.opts.backends) {
      const { m, iters: it } = await gmmkitPerIter(ctx, backend, ds, k, family);
      entries.push(m);
      iters[m.implementation] = it;
      if (backend === mainBackend(ctx.opts)) {
        // The same backend on one thread, next to the default (which may shard rows across workers).
        const single = await gmmkitPerIter(ctx, backend, ds, k, family, 0);
        entries.push(single.m);
        iters[single.m.implementation] = single.iters;
      }
    }
    entries.push(sk.get(family)!);
    entries.push(mclustPerIter(ctx, ds, dataPath, k, family, `per-iter-${family}`));
    families.push({ family, mclustModel: MCLUST_MODEL[family], entries });
  }
  iters[SKLEARN] = ctx.opts.sizes.iters;
  iters[MCLUST] = ctx.opts.sizes.iters;
  res.perIter = { n, d, k, iters, families, ...(await roofline(ctx)) };
  ctx.notes.push(...sameWorkNotes(families, iters));
}

/**
 * gmmkit and scikit-learn start from the same parameters; after the same
 * number of iterations their lower bounds should agree (up to float32).
 */
export function sameWorkNotes(
  families: { family: string; entries: Measurement[] }[],
  iters: Record<string, number>,
): string[] {
  const notes: string[] = [];
  const diffs = new Map<string, number>();
  for (const f of families) {
    const ref = f.entries.find((m) => m.implementation === SKLEARN)?.lowerBound;
    for (const m of f.entries) {
      if (m.note !== undefined) notes.push(`${m.implementation}, ${f.family}: ${m.note}.`);
      if (
        m.implementation === SKLEARN ||
        m.implementation === MCLUST ||
        ref === undefined ||
        m.lowerBound === undefined
      )
        continue;
      // Comparable only after the same number of iterations (the cpu backend runs fewer).
      if (m.implementation.startsWith('gmmkit') && iters[m.implementation] === iters[SKLEARN]) {
        diffs.set(m.implementation, Math.max(diffs.get(m.implementation) ?? 0, Math.abs(m.lowerBound - ref)));
      }
    }
  }
  for (const [impl, diff] of diffs) {
    notes.push(
      `Same work: after the timed fit's iterations, ${impl}'s mean log-likelihood lower bound differs from scikit-learn's by at most ${diff.toExponential(2)} over the families (both started from the same parameters).`,
    );
  }
  return notes;
}

/** The first of the requested backends that is not the slow 'cpu' one (default wasm). */
function mainBackend(opts: BenchOptions): string {
  return opts.backends.find((b) => b !== 'cpu' && b !== 'tensorflow') ?? opts.backends[0] ?? 'wasm';
}

async function peerSection(ctx: Context, res: BenchResults): Promise<void> {
  const { n, d, k } = ctx.opts.sizes.peer;
  const ds = generateDataset(n, d, k, 3);
  const dataPath = ctx.tmp.writeDataset('peer.f64', ds);
  const init = initialParameters(ds, k, 'full', 11);
  const entries: Measurement[] = [];
  if (ctx.peer.ok) {
    try {
      log(`${PEER}: full at N=${n}, D=${d}, K=${k}`);
      const t = timePeer(ctx.peer.ctor, ds, init, ctx.opts.sizes.iters, ctx.opts.repeats);
      entries.push({ implementation: PEER, msPerIter: t.msPerIter, runs: t.runs });
    } catch (err) {
      entries.push({ implementation: PEER, skipped: errMsg(err) });
    }
  } else {
    entries.push({ implementation: PEER, skipped: ctx.peer.reason });
  }
  entries.push((await gmmkitPerIter(ctx, mainBackend(ctx.opts), ds, k, 'full')).m);
  entries.push(sklearnPerIter(ctx, ds, dataPath, k, ['full'], 'peer').get('full')!);
  entries.push(mclustPerIter(ctx, ds, dataPath, k, 'full', 'peer'));
  res.peer = { n, d, k, family: 'full', iters: ctx.opts.sizes.iters, entries };
}

async function sweepSection(ctx: Context, res: BenchResults): Promise<void> {
  const { n, d, kMax } = ctx.opts.sizes.sweep;
  const ds = generateDataset(n, d, 4, 2);
  const dataPath = ctx.tmp.writeDataset('sweep.f64', ds);
  const ks = Array.from({ length: kMax }, (_, i) => i + 1);
  const entries: Measurement[] = [];
  const backend = mainBackend(ctx.opts);
  const msel: Loaded<Parameters<typeof timeGmmkitSweep>[0]> = await loadModelSelection();
  for (const workers of [undefined, 1]) {
    const label = `gmmkit (${backend}, ${workers === undefined ? 'default workers' : 'workers: 1'})`;
    if (!msel.ok) {
      entries.push({ implementation: label, skipped: msel.reason });
      continue;
    }
    try {
      log(
        `${label}: sweep k=1..${kMax} x ${FAMILIES.length} families at N=${n}, D=${d}, x ${ctx.opts.repeats}`,
      );
      const t = await timeGmmkitSweep(msel.mod, backend, ds, ks, FAMILIES, 0, workers, ctx.opts.repeats);
      entries.push({
        implementation: label,
        ms: t.ms,
        runs: t.runs,
        note: `${t.workers === 0 ? 'in-process' : `${t.workers} cells at once (this thread and ${t.workers - 1} worker${t.workers === 2 ? '' : 's'})`}; best ${t.best.covarianceType} k=${t.best.k}${t.failedCells > 0 ? `; ${t.failedCells} cells failed` : ''}`,
      });
    } catch (err) {
      entries.push({ implementation: label, skipped: errMsg(err) });
    }
  }
  if (ctx.sklearn.available) {
    try {
      log(`${SKLEARN}: sweep k=1..${kMax} x ${FAMILIES.length} families`);
      const task = {
        kind: 'sweep',
        id: 'sweep',
        dataPath,
        n,
        d,
        ks,
        covarianceTypes: FAMILIES,
        repeats: ctx.opts.repeats,
        seed: 0,
      };
      const r = runSklearn(ctx.tmp.writeJson('sweep-sklearn.json', { tasks: [task] })).results[0]!;
      const best = r.best as { covarianceType: string; k: number } | undefined;
      entries.push({
        implementation: SKLEARN,
        ms: r.ms!,
        runs: r.runs ?? [],
        note: best ? `best ${best.covarianceType} k=${best.k}` : '',
      });
    } catch (err) {
      entries.push({ implementation: SKLEARN, skipped: errMsg(err) });
    }
  } else {
    entries.push({ implementation: SKLEARN, skipped: ctx.sklearn.reason ?? 'not available' });
  }
  if (ctx.mclust.available) {
    try {
      log(`${MCLUST}: Mclust() G=1..${kMax}`);
      const models = FAMILIES.map((f) => MCLUST_MODEL[f]).join(',');
      const r = runMclust([
        'sweep',
        dataPath,
        String(n),
        String(d),
        '1',
        String(kMax),
        models,
        String(ctx.opts.repeats),
      ]);
      const best = r['best'] as { model: string; k: number };
      entries.push({
        implementation: MCLUST,
        ms: r['ms'] as number,
        runs: r['runs'] as number[],
        note: `Mclust(): hierarchical-clustering init; best ${best.model} k=${best.k}`,
      });
    } catch (err) {
      entries.push({ implementation: MCLUST, skipped: errMsg(err) });
    }
  } else {
    entries.push({ implementation: MCLUST, skipped: ctx.mclust.reason ?? 'not available' });
  }
  res.sweep = { n, d, ks, families: [...FAMILIES], entries };
}

function largeSection(ctx: Context, res: BenchResults): void {
  const { n, d, k, iters } = ctx.opts.sizes.large;
  const seed = 4;
  const backend = mainBackend(ctx.opts);
  const entries: Measurement[] = [];
  const name = gmmkitName(backend);
  log(`${name}: large fit N=${n}, D=${d}, K=${k}, full, ${iters} iterations (child process)`);
  const child = spawnSync(
    process.execPath,
    [
      join(dirname(fileURLToPath(import.meta.url)), 'large-child.js'),
      JSON.stringify({ n, d, k, iters, seed, backend }),
    ],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  if (child.status === 0) {
    const r = JSON.parse(child.stdout.trim().split('\n').pop()!) as { peakRssBytes: number; ms: number };
    entries.push({ implementation: name, peakRssBytes: r.peakRssBytes, ms: r.ms });
  } else {
    entries.push({
      implementation: name,
      skipped: (child.stderr || `exit ${child.status ?? child.signal}`).trim().split('\n').pop()!,
    });
  }
  if (ctx.sklearn.available) {
    const ds = generateDataset(n, d, k, seed);
    const dataPath = ctx.tmp.writeDataset('large.f64', ds);
    const task = {
      kind: 'memory',
      id: 'large',
      dataPath,
      n,
      d,
      k,
      covarianceType: 'full',
      iters,
      init: initialParameters(ds, k, 'full', seed),
    };
    try {
      log(`${SKLEARN}: large fit (own process)`);
      const r = runSklearn(ctx.tmp.writeJson('large-sklearn.json', { tasks: [task] })).results[0]!;
      entries.push({ implementation: SKLEARN, peakRssBytes: r.peakRssBytes!, ms: r.ms! });
    } catch (err) {
      entries.push({ implementation: SKLEARN, skipped: errMsg(err) });
    }
  }
  res.large = { n, d, k, family: 'full', iters, goalBytes: 4 * 2 ** 30, entries };
}

export async function runBench(opts: BenchOptions): Promise<BenchResults> {
  const loadStart = os.loadavg()[0]!;
  log('probing scikit-learn, mclust, gaussian-mixture-model, @gmmkit/tfjs');
  const ctx: Context = {
    opts,
    tmp: createTempDir(),
    sklearn: probeSklearn(),
    mclust: probeMclust(),
    peer: loadPeer(),
    tfjs: await loadTfjs(),
    notes: [],
  };
  const res: BenchResults = {
    format: 'gmmkit.bench',
    version: 1,
    generatedAt: new Date().toISOString(),
    argv: process.argv.slice(2),
    quick: opts.quick,
    repeats: opts.repeats,
    machine: machineInfo(loadStart),
    references: {
      sklearn: ctx.sklearn,
      mclust: ctx.mclust,
      peer: ctx.peer.ok
        ? { available: true, version: ctx.peer.version, choleskyTools: ctx.peer.choleskyTools }
        : { available: false, reason: ctx.peer.reason },
    },
    notes: ctx.notes,
  };
  try {
    if (opts.sections.includes('per-iter')) await perIterSection(ctx, res);
    if (opts.sections.includes('peer')) await peerSection(ctx, res);
    if (opts.sections.includes('sweep')) await sweepSection(ctx, res);
    if (opts.sections.includes('large')) largeSection(ctx, res);
  } finally {
    ctx.tmp.cleanup();
  }
  res.machine = machineInfo(loadStart);
  const { start, end } = res.machine.loadAverage;
  if (Math.max(start, end) > 0.5) {
    ctx.notes.push(
      `The machine was not idle (1-minute load average ${start.toFixed(2)} at the start, ${end.toFixed(2)} at the end, on ${res.machine.cores} cores): other work shares the CPU, so the numbers are noisy.`,
    );
  }
  if (opts.quick)
    ctx.notes.push(
      'Quick run (--quick): small sizes and few repeats, for checking the harness, not for quoting.',
    );
  const kernels = ctx.sklearn.blas?.map((b) => b.kernel ?? 'unknown') ?? [];
  if (kernels.length > 0)
    ctx.notes.push(`numpy's BLAS ran kernel(s): ${kernels.join(', ')} (threadpoolctl).`);
  return res;
}

async function main(): Promise<void> {
  if (process.argv.includes('--distributed')) {
    await runDistributedBench(process.argv.slice(2));
    return;
  }
  let opts: BenchOptions;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${errMsg(err)}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (opts.help) {
    process.stdout.write(USAGE);
    return;
  }
  const res = await runBench(opts);
  const jsonPath = resolve(BENCH_ROOT, opts.out);
  mkdirSync(dirname(jsonPath), { recursive: true });
  writeFileSync(jsonPath, JSON.stringify(res, null, 2) + '\n');
  process.stdout.write('\n' + renderStdout(res));
  process.stdout.write(`\nwrote ${jsonPath}\n`);
  if (opts.docs) {
    const mdPath = join(REPO_ROOT, 'docs', 'benchmarks.md');
    mkdirSync(dirname(mdPath), { recursive: true });
    // The notes after the whole-commands table (this and earlier sessions' runs) are not in the results: kept.
    const generated = renderMarkdown(res);
    writeFileSync(mdPath, existsSync(mdPath) ? withCommandsNotes(generated, readFileSync(mdPath, 'utf8')) : generated);
    process.stdout.write(`wrote ${mdPath}\n`);
  }
  // Worker pools or tfjs backends may keep handles open.
  process.exit(0);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  void main();
}
