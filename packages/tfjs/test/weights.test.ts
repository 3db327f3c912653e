// Sample (frequency) weights: a row of weight w counts as w copies of it, in
// every family, the initializers, shard workers and streaming. The reference
// is always the same fit on the rows replicated w times from the same
// initialization, which must agree up to float32 summation.
import { InvalidArgumentError, createRng } from '@gmmkit/core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  BayesianGaussianMixture,
  GaussianMixture,
  fitStream,
  initBackend,
  kmeansPlusPlusIndices,
  tf,
  type GaussianMixtureConfig,
  type RowSource,
  type WeightedBlock,
} from '../src/index.js';
import { blobs } from './helpers.js';

const FAMILIES = ['full', 'tied', 'diag', 'spherical'] as const;

// Two overlapping 2-D blobs, with ties and duplicates added by the weights' replication.
const X = blobs(120, [[0, 0], [3, 1.5]], [1, 0.6], 5).X;
/** Integer weights 0..3 (some rows dropped, some repeated). */
const W = (() => {
  const rng = createRng(17);
  return X.map(() => rng.int(4));
})();
const replicated = X.flatMap((row, i) => Array.from({ length: W[i]! }, () => row));

/** A fixed initialization (original units) so both fits start from the same parameters. */
function initFor(type: string): Pick<GaussianMixtureConfig, 'weightsInit' | 'meansInit' | 'precisionsInit'> {
  const precisions: Record<string, GaussianMixtureConfig['precisionsInit']> = {
    full: [
      [
        [1, 0.2],
        [0.2, 1],
      ],
      [
        [2, 0],
        [0, 2],
      ],
    ],
    tied: [
      [1, 0.1],
      [0.1, 1],
    ],
    diag: [
      [1, 2],
      [2, 1],
    ],
    spherical: [1, 2],
  };
  return {
    weightsInit: [0.4, 0.6],
    meansInit: [
      [0.5, 0],
      [2, 2],
    ],
    precisionsInit: precisions[type]!,
  };
}

/** Max |a - b| / (1 + |b|). */
function relDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!) / (1 + Math.abs(b[i]!)));
  return m;
}

/** Float32 summation over a few hundred rows: agreement to ~1e-4 relative after 30 iterations. */
const TOL = 2e-4;

function expectSameFit(a: GaussianMixture, b: GaussianMixture): void {
  expect(relDiff(a.state.weights, b.state.weights)).toBeLessThan(TOL);
  expect(relDiff(a.state.means, b.state.means)).toBeLessThan(TOL);
  expect(relDiff(a.state.covariances, b.state.covariances)).toBeLessThan(TOL);
  expect(Math.abs(a.state.lowerBound - b.state.lowerBound)).toBeLessThan(TOL);
  expect(a.state.nIter).toBe(b.state.nIter);
}

beforeAll(async () => {
  await initBackend('wasm');
});

