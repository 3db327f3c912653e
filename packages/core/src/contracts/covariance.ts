import type { Tensor2D, Tf } from './tensor.js';

/**
 * Sufficient statistics of a block of rows under given responsibilities.
 * Statistics of disjoint blocks add (`CovarianceFamily.merge`), which makes
 * chunked, sharded (worker) and streaming EM one code path.
 *
 * All arrays are float64, row-major, and in the engine's centered
 * coordinates (the data minus the training mean).
 */
export interface SufficientStatistics {
  /** Number of rows accumulated. */
  n: number;
  /** Σ_i r_ik, shape [k]. */
  nk: Float64Array;
  /** Σ_i r_ik x_i, shape [k, d]. */
  sumX: Float64Array;
  /** The family's second moments, e.g. Σ_i r_ik x_i x_iᵀ ([k, d, d]) for 'full', Σ_i r_ik x_i² ([k, d]) for 'diag'. */
  second: Float64Array;
  /**
   * Optional, [k, d]: when present, `second` is taken about these per-component
   * points (Σ_i r_ik (x_i - m_k)(x_i - m_k)ᵀ for 'full') instead of the origin.
   * Set by families that honour `PluginContext.reference`; statistics with
   * different references cannot be merged.
   */
  reference?: Float64Array;
}

/** Parameters of a mixture in float64, row-major. */
export interface MixtureParameters {
  /** Mixing weights, shape [k], positive, summing to 1. */
  weights: Float64Array;
  /** Component means, shape [k, d]. */
  means: Float64Array;
  /** Covariances in the family's own layout; length = product of `CovarianceFamily.covarianceShape(k, d)`. */
  covariances: Float64Array;
}

/**
 * Per-iteration E-step kernel: owns whatever tensors the family precomputes
 * from the current parameters (e.g. precision Cholesky factors) so that many
 * blocks of rows can be scored without re-uploading them.
 */
export interface DensityKernel {
  /** log N(x_i | μ_k, Σ_k) for a block of rows x [n, d] → [n, k]. The caller disposes the result. */
  logDensity(x: Tensor2D): Tensor2D;
  /** Frees the kernel's tensors. */
  dispose(): void;
}

/** Context handed to plugins: the engine's tfjs namespace and sizes. */
export interface PluginContext {
  tf: Tf;
  /** Number of components. */
  k: number;
  /** Number of features. */
  d: number;
  /**
   * Optional, [k, d] (centered coordinates): the engine asks `accumulate` to
   * take second moments about these points (float32 accuracy: raw moments
   * minus μμᵀ cancel when a component is small and far from the origin).
   * A family may ignore it and return raw moments (no `reference` in its statistics).
   */
  reference?: Float64Array;
}

/** What `CovarianceFamily.degeneracy` is told about the fit besides the parameters. */
export interface DegeneracyContext extends PluginContext {
  /** Rows the parameters were fitted on: component j holds weights[j] * n effective points. */
  n: number;
  /** The regCovar the M-step added to every variance. */
  regCovar: number;
  /** Variance of each feature over the training rows, [d]: the data's scale (exactly 0 for a constant feature). */
  dataVariance: Float64Array;
  /** Covariance matrix of the training rows, [d, d] (its diagonal is dataVariance). */
  dataCovariance: Float64Array;
  /**
   * Optional, [d]: each feature's resolution, the variance g²/12 of rounding
   * to its grid (g: the smallest positive gap between its distinct values;
   * 0 when absent). A component's variance beyond regCovar at or below it
   * (plus float32 noise) is pinned: the data cannot resolve it from a point.
   */
  dataResolution?: Float64Array;
}

/** Why a solution is degenerate (see `CovarianceFamily.degeneracy`). */
export interface Degeneracy {
  /** The offending component (0-based); undefined when a covariance shared by all components degenerates. */
  component?: number | undefined;
  /** One sentence for warnings, e.g. "component 3 has 2.00 effective points; a full covariance needs at least d + 1 = 6". */
  reason: string;
}

/**
 * A covariance family: full, tied, diag and spherical are built in; a user
 * adds another (mclust's EEI, a factor-analyzer covariance, ...) by binding an
 * object of this shape in the container and naming it in the options.
 */
export interface CovarianceFamily {
  /** Name used in options and on the CLI, e.g. 'full'. */
  readonly name: string;
  /** One line for --help and `gmm inspect`. */
  readonly description: string;
  /** mclust's model name where one exists (VVV, EEE, VVI, VII, EEI, ...). */
  readonly mclustName?: string;

