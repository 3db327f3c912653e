// One direct test per bug that a mutation run (issue 12) showed no test would
// catch: each is named for the bug it guards against, and each was checked to
// fail with that bug put in (see /work/notes/12.md).
import { createRng, registerPlugins, solveLower, tryCholesky, type Initializer } from '@gmmkit/core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  GaussianMixture,
  createGmmContainer,
  emPass,
  initBackend,
  kmeansInitializer,
  kmeansPlusPlusIndices,
  lloyd,
  tf,
  uploadBlocks,
  type GaussianMixtureJSON,
} from '../src/index.js';
import { blobs, irisLike } from './helpers.js';

const iris = irisLike();

beforeAll(async () => {
  await initBackend('wasm');
});

/** A full-covariance model from parameters (through fromJSON, so no fit is involved). */
async function fullModel(weights: number[], means: number[][], covariances: number[][][]): Promise<GaussianMixture> {
  const k = weights.length;
  const d = means[0]!.length;
  const json: GaussianMixtureJSON = {
    format: 'gmmkit.gaussian-mixture',
    version: 1,
    covarianceType: 'full',
    k,
    d,
    weights,
    means,
    covariances: { shape: [k, d, d], values: covariances.flat(2) },
    converged: true,
    nIter: 1,
    lowerBound: 0,
    lowerBoundHistory: [0],
    nSamples: 100,
    options: { tol: 1e-3, regCovar: 1e-6, maxIter: 100, nInit: 1, initParams: 'kmeans', seed: 0 },
  };
  return GaussianMixture.fromJSON(json);
}

/** log N(x | mean, cov) on the host, float64, by Cholesky. */
function logNormal(x: readonly number[], mean: ArrayLike<number>, cov: Float64Array): number {
  const d = x.length;
  const l = tryCholesky(cov, d);
  if (l === null) throw new Error('covariance not SPD');
  const z = solveLower(l, Float64Array.from(x, (v, i) => v - mean[i]!), d);
  let q = 0;
  let logDet = 0;
  for (let i = 0; i < d; i++) {
    q += z[i]! ** 2;
    logDet += 2 * Math.log(l[i * d + i]!);
  }
  return -0.5 * (d * Math.log(2 * Math.PI) + logDet + q);
}

/** log Σ_j w_j N(x | μ_j, Σ_j) on the host, float64, with the max shift. */
function hostLogLikelihood(x: readonly number[], weights: ArrayLike<number>, means: ArrayLike<number>, covs: Float64Array): number {
  const d = x.length;
  const terms = Array.from(weights, (w, j) =>
    Math.log(w) + logNormal(x, Array.from({ length: d }, (_, c) => means[j * d + c]!), covs.subarray(j * d * d, (j + 1) * d * d)),
  );
  const max = Math.max(...terms);
  return max + Math.log(terms.reduce((s, t) => s + Math.exp(t - max), 0));
}

describe('bug: row log-sum-exp without the max shift (an outlier row scores -Infinity)', () => {
  it('scoreSamples and predictProba stay finite and exact for a row far from every component', async () => {
    const gm = await fullModel([0.4, 0.6], [[0, 0], [1, 1]], [[[0.01, 0], [0, 0.01]], [[0.02, 0.005], [0.005, 0.01]]]);
    const outlier = [[1000, -1000]];
    const expected = hostLogLikelihood(outlier[0]!, gm.state.weights, gm.state.means, gm.fullCovariances());
    expect(expected).toBeLessThan(-1e7); // every exp(log w + log N) underflows to 0 unshifted
    const [score] = gm.scoreSamples(outlier);
    expect(Number.isFinite(score)).toBe(true);
    expect(Math.abs(score! - expected) / Math.abs(expected)).toBeLessThan(1e-6); // float32 distances
    const proba = gm.predictProba(outlier).data;
    expect(Array.from(proba).every(Number.isFinite)).toBe(true);
    expect(proba[0]! + proba[1]!).toBeCloseTo(1, 12);
    const { scores, proba: joint } = gm.scoreSamplesAndProba(outlier);
    expect(scores[0]).toBe(score);
    expect(Array.from(joint.data)).toEqual(Array.from(proba));
  });
});