describe('sampleWeight: integer weights equal replicated rows', () => {
  for (const covarianceType of FAMILIES) {
    it(`${covarianceType}: same parameters, lower bound and iterations as the replicated rows`, async () => {
      const options: GaussianMixtureConfig = { nComponents: 2, covarianceType, maxIter: 30, tol: 0, backend: 'wasm', ...initFor(covarianceType) };
      const before = tf.memory().numTensors;
      const weighted = await new GaussianMixture(options).fit(X, { sampleWeight: W });
      const copies = await new GaussianMixture(options).fit(replicated);
      expect(tf.memory().numTensors).toBe(before);
      expectSameFit(weighted, copies);
      // Scoring with the same weights: score, bic and aic of the replicated rows (n = Σ w).
      expect(Math.abs(weighted.score(X, { sampleWeight: W }) - copies.score(replicated))).toBeLessThan(1e-9 + TOL);
      expect(Math.abs(weighted.bic(X, { sampleWeight: W }) - copies.bic(replicated)) / Math.abs(copies.bic(replicated))).toBeLessThan(TOL);
      expect(Math.abs(weighted.aic(X, { sampleWeight: W }) - copies.aic(replicated)) / Math.abs(copies.aic(replicated))).toBeLessThan(TOL);
    });
  }

  it.each(FAMILIES)("%s under prior: 'default' (MAP EM): the data-dependent prior scale is the replicated rows' too", async (covarianceType) => {
    const options: GaussianMixtureConfig = { nComponents: 2, covarianceType, prior: 'default', maxIter: 30, tol: 0, backend: 'wasm', ...initFor(covarianceType) };
    const weighted = await new GaussianMixture(options).fit(X, { sampleWeight: W });
    const copies = await new GaussianMixture(options).fit(replicated);
    expectSameFit(weighted, copies);
  });

  it('weights of 1 give exactly the unweighted fit (same initializer path)', async () => {
    const options: GaussianMixtureConfig = { nComponents: 2, maxIter: 20, seed: 4, backend: 'wasm' };
    const a = await new GaussianMixture(options).fit(X, { sampleWeight: X.map(() => 1) });
    const b = await new GaussianMixture(options).fit(X);
    expect(relDiff(a.state.means, b.state.means)).toBeLessThan(1e-6);
    expect(relDiff(a.state.covariances, b.state.covariances)).toBeLessThan(1e-6);
    expect(a.state.nIter).toBe(b.state.nIter);
  });

  it('a weight of 0 drops the row, wherever it sits (even far away)', async () => {
    const options: GaussianMixtureConfig = { nComponents: 2, covarianceType: 'diag', maxIter: 30, tol: 0, backend: 'wasm', ...initFor('diag') };
    const outlier = [...X, [1e4, -1e4]];
    const a = await new GaussianMixture(options).fit(outlier, { sampleWeight: [...X.map(() => 1), 0] });
    const b = await new GaussianMixture(options).fit(X);
    expectSameFit(a, b);
  });

  it('scaling every weight by a constant leaves the parameters unchanged', async () => {
    const options: GaussianMixtureConfig = { nComponents: 2, maxIter: 30, tol: 0, backend: 'wasm', ...initFor('full') };
    const a = await new GaussianMixture(options).fit(X, { sampleWeight: W.map((w) => w * 0.37) });
    const b = await new GaussianMixture(options).fit(X, { sampleWeight: W });
    expect(relDiff(a.state.means, b.state.means)).toBeLessThan(TOL);
    expect(relDiff(a.state.covariances, b.state.covariances)).toBeLessThan(TOL);
  });
});

describe('sampleWeight: BayesianGaussianMixture equals replicated rows', () => {
  // Separated blobs, so the weighted k-means and the k-means of the replicated rows start from the same labels.
  const sep = blobs(150, [[0, 0], [8, 1], [2, 9]], [1, 0.7, 1.2], 3).X;
  const w = (() => {
    const rng = createRng(23);
    return sep.map(() => rng.int(4));
  })();
  const copies = sep.flatMap((row, i) => Array.from({ length: w[i]! }, () => row));
  const cases = FAMILIES.flatMap((covarianceType) =>
    (['dirichlet-process', 'dirichlet-distribution'] as const).map((prior) => [covarianceType, prior] as const),
  );
  it.each(cases)('%s, %s prior: posterior, priors and ELBO of the replicated rows', async (covarianceType, weightConcentrationPriorType) => {
    const options = { nComponents: 4, covarianceType, weightConcentrationPriorType, maxIter: 40, tol: 0, seed: 1, backend: 'wasm' } as const;
    const before = tf.memory().numTensors;
    const a = await new BayesianGaussianMixture(options).fit(sep, { sampleWeight: w });
    expect(tf.memory().numTensors).toBe(before);
    const b = await new BayesianGaussianMixture(options).fit(copies);
    const [s, t] = [a.state, b.state];
    // the default priors come from the (weighted) data: mean and covariance of the replicated rows
    expect(relDiff(s.meanPrior, t.meanPrior)).toBeLessThan(1e-12);
    expect(relDiff(s.covariancePrior, t.covariancePrior)).toBeLessThan(1e-12);
    expect(relDiff(s.weights, t.weights)).toBeLessThan(TOL);
    expect(relDiff(s.means, t.means)).toBeLessThan(TOL);
    expect(relDiff(s.covariances, t.covariances)).toBeLessThan(TOL);
    expect(relDiff(s.weightConcentration, t.weightConcentration)).toBeLessThan(TOL);
    expect(relDiff(s.meanPrecision, t.meanPrecision)).toBeLessThan(TOL);
    expect(relDiff(s.degreesOfFreedom, t.degreesOfFreedom)).toBeLessThan(TOL);
    // the ELBO is a total over the rows (not a mean), so its tolerance scales with Σ w
    expect(Math.abs(s.lowerBound - t.lowerBound)).toBeLessThan(TOL * Math.abs(t.lowerBound));
    expect(s.nIter).toBe(t.nIter);
    expect(Math.abs(a.score(sep, { sampleWeight: w }) - b.score(copies))).toBeLessThan(TOL);
  });
});

