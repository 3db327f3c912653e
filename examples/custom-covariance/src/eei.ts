/**
 * mclust's EEI model as a gmmkit covariance family: every component shares
 * one diagonal covariance diag(σ²_1, ..., σ²_d). Between 'diag' (one diagonal
 * per component, k·d parameters) and 'spherical' with a shared variance, it
 * costs only d covariance parameters.
 *
 * Written against the public contract `CovarianceFamily` (@gmmkit/core) with
 * the helpers @gmmkit/tfjs exports for plugin authors. All tensors come from
 * `ctx.tf`, the engine's own tfjs, so the plugin runs on whatever backend the
 * engine uses.
 */
import type { CovarianceFamily } from '@gmmkit/core';
import {
  accumulateMoments,
  addStatistics,
  axisAlignedKernel,
  checkPositive,
  diagonalCovariances,
  checkValues,
  diagonalSecondMomentsAbout,
  diagonalSecondMomentsOf,
  inverseSqrt,
  inverseSquare,
  meanOffsets,
  singularCovarianceError,
  weightsAndMeans,
} from '@gmmkit/tfjs';

export const eei: CovarianceFamily = {
  name: 'eei',
  description: 'one diagonal covariance shared by all components (mclust EEI)',
  mclustName: 'EEI',
  // Layout of the covariances array: the d shared variances.
  covarianceShape: (_k, d) => [d],
  nCovarianceParameters: (_k, d) => d,

  // E-step side, on the engine's tensors: per component Σ r, Σ r x and Σ r x² per feature
  // (about ctx.reference when the engine asks for it, for float32 accuracy).
  accumulate: (x, resp, ctx) =>
    accumulateMoments(
      ctx.tf,
      x,
      resp,
      ctx,
      (b) => diagonalSecondMomentsOf(ctx.tf, b),
      (b) => diagonalSecondMomentsAbout(ctx.tf, b),
    ),
  // Statistics of disjoint row blocks add up.
  merge: addStatistics,

  // M-step on the host in float64: pool every component's within-component scatter.
  mStep(stats, regCovar, { k, d }) {
    const { nk, weights, means } = weightsAndMeans(stats, k, d);
    // mean minus the point the second moments were taken about (0 for raw moments)
    const delta = meanOffsets(means, stats);
    const covariances = new Float64Array(d);
    let total = 0;
    for (let j = 0; j < k; j++) {
      total += nk[j]!;
      for (let c = 0; c < d; c++)
        covariances[c] += stats.second[j * d + c]! - nk[j]! * delta[j * d + c]! ** 2;
    }
    for (let c = 0; c < d; c++) {
      covariances[c] = covariances[c]! / total + regCovar;
      if (!(covariances[c]! > 0)) throw singularCovarianceError('eei', regCovar);
    }
    return { weights, means, covariances };
  },

  // log N(x | μ_k, diag(σ²)) for a block of rows: the axis-aligned kernel takes 1/σ per component and feature.
  densityKernel(params, { tf, k, d }) {
    const inv = new Float64Array(k * d);
    for (let j = 0; j < k; j++) inv.set(inverseSqrt(params.covariances), j * d);
    return axisAlignedKernel(tf, params.means, inv, k, d);
  },

  // Reporting and serialization.
  fullCovariances: (c, k, d) => diagonalCovariances(k, d, (_j, a) => c[a]!),
  precisionsCholesky: (c) => (checkPositive('eei', c), inverseSqrt(c)),
  covariancesFromPrecisionsCholesky: (p) => (checkPositive('eei', p, 'precision'), inverseSquare(p)),
  validate: (c, _k, d) => (checkValues('eei', c, d), checkPositive('eei', c)),
};
