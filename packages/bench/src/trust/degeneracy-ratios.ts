// Measures what the degeneracy floor separates (issue 11): for every fit of a
// k x family sweep, the smallest data part of a component's variance (its
// covariance minus regCovar) in any direction, in two units: multiples of the
// data's resolution along that direction (the rounding grid's variance,
// dataResolution) and fractions of the data's own variance there (whitened by
// the data covariance: float32 noise is relative to it). Collapsed components
// have a data part of float32 noise; real ones have one above the grid.
// Run: node dist/trust/degeneracy-ratios.js
import { invertLowerTriangular, matMul, symmetricEigenvalues, symmetrize, transpose, tryCholesky } from '@gmmkit/core';
import { GaussianMixture, dataMoments, dataResolution } from '@gmmkit/tfjs';
import { generateDataset } from '../data.js';
import { csvDataset, tiedDatasets, type Dataset } from './datasets.js';

/** generateDataset(20000, 8, 4, 12) written with 4 decimals: one true component is thin (sd ~1.6e-3) in one direction. */
function thinDataset(): Dataset {
  const g = generateDataset(20000, 8, 4, 12);
  return { name: 'thin', n: g.n, d: g.d, data: g.data.map((v) => Math.round(v * 1e4) / 1e4), trueK: 4 };
}

const datasets: { ds: Dataset; families: string[]; kMax: number }[] = [
  ...['iris.csv', 'faithful.csv', 'thyroid.csv', 'diabetes.csv'].map((f) => ({ ds: csvDataset(f), families: ['full', 'tied', 'diag', 'spherical'], kMax: 9 })),
  ...tiedDatasets().map((ds) => ({ ds, families: ['full', 'tied', 'diag', 'spherical'], kMax: 9 })),
  { ds: thinDataset(), families: ['full'], kMax: 5 },
];

/** Smallest eigenvalue over components of W (Σ_j - reg I) Wᵀ, W = L⁻¹, L Lᵀ = floor(j) [d, d]. */
function smallestWhitened(full: Float64Array, k: number, d: number, reg: number, floor: (j: number) => Float64Array): number {
  let worst = Infinity;
  for (let j = 0; j < k; j++) {
    const w = invertLowerTriangular(tryCholesky(floor(j), d)!, d);
    const s = full.slice(j * d * d, (j + 1) * d * d);
    for (let a = 0; a < d; a++) s[a * d + a] -= reg;
    const x = matMul(matMul(w, s, d, d, d), transpose(w, d, d), d, d, d);
    worst = Math.min(worst, symmetricEigenvalues(symmetrize(x, d), d)[0]!);
  }
  return worst;
}

// gridPerPoint: the data part in units of the grid's variance over the component's points, diag(g²/12) / n_k
// (n for tied): the resolution term of the rule. dataFraction: in units of the data's variance (the float32 term).
console.log('dataset\tfamily\tk\tgridPerPoint\tdataFraction\tminNk\tdegenerate');
for (const { ds, families, kMax } of datasets) {
  const mean = new Float64Array(ds.d);
  for (let i = 0; i < ds.n; i++) for (let a = 0; a < ds.d; a++) mean[a] += ds.data[i * ds.d + a]! / ds.n;
  const centered = ds.data.map((v, i) => v - mean[i % ds.d]!);
  const { dataCovariance } = dataMoments(centered, ds.n, ds.d);
  const resolution = dataResolution(centered, ds.n, ds.d);
  for (const family of families)
    for (let k = 1; k <= kMax; k++) {
      const g = new GaussianMixture({ nComponents: k, covarianceType: family, nInit: 5, seed: 0, degenerate: 'warn', backend: 'wasm' });
      try {
        await g.fit({ data: ds.data, shape: [ds.n, ds.d] });
      } catch (error) {
        console.log(`${ds.name}\t${family}\t${k}\tfailed: ${(error as Error).message.slice(0, 60)}`);
        continue;
      }
      const s = g.state;
      const full = g.fullCovariances();
      const grid = (j: number): Float64Array => {
        const points = family === 'tied' ? ds.n : Math.max(1, s.weights[j]! * ds.n);
        const f = new Float64Array(ds.d * ds.d);
        resolution.forEach((r, a) => (f[a * ds.d + a] = r / points));
        return f;
      };
      const r = smallestWhitened(full, k, ds.d, 1e-6, grid);
      const f = smallestWhitened(full, k, ds.d, 1e-6, () => dataCovariance);
      const nk = Math.min(...Array.from(s.weights, (w) => w * ds.n));
      console.log(`${ds.name}\t${family}\t${k}\t${r.toExponential(2)}\t${f.toExponential(2)}\t${nk.toFixed(1)}\t${s.degeneracy ?? ''}`);
      g.dispose();
    }
}
