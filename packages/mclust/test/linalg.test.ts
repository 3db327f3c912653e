// core's symmetricEigen with eigenvectors (the M-steps' and hc's) and the polar factor built on it.
import { symmetricEigen, symmetricEigenvalues } from '@gmmkit/core';
import { describe, expect, it } from 'vitest';
import { compose, mul, polarFactor, transposed } from '../src/linalg.js';

/** The rotation by `angle` in the (p, q) plane of n dimensions. */
function rotation(n: number, p: number, q: number, angle: number): Float64Array {
  const r = new Float64Array(n * n);
  for (let i = 0; i < n; i++) r[i * n + i] = 1;
  r[p * n + p] = Math.cos(angle);
  r[q * n + q] = Math.cos(angle);
  r[p * n + q] = -Math.sin(angle);
  r[q * n + p] = Math.sin(angle);
  return r;
}

describe('symmetricEigen', () => {
  const n = 4;
  const q = mul(rotation(n, 0, 2, 0.7), rotation(n, 1, 3, -1.1), n);
  it('gives the values in decreasing order and orthonormal vectors with A v = λ v, at any scale', () => {
    for (const scale of [1, 1e-12, 1e9]) {
      const a = compose(q, [3, 1e-4, 9, 0.5].map((v) => v * scale), n);
      const { values, vectors } = symmetricEigen(a, n);
      expect(Array.from(values, (v) => v / scale)).toEqual([9, 3, 0.5, 1e-4].map((v) => expect.closeTo(v, 10) as number));
      const vtv = mul(transposed(vectors, n), vectors, n);
      for (let i = 0; i < n * n; i++) expect(vtv[i]!).toBeCloseTo(i % (n + 1) === 0 ? 1 : 0, 12);
      const av = mul(a, vectors, n);
      for (let r = 0; r < n; r++)
        for (let c = 0; c < n; c++) expect(Math.abs(av[r * n + c]! - values[c]! * vectors[r * n + c]!)).toBeLessThan(1e-12 * 9 * scale);
      // the values-only form and core's ascending symmetricEigenvalues agree with it
      expect(Array.from(symmetricEigen(a, n, false).values)).toEqual(Array.from(values));
      expect(Array.from(symmetricEigenvalues(a, n))).toEqual(Array.from(values).reverse());
    }
  });

  it('handles 1 x 1, diagonal and zero matrices', () => {
    expect(symmetricEigen(Float64Array.of(2.5), 1)).toEqual({ values: Float64Array.of(2.5), vectors: Float64Array.of(1) });
    expect(Array.from(symmetricEigen(Float64Array.from([1, 0, 0, 3]), 2).vectors)).toEqual([0, 1, 1, 0]);
    expect(Array.from(symmetricEigen(new Float64Array(9), 3).values)).toEqual([0, 0, 0]);
  });

  it('is the basis of the orthogonal polar factor', () => {
    const f = mul(q, compose(rotation(n, 0, 1, 0.3), [2, 5, 1, 0.1], n), n);
    const p = polarFactor(f, n)!;
    const ptp = mul(transposed(p, n), p, n);
    for (let i = 0; i < n * n; i++) expect(ptp[i]!).toBeCloseTo(i % (n + 1) === 0 ? 1 : 0, 12);
    // Pᵀ F is symmetric positive definite (F = P S)
    const s = mul(transposed(p, n), f, n);
    for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) expect(s[r * n + c]!).toBeCloseTo(s[c * n + r]!, 10);
    expect(symmetricEigenvalues(s, n)[0]!).toBeGreaterThan(0);
  });
});
