// Data-parallel EM across worker threads. The workers run the built dist
// (worker threads cannot load .ts): build @gmmkit/tfjs before these tests.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { AbortedError, pluginModule } from '@gmmkit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  GaussianMixture,
  createGmmContainer,
  diagCovariance,
  initBackend,
  tf,
  type GaussianMixtureConfig,
} from '../src/index.js';
import { activeShardWorkerCount, resolveWorkerCount, shardRanges } from '../src/sharded.js';
import { blobs } from './helpers.js';

const centers = [
  [0, 0, 0],
  [4, 1, -1],
  [1, 5, 2],
];
// Overlapping blobs with unequal spreads, so EM has real work for every family.
const X = blobs(3000, centers, [1, 1.5, 0.7], 11).X;
// Small blocks so 3000 rows make 12 blocks: 2 shards of 6.
const base: GaussianMixtureConfig = {
  nComponents: 3,
  maxIter: 15,
  tol: 0,
  seed: 3,
  chunkSize: 256,
  backend: 'wasm',
};

/** Max |a - b| / (1 + |b|) over all entries. */
function relDiff(a: Float64Array, b: Float64Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!) / (1 + Math.abs(b[i]!)));
  return m;
}

beforeAll(async () => {
  await initBackend('wasm');
});

describe('shard layout', () => {
  it('shards are contiguous, block-aligned and cover every row once', () => {
    for (const [n, chunk, w] of [
      [3000, 256, 2],
      [3000, 256, 5],
      [100, 7, 3],
      [10, 4, 4],
    ] as const) {
      for (const share of [1, 0.75, 0.3]) {
        const ranges = shardRanges(n, chunk, w, share);
        let next = 0;
        for (const [start, rows] of ranges) {
          expect(start).toBe(next);
          expect(start % chunk).toBe(0);
          expect(rows).toBeGreaterThan(0);
          next = start + rows;
        }
        expect(next).toBe(n);
      }
    }
    // The calling thread's shard: 3/4 of an equal share of the blocks, the others split the rest.
    const blocks = (ranges: [number, number][]) => ranges.map(([, rows]) => Math.ceil(rows / 100));
    expect(blocks(shardRanges(2000, 100, 2, 0.75))).toEqual([9, 11]);
    expect(blocks(shardRanges(3000, 100, 3, 0.75))).toEqual([8, 11, 11]);
    expect(blocks(shardRanges(3000, 100, 3))).toEqual([10, 10, 10]);
  });

  it("'auto' stays on one thread for small data and caps explicit counts at the number of blocks", () => {
    expect(resolveWorkerCount('auto', 1000, 16, 8, 8192)).toBe(0);
    expect(resolveWorkerCount(0, 1e6, 16, 8, 8192)).toBe(0);
    expect(resolveWorkerCount(8, 3000, 3, 3, 1024)).toBe(3);
  });
});

