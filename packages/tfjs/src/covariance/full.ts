import {
  InvalidArgumentError,
  addDiagonal,
  isSymmetric,
  symmetrize,
  tryCholesky,
  tryCovarianceFromPrecisionCholesky,
  tryPrecisionCholesky,
  type CovarianceFamily,
  type DensityKernel,
  type MixtureParameters,
  type SufficientStatistics,
  type Tensor2D,
  type Tf,
} from '@gmmkit/core';
import type { Tensor, Tensor3D } from '@tensorflow/tfjs-core';
import {
  EXPANDED_KERNEL_LIMIT,
  concatColumns,
  LOG_2PI,
  accumulateMoments,
  hostOuterMoments,
  transposedRows,
  addStatistics,
  checkValues,
  meanOffsets,
  singularCovarianceError,
  weightsAndMeans,
  type BlockCache,
  type BlockTensors,
  type EngineContext,
} from './common.js';
import { fewPointsDegeneracy, pinnedMatrixDegeneracy } from './degeneracy.js';

/**
 * Σ_i r_ik x_i x_iᵀ for all k at once, [k*d, d]: (respᵀ ⊗ xᵀ) [k*d, n] @ x [n, d],
 * one plain matMul with the row axis already last.
 */
export function fullSecondMoments(tf: Tf, k: number, d: number, cache?: BlockCache): (b: BlockTensors) => Tensor {
  return ({ x, respT }) => {
    const n = x.shape[0];
    const rxT = tf.reshape(tf.mul(tf.expandDims(respT, 1), tf.expandDims(transposedRows(tf, x, cache), 0)), [k * d, n]);
    return tf.matMul(rxT, x);
  };
}

/** Σ_i r_ik (x_i - m_k)(x_i - m_k)ᵀ, [k, d, d], from deviations dev [k, n, d] (batched matMul). */
export function fullSecondMomentsAbout(tf: Tf): (b: BlockTensors & { dev: Tensor3D }) => Tensor {
  return ({ respT, dev }) => tf.matMul(tf.mul(dev, tf.expandDims(respT, 2)), dev, true, false);
}

/**
 * Covariance of one component from its statistics: S/n_k - δ δᵀ + reg I,
 * symmetrized. `second` holds Σ r (x - m)(x - m)ᵀ at `offset`, δ = μ - m at
 * `meanOffset` (m = 0 for raw moments).
 */
export function covarianceFromMoments(
  second: Float64Array,
  offset: number,
  nk: number,
  mean: Float64Array,
  meanOffset: number,
  d: number,
  regCovar: number,
): Float64Array {
  const cov = new Float64Array(d * d);
  for (let a = 0; a < d; a++)
    for (let b = 0; b < d; b++)
      cov[a * d + b] = second[offset + a * d + b]! / nk - mean[meanOffset + a]! * mean[meanOffset + b]!;
  return addDiagonal(symmetrize(cov, d), d, regCovar);
}

/**
 * E-step kernel for general matrices: K precision factors U_k ([d, d], Σ_k⁻¹ = U_k U_kᵀ)
 * concatenated into one [d, K*d] matrix so a block of rows is scored with a
 * single matMul x @ U - μU ([n, K*d]), then squared and summed per component.
 * means [k, d], precisionsCholesky [k, d, d] (or one [d, d] shared when `shared`).
 */
