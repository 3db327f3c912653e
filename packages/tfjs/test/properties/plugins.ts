// Plugins the property suite registers next to the built-ins, written against
// the public contracts (packages/core/src/contracts) and the helpers the
// engine exports for plugin authors, the way a user would write them:
//  - 'eei': mclust's EEI, one diagonal covariance shared by all components;
//  - 'farthest-point': farthest-point seeding, returning { kind: 'means' };
//  - inflated(base): a deliberately WRONG family whose M-step inflates the
//    covariances, used to show the monotonicity property has teeth.
import type { CovarianceFamily, Initializer, MixtureParameters, SufficientStatistics } from '@gmmkit/core';
import {
  accumulateMoments,
  addStatistics,
  axisAlignedKernel,
  checkPositive,
  diagonalCovariances,
  checkValues,
  diagonalSecondMomentsAbout,
  diagonalSecondMomentsOf,
  hostDiagonalMoments,
  inverseSqrt,
  inverseSquare,
  meanOffsets,
  pinnedVarianceDegeneracy,
  singularCovarianceError,
  weightsAndMeans,
} from '../../src/index.js';

/**
 * mclust EEI: Σ_k = diag(σ²) for every k, layout [d]. Built from the helpers
 * the engine exports for plugin authors: the same sufficient statistics as
 * 'diag' (Σ r, Σ r x, Σ r x²), the axis-aligned density kernel with the
 * shared precision factor tiled over components; only the pooled M-step is new.
 */
export const eeiFamily: CovarianceFamily = {
  name: 'eei',
  description: 'one diagonal covariance shared by all components (mclust EEI); test plugin',
  mclustName: 'EEI',
  covarianceShape: (_k, d) => [d],
  nCovarianceParameters: (_k, d) => d,
  // Σ r x² about the origin, or about ctx.reference when the engine asks
  // (float32 accuracy for small components far from the centre).
  // Missing values: EEI keeps each component's diagonal second moments, as diag.
  secondFromFull(full, k, d) {
    const out = new Float64Array(k * d);
    for (let j = 0; j < k; j++) for (let a = 0; a < d; a++) out[j * d + a] = full[j * d * d + a * d + a]!;
    return out;
  },
  accumulate(x, resp, ctx): SufficientStatistics {
    const { tf } = ctx;
    return accumulateMoments(
      tf,
      x,
      resp,
      ctx,
      (b) => diagonalSecondMomentsOf(tf, b),
      (b) => diagonalSecondMomentsAbout(tf, b),
    );
  },
  // the float64 fallback: the same [k, d] second moments from the host rows
  accumulateHost: hostDiagonalMoments,
  merge: addStatistics,
  mStep(stats, regCovar, { k, d }): MixtureParameters {
    const { nk, weights, means } = weightsAndMeans(stats, k, d);
    const delta = meanOffsets(means, stats); // μ_k - m_k (m_k = 0 for raw moments)
    let total = 0;
    for (let j = 0; j < k; j++) total += nk[j]!;
    const covariances = new Float64Array(d);
    // Pooled within-component scatter: Σ_k Σ_i r_ik (x_ij - μ_kj)² = Σ_k (Σ_i r_ik (x_ij - m_kj)² - n_k δ_kj²).
    for (let j = 0; j < k; j++)
      for (let c = 0; c < d; c++)
        covariances[c] += stats.second[j * d + c]! - nk[j]! * delta[j * d + c]! ** 2;
    for (let c = 0; c < d; c++) {
      covariances[c] = covariances[c]! / total + regCovar;
      if (!(covariances[c]! > 0) || !Number.isFinite(covariances[c]!))
        throw singularCovarianceError('eei', regCovar);
    }
    return { weights, means, covariances };
  },
  densityKernel(params, { tf, k, d }) {
    const s = inverseSqrt(params.covariances);
    const tiled = new Float64Array(k * d);
    for (let j = 0; j < k; j++) tiled.set(s, j * d);
    return axisAlignedKernel(tf, params.means, tiled, k, d);
  },
  fullCovariances: (cov, k, d) => diagonalCovariances(k, d, (_j, a) => cov[a]!),
  precisionsCholesky: (cov) => {
    checkPositive('eei', cov);
    return inverseSqrt(cov);
  },
  covariancesFromPrecisionsCholesky: (pc) => {
    checkPositive('eei', pc, 'precision');
    return inverseSquare(pc);
  },
  // n >= k + 1 rows for the pooled variances, none pinned at regCovar
  degeneracy(params, ctx) {
    if (ctx.n < ctx.k + 1) return { reason: `${ctx.n} rows are too few for k + 1 = ${ctx.k + 1}` };
    return pinnedVarianceDegeneracy(ctx, (_j, a) => params.covariances[a]!, { shared: true });
  },
  validate(cov, _k, d) {
    checkValues('eei', cov, d);
    checkPositive('eei', cov);
  },
};

