// Optimum quality at the same nInit (issue 11): for every case of
// fixtures/sklearn/optima.json (a dataset, k and covariance type with the best
// mean log-likelihood 50 scikit-learn k-means starts reach), fits at nInit 10
// with plain k-means restarts ('kmeans', scikit-learn's) and with each other
// initializer named, and counts the cases whose score(X) reaches that best
// within a tolerance, with the wall time of the fits. degenerate: 'allow', so
// both sides maximize the same likelihood (scikit-learn has no guard).
// Run: pnpm --filter @gmmkit/bench run bench:optima [-- --init emem,smem --limit N --cases iris,faithful]
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { pluginModule } from '@gmmkit/core';
import { GaussianMixture, SMEM_MOVES, createGmmContainer, emEmInitializer, splitMergeInitializer } from '@gmmkit/tfjs';
import { csvDataset, type Dataset } from './datasets.js';

interface Case {
  dataset: string;
  path: string;
  k: number;
  covarianceType: string;
  best: number;
  bestOf10: number;
}

/** Reaching the best within TOLERANCE (mean log-likelihood per row): EM stops once an iteration gains less than tol = 1e-3, so runs at one optimum differ by about that. */
export const TOLERANCE = 1e-3;
/** Also reported, to show how the count depends on the tolerance. */
const TOLERANCES = [1e-4, TOLERANCE, 1e-2];

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i < 0 ? undefined : args[i + 1];
};
const inits = [...new Set(['kmeans', ...(flag('init') ?? 'emem').split(',')])];
// Variants named emem-CxI (C candidates, I short iterations) and smem-M, smem-MxI or smem-MxI-pF (M
// split-and-merge moves, each at most I EM iterations, the polish at tol * F; p0: none; smem-kF...: moves
// max(SMEM_MOVES, ceil(F k))) are registered here, to tune the built-ins' constants.
const variants = inits.flatMap((i) => {
  const m = /^emem-(\d+)x(\d+)$/.exec(i);
  if (m !== null) return [emEmInitializer(Number(m[1]), Number(m[2]), i)];
  // scr-CxS-kK[-sP][-mM|-mkF][-t]: screened smem, C candidate moves (P split choices per merge pair) x S EM
  // iterations each, the best K run on to convergence, M rounds (default SMEM_MOVES), -t: at the polish tolerance.
  const r = /^scr-(\d+)x(\d+)-k(\d+)(?:-s(\d+))?(?:-m(k?)([\d.]+))?(-t)?$/.exec(i);
  if (r !== null) {
    const f = Number(r[6] ?? SMEM_MOVES);
    const moves = r[5] === 'k' ? (k: number) => Math.max(SMEM_MOVES, Math.ceil(f * k)) : f;
    const screen = { candidates: Number(r[1]), iterations: Number(r[2]), keep: Number(r[3]), splits: Number(r[4] ?? 1), tight: r[7] !== undefined };
    return [splitMergeInitializer({ moves, screen, name: i })];
  }
  // oth-M-cC[-a][-nN]: smem (5 moves, the polish), then up to C other restarts within M times the polish's gain
  // of the best restart's bound polished too (M: a number or inf), best first or, -a, least like the best first;
  // -nN: the polish first and moves ending within N tol of the bound polished too (near); xI: moves of at most I
  // iterations; -pF: the polish at tol * F; -mM|-mkF: M or max(5, ceil(F k)) moves. near-N: near alone.
  const o = /^oth-(inf|[\d.]+)-c(\d+)(-a)?(?:-n([\d.]+))?(?:x(\d+))?(?:-p([\d.e-]+))?(?:-m(k?)([\d.]+))?$/.exec(i);
  if (o !== null) {
    const others = { margin: o[1] === 'inf' ? Infinity : Number(o[1]), count: Number(o[2]), order: o[3] === undefined ? ('bound' as const) : ('apart' as const) };
    const near = o[4] === undefined ? {} : { near: Number(o[4]) };
    const iterations = o[5] === undefined ? {} : { iterations: Number(o[5]) };
    const f = Number(o[8] ?? SMEM_MOVES);
    const moves = o[7] === 'k' ? (k: number) => Math.max(SMEM_MOVES, Math.ceil(f * k)) : f;
    return [splitMergeInitializer({ others, ...near, ...iterations, ...(o[6] === undefined ? {} : { polish: Number(o[6]) }), moves, name: i })];
  }
  const nr = /^near-([\d.]+)$/.exec(i);
  if (nr !== null) return [splitMergeInitializer({ near: Number(nr[1]), name: i })];
  const s = /^smem-(k?)([\d.]+)(?:x(\d+))?(?:-p([\d.e-]+))?$/.exec(i);
  if (s === null) return [];
  const count = Number(s[2]);
  const moves = s[1] === 'k' ? (k: number) => Math.max(SMEM_MOVES, Math.ceil(count * k)) : count;
  const iterations = s[3] === undefined ? Infinity : Number(s[3]);
  return [splitMergeInitializer({ moves, iterations, ...(s[4] === undefined ? {} : { polish: Number(s[4]) }), name: i })];
});
const container = createGmmContainer(pluginModule({ initializers: variants }));
const nInit = Number(flag('n-init') ?? 10);
// --tol: EM's stopping tolerance (default scikit-learn's 1e-3, as the fixture), to tell an optimum missed from one not climbed to the end.
const tol = Number(flag('tol') ?? 1e-3);
// --seed: the fits' seed (default 0), to check a variant tuned at seed 0 on other restarts.
const seed = Number(flag('seed') ?? 0);
const fixture = JSON.parse(readFileSync(`${root}fixtures/sklearn/optima.json`, 'utf8')) as { starts: number; cases: Case[] };
// --cases a,b: only the cases whose "dataset k=K family" label contains one of the strings (development runs).
const only = flag('cases')?.split(',');
const label = (c: Case): string => `${c.dataset} k=${c.k} ${c.covarianceType}`;
const cases = fixture.cases
  .filter((c) => only === undefined || only.some((o) => label(c).includes(o)))
  .slice(0, Number(flag('limit') ?? fixture.cases.length));

