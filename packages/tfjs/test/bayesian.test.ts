// BayesianGaussianMixture: options, special functions, JSON, warm start,
// workers and tensor hygiene. Parity with scikit-learn is bayesian-parity.test.ts,
// the ELBO and switch-off properties are properties/bayesian.test.ts.
import { InvalidArgumentError, ModelFormatError } from '@gmmkit/core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  BayesianGaussianMixture,
  GaussianMixture,
  betaln,
  digamma,
  initBackend,
  lgamma,
  loadMixture,
  tf,
} from '../src/index.js';
import { bayesianFixture } from './bayesian-helpers.js';
import { blobs } from './helpers.js';

beforeAll(async () => {
  await initBackend('wasm');
});

const faithful = bayesianFixture.datasets.find((d) => d.dataset === 'faithful')!.X;
const three = blobs(600, [[0, 0], [8, 1], [2, 9]], [1, 0.7, 1.2], 5).X;

describe('special functions match scipy.special (fixture)', () => {
  const s = (bayesianFixture as unknown as { special: { x: number[]; gammaln: number[]; digamma: number[]; betaln: number[][] } }).special;
  it('lgamma, digamma, betaln to 1e-13 relative', () => {
    s.x.forEach((x, i) => {
      expect(Math.abs(lgamma(x) - s.gammaln[i]!)).toBeLessThanOrEqual(1e-13 * Math.max(1, Math.abs(s.gammaln[i]!)));
      expect(Math.abs(digamma(x) - s.digamma[i]!)).toBeLessThanOrEqual(1e-13 * Math.max(1, Math.abs(s.digamma[i]!)));
    });
    for (const [a, b, v] of s.betaln) expect(Math.abs(betaln(a!, b!) - v!)).toBeLessThanOrEqual(1e-13 * Math.max(1, Math.abs(v!)));
  });
});

describe('options', () => {
  it('rejects bad options with one clear error each', async () => {
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ weightConcentrationPriorType: 'dirichlet_process' }, /weightConcentrationPriorType must be/],
      [{ weightConcentrationPrior: 0 }, /weightConcentrationPrior must be a finite number > 0/],
      [{ meanPrecisionPrior: -1 }, /meanPrecisionPrior must be/],
      [{ covarianceType: 'eei' }, /unknown|not registered|supports covarianceType/i],
      [{ meansInit: [[0, 0]] }, /has no meansInit option/],
      [{ meanPrior: [1, 'a'] }, /meanPrior\[1\] must be a finite number/],
    ];
    for (const [options, message] of bad) {
      expect(() => new BayesianGaussianMixture(options as never)).toThrow(message);
    }
    const fitErrors: [Record<string, unknown>, RegExp][] = [
      [{ meanPrior: [1, 2, 3] }, /meanPrior must have shape \[2\] \(one value per feature, 2 features\), got shape \[3\]/],
      [{ degreesOfFreedomPrior: 0.5 }, /degreesOfFreedomPrior must be > d - 1 = 1/],
      [{ covariancePrior: [1, 2] }, /covariancePrior for 'full' must have shape \[2, 2\]/],
      [{ covariancePrior: [[1, 2], [2, 1]] }, /covariancePrior must be positive definite/],
      [{ covarianceType: 'diag', covariancePrior: [1, -1] }, /covariancePrior must be positive definite/],
    ];
    for (const [options, message] of fitErrors) {
      const m = new BayesianGaussianMixture({ nComponents: 2, ...(options as object) });
      await expect(m.fit(faithful)).rejects.toThrow(message);
      await expect(m.fit(faithful)).rejects.toBeInstanceOf(InvalidArgumentError);
    }
  });

  it('uses scikit-learn\'s defaults and takes given priors as they are', async () => {
    const m = await new BayesianGaussianMixture({ nComponents: 3, workers: 0 }).fit(faithful);
    expect(m.state.weightConcentrationPriorType).toBe('dirichlet-process');
    expect(m.state.weightConcentrationPrior).toBeCloseTo(1 / 3, 15);
    expect(m.state.degreesOfFreedomPrior).toBe(2);
    const given = await new BayesianGaussianMixture({
      nComponents: 3,
      covarianceType: 'diag',
      weightConcentrationPriorType: 'dirichlet-distribution',
      weightConcentrationPrior: 2,
      meanPrecisionPrior: 0.5,
      meanPrior: [3, 70],
      degreesOfFreedomPrior: 4,
      covariancePrior: [1, 30],
      workers: 0,
    }).fit(faithful);
    const s = given.state;
    expect([s.weightConcentrationPrior, s.meanPrecisionPrior, s.degreesOfFreedomPrior]).toEqual([2, 0.5, 4]);
    expect(Array.from(s.meanPrior)).toEqual([3, 70]);
    expect(Array.from(s.covariancePrior)).toEqual([1, 30]);
    expect(s.weightConcentration.length).toBe(3);
    // the Dirichlet posterior: α₀ + n_k, which sums to K α₀ + n (n_k summed from float32 responsibilities)
    const total = 3 * 2 + faithful.length;
    expect(Math.abs(s.weightConcentration.reduce((a, b) => a + b, 0) - total)).toBeLessThanOrEqual(1e-6 * total);
  });
});