describe('bug: sample() drawing with the transposed Cholesky factor, or with Σ instead of its factor', () => {
  it('20k draws from a correlated, anisotropic model have each component’s mean and covariance within 4 standard errors', async () => {
    const means = [
      [0, 0, 0],
      [10, -5, 3],
    ];
    const covs = [
      [
        [4, 1.8, -1.2],
        [1.8, 1, -0.4],
        [-1.2, -0.4, 2],
      ],
      [
        [0.5, -0.6, 0.3],
        [-0.6, 3, 0.9],
        [0.3, 0.9, 1.5],
      ],
    ];
    const gm = await fullModel([0.35, 0.65], means, covs);
    const { X, labels } = gm.sample(20_000, 11);
    for (let j = 0; j < 2; j++) {
      const rows: number[][] = [];
      for (let i = 0; i < X.rows; i++) if (labels[i] === j) rows.push(Array.from(X.data.subarray(i * 3, i * 3 + 3)));
      const n = rows.length;
      expect(n).toBeGreaterThan(5000);
      const mean = [0, 1, 2].map((a) => rows.reduce((s, r) => s + r[a]!, 0) / n);
      const S = covs[j]!;
      for (let a = 0; a < 3; a++) {
        expect(Math.abs(mean[a]! - means[j]![a]!), `component ${j} mean[${a}]`).toBeLessThan(4 * Math.sqrt(S[a]![a]! / n));
        for (let b = 0; b < 3; b++) {
          const cov = rows.reduce((s, r) => s + (r[a]! - mean[a]!) * (r[b]! - mean[b]!), 0) / (n - 1);
          // Var of a sample covariance entry under normality: (Σaa Σbb + Σab²) / n.
          const se = Math.sqrt((S[a]![a]! * S[b]![b]! + S[a]![b]! ** 2) / n);
          expect(Math.abs(cov - S[a]![b]!), `component ${j} cov[${a}][${b}] = ${cov}`).toBeLessThan(4 * se);
        }
      }
    }
  });
});

describe('bug: bic(X) on rows other than the training rows using ln(nSamples) instead of ln(rows scored)', () => {
  it('bic and aic of 40 new rows use those 40 rows', async () => {
    const gm = await new GaussianMixture({ nComponents: 3, seed: 0 }).fit(iris.X);
    expect(gm.state.nSamples).toBe(150);
    const other = irisLike(99).X.slice(0, 40);
    const ll = gm.scoreSamples(other).reduce((s, v) => s + v, 0);
    const p = gm.nParameters();
    expect(gm.bic(other)).toBeCloseTo(-2 * ll + p * Math.log(40), 6);
    expect(gm.aic(other)).toBeCloseTo(-2 * ll + 2 * p, 6);
    // and on the training rows, ln 150
    const llTrain = gm.scoreSamples(iris.X).reduce((s, v) => s + v, 0);
    expect(gm.bic(iris.X)).toBeCloseTo(-2 * llTrain + p * Math.log(150), 6);
  });
});

describe('bug: an initializer plugin’s returned means and weights silently ignored', () => {
  it('the first lower bound is the host log-likelihood of exactly the plugin’s means and weights', async () => {
    const container = createGmmContainer();
    const picks = [0, 60, 120];
    const weights = [0.2, 0.3, 0.5];
    const chosen: Initializer = {
      name: 'chosen-rows',
      description: 'rows 0, 60 and 120 as means, fixed unequal weights',
      initialize: ({ data, d }) => ({
        kind: 'means',
        means: Float64Array.from(picks.flatMap((r) => Array.from(data.subarray(r * d, (r + 1) * d)))),
        weights: Float64Array.from(weights),
      }),
    };
    registerPlugins(container, { initializers: [chosen] });
    // The initial covariances: the M-step of the one-hot nearest-mean responsibilities (regCovar 1e-6).
    const means = picks.flatMap((r) => iris.X[r]!);
    const d = 4;
    const labels = iris.X.map((x) => {
      const dist = (j: number) => x.reduce((s, v, c) => s + (v - means[j * d + c]!) ** 2, 0);
      return [0, 1, 2].reduce((b, j) => (dist(j) < dist(b) ? j : b), 0);
    });
    const covs = new Float64Array(3 * d * d);
    for (let j = 0; j < 3; j++) {
      const rows = iris.X.filter((_, i) => labels[i] === j);
      const m = [0, 1, 2, 3].map((c) => rows.reduce((s, r) => s + r[c]!, 0) / rows.length);
      for (let a = 0; a < d; a++)
        for (let b = 0; b < d; b++)
          covs[j * d * d + a * d + b] = rows.reduce((s, r) => s + (r[a]! - m[a]!) * (r[b]! - m[b]!), 0) / rows.length + (a === b ? 1e-6 : 0);
    }
    const host = iris.X.reduce((s, x) => s + hostLogLikelihood(x, weights, means, covs), 0) / iris.X.length;
    // maxIter 0 returns the initialization itself: exactly the plugin's means and weights (data units), its covariances.
    const zero = await new GaussianMixture({ nComponents: 3, initParams: 'chosen-rows', container, maxIter: 0 }).fit(iris.X);
    Array.from(zero.state.means).forEach((m, i) => expect(m).toBeCloseTo(means[i]!, 10));
    expect(Array.from(zero.state.weights)).toEqual(weights);
    Array.from(zero.fullCovariances()).forEach((c, i) => expect(c).toBeCloseTo(covs[i]!, 6)); // float32 statistics
    expect(zero.state.lowerBound).toBeCloseTo(host, 4); // float32 E-step
    // EM's first iteration scores exactly the plugin's means and weights.
    const one = await new GaussianMixture({ nComponents: 3, initParams: 'chosen-rows', container, maxIter: 1, convergenceWarning: false }).fit(iris.X);
    expect(one.state.lowerBoundHistory[0]).toBeCloseTo(host, 4);
  });
});