  /** Layout of the covariances array, as scikit-learn's `covariances_` shape: full [k,d,d], tied [d,d], diag [k,d], spherical [k]. */
  covarianceShape(k: number, d: number): number[];
  /** Free parameters in the covariances alone (weights and means are counted by the engine). */
  nCovarianceParameters(k: number, d: number): number;

  /** Statistics of a block: x [n, d] (centered rows), resp [n, k] (responsibilities). Must not leak tensors. */
  accumulate(x: Tensor2D, resp: Tensor2D, ctx: PluginContext): SufficientStatistics;
  /**
   * Optional: the same statistics as `accumulate`, computed in float64 on the
   * host from rows [n, d] (centered, float64) and responsibilities resp
   * [n, k] (float64), honouring ctx.reference. The engine's last resort when
   * the M-step on float32 statistics is not positive definite even about the
   * means (a component of a few rows in large units loses its covariance to
   * float32 rounding): it recomputes the pass exactly from the host copy of
   * the rows. Entries with r = 0 may be skipped, so a small component costs
   * only its own rows. Without it such a restart fails.
   */
  accumulateHost?(rows: Float64Array, resp: Float64Array, n: number, ctx: PluginContext): SufficientStatistics;
  /**
   * Optional: accumulateHost of hard assignments, the first M-step from
   * k-means: each row's responsibility is 1 at labels[i] (0..k-1), times its
   * sample weight (weights [n], or 1 when undefined). The same statistics as
   * accumulateHost of the one-hot [n, k] matrix, which the engine builds when
   * a family has no such method.
   */
  accumulateHostLabels?(rows: Float64Array, labels: Int32Array, weights: Float64Array | undefined, n: number, ctx: PluginContext): SufficientStatistics;
  /** Statistics of the union of two disjoint blocks (usually element-wise sums). */
  merge(a: SufficientStatistics, b: SufficientStatistics): SufficientStatistics;
  /**
   * M-step: parameters from merged statistics. `regCovar` is added to the
   * diagonal of every covariance. Throws SingularCovarianceError (naming regCovar)
   * when a covariance is not positive definite. `previous`, when the engine
   * passes it, holds the parameters of the iteration before (this family's
   * layout): an iterative M-step may start from them, so that it never ends
   * worse than they are (a generalized EM step); closed-form families ignore it.
   */
  mStep(stats: SufficientStatistics, regCovar: number, ctx: PluginContext, previous?: MixtureParameters): MixtureParameters;
  /** Builds the E-step kernel for these parameters. */
  densityKernel(params: MixtureParameters, ctx: PluginContext): DensityKernel;
  /**
   * Optional; needed for missing values (missing: 'marginalize'). This
   * family's `second` statistic from full second moments [k, d, d]
   * (S_k = Σ_i r_ik E[x_i x_iᵀ], or about `reference`): what the family keeps
   * of them, e.g. S itself for 'full', Σ_k S_k for 'tied', the diagonals
   * ([k, d]) for 'diag', the traces ([k]) for 'spherical'. The engine
   * computes S for rows with missing cells (their conditional expectations
   * and conditional covariances) and merges the result with `accumulate`'s.
   */
  secondFromFull?(full: Float64Array, k: number, d: number): Float64Array;

  /** Full covariance matrices [k, d, d] for reporting, whatever the family. */
  fullCovariances(covariances: Float64Array, k: number, d: number): Float64Array;
  /** Precision Cholesky factors in scikit-learn's `precisions_cholesky_` layout (same shape as covariances). */
  precisionsCholesky(covariances: Float64Array, k: number, d: number): Float64Array;
  /** Covariances from precision Cholesky factors (inverse of the above); used for `precisionsInit`. */
  covariancesFromPrecisionsCholesky(precisionsCholesky: Float64Array, k: number, d: number): Float64Array;
  /**
   * Optional: is this solution degenerate, i.e. does its likelihood come from
   * a component sitting on too few points or with a variance pinned at the
   * regCovar floor (a collapse onto identical rows or a constant coordinate)?
   * Returns the first reason found, or undefined for a healthy solution. The
   * engine asks after every M-step and for the final parameters, and acts on
   * the answer according to the `degenerate` option ('reject', 'warn',
   * 'allow'); a family without this method is never degenerate. The built-in
   * rules and thresholds are in docs/degenerate-solutions.md; the helpers in
   * @gmmkit/tfjs (fewPointsDegeneracy, pinnedVarianceDegeneracy,
   * pinnedMatrixDegeneracy) implement them for a plugin family.
   */
  degeneracy?(params: MixtureParameters, ctx: DegeneracyContext): Degeneracy | undefined;
  /** Throws an InvalidArgumentError if `covariances` is not a valid value for this family (length, symmetry, positive definiteness). */
  validate(covariances: Float64Array, k: number, d: number): void;
}