export function matrixKernel(
  tf: Tf,
  means: Float64Array,
  precisionsCholesky: Float64Array,
  k: number,
  d: number,
  shared = false,
  cache?: BlockCache,
): DensityKernel {
  if (shared) {
    const expanded = sharedExpandedKernel(tf, means, precisionsCholesky, k, d);
    if (expanded !== undefined) return expanded;
  }
  const kd = k * d;
  const u = new Float32Array(d * kd); // [d, k*d]
  const b = new Float32Array(kd); // [k*d]: μ_kᵀ U_k
  const bias = new Float32Array(k);
  for (let j = 0; j < k; j++) {
    const off = shared ? 0 : j * d * d;
    for (let r = 0; r < d; r++) for (let c = 0; c < d; c++) u[r * kd + j * d + c] = precisionsCholesky[off + r * d + c]!;
    for (let c = 0; c < d; c++) {
      let s = 0;
      for (let r = 0; r < d; r++) s += means[j * d + r]! * precisionsCholesky[off + r * d + c]!;
      b[j * d + c] = s;
    }
    let logDet = 0;
    for (let r = 0; r < d; r++) logDet += Math.log(precisionsCholesky[off + r * d + r]!);
    bias[j] = logDet - 0.5 * d * LOG_2PI;
  }
  const uT = tf.tensor2d(u, [d, kd]);
  const bT = tf.tensor2d(b, [1, kd]);
  const biasT = tf.tensor2d(bias, [1, k]);
  // [U; -μU] ([d+1, k*d]): with rows [x, 1] (cached per block) the shift is inside the matMul,
  // saving a broadcast subtraction over [n, k*d] (slow generic path on wasm).
  const ub = cache === undefined ? undefined : tf.tidy(() => tf.concat([uT, tf.neg(bT)], 0));
  return {
    logDensity(x: Tensor2D): Tensor2D {
      const x1 = cache?.get('x.1', x, x.shape[0] * (x.shape[1] + 1) * 4, () => concatColumns(tf, [x, tf.ones([x.shape[0], 1])]));
      return tf.tidy(() => {
        const n = x.shape[0];
        const y = x1 === undefined || ub === undefined ? tf.sub(tf.matMul(x, uT), bT) : tf.matMul(x1 as Tensor2D, ub); // [n, k*d]
        const q = tf.sum(tf.reshape(tf.square(y), [n, k, d]), 2); // [n, k]
        return tf.add(tf.mul(q, -0.5), biasT) as Tensor2D;
      });
    },
    dispose() {
      uT.dispose();
      bT.dispose();
      biasT.dispose();
      ub?.dispose();
    },
  };
}

/**
 * One shared factor U (tied): with z = x U ([n, d], one small matMul),
 * ‖z - μ_k U‖² = ‖z‖² - 2 z·(μ_k U) + ‖μ_k U‖², so the block is scored by
 * z² @ W₁ + z @ W₂ ([d, k] each) plus a float64 bias: d times fewer flops than the
 * [d, K*d] product and no [n, k, d] broadcast. undefined when a component mean
 * is so far from the origin (Mahalanobis² > EXPANDED_KERNEL_LIMIT) that the
 * expansion would lose float32 precision.
 */
function sharedExpandedKernel(tf: Tf, means: Float64Array, u: Float64Array, k: number, d: number): DensityKernel | undefined {
  const w = new Float32Array(2 * d * k);
  const bias = new Float32Array(k);
  let logDet = 0;
  for (let r = 0; r < d; r++) logDet += Math.log(u[r * d + r]!);
  for (let j = 0; j < k; j++) {
    let c = 0;
    for (let col = 0; col < d; col++) {
      let m = 0; // (μ_k U)_col
      for (let r = 0; r < d; r++) m += means[j * d + r]! * u[r * d + col]!;
      w[col * k + j] = -0.5;
      w[(d + col) * k + j] = m;
      c += m * m;
    }
    if (c > EXPANDED_KERNEL_LIMIT) return undefined;
    bias[j] = logDet - 0.5 * d * LOG_2PI - 0.5 * c;
  }
  const uT = tf.tensor2d(Float32Array.from(u), [d, d]);
  // z² @ W₁ + z @ W₂ rather than [z², z] @ W: no [n, 2d] concatenation per block (5x faster at 8192 x 8 on wasm).
  const squareW = tf.tensor2d(w.subarray(0, d * k), [d, k]);
  const linearW = tf.tensor2d(w.subarray(d * k), [d, k]);
  const biasT = tf.tensor2d(bias, [1, k]);
  return {
    logDensity(x: Tensor2D): Tensor2D {
      return tf.tidy(() => {
        const z = tf.matMul(x, uT);
        return tf.add(tf.add(tf.matMul(tf.square(z), squareW), tf.matMul(z, linearW)), biasT) as Tensor2D;
      });
    },
    dispose() {
      uT.dispose();
      squareW.dispose();
      linearW.dispose();
      biasT.dispose();
    },
  };
}