/**
 * scikit-learn's greedy k-means++ (_kmeans_plusplus), written independently
 * of the engine's (linear scans, no binary search), drawing from the same
 * RNG in the same order: the first centre uniformly, then for each next one
 * 2 + ⌊ln k⌋ candidates ∝ D(x)², keeping the lowest potential.
 */
function referenceKmeansPlusPlus(data: Float64Array, n: number, d: number, k: number, seed: number): number[] {
  const rng = createRng(seed);
  const sq = (i: number, j: number) => {
    let s = 0;
    for (let c = 0; c < d; c++) s += (data[i * d + c]! - data[j * d + c]!) ** 2;
    return s;
  };
  const centers = [rng.int(n)];
  let closest = Array.from({ length: n }, (_, i) => sq(i, centers[0]!));
  const trials = 2 + Math.floor(Math.log(k));
  while (centers.length < k) {
    const total = closest.reduce((a, b) => a + b, 0);
    let best: { index: number; potential: number; dist: number[] } | undefined;
    for (let t = 0; t < trials; t++) {
      const u = rng.next() * total;
      let acc = 0;
      let cand = n - 1;
      for (let i = 0; i < n; i++) {
        acc += closest[i]!;
        if (acc > u) {
          cand = i;
          break;
        }
      }
      const dist = closest.map((c, i) => Math.min(c, sq(i, cand)));
      const potential = dist.reduce((a, b) => a + b, 0);
      if (best === undefined || potential < best.potential) best = { index: cand, potential, dist };
    }
    centers.push(best!.index);
    closest = best!.dist;
  }
  return centers;
}

describe('bug: k-means++ with its first centre fixed at row 0, or without the greedy trials', () => {
  it('picks the same rows as an independent greedy k-means++ driven by the same RNG, for 30 seeds', () => {
    const { X } = blobs(400, [[0, 0], [6, 1], [2, 7], [9, 9], [-4, 5]], [1, 1.5, 0.8, 1.2, 1], 3);
    const data = Float64Array.from(X.flat());
    const firsts = new Set<number>();
    for (let seed = 0; seed < 30; seed++) {
      const got = kmeansPlusPlusIndices(data, 400, 2, 5, createRng(seed));
      expect(got, `seed ${seed}`).toEqual(referenceKmeansPlusPlus(data, 400, 2, 5, seed));
      firsts.add(got[0]!);
    }
    expect(firsts.size).toBeGreaterThan(20); // the first centre is drawn, not fixed
  });
});

