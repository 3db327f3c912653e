/** What a criterion scores: a fitted model's summary on the data it was fitted to. */
export interface CriterionInput {
  /** Total log-likelihood Σ_i log p(x_i), natural log. */
  logLikelihood: number;
  /** Number of rows. */
  n: number;
  /** Free parameters of the model (weights, means, covariances). */
  nParameters: number;
  /** Σ_i Σ_k -r_ik ln r_ik, the classification entropy (used by ICL). */
  entropy: number;
}

/**
 * A model-selection criterion. Lower is better for every criterion gmmkit
 * ships (scikit-learn's convention: BIC = -2 LL + p ln n). mclust reports the
 * negated values, where higher is better.
 */
export interface Criterion {
  readonly name: string;
  readonly description: string;
  score(input: CriterionInput): number;
}
