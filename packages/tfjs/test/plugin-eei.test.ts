// A user's covariance family, written against the public contracts with the
// helpers @gmmkit/tfjs exports, registered through the container and fitted by name.
import { pluginModule, registerPlugins, UnknownPluginError, type CovarianceFamily } from '@gmmkit/core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  GaussianMixture,
  accumulateMoments,
  addStatistics,
  axisAlignedKernel,
  checkPositive,
  checkValues,
  createGmmContainer,
  diagonalSecondMomentsAbout,
  diagonalSecondMomentsOf,
  initBackend,
  inverseSqrt,
  inverseSquare,
  meanOffsets,
  singularCovarianceError,
  tf,
  weightsAndMeans,
} from '../src/index.js';
import { blobs, permutedAccuracy } from './helpers.js';

/** mclust EEI: one diagonal covariance diag(σ²) shared by all components; layout [d]. */
const eei: CovarianceFamily = {
  name: 'eei',
  description: 'one diagonal covariance shared by all components (mclust EEI)',
  mclustName: 'EEI',
  covarianceShape: (_k, d) => [d],
  nCovarianceParameters: (_k, d) => d,
  // Same statistics as 'diag': Σ r, Σ r x, Σ r (x - m)² per component and feature.
  accumulate: (x, resp, ctx) =>
    accumulateMoments(ctx.tf, x, resp, ctx, (b) => diagonalSecondMomentsOf(ctx.tf, b), (b) => diagonalSecondMomentsAbout(ctx.tf, b)),
  merge: addStatistics,
  mStep(stats, regCovar, { k, d }) {
    const { nk, weights, means } = weightsAndMeans(stats, k, d);
    const delta = meanOffsets(means, stats);
    const covariances = new Float64Array(d);
    let total = 0;
    for (let j = 0; j < k; j++) {
      total += nk[j]!;
      for (let c = 0; c < d; c++) covariances[c] += stats.second[j * d + c]! - nk[j]! * delta[j * d + c]! ** 2;
    }
    for (let c = 0; c < d; c++) {
      covariances[c] = covariances[c]! / total + regCovar;
      if (!(covariances[c]! > 0)) throw singularCovarianceError('eei', regCovar);
    }
    return { weights, means, covariances };
  },
  densityKernel(params, { tf, k, d }) {
    const s = new Float64Array(k * d);
    for (let j = 0; j < k; j++) s.set(inverseSqrt(params.covariances), j * d);
    return axisAlignedKernel(tf, params.means, s, k, d);
  },
  fullCovariances(c, k, d) {
    const out = new Float64Array(k * d * d);
    for (let j = 0; j < k; j++) for (let a = 0; a < d; a++) out[j * d * d + a * d + a] = c[a]!;
    return out;
  },
  precisionsCholesky: (c) => (checkPositive('eei', c), inverseSqrt(c)),
  covariancesFromPrecisionsCholesky: (p) => (checkPositive('eei', p, 'precision'), inverseSquare(p)),
  validate: (c, _k, d) => (checkValues('eei', c, d), checkPositive('eei', c)),
};

// Three groups with the same axis-aligned spread (EEI's model) but different means.
const { X, labels } = blobs(
  600,
  [
    [0, 0, 0],
    [6, 0, 3],
    [0, 6, -3],
  ],
  1,
  21,
);

beforeAll(async () => {
  await initBackend('wasm');
});

describe('a user plugin family (mclust EEI)', () => {
  it('is unknown until registered, then fitted end to end by name', async () => {
    const container = createGmmContainer();
    expect(() => new GaussianMixture({ covarianceType: 'eei', container })).toThrow(UnknownPluginError);
    registerPlugins(container, { covarianceFamilies: [eei] });
    const before = tf.memory().numTensors;
    const g = await new GaussianMixture({ nComponents: 3, covarianceType: 'eei', container, seed: 0 }).fit(X);
    expect(tf.memory().numTensors).toBe(before);
    const s = g.state;
    expect(s.covarianceType).toBe('eei');
    expect(s.converged).toBe(true);
    expect(s.covariances.length).toBe(3);
    for (const v of s.covariances) {
      expect(v).toBeGreaterThan(0.8);
      expect(v).toBeLessThan(1.25);
    }
    expect(permutedAccuracy(g.predict(X), labels, 3)).toBeGreaterThan(0.97);
    expect(g.nParameters()).toBe(3 + 9 + 2);
    // EEI is nested in 'diag' and 'tied': its likelihood cannot beat diag's (same data, close optimum)
    const diag = await new GaussianMixture({ nComponents: 3, covarianceType: 'diag', container, seed: 0 }).fit(X);
    expect(g.score(X)).toBeLessThanOrEqual(diag.score(X) + 1e-3);
    // serialization goes through the same container
    const back = await GaussianMixture.fromJSON(g.toJSON(), { container });
    expect(back.predict(X)).toEqual(g.predict(X));
  });

  it('can be bound with a ContainerModule at creation and survives k == n', async () => {
    const container = createGmmContainer(pluginModule({ covarianceFamilies: [eei] }));
    const small = [
      [1, 2],
      [1, 2],
      [3, 5],
    ];
    const g = await new GaussianMixture({ nComponents: 3, covarianceType: 'eei', container }).fit(small);
    expect([...g.state.covariances, ...g.state.means].every(Number.isFinite)).toBe(true);
  });
});
