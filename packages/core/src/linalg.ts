// Small dense linear algebra on the host in float64. Matrices are square
// (n x n), row-major Float64Arrays unless said otherwise. These are the
// D x D per-component computations of the EM engine (Cholesky factors of
// covariances and precisions, log-determinants); the N-sized work runs in tfjs.

/** n x n identity. */
export function identity(n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) out[i * n + i] = 1;
  return out;
}

/** Aᵀ for an m x n matrix (result n x m). */
export function transpose(a: Float64Array, m: number, n: number): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) out[j * m + i] = a[i * n + j]!;
  return out;
}

/** A [m, k] @ B [k, n] → [m, n]. */
export function matMul(a: Float64Array, b: Float64Array, m: number, k: number, n: number): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let p = 0; p < k; p++) {
      const aip = a[i * k + p]!;
      if (aip === 0) continue;
      const bRow = p * n;
      const oRow = i * n;
      for (let j = 0; j < n; j++) out[oRow + j] += aip * b[bRow + j]!;
    }
  }
  return out;
}

/** A Aᵀ for an n x n matrix (e.g. precision from its Cholesky factor). */
export function aat(a: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let p = 0; p < n; p++) s += a[i * n + p]! * a[j * n + p]!;
      out[i * n + j] = s;
      out[j * n + i] = s;
    }
  }
  return out;
}

/** Replaces A by (A + Aᵀ)/2 in place and returns it (rounding makes computed covariances slightly asymmetric). */
export function symmetrize(a: Float64Array, n: number): Float64Array {
  for (let i = 0; i < n; i++)
    for (let j = 0; j < i; j++) {
      const v = 0.5 * (a[i * n + j]! + a[j * n + i]!);
      a[i * n + j] = v;
      a[j * n + i] = v;
    }
  return a;
}

/** Adds `value` to the diagonal in place and returns A. */
export function addDiagonal(a: Float64Array, n: number, value: number): Float64Array {
  for (let i = 0; i < n; i++) a[i * n + i] += value;
  return a;
}

/** True when |A_ij - A_ji| <= tol * max(1, |A_ij|, |A_ji|) for all i, j. */
export function isSymmetric(a: Float64Array, n: number, tol = 1e-8): boolean {
  for (let i = 0; i < n; i++)
    for (let j = 0; j < i; j++) {
      const x = a[i * n + j]!;
      const y = a[j * n + i]!;
      if (Math.abs(x - y) > tol * Math.max(1, Math.abs(x), Math.abs(y))) return false;
    }
  return true;
}

/**
 * Lower Cholesky factor L (A = L Lᵀ) of a symmetric matrix, reading only its
 * lower triangle; null when A is not (numerically) positive definite.
 */
export function tryCholesky(a: Float64Array, n: number): Float64Array | null {
  const l = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    let s = a[j * n + j]!;
    for (let p = 0; p < j; p++) s -= l[j * n + p]! * l[j * n + p]!;
    // Not PD (or NaN): a pivot must be strictly positive and finite.
    if (!(s > 0) || !Number.isFinite(s)) return null;
    const ljj = Math.sqrt(s);
    l[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      let t = a[i * n + j]!;
      for (let p = 0; p < j; p++) t -= l[i * n + p]! * l[j * n + p]!;
      l[i * n + j] = t / ljj;
    }
  }
  return l;
}

/** Lower Cholesky factor; throws a RangeError when A is not positive definite. */
export function cholesky(a: Float64Array, n: number): Float64Array {
  const l = tryCholesky(a, n);
  if (l === null) throw new RangeError('matrix is not positive definite');
  return l;
}

/** Inverse of a lower-triangular matrix (itself lower triangular). Throws on a zero pivot. */
export function invertLowerTriangular(l: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    const ljj = l[j * n + j]!;
    if (ljj === 0) throw new RangeError('triangular matrix is singular');
    out[j * n + j] = 1 / ljj;
    for (let i = j + 1; i < n; i++) {
      let s = 0;
      for (let p = j; p < i; p++) s += l[i * n + p]! * out[p * n + j]!;
      out[i * n + j] = -s / l[i * n + i]!;
    }
  }
  return out;
}

/** Solves L y = b for lower-triangular L (forward substitution). */
export function solveLower(l: Float64Array, b: Float64Array, n: number): Float64Array {
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = b[i]!;
    for (let p = 0; p < i; p++) s -= l[i * n + p]! * y[p]!;
    y[i] = s / l[i * n + i]!;
  }
  return y;
}

/** Solves U x = b for upper-triangular U (back substitution). */
export function solveUpper(u: Float64Array, b: Float64Array, n: number): Float64Array {
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = b[i]!;
    for (let p = i + 1; p < n; p++) s -= u[i * n + p]! * x[p]!;
    x[i] = s / u[i * n + i]!;
  }
  return x;
}

/** log det A from its Cholesky factor (any triangular factor with A = T Tᵀ): 2 Σ log |T_ii|. */
export function logDetFromCholesky(t: Float64Array, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += Math.log(Math.abs(t[i * n + i]!));
  return 2 * s;
}

/** Inverse of a symmetric positive definite matrix; null when not PD. */
export function trySpdInverse(a: Float64Array, n: number): Float64Array | null {
  const l = tryCholesky(a, n);
  if (l === null) return null;
  const li = invertLowerTriangular(l, n);
  // A⁻¹ = L⁻ᵀ L⁻¹ = (L⁻¹)ᵀ (L⁻¹)
  const lit = transpose(li, n, n);
  return symmetrize(matMul(lit, li, n, n, n), n);
}

