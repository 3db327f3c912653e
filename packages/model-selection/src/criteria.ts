import {
  pluginModule,
  type Container,
  type ContainerModule,
  type Criterion,
  type CriterionInput,
} from '@gmmkit/core';
import { createGmmContainer } from '@gmmkit/tfjs';

/**
 * Model-selection criteria. Every one is "lower is better" (scikit-learn's
 * sign convention). R's mclust reports the negated values, where higher is
 * better: mclust's BIC = -(gmmkit's bic), and likewise for ICL.
 */

/** Bayesian information criterion: -2 ln L + p ln n (scikit-learn's `bic`). */
export const bic: Criterion = {
  name: 'bic',
  description: 'Bayesian information criterion, -2 lnL + p ln n (lower is better)',
  score: ({ logLikelihood, n, nParameters }: CriterionInput) =>
    -2 * logLikelihood + nParameters * Math.log(n),
};

/** Akaike information criterion: -2 ln L + 2p (scikit-learn's `aic`). */
export const aic: Criterion = {
  name: 'aic',
  description: 'Akaike information criterion, -2 lnL + 2p (lower is better)',
  score: ({ logLikelihood, nParameters }: CriterionInput) => -2 * logLikelihood + 2 * nParameters,
};

/**
 * Integrated completed likelihood (Biernacki, Celeux and Govaert 2000), in
 * mclust's BIC-based approximation: ICL = BIC + 2 E, where
 * E = Σ_i Σ_k -r_ik ln r_ik ≥ 0 is the entropy of the responsibilities.
 * Lower is better here, so ICL ≥ BIC and ICL penalizes overlapping
 * components that BIC accepts. mclust's `icl()` returns the negation,
 * BIC_mclust + 2 Σ r ln r, where higher is better.
 */
export const icl: Criterion = {
  name: 'icl',
  description: 'integrated completed likelihood, BIC + 2 x entropy of the responsibilities (lower is better)',
  score: (input: CriterionInput) => bic.score(input) + 2 * input.entropy,
};

export const builtinCriteria: readonly Criterion[] = [bic, aic, icl];

/** Binds bic, aic and icl, the way a user's criterion plugin is bound. */
export const criteriaModule: ContainerModule = pluginModule({ criteria: builtinCriteria });

/** The built-in covariance families, initializers and backends plus bic/aic/icl, and any extra modules. */
export function createSelectionContainer(...modules: ContainerModule[]): Container {
  return createGmmContainer(criteriaModule, ...modules);
}

/**
 * Σ_i Σ_k -r_ik ln r_ik over responsibilities stored row-major (0 ln 0 = 0).
 * Summed in float64 so ICL is as precise as BIC.
 */
export function responsibilityEntropy(resp: Float64Array | Float32Array, sampleWeight?: ArrayLike<number>): number {
  // With sample weights [n] (resp is [n, k]): Σ_i w_i Σ_k -r_ik ln r_ik.
  const k = sampleWeight === undefined ? 1 : resp.length / sampleWeight.length;
  let e = 0;
  for (let i = 0; i < resp.length; i++) {
    const r = resp[i]!;
    if (r > 0) e -= (sampleWeight === undefined ? 1 : sampleWeight[Math.floor(i / k)]!) * r * Math.log(r);
  }
  return e;
}
