import { describe, expect, it } from 'vitest';
import {
  aat,
  addDiagonal,
  cholesky,
  compensatedSum,
  identity,
  invertLowerTriangular,
  isSymmetric,
  logDetFromCholesky,
  logSumExp,
  matMul,
  solveLower,
  solveUpper,
  symmetricEigenvalues,
  symmetrize,
  transpose,
  tryCholesky,
  tryCovarianceFromPrecisionCholesky,
  tryPrecisionCholesky,
  trySpdInverse,
} from '../src/linalg.js';
import { createRng } from '../src/rng.js';

/** A random SPD matrix B Bᵀ + n I. */
function randomSpd(n: number, seed: number): Float64Array {
  const rng = createRng(seed);
  const b = new Float64Array(n * n).map(() => rng.normal());
  return addDiagonal(aat(b, n), n, 0.5);
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('linalg', () => {
  it('matMul and transpose agree with a hand computation', () => {
    const a = new Float64Array([1, 2, 3, 4, 5, 6]); // 2 x 3
    const b = new Float64Array([7, 8, 9, 10, 11, 12]); // 3 x 2
    expect([...matMul(a, b, 2, 3, 2)]).toEqual([58, 64, 139, 154]);
    expect([...transpose(a, 2, 3)]).toEqual([1, 4, 2, 5, 3, 6]);
  });

  it('cholesky reconstructs the matrix and matches a known factor', () => {
    const a = new Float64Array([4, 12, -16, 12, 37, -43, -16, -43, 98]);
    const l = cholesky(a, 3);
    expect(maxAbsDiff(l, [2, 0, 0, 6, 1, 0, -8, 5, 3])).toBeLessThan(1e-12);
    for (const n of [1, 2, 5, 16]) {
      const s = randomSpd(n, n);
      expect(maxAbsDiff(aat(cholesky(s, n), n), s)).toBeLessThan(1e-10);
    }
  });

  it('rejects matrices that are not positive definite', () => {
    expect(tryCholesky(new Float64Array([1, 2, 2, 1]), 2)).toBeNull();
    expect(tryCholesky(new Float64Array([0, 0, 0, 1]), 2)).toBeNull();
    expect(tryCholesky(new Float64Array([NaN, 0, 0, 1]), 2)).toBeNull();
    expect(() => cholesky(new Float64Array([1, 1, 1, 1]), 2)).toThrow(RangeError);
  });

  it('triangular inverse and solves are consistent', () => {
    const n = 6;
    const l = cholesky(randomSpd(n, 3), n);
    const li = invertLowerTriangular(l, n);
    expect(maxAbsDiff(matMul(l, li, n, n, n), identity(n))).toBeLessThan(1e-12);
    const b = new Float64Array([1, -2, 3, 0.5, 4, -1]);
    const y = solveLower(l, b, n);
    expect(maxAbsDiff(matMul(l, y, n, n, 1), b)).toBeLessThan(1e-12);
    const u = transpose(l, n, n);
    const x = solveUpper(u, b, n);
    expect(maxAbsDiff(matMul(u, x, n, n, 1), b)).toBeLessThan(1e-12);
  });

  it('log-det, SPD inverse and precision factors fit together', () => {
    const n = 4;
    const s = randomSpd(n, 9);
    const l = cholesky(s, n);
    // det of a 2x2 checks the formula independently
    expect(logDetFromCholesky(cholesky(new Float64Array([2, 1, 1, 3]), 2), 2)).toBeCloseTo(Math.log(5), 12);
    const inv = trySpdInverse(s, n)!;
    expect(maxAbsDiff(matMul(s, inv, n, n, n), identity(n))).toBeLessThan(1e-10);
    const u = tryPrecisionCholesky(s, n)!;
    // upper triangular, U Uᵀ = Σ⁻¹, log det U = -½ log det Σ
    for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) expect(u[i * n + j]).toBe(0);
    expect(maxAbsDiff(aat(u, n), inv)).toBeLessThan(1e-10);
    expect(logDetFromCholesky(u, n)).toBeCloseTo(-logDetFromCholesky(l, n), 10);
    expect(maxAbsDiff(tryCovarianceFromPrecisionCholesky(u, n)!, s)).toBeLessThan(1e-9);
  });

  it('symmetrize / isSymmetric', () => {
    const a = new Float64Array([1, 2, 2.5, 1]);
    expect(isSymmetric(a, 2)).toBe(false);
    expect([...symmetrize(a, 2)]).toEqual([1, 2.25, 2.25, 1]);
    expect(isSymmetric(a, 2)).toBe(true);
  });

  it('logSumExp is stable and compensatedSum is accurate', () => {
    expect(logSumExp([1000, 1000])).toBeCloseTo(1000 + Math.log(2), 12);
    expect(logSumExp([-1000, -1000])).toBeCloseTo(-1000 + Math.log(2), 12);
    expect(logSumExp([-Infinity, -Infinity])).toBe(-Infinity);
    expect(logSumExp([5, 1, 2, 3], 1, 2)).toBeCloseTo(Math.log(Math.exp(1) + Math.exp(2)), 12);
    const v = [1e16, 1, -1e16];
    expect(compensatedSum(v)).toBe(1);
  });
});

describe('symmetricEigenvalues', () => {
  it('finds the eigenvalues of a rotated diagonal matrix', () => {
    // Q diag(1, 4, 9) Qᵀ with Q a rotation in the (0, 2) plane.
    const c = Math.cos(0.7);
    const s = Math.sin(0.7);
    const q = Float64Array.from([c, 0, -s, 0, 1, 0, s, 0, c]);
    const d = Float64Array.from([1, 0, 0, 0, 4, 0, 0, 0, 9]);
    const a = matMul(matMul(q, d, 3, 3, 3), transpose(q, 3, 3), 3, 3, 3);
    const values = symmetricEigenvalues(a, 3);
    expect(Array.from(values).map((v) => Number(v.toFixed(10)))).toEqual([1, 4, 9]);
  });

  it('handles 1 x 1 and already-diagonal input', () => {
    expect(Array.from(symmetricEigenvalues(Float64Array.from([2.5]), 1))).toEqual([2.5]);
    expect(Array.from(symmetricEigenvalues(Float64Array.from([3, 0, 0, 1]), 2))).toEqual([1, 3]);
  });
});
