// Under degenerate: 'reject', what to do when a component degenerates during
// EM (issue 11): end the restart (reseeds: 0) or re-seed the component and go
// on (reseeds: 3, the default). For every cell of a k = 1..9 x family sweep on
// the repository's datasets with ties and on seeded tied and duplicated sets,
// one fit per mode at nInit 10, seed 0: is a healthy restart found, its
// log-likelihood, the EM iterations; then the k and family BIC picks among
// the healthy cells in each mode, against the generating k where known.
// Run: pnpm --filter @gmmkit/bench run bench:reseed [-- --out file.json]
import { writeFileSync } from 'node:fs';
import { GaussianMixture } from '@gmmkit/tfjs';
import { csvDataset, tiedDatasets, type Dataset } from './datasets.js';

const MODES = { end: 0, reseed: 3 } as const;
type Mode = keyof typeof MODES;
const FAMILIES = ['full', 'tied', 'diag', 'spherical'];
const K_MAX = 9;

interface Cell {
  dataset: string;
  family: string;
  k: number;
  /** Per mode: the kept restart's mean log-likelihood and BIC when healthy (undefined: no healthy restart, or every restart failed). */
  outcomes: Record<Mode, { healthy: boolean; logLikelihood?: number; bic?: number; iterations: number; seconds: number }>;
}

async function fitCell(ds: Dataset, family: string, k: number, mode: Mode): Promise<Cell['outcomes'][Mode]> {
  const X = { data: ds.data, shape: [ds.n, ds.d] as const };
  let iterations = 0;
  const gm = new GaussianMixture({
    nComponents: k,
    covarianceType: family,
    nInit: 10,
    seed: 0,
    reseeds: MODES[mode],
    convergenceWarning: false,
    workers: 0,
    onIteration: () => iterations++,
  });
  const t0 = performance.now();
  try {
    await gm.fit(X);
    const seconds = (performance.now() - t0) / 1000;
    if (gm.state.degeneracy !== undefined) return { healthy: false, iterations, seconds };
    return { healthy: true, logLikelihood: gm.score(X), bic: gm.bic(X), iterations, seconds };
  } catch {
    return { healthy: false, iterations, seconds: (performance.now() - t0) / 1000 };
  } finally {
    gm.dispose();
  }
}

const datasets = [...['thyroid.csv', 'diabetes.csv', 'faithful.csv', 'iris.csv'].map((f) => csvDataset(f)), ...tiedDatasets()];
const cells: Cell[] = [];
for (const ds of datasets)
  for (const family of FAMILIES)
    for (let k = 1; k <= Math.min(K_MAX, Math.floor(ds.n / 10)); k++) {
      const outcomes = {} as Cell['outcomes'];
      // interleaved per cell, so both modes see the same machine load
      for (const mode of Object.keys(MODES) as Mode[]) outcomes[mode] = await fitCell(ds, family, k, mode);
      cells.push({ dataset: ds.name, family, k, outcomes });
      const line = (Object.keys(MODES) as Mode[]).map((m) => `${m} ${outcomes[m].healthy ? outcomes[m].logLikelihood!.toFixed(4) : 'degenerate'} ${outcomes[m].iterations} it`);
      console.log(`${ds.name} ${family} k=${k}: ${line.join('  ')}`);
    }

const modes = Object.keys(MODES) as Mode[];
const choice = (ds: Dataset, mode: Mode): string => {
  const healthy = cells.filter((c) => c.dataset === ds.name && c.outcomes[mode].healthy);
  const best = healthy.reduce((a, b) => (b.outcomes[mode].bic! < a.outcomes[mode].bic! ? b : a));
  return `${best.family} k=${best.k}`;
};
const both = cells.filter((c) => c.outcomes.end.healthy && c.outcomes.reseed.healthy);
const summary = {
  cells: cells.length,
  healthy: Object.fromEntries(modes.map((m) => [m, cells.filter((c) => c.outcomes[m].healthy).length])),
  // cells where both found a healthy fit: which found the higher likelihood (by more than 1e-3 per row)
  higher: {
    end: both.filter((c) => c.outcomes.end.logLikelihood! > c.outcomes.reseed.logLikelihood! + 1e-3).length,
    reseed: both.filter((c) => c.outcomes.reseed.logLikelihood! > c.outcomes.end.logLikelihood! + 1e-3).length,
    same: both.filter((c) => Math.abs(c.outcomes.reseed.logLikelihood! - c.outcomes.end.logLikelihood!) <= 1e-3).length,
  },
  iterations: Object.fromEntries(modes.map((m) => [m, cells.reduce((s, c) => s + c.outcomes[m].iterations, 0)])),
  seconds: Object.fromEntries(modes.map((m) => [m, cells.reduce((s, c) => s + c.outcomes[m].seconds, 0)])),
  chosen: datasets.map((ds) => ({ dataset: ds.name, trueK: ds.trueK, ...Object.fromEntries(modes.map((m) => [m, choice(ds, m)])) })),
};
console.log(JSON.stringify(summary, null, 1));
const i = process.argv.indexOf('--out');
if (i >= 0) writeFileSync(process.argv[i + 1]!, JSON.stringify({ summary, cells }, null, 1) + '\n');
