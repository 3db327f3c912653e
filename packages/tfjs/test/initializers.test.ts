import { createRng } from '@gmmkit/core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  initBackend,
  kmeansInitializer,
  kmeansPlusPlusIndices,
  kmeansPlusPlusInitializer,
  kmeansStartingCenters,
  gatherRows,
  lloyd,
  lloydTensor,
  randomFromDataInitializer,
  randomInitializer,
  sampleWithoutReplacement,
  tf,
} from '../src/index.js';
import { blobs, permutedAccuracy } from './helpers.js';

const centers = [
  [0, 0],
  [10, 0],
  [0, 10],
];
const { X, labels } = blobs(300, centers, 0.5, 3);
const n = X.length;
const d = 2;
const k = 3;
const data = Float64Array.from(X.flat());

function input(seed: number) {
  return { tf, x: undefined as never, data, n, d, k, rng: createRng(seed) };
}

beforeAll(async () => {
  await initBackend('wasm');
});

describe('initializers', () => {
  it('kmeans: labels (hard responsibilities) that recover well-separated clusters', () => {
    const guess = kmeansInitializer.initialize(input(1));
    expect(guess.kind).toBe('labels');
    if (guess.kind !== 'labels') return;
    expect(guess.labels.length).toBe(n);
    expect(permutedAccuracy(Array.from(guess.labels), labels, k)).toBe(1);
  });

  it('k-means++ seeding spreads its seeds over the clusters and is deterministic', () => {
    const a = kmeansPlusPlusIndices(data, n, d, k, createRng(5));
    expect(new Set(a).size).toBe(k);
    expect(new Set(a.map((i) => labels[i])).size).toBe(k);
    expect(kmeansPlusPlusIndices(data, n, d, k, createRng(5))).toEqual(a);
  });

  it('k-means++ seeding stays distinct on duplicate rows', () => {
    const dup = new Float64Array(10 * d).fill(3);
    const idx = kmeansPlusPlusIndices(dup, 10, d, 4, createRng(1));
    expect(new Set(idx).size).toBe(4);
  });

  it.each([
    ['k-means++', kmeansPlusPlusInitializer],
    ['random-from-data', randomFromDataInitializer],
  ] as const)('%s: responsibility 1 on k distinct rows, one per component, 0 elsewhere', (_name, init) => {
    const guess = init.initialize(input(9));
    if (guess.kind !== 'responsibilities') throw new Error('expected responsibilities');
    const rowsOf: number[] = [];
    let ones = 0;
    for (let i = 0; i < n; i++)
      for (let j = 0; j < k; j++) {
        const v = guess.resp[i * k + j]!;
        expect(v === 0 || v === 1).toBe(true);
        if (v === 1) {
          ones++;
          rowsOf[j] = i;
        }
      }
    expect(ones).toBe(k);
    expect(new Set(rowsOf).size).toBe(k);
    const again = init.initialize(input(9));
    expect(again).toEqual(guess);
  });

  it('random: uniform responsibilities with rows summing to 1, seed-dependent', () => {
    const guess = randomInitializer.initialize(input(2));
    if (guess.kind !== 'responsibilities') throw new Error('expected responsibilities');
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < k; j++) {
        const v = guess.resp[i * k + j]!;
        expect(v).toBeGreaterThanOrEqual(0);
        s += v;
      }
      expect(s).toBeCloseTo(1, 12);
    }
    const other = randomInitializer.initialize(input(3));
    expect(other).not.toEqual(guess);
  });

  it('sampleWithoutReplacement returns distinct in-range indices, also when k is close to n', () => {
    const rng = createRng(4);
    for (const [nn, kk] of [
      [1000, 5],
      [10, 10],
      [7, 6],
    ] as const) {
      const idx = sampleWithoutReplacement(nn, kk, () => rng.next());
      expect(idx.length).toBe(kk);
      expect(new Set(idx).size).toBe(kk);
      for (const i of idx) expect(i >= 0 && i < nn).toBe(true);
    }
  });

  it('lloyd (bounded assignment, sums kept across iterations) gives the labels of plain Lloyd on overlapping clusters, also weighted', () => {
    const { X: Y } = blobs(
      2000,
      [
        [0, 0, 0],
        [1, 0.5, 0],
        [0, 1, 0.5],
        [1, 1, 1],
      ],
      0.6,
      8,
    );
    const m = Float64Array.from(Y.flat());
    const nn = Y.length;
    const seeds = kmeansPlusPlusIndices(m, nn, 3, 4, createRng(2));
    expect(Array.from(lloyd(m, nn, 3, 4, gatherRows(m, 3, seeds)))).toEqual(
      plainLloyd(m, nn, 3, 4, gatherRows(m, 3, seeds)),
    );
    // Non-integer weights, some 0: the running sums' rounding does not change a label.
    const w = Float64Array.from({ length: nn }, (_, i) => (i % 9 === 0 ? 0 : 0.1 + ((i * 37) % 17) / 7));
    const plain = plainLloyd(m, nn, 3, 4, gatherRows(m, 3, seeds), 300, 1e-4, w);
    expect(Array.from(lloyd(m, nn, 3, 4, gatherRows(m, 3, seeds), 300, 1e-4, w))).toEqual(plain);
  });

  it('kmeansStartingCenters: above sampleRows, k-means on a sample gives centers Lloyd on all rows finishes from', () => {
    // n = 300 rows, sampled 60: the sample's centers sit near the clusters', and Lloyd on all rows recovers them.
    const sampled = kmeansStartingCenters(data, n, d, k, createRng(3), undefined, 60);
    const again = kmeansStartingCenters(data, n, d, k, createRng(3), undefined, 60);
    expect(Array.from(again)).toEqual(Array.from(sampled));
    const nearest = (c: Float64Array, j: number) =>
      Math.min(...centers.map(([a, b]) => Math.hypot(c[j * d]! - a!, c[j * d + 1]! - b!)));
    for (let j = 0; j < k; j++) expect(nearest(sampled, j)).toBeLessThan(0.3);
    const labelsOfAll = lloyd(data, n, d, k, sampled);
    expect(permutedAccuracy(Array.from(labelsOfAll), labels, k)).toBe(1);
    // Below sampleRows it is the plain k-means++ seeding: k of the rows.
    const seeded = kmeansStartingCenters(data, n, d, k, createRng(3));
    expect(Array.from(seeded)).toEqual(Array.from(gatherRows(data, d, kmeansPlusPlusIndices(data, n, d, k, createRng(3)))));
    // Weights: a sample without k rows of positive weight seeds from all rows (of positive weight).
    const weights = new Float64Array(n);
    weights[5] = weights[100] = weights[200] = 1;
    const weighted = kmeansStartingCenters(data, n, d, k, createRng(3), weights, 60);
    const picked = [5, 100, 200].map((r) => `${data[r * d]},${data[r * d + 1]}`).sort();
    expect(Array.from({ length: k }, (_, j) => `${weighted[j * d]},${weighted[j * d + 1]}`).sort()).toEqual(picked);
  });

  it('lloydTensor (assignment by tfjs matMul) agrees with the host lloyd and leaks no tensors', () => {
    const x = tf.tensor2d(Float32Array.from(data), [n, d]);
    try {
      const before = tf.memory().numTensors;
      const seeds = kmeansPlusPlusIndices(data, n, d, k, createRng(6));
      const host = lloyd(data, n, d, k, gatherRows(data, d, seeds));
      const viaTf = lloydTensor(tf, x, data, n, d, k, gatherRows(data, d, seeds));
      expect(Array.from(viaTf)).toEqual(Array.from(host));
      expect(tf.memory().numTensors).toBe(before);
      const guess = kmeansInitializer.initialize({ ...input(1), x });
      if (guess.kind !== 'labels') throw new Error('expected labels');
      expect(permutedAccuracy(Array.from(guess.labels), labels, k)).toBe(1);
      expect(kmeansInitializer.initialize({ ...input(1), x })).toEqual(guess);
    } finally {
      x.dispose();
    }
  });

  it('lloydTensor on 150k rows agrees with the host lloyd', () => {
    const big = blobs(150_000, [[0, 0], [8, 0], [0, 8]], 1, 9);
    const rows = Float64Array.from(big.X.flat());
    const m = big.X.length;
    const x = tf.tensor2d(Float32Array.from(rows), [m, 2]);
    try {
      const before = tf.memory().numTensors;
      const seeds = kmeansPlusPlusIndices(rows, m, 2, 3, createRng(2));
      const host = lloyd(rows, m, 2, 3, gatherRows(rows, 2, seeds));
      expect(Array.from(lloydTensor(tf, x, rows, m, 2, 3, gatherRows(rows, 2, seeds)))).toEqual(Array.from(host));
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      x.dispose();
    }
  });
});

