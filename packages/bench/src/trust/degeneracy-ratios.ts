// Measures what the degeneracy threshold separates (issue 11): for every fit
// of a k x family sweep, the smallest standardized eigenvalue of a component's
// covariance beyond regCovar (what PINNED_VARIANCE_RATIO is compared with) and
// the smallest effective component size. Run: node dist/trust/degeneracy-ratios.js
import { symmetricEigenvalues } from '@gmmkit/core';
import { GaussianMixture, dataMoments } from '@gmmkit/tfjs';
import { csvDataset, syntheticDataset, type Dataset } from './datasets.js';

const datasets: Dataset[] = [
  csvDataset('iris.csv'),
  csvDataset('faithful.csv'),
  csvDataset('thyroid.csv'),
  csvDataset('diabetes.csv'),
  syntheticDataset({ name: 'counts', k: 3, d: 3, size: 120, spread: 4, seed: 1, grid: 1 }),
  syntheticDataset({ name: 'survey', k: 3, d: 5, size: 100, spread: 2, seed: 2, grid: 1, clamp: [1, 7] }),
];

function minRatio(full: Float64Array, k: number, d: number, reg: number, variance: Float64Array): number {
  let worst = Infinity;
  const s = new Float64Array(d * d);
  for (let j = 0; j < k; j++) {
    for (let a = 0; a < d; a++)
      for (let b = 0; b < d; b++) s[a * d + b] = (full[j * d * d + a * d + b]! - (a === b ? reg : 0)) / Math.sqrt(variance[a]! * variance[b]!);
    worst = Math.min(worst, symmetricEigenvalues(s, d)[0]!);
  }
  return worst;
}

console.log('dataset\tfamily\tk\tminRatio\tminNk\tdegenerate');
for (const ds of datasets) {
  const mean = new Float64Array(ds.d);
  for (let i = 0; i < ds.n; i++) for (let a = 0; a < ds.d; a++) mean[a] += ds.data[i * ds.d + a]! / ds.n;
  const centered = ds.data.map((v, i) => v - mean[i % ds.d]!);
  const variance = dataMoments(centered, ds.n, ds.d).dataVariance;
  for (const family of ['full', 'tied', 'diag', 'spherical'])
    for (let k = 1; k <= 9; k++) {
      const g = new GaussianMixture({ nComponents: k, covarianceType: family, nInit: 5, seed: 0, degenerate: 'warn', backend: 'cpu' });
      try {
        await g.fit({ data: ds.data, shape: [ds.n, ds.d] });
      } catch (error) {
        console.log(`${ds.name}\t${family}\t${k}\tfailed: ${(error as Error).message.slice(0, 60)}`);
        continue;
      }
      const s = g.state;
      const r = minRatio(g.fullCovariances(), k, ds.d, 1e-6, variance);
      const nk = Math.min(...Array.from(s.weights, (w) => w * ds.n));
      console.log(`${ds.name}\t${family}\t${k}\t${r.toExponential(2)}\t${nk.toFixed(1)}\t${s.degeneracy ?? ''}`);
    }
}