const data = new Map<string, Dataset>();
const rows = (c: Case): Dataset => data.get(c.path) ?? data.set(c.path, csvDataset(c.path)).get(c.path)!;

interface Outcome {
  score: number;
  seconds: number;
  /** EM iterations of the fit, short runs included (onIteration calls): the cost, independent of the machine's load. */
  iterations: number;
}

async function fitOnce(c: Case, init: string): Promise<Outcome> {
  const ds = rows(c);
  const X = { data: ds.data, shape: [ds.n, ds.d] as const };
  let iterations = 0;
  const gm = new GaussianMixture({
    nComponents: c.k,
    covarianceType: c.covarianceType,
    nInit,
    tol,
    initParams: init,
    seed,
    degenerate: 'allow',
    convergenceWarning: false,
    container,
    onIteration: () => iterations++,
  });
  const t0 = performance.now();
  try {
    await gm.fit(X);
  } catch (err) {
    // A fit that fails where scikit-learn's completed is a miss (and a finding): reported, not fatal.
    console.log(`${label(c)} ${init}: failed: ${err instanceof Error ? err.message : String(err)}`);
    return { score: -Infinity, seconds: (performance.now() - t0) / 1000, iterations };
  }
  const seconds = (performance.now() - t0) / 1000;
  return { score: gm.score(X), seconds, iterations };
}

const results: { case: Case; outcomes: Record<string, Outcome> }[] = [];
for (const c of cases) {
  const outcomes: Record<string, Outcome> = {};
  // Interleaved per case, so both strategies see the same machine load.
  for (const init of inits) outcomes[init] = await fitOnce(c, init);
  results.push({ case: c, outcomes });
  const line = inits.map((i) => `${i} ${(outcomes[i]!.score - c.best).toExponential(2)} ${outcomes[i]!.seconds.toFixed(2)}s ${outcomes[i]!.iterations} it`).join('  ');
  console.log(`${c.dataset} k=${c.k} ${c.covarianceType}: ${line}`);
}

const reached = (score: number, c: Case, tol: number): boolean => score >= c.best - tol;
const summary = {
  cases: results.length,
  nInit,
  seed,
  referenceStarts: fixture.starts,
  tolerance: TOLERANCE,
  sklearnBestOf10: Object.fromEntries(TOLERANCES.map((t) => [t, results.filter((r) => reached(r.case.bestOf10, r.case, t)).length])),
  inits: Object.fromEntries(
    inits.map((i) => [
      i,
      {
        reached: Object.fromEntries(TOLERANCES.map((t) => [t, results.filter((r) => reached(r.outcomes[i]!.score, r.case, t)).length])),
        seconds: results.reduce((s, r) => s + r.outcomes[i]!.seconds, 0),
        iterations: results.reduce((s, r) => s + r.outcomes[i]!.iterations, 0),
        missed: results.filter((r) => !reached(r.outcomes[i]!.score, r.case, TOLERANCE)).map((r) => `${r.case.dataset} k=${r.case.k} ${r.case.covarianceType}`),
      },
    ]),
  ),
};
console.log(JSON.stringify(summary, null, 1));
const out = flag('out');
if (out !== undefined) writeFileSync(out, JSON.stringify({ summary, results }, null, 1) + '\n');