/** Textbook Lloyd (every row scored against every center each iteration), same stopping rules as lloyd. */
function plainLloyd(
  data: Float64Array,
  n: number,
  d: number,
  k: number,
  centers: Float64Array,
  maxIter = 300,
  tol = 1e-4,
  weights?: Float64Array,
): number[] {
  const w = (i: number): number => (weights === undefined ? 1 : weights[i]!);
  let total = 0;
  for (let i = 0; i < n; i++) total += w(i);
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let c = 0; c < d; c++) mean[c]! += (w(i) * data[i * d + c]!) / total;
  let varSum = 0;
  for (let i = 0; i < n; i++) for (let c = 0; c < d; c++) varSum += (w(i) * (data[i * d + c]! - mean[c]!) ** 2) / total;
  const shiftTol = (tol * varSum) / d;
  let labels = new Array<number>(n).fill(-1);
  const nearest = (): number[] =>
    Array.from({ length: n }, (_, i) => {
      let best = 0;
      let bestD = Infinity;
      for (let j = 0; j < k; j++) {
        let s = 0;
        for (let c = 0; c < d; c++) s += (data[i * d + c]! - centers[j * d + c]!) ** 2;
        if (s < bestD) [best, bestD] = [j, s];
      }
      return best;
    });
  for (let iter = 0; iter < maxIter; iter++) {
    const next = nearest();
    const changed = next.some((v, i) => v !== labels[i]);
    labels = next;
    if (!changed) break;
    let shift = 0;
    for (let j = 0; j < k; j++) {
      const rows = labels.flatMap((l, i) => (l === j && w(i) > 0 ? [i] : []));
      expect(rows.length).toBeGreaterThan(0); // (no empty clusters in this data)
      const nj = rows.reduce((s, i) => s + w(i), 0);
      for (let c = 0; c < d; c++) {
        const v = rows.reduce((s, i) => s + w(i) * data[i * d + c]!, 0) / nj;
        shift += (v - centers[j * d + c]!) ** 2;
        centers[j * d + c] = v;
      }
    }
    if (shift <= shiftTol) return nearest();
  }
  return labels;
}