/**
 * scikit-learn's precision Cholesky factor of a covariance: U = (L⁻¹)ᵀ with
 * Σ = L Lᵀ, upper triangular, Σ⁻¹ = U Uᵀ. null when Σ is not PD.
 * Then log N(x | μ, Σ) = -½(d ln 2π + ‖(x - μ)ᵀ U‖²) + Σ ln U_ii.
 */
export function tryPrecisionCholesky(cov: Float64Array, n: number): Float64Array | null {
  const l = tryCholesky(cov, n);
  if (l === null) return null;
  return transpose(invertLowerTriangular(l, n), n, n);
}

/**
 * Covariance from a precision factor M (any M with Σ⁻¹ = M Mᵀ, e.g. the upper
 * factor above or a lower Cholesky factor of the precision). null when singular.
 */
export function tryCovarianceFromPrecisionCholesky(m: Float64Array, n: number): Float64Array | null {
  return trySpdInverse(aat(m, n), n);
}

/** Numerically stable log Σ exp(v_i) over a slice [offset, offset + length). */
export function logSumExp(v: ArrayLike<number>, offset = 0, length = v.length - offset): number {
  let max = -Infinity;
  for (let i = 0; i < length; i++) if (v[offset + i]! > max) max = v[offset + i]!;
  if (max === -Infinity || !Number.isFinite(max)) return max;
  let s = 0;
  for (let i = 0; i < length; i++) s += Math.exp(v[offset + i]! - max);
  return max + Math.log(s);
}

/** Σ v_i with Neumaier compensation: the float64 reduction of per-row log-likelihoods. */
export function compensatedSum(v: ArrayLike<number>): number {
  let s = 0;
  let c = 0;
  for (let i = 0; i < v.length; i++) {
    const x = v[i]!;
    const t = s + x;
    c += Math.abs(s) >= Math.abs(x) ? s - t + x : x - t + s;
    s = t;
  }
  return s + c;
}

/**
 * Eigen-decomposition of a symmetric n x n matrix (row-major) by cyclic
 * Jacobi rotations (n is small here: the number of features): the values in
 * decreasing order (mclust's convention, as the SVD of a scatter) and, unless
 * `withVectors` is false, the eigenvectors as the columns of `vectors`, in the
 * same order. Converges to rounding relative to the matrix's own scale, so a
 * matrix of tiny variances is decomposed as accurately as one of large ones.
 */
export function symmetricEigen(a: Float64Array, n: number): { values: Float64Array; vectors: Float64Array };
export function symmetricEigen(a: Float64Array, n: number, withVectors: false): { values: Float64Array };
export function symmetricEigen(a: Float64Array, n: number, withVectors = true): { values: Float64Array; vectors?: Float64Array } {
  const m = Float64Array.from(a);
  const v = withVectors ? new Float64Array(n * n) : undefined;
  if (v !== undefined) for (let i = 0; i < n; i++) v[i * n + i] = 1;
  const rotate = (x: Float64Array, i: number, j: number, c: number, s: number) => {
    const xi = x[i]!;
    const xj = x[j]!;
    x[i] = c * xi - s * xj;
    x[j] = s * xi + c * xj;
  };
  const scale = frobeniusSquared(m);
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += m[p * n + q]! ** 2;
    if (off <= 1e-30 * scale) break;
    for (let p = 0; p < n; p++)
      for (let q = p + 1; q < n; q++) {
        const apq = m[p * n + q]!;
        if (apq === 0) continue;
        // below rounding next to the diagonal: zero it instead of rotating (else the sweeps never end)
        if (Math.abs(apq) <= 1e-17 * (Math.abs(m[p * n + p]!) + Math.abs(m[q * n + q]!))) {
          m[p * n + q] = 0;
          m[q * n + p] = 0;
          continue;
        }
        // Rotation zeroing m[p][q] (Golub & Van Loan, sym.schur2), applied to columns then rows.
        const tau = (m[q * n + q]! - m[p * n + p]!) / (2 * apq);
        const t = Math.sign(tau || 1) / (Math.abs(tau) + Math.sqrt(1 + tau * tau));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = t * c;
        for (let r = 0; r < n; r++) rotate(m, r * n + p, r * n + q, c, s);
        for (let r = 0; r < n; r++) rotate(m, p * n + r, q * n + r, c, s);
        if (v !== undefined) for (let r = 0; r < n; r++) rotate(v, r * n + p, r * n + q, c, s);
      }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => m[j * n + j]! - m[i * n + i]!);
  const values = Float64Array.from(order, (i) => m[i * n + i]!);
  if (v === undefined) return { values };
  const vectors = new Float64Array(n * n);
  order.forEach((src, dst) => {
    for (let r = 0; r < n; r++) vectors[r * n + dst] = v[r * n + src]!;
  });
  return { values, vectors };
}

/** Eigenvalues of a symmetric n x n matrix, ascending (symmetricEigen without vectors). */
export function symmetricEigenvalues(a: Float64Array, n: number): Float64Array {
  return symmetricEigen(a, n, false).values.reverse();
}

function frobeniusSquared(m: Float64Array): number {
  let s = 0;
  for (const v of m) s += v * v;
  return s;
}
