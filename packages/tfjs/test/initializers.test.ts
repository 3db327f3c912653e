import { createRng } from '@gmmkit/core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  initBackend,
  kmeansInitializer,
  kmeansPlusPlusIndices,
  kmeansPlusPlusInitializer,
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

function oneHotLabels(resp: Float64Array): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const row = Array.from(resp.subarray(i * k, (i + 1) * k));
    expect(row.reduce((a, b) => a + b, 0)).toBe(1);
    out.push(row.indexOf(1));
  }
  return out;
}

beforeAll(async () => {
  await initBackend('wasm');
});

describe('initializers', () => {
  it('kmeans: one-hot responsibilities that recover well-separated clusters', () => {
    const guess = kmeansInitializer.initialize(input(1));
    expect(guess.kind).toBe('responsibilities');
    if (guess.kind !== 'responsibilities') return;
    expect(guess.resp.length).toBe(n * k);
    expect(permutedAccuracy(oneHotLabels(guess.resp), labels, k)).toBe(1);
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
});
