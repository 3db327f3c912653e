import { pluginModule, type Initializer, type InitializerInput } from '@gmmkit/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { FitCache, GaussianMixture, createGmmContainer, initBackend, kmeansInitializer, tf } from '../src/index.js';
import { blobs } from './helpers.js';

// Rounded to one decimal: ties, as real data have.
const { X } = blobs(240, [[0, 0], [6, 1], [1, 7]], 1, 4);
const data = Float64Array.from(X.flat(), (v) => Math.round(v * 10) / 10);
const input = { data, shape: [X.length, 2] as const };

/** The built-in kmeans under another name, counting its calls; `reusable` as given. */
function counting(name: string, reusable: boolean): { initializer: Initializer; calls: () => number } {
  let calls = 0;
  const initializer: Initializer = {
    name,
    description: 'kmeans, counted',
    reusable,
    initialize(i: InitializerInput) {
      calls++;
      return kmeansInitializer.initialize(i);
    },
  };
  return { initializer, calls: () => calls };
}

async function fitted(covarianceType: string, k: number, options: { cache?: FitCache; initParams?: string; container?: ReturnType<typeof createGmmContainer> } = {}) {
  const gm = new GaussianMixture({ nComponents: k, covarianceType, nInit: 3, seed: 7, workers: 0, initParams: options.initParams ?? 'kmeans', ...(options.container ? { container: options.container } : {}) });
  await gm.fit(input, options.cache ? { cache: options.cache } : {});
  const s = gm.state;
  const out = { means: Array.from(s.means), weights: Array.from(s.weights), lowerBound: s.lowerBound, nIter: s.nIter };
  gm.dispose();
  return out;
}

beforeAll(async () => {
  await initBackend('wasm');
});

describe('FitCache', () => {
  it('fits with a shared cache equal fits without one, family by family', async () => {
    const cache = new FitCache();
    for (const family of ['full', 'tied', 'diag', 'spherical']) {
      expect(await fitted(family, 3, { cache })).toEqual(await fitted(family, 3));
    }
  });

  it('runs a reusable initializer once per restart for all families at one k, and again after k changes', async () => {
    const reused = counting('counted-kmeans', true);
    const fresh = counting('counted-fresh', false);
    const container = createGmmContainer(pluginModule({ initializers: [reused.initializer, fresh.initializer] }));
    const cache = new FitCache();
    for (const family of ['full', 'diag']) await fitted(family, 3, { cache, container, initParams: 'counted-kmeans' });
    expect(reused.calls()).toBe(3); // nInit restarts, shared by the two families
    await fitted('full', 2, { cache, container, initParams: 'counted-kmeans' });
    await fitted('full', 3, { cache, container, initParams: 'counted-kmeans' }); // k = 3's guesses were dropped for k = 2
    expect(reused.calls()).toBe(9);
    for (const family of ['full', 'diag']) await fitted(family, 3, { cache, container, initParams: 'counted-fresh' });
    expect(fresh.calls()).toBe(6); // not reusable: every fit runs it
  });

  it('keeps the data moments: a second fit does not recompute them', async () => {
    const cache = new FitCache();
    await fitted('diag', 3, { cache });
    const moments = cache.summaries.moments;
    expect(moments?.dataVariance.length).toBe(2);
    await fitted('full', 2, { cache });
    expect(cache.summaries.moments).toBe(moments);
  });

  it('keeps the column means: made once, handed out as copies', () => {
    const cache = new FitCache();
    let made = 0;
    const make = () => (made++, Float64Array.from([1, 2]));
    const first = cache.center(make);
    first[0] = 99; // a caller's copy: the kept means stay
    expect(Array.from(cache.center(make))).toEqual([1, 2]);
    expect(made).toBe(1);
  });

  it('keeps one centered copy of the rows: made again only for another center or sharing', () => {
    const cache = new FitCache();
    let made = 0;
    const make = () => (made++, new Float64Array(4).fill(made));
    const center = Float64Array.from([1, 2]);
    const first = cache.centered(center, false, make);
    expect(cache.centered(Float64Array.from([1, 2]), false, make)).toBe(first);
    expect(made).toBe(1);
    expect(cache.centered(Float64Array.from([1, 2 + 1e-12]), false, make)).not.toBe(first);
    expect(cache.centered(Float64Array.from([1, 2 + 1e-12]), true, make)[0]).toBe(3);
    expect(made).toBe(3);
    // a shared copy serves an unshared request (not the other way round, above)
    expect(cache.centered(Float64Array.from([1, 2 + 1e-12]), false, make)[0]).toBe(3);
    expect(made).toBe(3);
  });

  it('refuses rows other than its first fit\'s, and leaves no tensors behind', async () => {
    const cache = new FitCache();
    const before = tf.memory().numTensors;
    await fitted('full', 3, { cache });
    expect(tf.memory().numTensors).toBe(before);
    const other = Float64Array.from(data);
    other[other.length - 1] += 0.5;
    const gm = new GaussianMixture({ nComponents: 2, seed: 1, workers: 0 });
    await expect(gm.fit({ data: other, shape: [X.length, 2] }, { cache })).rejects.toThrow(/FitCache holds the work of one data set/);
    await expect(gm.fit(input, { cache, sampleWeight: new Float64Array(X.length).fill(2) })).rejects.toThrow(/FitCache/);
    gm.dispose();
  });
});