describe('sampleWeight: initializers', () => {
  it('weighted k-means++ never seeds on a row of weight 0 and prefers heavy rows', () => {
    const n = 200;
    const data = Float64Array.from({ length: n }, (_, i) => (i < 100 ? 0 : 10) + (i % 7) * 0.01);
    const weights = Float64Array.from({ length: n }, (_, i) => (i % 2 === 0 ? 0 : 1));
    for (let seed = 0; seed < 20; seed++) {
      const idx = kmeansPlusPlusIndices(data, n, 1, 3, createRng(seed), weights);
      expect(new Set(idx).size).toBe(3);
      for (const i of idx) expect(weights[i]).toBe(1);
    }
    // Weight on two rows only (5 : 1): the first center is always one of them, mostly the heavy one.
    const one = new Float64Array(n);
    one[123] = 5;
    one[7] = 1;
    const firsts = Array.from({ length: 40 }, (_, seed) => kmeansPlusPlusIndices(data, n, 1, 1, createRng(seed), one)[0]);
    expect(firsts.filter((i) => i === 123).length).toBeGreaterThan(firsts.filter((i) => i === 7).length);
    expect(firsts.every((i) => i === 123 || i === 7)).toBe(true);
  });

  for (const initParams of ['kmeans', 'k-means++', 'random', 'random-from-data']) {
    it(`${initParams}: a weighted fit ignores rows of weight 0 (far-away rows never shape a component)`, async () => {
      const far = [...X, ...X.slice(0, 30).map(([a, b]) => [a! + 500, b! - 500])];
      const sampleWeight = [...X.map(() => 1), ...X.slice(0, 30).map(() => 0)];
      const gm = await new GaussianMixture({ nComponents: 2, initParams, seed: 2, backend: 'wasm' }).fit(far, { sampleWeight });
      for (const m of gm.state.means) expect(Math.abs(m)).toBeLessThan(10);
      for (const w of gm.state.weights) expect(w).toBeGreaterThan(0.05);
    });
  }

  it('kmeans: integer weights seed the weighted k-means to the same labels as the replicated rows on separated data', async () => {
    const sep = blobs(60, [[0, 0], [20, 20], [-20, 20]], 1, 9).X;
    const w = sep.map((_, i) => 1 + (i % 3));
    const rep = sep.flatMap((r, i) => Array.from({ length: w[i]! }, () => r));
    const a = await new GaussianMixture({ nComponents: 3, seed: 1, backend: 'wasm' }).fit(sep, { sampleWeight: w });
    const b = await new GaussianMixture({ nComponents: 3, seed: 1, backend: 'wasm' }).fit(rep);
    const sortedMeans = (gm: GaussianMixture) =>
      [0, 1, 2].map((j) => [gm.state.means[2 * j]!, gm.state.means[2 * j + 1]!]).sort((p, q) => p[0]! - q[0]! || p[1]! - q[1]!).flat();
    expect(relDiff(sortedMeans(a), sortedMeans(b))).toBeLessThan(1e-4);
  });
});