/** Validates one symmetric positive definite d x d matrix at `offset`; `label` names it in the error. */
export function validateSpd(family: string, values: Float64Array, offset: number, d: number, label: string): void {
  const m = values.subarray(offset, offset + d * d);
  if (!isSymmetric(m, d, 1e-6)) throw new InvalidArgumentError(`'${family}' ${label} is not symmetric`);
  if (tryCholesky(m, d) === null) throw new InvalidArgumentError(`'${family}' ${label} is not positive definite`);
}

/** Applies `f` to each of `count` d x d blocks; throws InvalidArgumentError naming the block when f returns null. */
export function mapBlocks(
  family: string,
  values: Float64Array,
  count: number,
  d: number,
  f: (m: Float64Array, d: number) => Float64Array | null,
  what: string,
): Float64Array {
  const out = new Float64Array(count * d * d);
  for (let j = 0; j < count; j++) {
    const r = f(values.subarray(j * d * d, (j + 1) * d * d), d);
    if (r === null) throw new InvalidArgumentError(`'${family}' ${what}${count > 1 ? ` of component ${j + 1}` : ''} is not positive definite`);
    out.set(r, j * d * d);
  }
  return out;
}

/** 'full' (mclust VVV): each component has its own general covariance matrix. Layout [k, d, d]. */
export const fullCovariance: CovarianceFamily = {
  name: 'full',
  description: 'each component has its own general covariance matrix (mclust VVV)',
  mclustName: 'VVV',
  covarianceShape: (k, d) => [k, d, d],
  nCovarianceParameters: (k, d) => (k * d * (d + 1)) / 2,

  accumulate(x, resp, ctx): SufficientStatistics {
    const { tf, k, d } = ctx;
    // No block cache of the rows' outer products: on wasm it made the iteration no faster at d = 8,
    // k = 5 (~10% faster at d = 16, k = 8) for d(d+1)/2 floats a row held per thread.
    return accumulateMoments(tf, x, resp, ctx, fullSecondMoments(tf, k, d, (ctx as EngineContext).blockCache), fullSecondMomentsAbout(tf));
  },
  // Σ r (x - m)(x - m)ᵀ per component, [k, d, d], in float64
  accumulateHost: (rows, resp, n, ctx) => hostOuterMoments(rows, resp, n, ctx, false),
  accumulateHostLabels: (rows, labels, weights, n, ctx) => hostOuterMoments(rows, { labels, weights }, n, ctx, false),
  merge: addStatistics,
  // Missing values: the full second moments are exactly this family's statistic.
  secondFromFull: (full) => Float64Array.from(full),

  mStep(stats, regCovar, { k, d }): MixtureParameters {
    const { nk, weights, means } = weightsAndMeans(stats, k, d);
    const delta = meanOffsets(means, stats);
    const covariances = new Float64Array(k * d * d);
    for (let j = 0; j < k; j++) {
      const cov = covarianceFromMoments(stats.second, j * d * d, nk[j]!, delta, j * d, d, regCovar);
      if (tryCholesky(cov, d) === null) throw singularCovarianceError('full', regCovar, j);
      covariances.set(cov, j * d * d);
    }
    return { weights, means, covariances };
  },

  densityKernel(params, ctx) {
    const { tf, k, d } = ctx;
    return matrixKernel(tf, params.means, this.precisionsCholesky(params.covariances, k, d), k, d, false, (ctx as EngineContext).blockCache);
  },

  fullCovariances: (c) => Float64Array.from(c),
  precisionsCholesky: (c, k, d) => mapBlocks('full', c, k, d, tryPrecisionCholesky, 'covariance'),
  covariancesFromPrecisionsCholesky: (p, k, d) =>
    mapBlocks('full', p, k, d, tryCovarianceFromPrecisionCholesky, 'precision'),
  // n_k >= d + 1 effective points, and no eigenvalue pinned at regCovar (docs/degenerate-solutions.md)
  degeneracy: (params, ctx) =>
    fewPointsDegeneracy(params, ctx, ctx.d + 1, 'a full covariance') ?? pinnedMatrixDegeneracy(ctx, params.covariances, ctx.k, params.weights),
  validate(c, k, d) {
    checkValues('full', c, k * d * d);
    for (let j = 0; j < k; j++) validateSpd('full', c, j * d * d, d, `covariance of component ${j + 1}`);
  },
};
