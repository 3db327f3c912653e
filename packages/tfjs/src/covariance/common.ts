// Helpers shared by the built-in covariance families, exported so a plugin
// author can write a new family (e.g. mclust's EEI) from the same parts.
import {
  InvalidArgumentError,
  SingularCovarianceError,
  type DensityKernel,
  type SufficientStatistics,
  type Tensor2D,
  type Tf,
} from '@gmmkit/core';

/** ln(2π). */
export const LOG_2PI = Math.log(2 * Math.PI);

/**
 * Added to every component's Σ_i r_ik before dividing, as scikit-learn does
 * (10 * float64 eps): a component that lost all its points keeps finite
 * means (0 in centered coordinates, i.e. the data mean) and a covariance of
 * regCovar * I instead of 0/0.
 */
export const NK_EPSILON = 10 * Number.EPSILON;

/**
 * Σ_i r_ik ([k]) and Σ_i r_ik x_i ([k, d]) of a block, downloaded to float64.
 * x [n, d], resp [n, k]. Leaves no tensors behind.
 */
export function firstMoments(tf: Tf, x: Tensor2D, resp: Tensor2D): { nk: Float64Array; sumX: Float64Array } {
  const [nkT, sumXT] = tf.tidy(() => [tf.sum(resp, 0), tf.matMul(resp, x, true, false)]);
  const nk = Float64Array.from(nkT!.dataSync());
  const sumX = Float64Array.from(sumXT!.dataSync());
  nkT!.dispose();
  sumXT!.dispose();
  return { nk, sumX };
}

/** Downloads a tensor computed inside `fn` to float64 and frees everything `fn` allocated. */
export function download(tf: Tf, fn: () => import('@tensorflow/tfjs-core').Tensor): Float64Array {
  const t = tf.tidy(fn);
  try {
    return Float64Array.from(t.dataSync());
  } finally {
    t.dispose();
  }
}

/** Statistics of the union of two disjoint blocks: element-wise sums. Works for every family whose `second` adds. */
export function addStatistics(a: SufficientStatistics, b: SufficientStatistics): SufficientStatistics {
  if (a.nk.length !== b.nk.length || a.sumX.length !== b.sumX.length || a.second.length !== b.second.length) {
    throw new InvalidArgumentError('cannot merge sufficient statistics of different shapes');
  }
  const add = (p: Float64Array, q: Float64Array): Float64Array => {
    const out = new Float64Array(p.length);
    for (let i = 0; i < p.length; i++) out[i] = p[i]! + q[i]!;
    return out;
  };
  return { n: a.n + b.n, nk: add(a.nk, b.nk), sumX: add(a.sumX, b.sumX), second: add(a.second, b.second) };
}

/**
 * Weights [k] and means [k, d] from statistics, as scikit-learn's
 * `_estimate_gaussian_parameters` (+ the normalization in `_m_step`).
 * Also returns nk + NK_EPSILON, the divisor the covariances use.
 */
export function weightsAndMeans(
  stats: SufficientStatistics,
  k: number,
  d: number,
): { nk: Float64Array; weights: Float64Array; means: Float64Array } {
  const nk = new Float64Array(k);
  let total = 0;
  for (let j = 0; j < k; j++) {
    nk[j] = stats.nk[j]! + NK_EPSILON;
    total += nk[j]!;
  }
  const weights = nk.map((v) => v / total);
  const means = new Float64Array(k * d);
  for (let j = 0; j < k; j++) for (let c = 0; c < d; c++) means[j * d + c] = stats.sumX[j * d + c]! / nk[j]!;
  return { nk, weights, means };
}

/** The error every built-in family throws when a covariance is not positive definite. */
export function singularCovarianceError(family: string, regCovar: number, component?: number): SingularCovarianceError {
  const where = component === undefined ? '' : ` (component ${component + 1})`;
  return new SingularCovarianceError(
    `'${family}' covariance${where} is not positive definite with regCovar=${regCovar}: some components have ` +
      'ill-defined empirical covariance (collapsed or duplicate samples, a constant feature, or too few points). ' +
      'Increase regCovar (e.g. 1e-4), decrease nComponents, or use a simpler covariance type.',
  );
}

/** Throws InvalidArgumentError unless `values` has `expected` finite entries. */
export function checkValues(family: string, values: Float64Array, expected: number): void {
  if (values.length !== expected) {
    throw new InvalidArgumentError(`'${family}' covariances must have ${expected} values, got ${values.length}`);
  }
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) {
      throw new InvalidArgumentError(`'${family}' covariances contain a non-finite value at index ${i}: ${values[i]}`);
    }
  }
}

/** Throws InvalidArgumentError unless every variance is > 0. */
export function checkPositive(family: string, values: Float64Array, what = 'variance'): void {
  for (let i = 0; i < values.length; i++) {
    if (!(values[i]! > 0)) {
      throw new InvalidArgumentError(`'${family}' ${what} at index ${i} must be > 0, got ${values[i]}`);
    }
  }
}

/**
 * E-step kernel for axis-aligned covariances: per component k and feature j
 * a precision factor s_kj = 1/σ_kj, so
 * log N(x | μ_k, Σ_k) = -½ (d ln 2π + Σ_j ((x_j - μ_kj) s_kj)²) + Σ_j ln s_kj.
 * means [k, d] (centered coordinates), precisionChol [k, d].
 * Serves 'diag', 'spherical' (s_kj = s_k) and e.g. mclust EEI (s_kj = s_j).
 */
export function axisAlignedKernel(tf: Tf, means: Float64Array, precisionChol: Float64Array, k: number, d: number): DensityKernel {
  const logDet = new Float32Array(k);
  for (let j = 0; j < k; j++) {
    let s = 0;
    for (let c = 0; c < d; c++) s += Math.log(precisionChol[j * d + c]!);
    logDet[j] = s - 0.5 * d * LOG_2PI;
  }
  // [1, k, d] so they broadcast against rows [n, 1, d].
  const mu = tf.tensor3d(Float32Array.from(means), [1, k, d]);
  const s = tf.tensor3d(Float32Array.from(precisionChol), [1, k, d]);
  const bias = tf.tensor2d(logDet, [1, k]);
  return {
    logDensity(x: Tensor2D): Tensor2D {
      return tf.tidy(() => {
        const y = tf.mul(tf.sub(tf.expandDims(x, 1), mu), s); // [n, k, d]
        const q = tf.sum(tf.square(y), 2); // [n, k]
        return tf.add(tf.mul(q, -0.5), bias) as Tensor2D;
      });
    },
    dispose() {
      mu.dispose();
      s.dispose();
      bias.dispose();
    },
  };
}

/** Σ_i r_ik x_i² per feature, [k, d]: the second moment of axis-aligned families. */
export function diagonalSecondMoments(tf: Tf, x: Tensor2D, resp: Tensor2D): Float64Array {
  return download(tf, () => tf.matMul(resp, tf.square(x), true, false));
}