describe('sampleWeight: workers and streaming', () => {
  it('sharded across 2 workers: the same fit as one thread', async () => {
    const options: GaussianMixtureConfig = { nComponents: 2, maxIter: 20, tol: 0, chunkSize: 32, backend: 'wasm', ...initFor('full') };
    const one = await new GaussianMixture({ ...options, workers: 0 }).fit(X, { sampleWeight: W });
    const two = await new GaussianMixture({ ...options, workers: 2 }).fit(X, { sampleWeight: W });
    expectSameFit(two, one);
  });

  it('fitStream over WeightedBlocks equals the in-memory weighted fit (n <= sampleSize) and the replicated fit', async () => {
    const d = 2;
    const source: RowSource = {
      d,
      async *blocks(): AsyncIterable<WeightedBlock> {
        for (let start = 0; start < X.length; start += 25) {
          const rows = X.slice(start, start + 25);
          yield { data: Float64Array.from(rows.flat()), weights: Float64Array.from(W.slice(start, start + 25)) };
        }
      },
    };
    for (const covarianceType of ['full', 'diag']) {
      const options: GaussianMixtureConfig = { nComponents: 2, covarianceType, maxIter: 30, tol: 0, backend: 'wasm', ...initFor(covarianceType) };
      const streamed = await fitStream(source, options);
      const copies = await new GaussianMixture(options).fit(replicated);
      expectSameFit(streamed, copies);
    }
    // kmeans initialization on the (whole) weighted sample: the in-memory weighted fit.
    // (tight tol: the streamed passes continue from the sample fit, so both must reach the same fixed point)
    const km: GaussianMixtureConfig = { nComponents: 2, seed: 3, tol: 1e-7, maxIter: 500, backend: 'wasm' };
    const streamedKm = await fitStream(source, km);
    const memory = await new GaussianMixture(km).fit(X, { sampleWeight: W });
    expect(relDiff(streamedKm.state.means, memory.state.means)).toBeLessThan(TOL);
  });

  it('fitStream rejects negative weights and mixed weighted/unweighted blocks', async () => {
    const bad: RowSource = {
      d: 2,
      async *blocks() {
        yield { data: Float64Array.from([0, 0, 1, 1]), weights: Float64Array.from([1, -1]) };
      },
    };
    await expect(fitStream(bad, { nComponents: 1, backend: 'wasm' })).rejects.toThrow(/sampleWeight of row 2 is -1/);
    const mixed: RowSource = {
      d: 2,
      async *blocks() {
        yield { data: Float64Array.from([0, 0, 1, 1]), weights: Float64Array.from([1, 1]) };
        yield Float64Array.from([2, 2]);
      },
    };
    await expect(fitStream(mixed, { nComponents: 1, backend: 'wasm' })).rejects.toThrow(/not weighted but the first block is/);
  });
});

describe('sampleWeight: bad weights are one-line errors', () => {
  const gm = () => new GaussianMixture({ nComponents: 2, backend: 'wasm' });
  const cases: [string, unknown, RegExp][] = [
    ['negative', X.map((_, i) => (i === 3 ? -2 : 1)), /sampleWeight\[3\] is negative \(-2\)/],
    ['NaN', X.map((_, i) => (i === 5 ? Number.NaN : 1)), /sampleWeight\[5\] is not a number/],
    ['infinite', X.map((_, i) => (i === 0 ? Infinity : 1)), /sampleWeight\[0\] is not finite/],
    ['all zero', X.map(() => 0), /sampleWeight is zero for every row/],
    ['wrong length', [1, 2, 3], /sampleWeight has 3 values but the data has 120 rows/],
    ['not an array', 5, /sampleWeight must be an array of numbers/],
  ];
  for (const [what, sampleWeight, message] of cases) {
    it(`${what}`, async () => {
      const before = tf.memory().numTensors;
      const err = await gm()
        .fit(X, { sampleWeight: sampleWeight as number[] })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InvalidArgumentError);
      expect((err as Error).message).toMatch(message);
      expect((err as Error).message).not.toContain('\n');
      expect(tf.memory().numTensors).toBe(before);
    });
  }
  it('fewer rows of positive weight than components', async () => {
    await expect(gm().fit(X, { sampleWeight: X.map((_, i) => (i === 0 ? 1 : 0)) })).rejects.toThrow(
      /nComponents=2 must be <= the number of rows with a positive sampleWeight \(1\)/,
    );
  });
});