describe('bug: nInit keeping the last restart instead of the best', () => {
  it('keeps the restart with the highest final lower bound even when the last one is worse', async () => {
    const finals: number[] = [];
    const histories: number[][] = [];
    const gm = new GaussianMixture({
      nComponents: 4,
      initParams: 'random',
      nInit: 6,
      seed: 7,
      onIteration: (iteration, lowerBound) => {
        if (iteration === 1) histories.push([]);
        histories.at(-1)!.push(lowerBound);
        finals[histories.length - 1] = lowerBound;
      },
    });
    await gm.fit(iris.X);
    expect(finals).toHaveLength(6);
    const best = Math.max(...finals);
    // The case this guards needs a last restart that is not the best.
    expect(finals.at(-1)!).toBeLessThan(best - 1e-6);
    expect(gm.state.lowerBound).toBe(best);
    expect(gm.state.lowerBoundHistory).toEqual(histories[finals.indexOf(best)]);
  });
});

describe('bug: lloydTensor stopping after one update', () => {
  it('the kmeans initializer’s labels are a Lloyd fixed point and equal the host Lloyd run from the same seeding', () => {
    // Overlapping blobs: Lloyd needs several rounds to settle from k-means++ seeds.
    const { X } = blobs(600, [[0, 0], [2.5, 0.5], [1, 2.5], [3, 3]], [1.2, 1, 1.1, 0.9], 5);
    const n = X.length;
    const d = 2;
    const k = 4;
    const data = Float64Array.from(X.flat());
    const x = tf.tensor2d(Float32Array.from(data), [n, d]);
    let labels: number[];
    try {
      const out = kmeansInitializer.initialize({ tf, x, data, n, d, k, rng: createRng(1) });
      if (out.kind !== 'labels') throw new Error('kmeans returns labels');
      labels = Array.from(out.labels);
    } finally {
      x.dispose();
    }
    // Fixed point: every row is nearest to the mean of its own cluster.
    const centers = new Float64Array(k * d);
    const counts = new Array<number>(k).fill(0);
    labels.forEach((j, i) => {
      counts[j]!++;
      for (let c = 0; c < d; c++) centers[j * d + c] += data[i * d + c]!;
    });
    for (let j = 0; j < k; j++) for (let c = 0; c < d; c++) centers[j * d + c] /= counts[j]!;
    let moved = 0;
    labels.forEach((j, i) => {
      const dist = (m: number) => (data[i * d]! - centers[m * d]!) ** 2 + (data[i * d + 1]! - centers[m * d + 1]!) ** 2;
      for (let m = 0; m < k; m++) if (dist(m) < dist(j) - 1e-9) moved++;
    });
    expect(moved).toBe(0);
    // And the same labels as the float64 host Lloyd from the same seeding.
    const seeds = kmeansPlusPlusIndices(data, n, d, k, createRng(1));
    const hostCenters = Float64Array.from(seeds.flatMap((r) => Array.from(data.subarray(r * d, (r + 1) * d))));
    expect(labels).toEqual(Array.from(lloyd(data, n, d, k, hostCenters)));
  });
});

describe('bug: the responsibility cutoff raised from e^-80 to e^-8', () => {
  it('responsibilities near e^-20 still reach the sufficient statistics', () => {
    // Rows near component A; component B sits 6.3 standard deviations away,
    // so every row's responsibility for B is about e^-20: B's whole mass.
    const rows = Array.from({ length: 50 }, (_, i) => [((i % 10) - 4.5) * 0.02]);
    const params = {
      weights: Float64Array.from([0.5, 0.5]),
      means: Float64Array.from([0, 6.3]),
      covariances: Float64Array.from([1, 1]),
    };
    const gm = new GaussianMixture({ nComponents: 2, covarianceType: 'full' });
    const ctx = { tf, k: 2, d: 1 };
    const blocks = uploadBlocks(tf, Float64Array.from(rows.flat()), rows.length, 1, new Float64Array(1), 64);
    try {
      const { stats } = emPass(tf, gm.family, params, blocks, ctx);
      let expected = 0;
      for (const [v] of rows) {
        const a = -0.5 * v! ** 2;
        const b = -0.5 * (v! - 6.3) ** 2;
        expected += Math.exp(b - Math.max(a, b)) / (Math.exp(a - Math.max(a, b)) + Math.exp(b - Math.max(a, b)));
      }
      expect(expected / rows.length).toBeGreaterThan(Math.exp(-21));
      expect(expected / rows.length).toBeLessThan(Math.exp(-19));
      expect(stats.nk[1]).toBeGreaterThan(0);
      expect(Math.abs(stats.nk[1]! - expected) / expected).toBeLessThan(1e-3);
    } finally {
      blocks.dispose();
    }
  });
});
