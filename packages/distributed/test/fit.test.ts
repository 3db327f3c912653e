import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { GaussianMixture, tf } from '@gmmkit/tfjs';
import { fitDistributed, startWorker, type WorkerHandle } from '../src/index.js';
import { csvReader, mixtureRows, writeShards } from './helpers.js';

const url = inject('redisUrl');

describe('fitDistributed with in-process workers', () => {
  const rows = mixtureRows(1800, 3, 7);
  const shards = writeShards(rows, 6);
  let workers: WorkerHandle[] = [];
  beforeAll(async () => {
    workers = await Promise.all(
      [0, 1].map(() => startWorker({ redis: url, readShard: csvReader, backend: 'cpu' })),
    );
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.close()));
  });

  it('equals the single-machine fit of the concatenated shards', async () => {
    const options = { nComponents: 3, covarianceType: 'full', seed: 3, backend: 'cpu' as const, workers: 0 };
    const local = await new GaussianMixture(options).fit(rows);
    const { model, n, backends } = await fitDistributed({ redis: url, shards, ...options });
    expect(n).toBe(rows.length);
    expect(backends).toEqual(['cpu']);
    const a = local.state;
    const b = model.state;
    expect(b.nIter).toBe(a.nIter);
    expect(b.converged).toBe(a.converged);
    for (let i = 0; i < a.means.length; i++) expect(b.means[i]).toBeCloseTo(a.means[i]!, 4);
    for (let i = 0; i < a.weights.length; i++) expect(b.weights[i]).toBeCloseTo(a.weights[i]!, 5);
    for (let i = 0; i < a.covariances.length; i++) expect(b.covariances[i]).toBeCloseTo(a.covariances[i]!, 4);
    expect(b.lowerBound).toBeCloseTo(a.lowerBound, 5);
    expect(b.lowerBoundHistory.length).toBe(a.lowerBoundHistory.length);
  });

  it('leaks no tensors: a second fit leaves the count where it was (the workers keep their cached shards)', async () => {
    // One worker, so the second fit finds every shard in the cache the first one filled.
    await workers[1]!.close();
    const options = { nComponents: 2, covarianceType: 'diag', seed: 1, backend: 'cpu' as const };
    await fitDistributed({ redis: url, shards, ...options });
    const before = tf.memory().numTensors;
    await fitDistributed({ redis: url, shards, ...options });
    expect(tf.memory().numTensors).toBe(before);
    expect(workers[0]!.cache().shards).toBe(shards.length);
  });

  it('refuses sample weights and missing values in one line, before connecting', async () => {
    const base = { redis: 'redis://127.0.0.1:1', shards, nComponents: 2 };
    await expect(fitDistributed({ ...base, missing: 'marginalize' })).rejects.toThrow(
      /^missing: 'marginalize' is not supported by distributed fits: the shards need complete rows$/,
    );
    await expect(
      fitDistributed({ ...base, sampleWeight: new Float64Array(3) } as Parameters<typeof fitDistributed>[0]),
    ).rejects.toThrow(/^sampleWeight is not supported by distributed fits: every row counts once$/);
  });

  it('a shard with a missing cell is one error naming the shard, the row and the column', async () => {
    const [good, gappy] = writeShards([...rows.slice(0, 20), [1, 2, 3], [4, Number.NaN, 6]], 2);
    await expect(
      fitDistributed({ redis: url, shards: [good!, gappy!], nComponents: 2, backend: 'cpu' }),
    ).rejects.toThrow(
      `cannot read shard ${gappy}: missing value at row 11, column x2 (distributed fits need complete rows)`,
    );
  });
});