/**
 * Farthest-point seeding: a random first row, then repeatedly the row
 * farthest from the centres chosen so far. Returns means only, so the engine's
 * `{ kind: 'means' }` path is exercised.
 */
export const farthestPointInitializer: Initializer = {
  name: 'farthest-point',
  description: 'farthest-point seeding (test plugin)',
  initialize({ data, n, d, k, rng }) {
    const means = new Float64Array(k * d);
    const minDist = new Float64Array(n).fill(Infinity);
    let pick = rng.int(n);
    for (let c = 0; c < k; c++) {
      means.set(data.subarray(pick * d, pick * d + d), c * d);
      let best = -1;
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let j = 0; j < d; j++) {
          const t = data[i * d + j]! - means[c * d + j]!;
          s += t * t;
        }
        if (s < minDist[i]!) minDist[i] = s;
        if (best < 0 || minDist[i]! > minDist[best]!) best = i;
      }
      pick = best;
    }
    return { kind: 'means', means };
  },
};

/**
 * A deliberately wrong family: `base` with every M-step's covariances
 * multiplied by `factor` (every layout gmmkit uses is linear in the
 * covariances, so scaling the array scales every component's matrix). The
 * M-step is then no longer the maximizer of the expected complete-data
 * log-likelihood, and EM's monotonicity is lost.
 */
export function inflatedFamily(base: CovarianceFamily, factor: number): CovarianceFamily {
  // Delegates method by method: the built-ins may be class instances, whose
  // prototype methods an object spread would drop.
  return {
    name: `${base.name}-inflated`,
    description: `${base.name} with covariances inflated x${factor} in the M-step (deliberately wrong)`,
    covarianceShape: (k, d) => base.covarianceShape(k, d),
    nCovarianceParameters: (k, d) => base.nCovarianceParameters(k, d),
    accumulate: (x, resp, ctx) => base.accumulate(x, resp, ctx),
    merge: (a, b) => base.merge(a, b),
    mStep(stats, regCovar, ctx) {
      const p = base.mStep(stats, regCovar, ctx);
      return { ...p, covariances: p.covariances.map((v) => v * factor) };
    },
    densityKernel: (params, ctx) => base.densityKernel(params, ctx),
    fullCovariances: (cov, k, d) => base.fullCovariances(cov, k, d),
    precisionsCholesky: (cov, k, d) => base.precisionsCholesky(cov, k, d),
    covariancesFromPrecisionsCholesky: (pc, k, d) => base.covariancesFromPrecisionsCholesky(pc, k, d),
    validate: (cov, k, d) => base.validate(cov, k, d),
  };
}

/** A deliberately leaky family: `base` whose accumulate leaves one tensor behind per call. */
export function leakyFamily(base: CovarianceFamily): CovarianceFamily {
  const wrapped = inflatedFamily(base, 1);
  return {
    ...wrapped,
    name: `${base.name}-leaky`,
    description: `${base.name} leaking a tensor per accumulate (deliberately wrong)`,
    accumulate(x, resp, ctx) {
      ctx.tf.zeros([1]); // never disposed
      return base.accumulate(x, resp, ctx);
    },
  };
}
