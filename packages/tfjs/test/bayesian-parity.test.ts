// Parity with scikit-learn 1.2.1's BayesianGaussianMixture on the fixtures of
// fixtures/generate_bayesian.py: iris, faithful and blobs2d x four covariance
// types x both weight prior types, K = 6, from exactly scikit-learn's k-means
// labels (an initializer plugin returns them as responsibilities).
//
// Fixed iterations: each case runs scikit-learn's own number of iterations
// (tol 0, maxIter = its nIter), so both sides stop at the same step and the
// states compare one to one. Tolerances (float32 tensor work against float64):
// - lower bound (the ELBO) after every iteration: |a - b| <= 1e-4 (|b| + n).
//   The ELBO is a sum over n rows of terms of either sign (log-densities,
//   entropies), so its float32 error scales with n as well as with |ELBO|
//   (which cancellation can make small); the mean score: 1e-4 |b|, as
//   GaussianMixture's parity test;
// - weights: 1e-3 b + 1e-6 (surplus components have weights ~1e-4);
// - means: 1e-3 max(|b - mean_j|, sd_j), covariances 1e-3 of the variance
//   scale, as GaussianMixture's parity test;
// - weightConcentration, meanPrecision, degreesOfFreedom (counts n_k plus
//   priors): 1e-3 |b| + 1e-4;
// - predictProba of the first 5 rows: 5e-3; priors (float64 on the host): 1e-9 relative;
// - the number of components with weight > 1e-2: equal.
// With scikit-learn's tol (1e-3 on the ELBO) both converge, to lower bounds
// within 1e-4 (|b| + n) and the same effective number of components; nIter may
// then differ (observed by up to 16 iterations: the ELBO of surplus
// components drifts by about tol per step, so float32 rounding moves the stop).
import { beforeAll, describe, expect, it } from 'vitest';
import { BayesianGaussianMixture, initBackend, tf } from '../src/index.js';
import { bayesianFixture, flat, labelsContainer, type BayesianCase, type BayesianDataset } from './bayesian-helpers.js';

const { nComponents: K, options } = bayesianFixture.provenance;

beforeAll(async () => {
  await initBackend('wasm');
});

function model(c: BayesianCase, overrides: { tol: number; maxIter: number }): BayesianGaussianMixture {
  return new BayesianGaussianMixture({
    nComponents: K,
    covarianceType: c.covarianceType,
    weightConcentrationPriorType: c.weightConcentrationPriorType,
    initParams: 'given-labels',
    container: labelsContainer(c.initLabels, K),
    regCovar: options.regCovar,
    workers: 0,
    ...overrides,
  });
}

function columnStats(X: number[][]): { mean: number[]; sd: number[] } {
  const n = X.length;
  const d = X[0]!.length;
  const mean = new Array<number>(d).fill(0);
  const sd = new Array<number>(d).fill(0);
  for (const row of X) for (let j = 0; j < d; j++) mean[j]! += row[j]! / n;
  for (const row of X) for (let j = 0; j < d; j++) sd[j]! += (row[j]! - mean[j]!) ** 2 / n;
  return { mean, sd: sd.map(Math.sqrt) };
}

/** Every entry outside its tolerance, labelled, so one failure reports them all. */
function mismatches(what: string, got: ArrayLike<number>, want: readonly number[], tolOf: (i: number, b: number) => number): string[] {
  if (got.length !== want.length) return [`${what}: length ${got.length} != ${want.length}`];
  const out: string[] = [];
  for (let i = 0; i < want.length; i++) {
    const tol = tolOf(i, want[i]!);
    if (!(Math.abs(got[i]! - want[i]!) <= tol)) out.push(`${what}[${i}]: got ${got[i]}, sklearn ${want[i]}, tol ${tol.toExponential(2)}`);
  }
  return out;
}

function covarianceTolerance(type: string, want: readonly number[], d: number): (i: number, b: number) => number {
  if (type === 'diag' || type === 'spherical') return (_i, b) => 1e-3 * Math.abs(b);
  return (i, b) => {
    const o = Math.floor(i / (d * d)) * d * d;
    const r = Math.floor((i - o) / d);
    const c = (i - o) % d;
    return 1e-3 * Math.max(Math.abs(b), Math.sqrt(Math.abs(want[o + r * d + r]! * want[o + c * d + c]!)));
  };
}

