// A user's covariance family, written against the public contracts with the
// helpers @gmmkit/tfjs exports, registered through the container and fitted by name.
import { pluginModule, registerPlugins, UnknownPluginError } from '@gmmkit/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { GaussianMixture, createGmmContainer, initBackend, tf } from '../src/index.js';
import { blobs, permutedAccuracy } from './helpers.js';
import { eeiFamily } from './properties/plugins.js';

// The family itself is the property suite's test plugin (properties/plugins.ts),
// written against the public contracts with the helpers @gmmkit/tfjs exports.
const eei = eeiFamily;

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
