// Distributed fits act on degenerate solutions and fall back to float64
// statistics as the single-machine fit does: the same engine loop, with the
// data's moments merged from the shards' scans and the exact pass computed on
// the workers.
import { createRng } from '@gmmkit/core';
import { GaussianMixture, dataMoments, initBackend, type GaussianMixtureConfig } from '@gmmkit/tfjs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { encodeF64, fitDistributed, mergeMoments, startWorker, type WorkerHandle } from '../src/index.js';
import { csvReader, writeShards } from './helpers.js';

const url = inject('redisUrl');

function expectSameState(a: GaussianMixture['state'], b: GaussianMixture['state'], digits = 4): void {
  expect(b.nIter).toBe(a.nIter);
  expect(b.degeneracy).toBe(a.degeneracy);
  expect(b.droppedRestarts).toEqual(a.droppedRestarts);
  for (let i = 0; i < a.weights.length; i++) expect(b.weights[i]).toBeCloseTo(a.weights[i]!, 5);
  for (let i = 0; i < a.means.length; i++) expect(b.means[i]).toBeCloseTo(a.means[i]!, digits);
  expect(b.lowerBound).toBeCloseTo(a.lowerBound, 5);
}

describe('mergeMoments', () => {
  it("equals dataMoments of the concatenated rows, constant features included", () => {
    const rng = createRng(4);
    const d = 4;
    const sizes = [7, 1, 30, 12];
    // column 2 is constant everywhere; column 3 is constant within each shard but differs between shards
    const shards = sizes.map((rows, s) => {
      const data = new Float64Array(rows * d);
      for (let i = 0; i < rows; i++) {
        data[i * d] = 100 + rng.normal() * 3;
        data[i * d + 1] = rng.normal() * 0.01 - 5;
        data[i * d + 2] = 0.1;
        data[i * d + 3] = s;
      }
      return data;
    });
    const all = new Float64Array(shards.reduce((a, s) => a + s.length, 0));
    shards.reduce((offset, s) => (all.set(s, offset), offset + s.length), 0);
    const n = all.length / d;
    const center = new Float64Array(d);
    for (let i = 0; i < n; i++) for (let a = 0; a < d; a++) center[a] += all[i * d + a]! / n;
    const scans = shards.map((data, s) => {
      const rows = sizes[s]!;
      const colSum = new Float64Array(d);
      for (let i = 0; i < rows; i++) for (let a = 0; a < d; a++) colSum[a] += data[i * d + a]!;
      return {
        rows,
        cols: d,
        colSum: encodeF64(colSum),
        covariance: encodeF64(dataMoments(data, rows, d).dataCovariance),
        first: encodeF64(data.slice(0, d)),
      };
    });
    const merged = mergeMoments(scans, center);
    const direct = dataMoments(all, n, d);
    expect(merged.dataVariance[2]).toBe(0);
    expect(direct.dataVariance[2]).toBe(0);
    expect(merged.dataVariance[3]).toBeGreaterThan(0.5);
    for (let i = 0; i < d * d; i++)
      expect(Math.abs(merged.dataCovariance[i]! - direct.dataCovariance[i]!)).toBeLessThanOrEqual(
        1e-12 * Math.max(1, Math.abs(direct.dataCovariance[i]!)),
      );
  });
});

describe('degenerate solutions and the float64 fallback on the workers', () => {
  let workers: WorkerHandle[] = [];
  beforeAll(async () => {
    await initBackend('wasm');
    workers = await Promise.all([0, 1].map(() => startWorker({ redis: url, readShard: csvReader, backend: 'wasm' })));
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.close()));
  });

  // Three healthy groups plus 12 copies of one far row (in the last shard): a fourth component sits on the copies.
  const rng = createRng(5);
  const centers = [
    [0, 0, 0],
    [8, 0, 4],
    [0, 8, -4],
  ];
  const healthy = Array.from({ length: 300 }, (_, i) => centers[i % 3]!.map((m) => Math.round((m + rng.normal()) * 1e4) / 1e4));
  const duplicated = [...healthy, ...Array.from({ length: 12 }, () => [20, 20, 20])];
  const duplicatedShards = writeShards(duplicated, 4);

  it.each(['warn', 'reject'] as const)("degenerate: '%s' flags the component on duplicated rows as the local fit does", async (degenerate) => {
    const options: GaussianMixtureConfig = { nComponents: 4, covarianceType: 'diag', seed: 0, nInit: 2, degenerate, backend: 'wasm', workers: 0 };
    const local = await new GaussianMixture(options).fit(duplicated);
    expect(local.state.degeneracy).toMatch(/pinned at the regCovar floor/); // the data has teeth
    const { model } = await fitDistributed({ redis: url, shards: duplicatedShards, ...options });
    expectSameState(local.state, model.state);
    expect(model.warnings().filter((w) => w.startsWith('degenerate solution:'))).toEqual(
      local.warnings().filter((w) => w.startsWith('degenerate solution:')),
    );
  });

  it("degenerate: 'allow' does not check", async () => {
    const { model } = await fitDistributed({
      redis: url,
      shards: duplicatedShards,
      nComponents: 4,
      covarianceType: 'diag',
      seed: 0,
      degenerate: 'allow',
      backend: 'wasm',
    });
    expect(model.state.degeneracy).toBeUndefined();
  });

  it('a healthy fit is not flagged (the merged moments do not invent degeneracy)', async () => {
    const { model } = await fitDistributed({ redis: url, shards: writeShards(healthy, 3), nComponents: 3, covarianceType: 'full', seed: 0, backend: 'wasm' });
    expect(model.state.degeneracy).toBeUndefined();
  });

  it('a tiny component in large units gets its covariance from the workers\' float64 pass, as locally', async () => {
    // The data of tfjs's float64-fallback test: 200 rows around 0 and 4 rows around 1000 (in one shard).
    const d = 4;
    const r = createRng(2);
    const big = Array.from({ length: 200 }, () => Array.from({ length: d }, () => 30 * r.normal()));
    const small = Array.from({ length: 4 }, () => Array.from({ length: d }, () => 1000 + 100 * r.normal()));
    const X = [...big, ...small];
    const eye = (v: number) => Array.from({ length: d }, (_, a) => Array.from({ length: d }, (_, b) => (a === b ? v : 0)));
    const options: GaussianMixtureConfig = {
      nComponents: 2,
      weightsInit: [200 / 204, 4 / 204],
      meansInit: [new Array<number>(d).fill(0), new Array<number>(d).fill(1000)],
      precisionsInit: [eye(1 / 900), eye(1 / 900)],
      maxIter: 5,
      degenerate: 'allow',
      backend: 'wasm',
      workers: 0,
    };
    const local = await new GaussianMixture(options).fit(X);
    const { model } = await fitDistributed({ redis: url, shards: writeShards(X, 3), ...options });
    expectSameState(local.state, model.state, 3);
    // the small component's covariance (entries ~1e4) to float32-mean accuracy
    const j = local.state.means[d]! > 500 ? 1 : 0;
    for (let i = j * d * d; i < (j + 1) * d * d; i++)
      expect(Math.abs(model.state.covariances[i]! - local.state.covariances[i]!)).toBeLessThan(1e-2);
  });
});
