import type { CovarianceFamily, MixtureParameters, SufficientStatistics } from '@gmmkit/core';
import {
  axisAlignedMoments,
  hostMoments,
  type LabelAssignment,
  addStatistics,
  axisAlignedKernel,
  checkPositive,
  diagonalCovariances,
  checkValues,
  diagonalSecondMomentsAbout,
  meanOffsets,
  singularCovarianceError,
  weightsAndMeans,
  type EngineContext,
} from './common.js';
import { diagonalsOf, inverseSqrt, inverseSquare } from './diag.js';
import { fewPointsDegeneracy, pinnedVarianceDegeneracy } from './degeneracy.js';

/** 'spherical' (mclust VII): each component has its own single variance σ_k² I. Layout [k]. */
/** Σ r ‖x - m‖² per component, [k], in float64 (accumulateHost, accumulateHostLabels). */
function sphericalHostMoments(rows: Float64Array, resp: Float64Array | LabelAssignment, n: number, ctx: { k: number; d: number; reference?: Float64Array | undefined }): SufficientStatistics {
  return hostMoments(rows, resp, n, ctx, ctx.k, (s, j, dev, r) => {
    for (let c = 0; c < dev.length; c++) s[j] += r * dev[c]! * dev[c]!;
  });
}

export const sphericalCovariance: CovarianceFamily = {
  name: 'spherical',
  description: 'each component has its own single variance, σ²·I (mclust VII)',
  mclustName: 'VII',
  covarianceShape: (k) => [k],
  nCovarianceParameters: (k) => k,

  accumulate(x, resp, ctx): SufficientStatistics {
    const { tf, k, d } = ctx;
    return axisAlignedMoments(
      tf,
      x,
      resp,
      ctx,
      // Σ_i r_ik ‖x_i‖² = Σ_j Σ_i r_ik x_ij², [k]
      (diagonal) => {
        const s = new Float64Array(k);
        for (let j = 0; j < k; j++) for (let c = 0; c < d; c++) s[j] += diagonal[j * d + c]!;
        return s;
      },
      // Σ_i r_ik ‖x_i - m_k‖², [k]
      (b) => tf.sum(diagonalSecondMomentsAbout(tf, b), 1),
    );
  },
  accumulateHost: sphericalHostMoments,
  accumulateHostLabels: (rows, labels, weights, n, ctx) => sphericalHostMoments(rows, { labels, weights }, n, ctx),
  merge: addStatistics,
  // Missing values: only the trace of each component's second moments.
  secondFromFull(full, k, d) {
    const diagonals = diagonalsOf(full, k, d);
    const out = new Float64Array(k);
    for (let j = 0; j < k; j++) for (let a = 0; a < d; a++) out[j] += diagonals[j * d + a]!;
    return out;
  },

  mStep(stats, regCovar, { k, d }): MixtureParameters {
    const { nk, weights, means } = weightsAndMeans(stats, k, d);
    const delta = meanOffsets(means, stats);
    // scikit-learn: the mean over features of the diagonal variances, + reg.
    const covariances = new Float64Array(k);
    for (let j = 0; j < k; j++) {
      let m2 = 0;
      for (let c = 0; c < d; c++) m2 += delta[j * d + c]! * delta[j * d + c]!;
      const v = (stats.second[j]! / nk[j]! - m2) / d + regCovar;
      if (!(v > 0) || !Number.isFinite(v)) throw singularCovarianceError('spherical', regCovar, j);
      covariances[j] = v;
    }
    return { weights, means, covariances };
  },

  densityKernel(params, ctx) {
    const { tf, k, d } = ctx;
    const s = new Float64Array(k * d);
    for (let j = 0; j < k; j++) s.fill(1 / Math.sqrt(params.covariances[j]!), j * d, (j + 1) * d);
    return axisAlignedKernel(tf, params.means, s, k, d, (ctx as EngineContext).blockCache);
  },

  fullCovariances: (c, k, d) => diagonalCovariances(k, d, (j) => c[j]!),
  precisionsCholesky: (c) => {
    checkPositive('spherical', c);
    return inverseSqrt(c);
  },
  covariancesFromPrecisionsCholesky: (p) => {
    checkPositive('spherical', p, 'precision');
    return inverseSquare(p);
  },
  // n_k >= 2 effective points, and no variance pinned at regCovar (the mean of the features' floors)
  degeneracy: (params, ctx) =>
    fewPointsDegeneracy(params, ctx, 2, 'a variance') ??
    pinnedVarianceDegeneracy(ctx, (j) => params.covariances[j]!, { isotropic: true, weights: params.weights }),
  validate(c, k) {
    checkValues('spherical', c, k);
    checkPositive('spherical', c);
  },
};
