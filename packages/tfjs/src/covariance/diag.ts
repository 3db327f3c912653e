import type { CovarianceFamily, MixtureParameters, SufficientStatistics } from '@gmmkit/core';
import {
  addStatistics,
  axisAlignedKernel,
  checkPositive,
  diagonalCovariances,
  checkValues,
  axisAlignedMoments,
  hostDiagonalMoments,
  diagonalSecondMomentsAbout,
  meanOffsets,
  singularCovarianceError,
  weightsAndMeans,
  type EngineContext,
} from './common.js';
import { fewPointsDegeneracy, pinnedVarianceDegeneracy } from './degeneracy.js';

/** The diagonals of k matrices [k, d, d], as [k, d]. */
export function diagonalsOf(full: Float64Array, k: number, d: number): Float64Array {
  const out = new Float64Array(k * d);
  for (let j = 0; j < k; j++) for (let a = 0; a < d; a++) out[j * d + a] = full[j * d * d + a * d + a]!;
  return out;
}

/** 1/√v element-wise (precision Cholesky factors of variances). */
export function inverseSqrt(v: Float64Array): Float64Array {
  return v.map((x) => 1 / Math.sqrt(x));
}
/** 1/p² element-wise (variances from precision Cholesky factors). */
export function inverseSquare(p: Float64Array): Float64Array {
  return p.map((x) => 1 / (x * x));
}

/** 'diag' (mclust VVI): each component has its own diagonal covariance. Layout [k, d]. */
export const diagCovariance: CovarianceFamily = {
  name: 'diag',
  description: 'each component has its own diagonal covariance (mclust VVI)',
  mclustName: 'VVI',
  covarianceShape: (k, d) => [k, d],
  nCovarianceParameters: (k, d) => k * d,

  accumulate(x, resp, ctx): SufficientStatistics {
    const { tf } = ctx;
    return axisAlignedMoments(tf, x, resp, ctx, (diagonal) => diagonal, (b) => diagonalSecondMomentsAbout(tf, b));
  },
  accumulateHost: hostDiagonalMoments,
  accumulateHostLabels: (rows, labels, weights, n, ctx) => hostDiagonalMoments(rows, { labels, weights }, n, ctx),
  merge: addStatistics,
  // Missing values: only the diagonal of each component's second moments (the conditional variances).
  secondFromFull: (full, k, d) => diagonalsOf(full, k, d),

  mStep(stats, regCovar, { k, d }): MixtureParameters {
    const { nk, weights, means } = weightsAndMeans(stats, k, d);
    const delta = meanOffsets(means, stats);
    const covariances = new Float64Array(k * d);
    for (let j = 0; j < k; j++)
      for (let c = 0; c < d; c++) {
        const i = j * d + c;
        const v = stats.second[i]! / nk[j]! - delta[i]! * delta[i]! + regCovar;
        if (!(v > 0) || !Number.isFinite(v)) throw singularCovarianceError('diag', regCovar, j);
        covariances[i] = v;
      }
    return { weights, means, covariances };
  },

  densityKernel(params, ctx) {
    const { tf, k, d } = ctx;
    return axisAlignedKernel(tf, params.means, inverseSqrt(params.covariances), k, d, (ctx as EngineContext).blockCache);
  },

  fullCovariances: (c, k, d) => diagonalCovariances(k, d, (j, a) => c[j * d + a]!),
  precisionsCholesky: (c) => {
    checkPositive('diag', c);
    return inverseSqrt(c);
  },
  covariancesFromPrecisionsCholesky: (p) => {
    checkPositive('diag', p, 'precision');
    return inverseSquare(p);
  },
  // n_k >= 2 effective points, and no feature's variance pinned at regCovar
  degeneracy: (params, ctx) =>
    fewPointsDegeneracy(params, ctx, 2, 'a variance') ??
    pinnedVarianceDegeneracy(ctx, (j, a) => params.covariances[j * ctx.d + a]!, { weights: params.weights }),
  validate(c, k, d) {
    checkValues('diag', c, k * d);
    checkPositive('diag', c);
  },
};