describe('fitted model', () => {
  it('round-trips through JSON (loadMixture picks the class) with identical predictions and scores', async () => {
    const m = await new BayesianGaussianMixture({ nComponents: 5, covarianceType: 'tied', seed: 2, workers: 0 }).fit(three);
    const json = JSON.stringify(m.toJSON());
    const back = await loadMixture(json);
    expect(back).toBeInstanceOf(BayesianGaussianMixture);
    const b = back as BayesianGaussianMixture;
    expect(Array.from(b.predict(three))).toEqual(Array.from(m.predict(three)));
    expect(b.score(three)).toBe(m.score(three));
    expect(Array.from(b.state.degreesOfFreedom)).toEqual(Array.from(m.state.degreesOfFreedom));
    expect(b.effectiveComponents()).toBe(m.effectiveComponents());
    // A plain model still loads as a GaussianMixture.
    const plain = await new GaussianMixture({ nComponents: 2, workers: 0 }).fit(three);
    expect(await loadMixture(plain.toJSON())).toBeInstanceOf(GaussianMixture);
  });

  it('rejects a corrupt bayesian section with a ModelFormatError naming the field', async () => {
    const m = await new BayesianGaussianMixture({ nComponents: 3, workers: 0 }).fit(three);
    const json = m.toJSON();
    const cases: [unknown, RegExp][] = [
      [{ ...json.bayesian, meanPrecision: [1, 2] }, /bayesian.meanPrecision must be an array of 3 finite numbers/],
      [{ ...json.bayesian, weightConcentration: [1, 2, 3] }, /bayesian.weightConcentration must be an array of 6/],
      [{ ...json.bayesian, degreesOfFreedom: [0.5, 3, 3] }, /degreesOfFreedom values must be > d - 1/],
      [{ ...json.bayesian, weightConcentrationPriorType: 'x' }, /weightConcentrationPriorType must be/],
      [null, /no "bayesian" section/],
    ];
    for (const [section, message] of cases) {
      const bad = { ...json, bayesian: section };
      await expect(BayesianGaussianMixture.fromJSON(bad)).rejects.toThrow(message);
      await expect(BayesianGaussianMixture.fromJSON(bad)).rejects.toBeInstanceOf(ModelFormatError);
    }
  });

  it('warm start continues from the fitted posterior', async () => {
    const m = new BayesianGaussianMixture({ nComponents: 5, maxIter: 10, tol: 0, warmStart: true, workers: 0 });
    await m.fit(three);
    const first = m.state.lowerBound;
    await m.fit(three);
    // The second fit starts where the first stopped: its first ELBO is at least the first fit's last (within float32 noise).
    expect(m.state.lowerBoundHistory[0]!).toBeGreaterThanOrEqual(first - 1e-3 * Math.abs(first));
    expect(m.state.lowerBound).toBeGreaterThanOrEqual(first - 1e-3 * Math.abs(first));
  });

  it('leaves no tensors behind (fit, predict, predictProba, score, sample)', async () => {
    const before = tf.memory().numTensors;
    const m = new BayesianGaussianMixture({ nComponents: 4, covarianceType: 'spherical', nInit: 2, workers: 0 });
    await m.fit(three);
    m.predict(three);
    m.predictProba(three);
    m.score(three);
    const { X } = m.sample(50, 1);
    expect(X.rows).toBe(50);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('shard workers', () => {
  it('a sharded fit (2 workers) equals the single-thread fit', async () => {
    const big = blobs(3000, [[0, 0, 0], [4, 1, -1], [1, 5, 2]], [1, 1.5, 0.7], 11).X;
    const options = { nComponents: 5, maxIter: 15, tol: 0, seed: 3, chunkSize: 256, backend: 'wasm' } as const;
    const one = await new BayesianGaussianMixture({ ...options, workers: 0 }).fit(big);
    const two = await new BayesianGaussianMixture({ ...options, workers: 2 }).fit(big);
    expect(two.state.nIter).toBe(one.state.nIter);
    const rel = (a: ArrayLike<number>, b: ArrayLike<number>) => {
      let m = 0;
      for (let i = 0; i < b.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!) / (1 + Math.abs(b[i]!)));
      return m;
    };
    // Only the float64 summation order of float32 block statistics differs.
    expect(rel(two.state.lowerBoundHistory, one.state.lowerBoundHistory)).toBeLessThan(1e-6);
    expect(rel(two.state.means, one.state.means)).toBeLessThan(1e-6);
    expect(rel(two.state.weightConcentration, one.state.weightConcentration)).toBeLessThan(1e-6);
  });
});