describe('sharded EM', () => {
  it.each(['full', 'tied', 'diag', 'spherical'].flatMap((family) => [false, true].map((callingThread) => [family, callingThread] as const)))(
    '%s: 2 shards (callingThread %s) equal the single-thread fit (same init)',
    async (covarianceType, callingThread) => {
      let workersSeen = 0;
      const before = tf.memory().numTensors;
      const sharded = await new GaussianMixture({
        ...base,
        covarianceType,
        workers: 2,
        callingThread,
        onIteration: () => (workersSeen = Math.max(workersSeen, activeShardWorkerCount())),
      }).fit(X);
      expect(tf.memory().numTensors).toBe(before);
      // It really ran sharded: two worker threads, or this thread and one.
      expect(workersSeen).toBe(callingThread ? 1 : 2);
      expect(activeShardWorkerCount()).toBe(0);
      const single = await new GaussianMixture({ ...base, covarianceType, workers: 0 }).fit(X);
      expect(tf.memory().numTensors).toBe(before); // the block cache goes with the blocks
      const a = sharded.state;
      const b = single.state;
      expect(a.nIter).toBe(b.nIter);
      // Blocks are identical; only the float64 order of summing block statistics differs.
      expect(Math.abs(a.lowerBound - b.lowerBound)).toBeLessThan(1e-9 * Math.abs(b.lowerBound));
      expect(relDiff(a.weights, b.weights)).toBeLessThan(1e-7);
      expect(relDiff(a.means, b.means)).toBeLessThan(1e-7);
      expect(relDiff(a.covariances, b.covariances)).toBeLessThan(1e-7);
    },
  );

  it('is deterministic: two sharded fits (3 workers) give identical states', async () => {
    const fit = () => new GaussianMixture({ ...base, covarianceType: 'full', workers: 3, nInit: 2 }).fit(X);
    const a = (await fit()).state;
    const b = (await fit()).state;
    expect(a).toEqual(b);
  });

  it('a registered family reaches the workers through plugin specifiers', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'gmmkit-shard-'));
    try {
      const dist = pathToFileURL(path.resolve(import.meta.dirname, '../dist/index.js')).href;
      const file = path.join(dir, 'diag2.mjs');
      writeFileSync(
        file,
        `import { diagCovariance } from '${dist}';\nexport default { covarianceFamilies: [{ ...diagCovariance, name: 'diag2' }] };\n`,
      );
      const container = createGmmContainer(
        pluginModule({ covarianceFamilies: [{ ...diagCovariance, name: 'diag2' }] }),
      );
      let workersSeen = 0;
      const sharded = await new GaussianMixture({
        ...base,
        covarianceType: 'diag2',
        container,
        workers: 2,
        callingThread: false,
        plugins: [file],
        onIteration: () => (workersSeen = Math.max(workersSeen, activeShardWorkerCount())),
      }).fit(X);
      expect(workersSeen).toBe(2);
      const single = await new GaussianMixture({ ...base, covarianceType: 'diag' }).fit(X);
      expect(relDiff(sharded.state.covariances, single.state.covariances)).toBeLessThan(1e-7);
      // Without specifiers the workers could not build 'diag2': the fit stays on this thread.
      workersSeen = 0;
      await new GaussianMixture({
        ...base,
        covarianceType: 'diag2',
        container,
        workers: 2,
        onIteration: () => (workersSeen = Math.max(workersSeen, activeShardWorkerCount())),
      }).fit(X);
      expect(workersSeen).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('abort', () => {
  it.each([0, 2])(
    'workers=%i: aborting mid-fit rejects with AbortedError and leaves no workers or tensors',
    async (workers) => {
      const controller = new AbortController();
      const before = tf.memory().numTensors;
      const iterations: number[] = [];
      const gmm = new GaussianMixture({
        ...base,
        workers,
        maxIter: 100,
        signal: controller.signal,
        onIteration: (i) => {
          iterations.push(i);
          if (i === 2) controller.abort();
        },
      });
      await expect(gmm.fit(X)).rejects.toBeInstanceOf(AbortedError);
      expect(iterations).toEqual([1, 2]);
      expect(gmm.isFitted).toBe(false);
      expect(activeShardWorkerCount()).toBe(0);
      expect(tf.memory().numTensors).toBe(before);
    },
  );

  it('an abort from a timer stops a running fit (the loop yields between iterations)', async () => {
    const controller = new AbortController();
    let iterations = 0;
    let timer: NodeJS.Timeout | undefined;
    const gmm = new GaussianMixture({
      ...base,
      workers: 2,
      // tol 0: EM never converges, so only the abort can end this fit.
      maxIter: 1_000_000,
      signal: controller.signal,
      onIteration: () => {
        // Armed once EM runs (an event, not a delay): the timer can only fire
        // if the loop yields to the event loop between iterations.
        iterations++;
        if (iterations === 1) timer = setTimeout(() => controller.abort(), 0);
      },
    });
    try {
      await expect(gmm.fit(X)).rejects.toBeInstanceOf(AbortedError);
    } finally {
      clearTimeout(timer);
    }
    expect(iterations).toBeGreaterThanOrEqual(1);
    expect(iterations).toBeLessThan(1_000_000);
    expect(activeShardWorkerCount()).toBe(0);
  });

  it('an already aborted signal rejects before any work', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(new GaussianMixture({ ...base, signal: controller.signal }).fit(X)).rejects.toBeInstanceOf(
      AbortedError,
    );
  });
});

afterAll(() => {
  expect(activeShardWorkerCount()).toBe(0);
});

describe('fit with score: true', () => {
  it.each([[0, false], [2, false], [2, true]] as const)(
    'workers %i (callingThread %s): trainingScore is Σ w ln p(x) and Σ w H(r) of the fitted model on the training rows, without leaking tensors',
    async (workers, callingThread) => {
      const before = tf.memory().numTensors;
      const w = Float64Array.from({ length: X.length }, (_, i) => (i % 5 === 0 ? 0 : 1 + (i % 3)));
      let during = 0;
      const onIteration = () => (during = Math.max(during, tf.memory().numTensors - before));
      const gm = await new GaussianMixture({ ...base, covarianceType: 'full', workers, callingThread, onIteration }).fit(X, { sampleWeight: w, score: true });
      expect(tf.memory().numTensors).toBe(before);
      // With shard workers doing every pass, this thread holds no blocks while EM runs (deferredUpload);
      // as one of the shards it holds its own.
      if (workers === 0 || callingThread) expect(during).toBeGreaterThan(0);
      else expect(during).toBe(0);
      const { scores, proba } = gm.scoreSamplesAndProba(X);
      let ll = 0;
      let h = 0;
      for (let i = 0; i < X.length; i++) {
        ll += w[i]! * scores[i]!;
        for (let j = 0; j < 3; j++) {
          const r = proba.data[i * 3 + j]!;
          if (r > 0) h -= w[i]! * r * Math.log(r);
        }
      }
      const scored = gm.trainingScore!;
      // The fit's own blocks and kernel (scorePass), not scoreSamples' re-uploaded rows: equal to float32 precision.
      expect(Math.abs(scored.logLikelihood - ll)).toBeLessThan(1e-7 * Math.abs(ll));
      expect(h).toBeGreaterThan(1);
      expect(Math.abs(scored.entropy - h)).toBeLessThan(1e-5 * h);
      // A fit without score: true forgets it.
      await gm.fit(X);
      expect(gm.trainingScore).toBeUndefined();
      expect(tf.memory().numTensors).toBe(before);
    },
  );
});