const cases: [string, BayesianDataset, BayesianCase][] = bayesianFixture.datasets.flatMap((ds) =>
  ds.cases.map((c): [string, BayesianDataset, BayesianCase] => [`${ds.dataset} ${c.covarianceType} ${c.weightConcentrationPriorType}`, ds, c]),
);

describe('BayesianGaussianMixture matches scikit-learn 1.2 at scikit-learn\'s iteration count', () => {
  it.each(cases)('%s', async (_name, ds, c) => {
    const before = tf.memory().numTensors;
    const m = model(c, { tol: 0, maxIter: c.result.nIter });
    await m.fit(ds.X);
    const s = m.state;
    const r = c.result;
    const { mean, sd } = columnStats(ds.X);
    const rel = (t: number) => (_i: number, b: number) => t * Math.abs(b);
    const counts = (_i: number, b: number) => 1e-3 * Math.abs(b) + 1e-4;
    const elbo = (_i: number, b: number) => 1e-4 * (Math.abs(b) + ds.n);
    const problems = [
      ...mismatches('lowerBoundHistory', s.lowerBoundHistory, r.lowerBoundHistory, elbo),
      ...mismatches('lowerBound', [s.lowerBound], [r.lowerBound], elbo),
      ...mismatches('weights', s.weights, r.weights, (_i, b) => 1e-3 * b + 1e-6),
      ...mismatches('means', s.means, flat(r.means), (i, b) => 1e-3 * Math.max(Math.abs(b - mean[i % ds.d]!), sd[i % ds.d]!)),
      ...mismatches('covariances', s.covariances, flat(r.covariances), covarianceTolerance(c.covarianceType, flat(r.covariances), ds.d)),
      ...mismatches('weightConcentration', s.weightConcentration, flat(r.weightConcentration), counts),
      ...mismatches('meanPrecision', s.meanPrecision, r.meanPrecision, counts),
      ...mismatches('degreesOfFreedom', s.degreesOfFreedom, r.degreesOfFreedom, counts),
      ...mismatches('score', [m.score(ds.X)], [r.score], rel(1e-4)),
      ...mismatches('predictProbaHead', m.predictProba(ds.X.slice(0, 5)).data, r.predictProbaHead.flat(), () => 5e-3),
      ...mismatches('weightConcentrationPrior', [s.weightConcentrationPrior], [c.priors.weightConcentrationPrior], rel(1e-9)),
      ...mismatches('meanPrecisionPrior', [s.meanPrecisionPrior], [c.priors.meanPrecisionPrior], rel(1e-9)),
      ...mismatches('meanPrior', s.meanPrior, c.priors.meanPrior, (_i, b) => 1e-9 * (1 + Math.abs(b))),
      ...mismatches('degreesOfFreedomPrior', [s.degreesOfFreedomPrior], [c.priors.degreesOfFreedomPrior], rel(1e-9)),
      ...mismatches('covariancePrior', s.covariancePrior, flat(c.priors.covariancePrior), (_i, b) => 1e-9 * (1 + Math.abs(b))),
    ];
    expect(problems).toEqual([]);
    expect(s.weightConcentration.length).toBe(c.weightConcentrationPriorType === 'dirichlet-process' ? 2 * K : K);
    expect(m.effectiveComponents()).toBe(r.effectiveComponents);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('BayesianGaussianMixture with scikit-learn\'s tol converges where scikit-learn does', () => {
  it.each(cases)('%s', async (_name, ds, c) => {
    const m = model(c, { tol: options.tol, maxIter: options.maxIter });
    await m.fit(ds.X);
    expect(c.result.converged).toBe(true);
    expect(m.state.converged).toBe(true);
    expect(Math.abs(m.state.lowerBound - c.result.lowerBound)).toBeLessThanOrEqual(1e-4 * (Math.abs(c.result.lowerBound) + ds.n));
    expect(m.effectiveComponents()).toBe(c.result.effectiveComponents);
  });
});
