// Small dense algebra on d x d matrices (row-major Float64Array) that the
// M-steps need beyond @gmmkit/core's (whose symmetricEigen gives the
// eigenvectors): the orthogonal polar factor, products. d is the number of
// features, so O(d³) loops are fine.
import { symmetricEigen } from '@gmmkit/core';

/** C = A B for n x n matrices. */
export function mul(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const c = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let k = 0; k < n; k++) {
      const aik = a[i * n + k]!;
      if (aik === 0) continue;
      for (let j = 0; j < n; j++) c[i * n + j] += aik * b[k * n + j]!;
    }
  return c;
}

/** AᵀA of an n x n matrix (mul(transposed(a), a) without the transposed copy; the same sums in the same order). */
export function gram(a: Float64Array, n: number): Float64Array {
  const c = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let k = 0; k < n; k++) {
      const aki = a[k * n + i]!;
      if (aki === 0) continue;
      for (let j = 0; j < n; j++) c[i * n + j] += aki * a[k * n + j]!;
    }
  return c;
}

/** Aᵀ of an n x n matrix. */
export function transposed(a: Float64Array, n: number): Float64Array {
  const t = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) t[j * n + i] = a[i * n + j]!;
  return t;
}

/** D diag(v) Dᵀ: a symmetric matrix from eigenvectors (columns of D) and values. */
export function compose(vectors: Float64Array, values: ArrayLike<number>, n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = i; j < n; j++) {
      let s = 0;
      for (let c = 0; c < n; c++) s += vectors[i * n + c]! * values[c]! * vectors[j * n + c]!;
      out[i * n + j] = s;
      out[j * n + i] = s;
    }
  return out;
}

/** dᵀ M d for column c of D: the diagonal of Dᵀ M D. */
export function rotatedDiagonal(m: Float64Array, vectors: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n);
  for (let c = 0; c < n; c++) {
    let s = 0;
    for (let i = 0; i < n; i++) {
      let row = 0;
      for (let j = 0; j < n; j++) row += m[i * n + j]! * vectors[j * n + c]!;
      s += vectors[i * n + c]! * row;
    }
    out[c] = s;
  }
  return out;
}

/**
 * The orthogonal polar factor of a square matrix F = P S Rᵀ (its SVD): P Rᵀ,
 * the orthogonal matrix nearest to F, computed as F V S⁻¹ Vᵀ from the
 * eigen-decomposition FᵀF = V S² Vᵀ. null when F is (numerically) singular.
 */
export function polarFactor(f: Float64Array, n: number): Float64Array | null {
  const { values, vectors } = symmetricEigen(gram(f, n), n);
  const top = values[0]!;
  if (!(top > 0)) return null;
  const inv = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    if (!(values[i]! > top * 1e-24)) return null;
    inv[i] = 1 / Math.sqrt(values[i]!);
  }
  // F V S⁻¹ Vᵀ loses orthogonality when F is ill-conditioned; Newton–Schulz steps
  // X ← X (3I − XᵀX) / 2 restore it to rounding (they converge quadratically from near-orthogonal X)
  let x = mul(f, compose(vectors, inv, n), n);
  for (let step = 0; step < 4; step++) {
    const xtx = gram(x, n);
    let err = 0;
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) err = Math.max(err, Math.abs(xtx[i * n + j]! - (i === j ? 1 : 0)));
    if (err < 1e-15) break;
    if (!(err < 0.5)) return null;
    for (let i = 0; i < n * n; i++) xtx[i] = (i % (n + 1) === 0 ? 3 : 0) - xtx[i]!;
    x = mul(x, xtx, n).map((v) => v / 2);
  }
  return x;
}

/** Geometric mean of v[offset .. offset + n). */
export function geometricMean(v: ArrayLike<number>, offset: number, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += Math.log(v[offset + i]!);
  return Math.exp(s / n);
}
