// The hc initializer against mclust's own starting partitions.
import { describe, expect, it } from 'vitest';
import { hcTree, partitionAt, quantileClasses } from '../src/index.js';
import { DATASETS, loadFixture } from './fixtures.js';

/** Adjusted Rand index of two labelings. */
function adjustedRand(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  const table = new Map<string, number>();
  const ra = new Map<number, number>();
  const rb = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const key = `${a[i]},${b[i]}`;
    table.set(key, (table.get(key) ?? 0) + 1);
    ra.set(a[i]!, (ra.get(a[i]!) ?? 0) + 1);
    rb.set(b[i]!, (rb.get(b[i]!) ?? 0) + 1);
  }
  const c2 = (x: number) => (x * (x - 1)) / 2;
  let sum = 0;
  for (const v of table.values()) sum += c2(v);
  let sa = 0;
  for (const v of ra.values()) sa += c2(v);
  let sb = 0;
  for (const v of rb.values()) sb += c2(v);
  const expected = (sa * sb) / c2(n);
  const max = (sa + sb) / 2;
  return max === expected ? 1 : (sum - expected) / (max - expected);
}

describe.each(DATASETS)('%s', (name) => {
  const fx = loadFixture(name);
  const data = Float64Array.from(fx.X.flat());
  it("equals mclust's starting partition for every k", () => {
    const got: number[] = [];
    for (let k = 2; k <= 9; k++) {
      const labels = fx.d === 1 ? quantileClasses(data, k) : partitionAt(hcTree(data, fx.n, fx.d), k);
      got.push(adjustedRand(labels, fx.hclass[k - 1]!));
    }
    // the same partitions as mclust's, up to the labels' names
    expect(got).toEqual(got.map(() => 1));
  });
});
