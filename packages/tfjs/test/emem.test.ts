import { createRng, pluginModule, type Initializer } from '@gmmkit/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { blobs, broadAndTight } from './helpers.js';
import { EMEM_CANDIDATES, GaussianMixture, createGmmContainer, ememInitializer, initBackend, kmeansInitializer, tf } from '../src/index.js';

const X = broadAndTight(3);

async function score(initParams: string, seed: number, nInit = 1): Promise<number> {
  const gm = new GaussianMixture({ nComponents: 6, nInit, initParams, seed, convergenceWarning: false });
  await gm.fit(X);
  return gm.score(X);
}

beforeAll(async () => {
  await initBackend('wasm');
});

describe("initializer 'emem'", () => {
  it('reaches a better optimum than plain k-means restarts where those fail (same seed, same nInit)', async () => {
    // Seeds 2 and 3: the k-means start of plain restarts ends at a worse optimum (emem draws that start first).
    const best = Math.max(await score('kmeans', 0, 10), await score('emem', 0, 10));
    for (const seed of [2, 3]) {
      const plain = await score('kmeans', seed);
      const emem = await score('emem', seed);
      expect(plain).toBeLessThan(best - 0.05);
      expect(emem).toBeGreaterThan(best - 1e-3);
    }
  });

  it('is deterministic: the same seed gives the same fit', async () => {
    const fit = async () => {
      const gm = new GaussianMixture({ nComponents: 6, nInit: 2, initParams: 'emem', seed: 7, convergenceWarning: false });
      await gm.fit(X);
      return gm.state;
    };
    const [a, b] = [await fit(), await fit()];
    expect(b.means).toEqual(a.means);
    expect(b.covariances).toEqual(a.covariances);
    expect(b.lowerBound).toBe(a.lowerBound);
  });

  it('leaves no tensors behind', async () => {
    await score('emem', 1); // backend warm-up
    const before = tf.memory().numTensors;
    await score('emem', 2, 2);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("is 'kmeans' when the driver offers no short EM", () => {
    const n = X.shape[0];
    const input = (seed: number) => ({ tf, x: undefined as never, data: X.data, n, d: 2, k: 6, rng: createRng(seed) });
    return expect(ememInitializer.initialize(input(4))).resolves.toEqual(kmeansInitializer.initialize(input(4)));
  });

  it(`runs ${EMEM_CANDIDATES} short EM runs per restart and keeps the best one`, async () => {
    const bounds: number[] = [];
    const picked: number[] = [];
    const n = X.shape[0];
    const data = Float64Array.from(X.data);
    let call = 0;
    const shortEm = async () => {
      const b = [-3, -1, -2, -4][call++ % 4]!;
      bounds.push(b);
      return b;
    };
    const guess = await ememInitializer.initialize({ tf, x: undefined as never, data, n, d: 2, k: 6, rng: createRng(5), shortEm });
    // The second candidate (bound -1) is the one returned: the same as the second k-means start of that stream.
    const rng = createRng(5);
    kmeansInitializer.initialize({ tf, x: undefined as never, data, n, d: 2, k: 6, rng });
    expect(guess).toEqual(kmeansInitializer.initialize({ tf, x: undefined as never, data, n, d: 2, k: 6, rng }));
    picked.push(bounds.length);
    expect(picked).toEqual([EMEM_CANDIDATES]);
  });
});

describe('InitializerInput.shortEm (engine side)', () => {
  it('a returned guess continues from where its short run stopped', async () => {
    // An initializer that runs EM to convergence through shortEm: the fit then needs only an iteration or two more.
    const converging: Initializer = {
      name: 'converging',
      description: 'k-means start run to convergence by shortEm',
      async initialize(input) {
        const guess = kmeansInitializer.initialize(input);
        expect(await input.shortEm!(guess, 100)).toBeGreaterThan(-Infinity);
        return guess;
      },
    };
    const container = createGmmContainer(pluginModule({ initializers: [converging] }));
    // Overlapping blobs: EM from k-means needs several iterations, then converges for good.
    const { X: blobRows } = blobs(300, [[0, 0], [3, 0], [0, 3]], 1, 3);
    const fit = async (initParams: string) => {
      const gm = new GaussianMixture({ nComponents: 3, initParams, seed: 1, container, convergenceWarning: false });
      await gm.fit(blobRows);
      return gm.state;
    };
    const [plain, continued] = [await fit('kmeans'), await fit('converging')];
    // The first change is measured from the short run's last bound, so a converged short run ends after one iteration.
    expect(plain.nIter).toBeGreaterThan(3);
    expect(continued.nIter).toBe(1);
    expect(continued.lowerBound).toBeCloseTo(plain.lowerBound, 3);
  });

  it('a short run that collapses under degenerate: reject resolves to -Infinity', async () => {
    // Two identical rows and k = 2 full components in 2-D: a component on the duplicated pair is degenerate.
    const rows = [[0, 0], [0, 0], [1, 2], [2, 1], [3, 3], [4, 1], [2, 4], [5, 5]];
    const onPair = new Float64Array(rows.length * 2);
    onPair[0] = onPair[2] = 1; // component 0: the duplicated rows
    for (let i = 2; i < rows.length; i++) onPair[i * 2 + 1] = 1;
    let bound: number | undefined;
    const probe: Initializer = {
      name: 'probe',
      description: 'records the short run of a collapsed start',
      async initialize(input) {
        const guess = { kind: 'responsibilities' as const, resp: onPair };
        bound = await input.shortEm!(guess, 3);
        return guess;
      },
    };
    const container = createGmmContainer(pluginModule({ initializers: [probe] }));
    const gm = new GaussianMixture({ nComponents: 2, initParams: 'probe', container, degenerate: 'warn', convergenceWarning: false });
    await gm.fit(rows);
    expect(Number.isFinite(bound)).toBe(true);
    const rejecting = new GaussianMixture({ nComponents: 2, initParams: 'probe', container, convergenceWarning: false });
    await rejecting.fit(rows).catch(() => undefined);
    expect(bound).toBe(-Infinity);
  });
});
