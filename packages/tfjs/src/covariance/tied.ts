import {
  addDiagonal,
  symmetrize,
  tryCholesky,
  tryCovarianceFromPrecisionCholesky,
  tryPrecisionCholesky,
  type CovarianceFamily,
  type MixtureParameters,
  type SufficientStatistics,
} from '@gmmkit/core';
import { accumulateMoments, addStatistics, hostOuterMoments, transposedRows, type EngineContext, checkValues, meanOffsets, singularCovarianceError, weightsAndMeans } from './common.js';
import { pinnedMatrixDegeneracy } from './degeneracy.js';
import { fullSecondMomentsAbout, mapBlocks, matrixKernel, validateSpd } from './full.js';

/** 'tied' (mclust EEE): one general covariance matrix shared by all components. Layout [d, d]. */
export const tiedCovariance: CovarianceFamily = {
  name: 'tied',
  description: 'all components share one general covariance matrix (mclust EEE)',
  mclustName: 'EEE',
  covarianceShape: (_k, d) => [d, d],
  nCovarianceParameters: (_k, d) => (d * (d + 1)) / 2,

  accumulate(x, resp, ctx): SufficientStatistics {
    const { tf } = ctx;
    return accumulateMoments(
      tf,
      x,
      resp,
      ctx,
      // Σ_i (Σ_k r_ik) x_i x_iᵀ, [d, d] (the row weight is 1 for normalized responsibilities)
      ({ x, respT }) => tf.matMul(tf.mul(transposedRows(tf, x, (ctx as EngineContext).blockCache), tf.sum(respT, 0, true)), x),
      // Σ_k Σ_i r_ik (x_i - m_k)(x_i - m_k)ᵀ, [d, d]
      (b) => tf.sum(fullSecondMomentsAbout(tf)(b), 0),
    );
  },
  // Σ_k Σ_i r_ik (x_i - m_k)(x_i - m_k)ᵀ, [d, d], in float64
  accumulateHost: (rows, resp, n, ctx) => hostOuterMoments(rows, resp, n, ctx, true),
  accumulateHostLabels: (rows, labels, weights, n, ctx) => hostOuterMoments(rows, { labels, weights }, n, ctx, true),
  merge: addStatistics,
  // Missing values: one shared matrix, so the components' second moments add.
  secondFromFull(full, k, d) {
    const out = new Float64Array(d * d);
    for (let j = 0; j < k; j++) for (let i = 0; i < d * d; i++) out[i] += full[j * d * d + i]!;
    return out;
  },

  mStep(stats, regCovar, { k, d }): MixtureParameters {
    const { nk, weights, means } = weightsAndMeans(stats, k, d);
    const delta = meanOffsets(means, stats);
    // scikit-learn: (Σ x xᵀ - Σ_k n_k μ_k μ_kᵀ) / Σ n_k + reg I (δ = μ - m about a reference m)
    let total = 0;
    for (let j = 0; j < k; j++) total += nk[j]!;
    const cov = new Float64Array(d * d);
    for (let a = 0; a < d; a++)
      for (let b = 0; b < d; b++) {
        let m2 = 0;
        for (let j = 0; j < k; j++) m2 += nk[j]! * delta[j * d + a]! * delta[j * d + b]!;
        cov[a * d + b] = (stats.second[a * d + b]! - m2) / total;
      }
    addDiagonal(symmetrize(cov, d), d, regCovar);
    if (tryCholesky(cov, d) === null) throw singularCovarianceError('tied', regCovar);
    return { weights, means, covariances: cov };
  },

  densityKernel(params, { tf, k, d }) {
    return matrixKernel(tf, params.means, this.precisionsCholesky(params.covariances, k, d), k, d, true);
  },

  fullCovariances(c, k, d) {
    const out = new Float64Array(k * d * d);
    for (let j = 0; j < k; j++) out.set(c.subarray(0, d * d), j * d * d);
    return out;
  },
  precisionsCholesky: (c, _k, d) => mapBlocks('tied', c, 1, d, tryPrecisionCholesky, 'covariance'),
  covariancesFromPrecisionsCholesky: (p, _k, d) => mapBlocks('tied', p, 1, d, tryCovarianceFromPrecisionCholesky, 'precision'),
  // n >= k + d rows (the pooled scatter has n - k degrees of freedom), and no eigenvalue pinned at regCovar
  degeneracy(params, ctx) {
    if (ctx.n < ctx.k + ctx.d) return { reason: `${ctx.n} rows are too few for k + d = ${ctx.k + ctx.d}: the shared covariance is singular` };
    return pinnedMatrixDegeneracy(ctx, params.covariances, 1);
  },
  validate(c, _k, d) {
    checkValues('tied', c, d * d);
    validateSpd('tied', c, 0, d, 'covariance');
  },
};
