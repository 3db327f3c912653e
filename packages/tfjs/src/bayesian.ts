// Variational Bayesian Gaussian mixture (scikit-learn's BayesianGaussianMixture):
// a Dirichlet-process or Dirichlet prior on the weights, a Gaussian-Wishart
// prior on each component. Another EmStrategy over the engine's one EM loop:
// the E-step scores rows under the expected log weights and log-densities, the
// M-step turns the family's ordinary M-step (n_k, x̄_k, S_k + regCovar) into
// the posterior hyperparameters, and the lower bound is the ELBO.
import {
  InvalidArgumentError,
  ModelFormatError,
  SingularCovarianceError,
  tryCholesky,
  type Container,
  type CovarianceFamily,
  type MixtureParameters,
  type PluginContext,
  type SufficientStatistics,
} from '@gmmkit/core';
import { weightsAndMeans } from './covariance/common.js';
import type { EStepParameters, EmResult, EmStrategy, PassResult } from './engine.js';
import {
  BaseMixture,
  GaussianMixture,
  OPTION_KEYS,
  guardUnawaited,
  type FitData,
  type GaussianMixtureConfig,
} from './gaussian-mixture.js';
import { arrayShape, numberOption, rejectUnknownOptions } from './options.js';
import { fitCovariance, singularCovariance } from './prior.js';
import { betaln, digamma, lgamma } from './special.js';
import type { BackendName, FittedState, GaussianMixtureJSON, GaussianMixtureOptions } from './types.js';

export type WeightConcentrationPriorType = 'dirichlet-process' | 'dirichlet-distribution';

/** GaussianMixture's options that BayesianGaussianMixture does not take (scikit-learn's has no *_init either). */
const NOT_BAYESIAN = ['weightsInit', 'meansInit', 'precisionsInit', 'prior'] as const;

/** Options of BayesianGaussianMixture: scikit-learn's, in camelCase. */
export interface BayesianGaussianMixtureOptions extends Omit<GaussianMixtureOptions, (typeof NOT_BAYESIAN)[number]> {
  /** Prior on the weights (default 'dirichlet-process', the stick-breaking representation). */
  weightConcentrationPriorType?: WeightConcentrationPriorType;
  /** γ (Dirichlet process) or α (Dirichlet distribution), > 0 (default 1 / nComponents). */
  weightConcentrationPrior?: number;
  /** β₀, the precision prior on the means, > 0 (default 1). */
  meanPrecisionPrior?: number;
  /** m₀ [d], the prior mean of the means, original units (default the data mean). */
  meanPrior?: readonly number[];
  /** ν₀, the Wishart degrees of freedom, > d - 1 (default d). */
  degreesOfFreedomPrior?: number;
  /**
   * Ψ₀, the covariance prior in the family's layout: [d, d] for full and tied,
   * [d] for diag, a number for spherical (default the data covariance, ddof = 1, in that layout).
   */
  covariancePrior?: number | readonly number[] | readonly (readonly number[])[];
  /** Backend (default: the one already initialized, else GMM_BACKEND, else 'auto'). */
  backend?: BackendName;
}

/**
 * Every option name BayesianGaussianMixture accepts: GaussianMixture's
 * (OPTION_KEYS) but NOT_BAYESIAN, plus the priors; the compiler checks the
 * object against BayesianGaussianMixtureOptions, so a new option of either
 * estimator that is not named here does not compile.
 */
export const BAYESIAN_OPTION_NAMES: readonly string[] = Object.keys({
  ...omit(OPTION_KEYS, NOT_BAYESIAN),
  weightConcentrationPriorType: true,
  weightConcentrationPrior: true,
  meanPrecisionPrior: true,
  meanPrior: true,
  degreesOfFreedomPrior: true,
  covariancePrior: true,
} satisfies Record<keyof BayesianGaussianMixtureOptions, true>);

function omit<T extends object, K extends keyof T>(o: T, keys: readonly K[]): Omit<T, K> {
  return Object.fromEntries(Object.entries(o).filter(([name]) => !(keys as readonly PropertyKey[]).includes(name))) as Omit<T, K>;
}

/** The priors as resolved for a fit (centered coordinates for the mean). */
export interface BayesianPriors {
  weightConcentrationPriorType: WeightConcentrationPriorType;
  weightConcentrationPrior: number;
  meanPrecisionPrior: number;
  /** [d] */
  meanPrior: Float64Array;
  degreesOfFreedomPrior: number;
  /** The family's covariance layout for one component: [d, d] (full, tied), [d] (diag), [1] (spherical). */
  covariancePrior: Float64Array;
}

/** The variational posterior in the engine's coordinates. */
export interface VariationalState {
  /** weights_ (expected mixing weights), means_ and covariances_ (Ψ_k⁻¹ / ν_k... as scikit-learn: the posterior scale divided by ν_k), family layout. */
  params: MixtureParameters;
  /** [2, k] row-major (Beta parameters of the sticks) for the Dirichlet process, [k] for the Dirichlet distribution. */
  weightConcentration: Float64Array;
  /** β_k, [k]. */
  meanPrecision: Float64Array;
  /** ν_k, [k] (tied: one value for every component, scikit-learn's scalar). */
  degreesOfFreedom: Float64Array;
}

/** The fitted state: GaussianMixture's plus the posterior hyperparameters and priors (original units). */
export interface BayesianFittedState extends FittedState {
  weightConcentrationPriorType: WeightConcentrationPriorType;
  /** [2, k] row-major for the Dirichlet process, [k] for the Dirichlet distribution. */
  weightConcentration: Float64Array;
  /** [k] */
  meanPrecision: Float64Array;
  /** [k] */
  degreesOfFreedom: Float64Array;
  weightConcentrationPrior: number;
  meanPrecisionPrior: number;
  /** [d], original units. */
  meanPrior: Float64Array;
  degreesOfFreedomPrior: number;
  /** The family's layout for one component (see BayesianPriors). */
  covariancePrior: Float64Array;
}

/** The `bayesian` section of a Bayesian model's JSON (format 'gmmkit.gaussian-mixture'). */
export interface BayesianJSON {
  weightConcentrationPriorType: WeightConcentrationPriorType;
  weightConcentration: number[];
  meanPrecision: number[];
  degreesOfFreedom: number[];
  weightConcentrationPrior: number;
  meanPrecisionPrior: number;
  meanPrior: number[];
  degreesOfFreedomPrior: number;
  covariancePrior: number[];
}

const SUPPORTED = ['full', 'tied', 'diag', 'spherical'];

/** A number or nested number array as given: its values and its shape ([] for a number). */
interface Shaped {
  values: Float64Array;
  shape: number[];
}

/** `value` as a Shaped. */
function shaped(name: string, value: unknown): Shaped {
  const shape = typeof value === 'number' ? [] : arrayShape(name, value);
  if (shape.length === 0 && !(typeof value === 'number' && Number.isFinite(value))) {
    throw new InvalidArgumentError(`${name} must be a finite number, got ${JSON.stringify(value) ?? String(value)}`);
  }
  const values = shape.length === 0 ? Float64Array.of(value as number) : Float64Array.from((value as unknown[]).flat(shape.length) as number[]);
  return { values, shape };
}

/** Throws unless `given` has exactly the shape `expected` (nothing is flattened). */
function checkShape(name: string, given: Shaped, expected: readonly number[], hint: string): void {
  if (given.shape.length !== expected.length || given.shape.some((v, i) => v !== expected[i])) {
    throw new InvalidArgumentError(`${name} must have shape [${expected.join(', ')}] (${hint}), got shape [${given.shape.join(', ')}]`);
  }
}


/** Length of one component's covariance prior in the family's layout. */
function priorLength(family: string, d: number): number {
  return family === 'full' || family === 'tied' ? d * d : family === 'diag' ? d : 1;
}

/** Σ_k ln det(U_k) of the precision Cholesky factors, per component [k] (tied: the shared factor's, repeated). */
function logDetPrecisionCholesky(family: string, precisionsCholesky: Float64Array, k: number, d: number): Float64Array {
  const out = new Float64Array(k);
  for (let j = 0; j < k; j++) {
    let s = 0;
    if (family === 'full' || family === 'tied') {
      const off = family === 'full' ? j * d * d : 0;
      for (let a = 0; a < d; a++) s += Math.log(precisionsCholesky[off + a * d + a]!);
    } else if (family === 'diag') {
      for (let a = 0; a < d; a++) s += Math.log(precisionsCholesky[j * d + a]!);
    } else {
      s = d * Math.log(precisionsCholesky[j]!);
    }
    out[j] = s;
  }
  return out;
}

/** E[ln π_k] under the weight posterior (scikit-learn's _estimate_log_weights). */
function expectedLogWeights(type: WeightConcentrationPriorType, concentration: Float64Array, k: number): Float64Array {
  const out = new Float64Array(k);
  if (type === 'dirichlet-process') {
    let stick = 0; // Σ_{j<k} E[ln(1 - v_j)]
    for (let j = 0; j < k; j++) {
      const a = concentration[j]!;
      const b = concentration[k + j]!;
      const dsum = digamma(a + b);
      out[j] = digamma(a) - dsum + stick;
      stick += digamma(b) - dsum;
    }
  } else {
    let total = 0;
    for (let j = 0; j < k; j++) total += concentration[j]!;
    const dsum = digamma(total);
    for (let j = 0; j < k; j++) out[j] = digamma(concentration[j]!) - dsum;
  }
  return out;
}

/** weights_ from the weight posterior (scikit-learn's _set_parameters). */
function expectedWeights(type: WeightConcentrationPriorType, concentration: Float64Array, k: number): Float64Array {
  const w = new Float64Array(k);
  if (type === 'dirichlet-process') {
    let rest = 1;
    for (let j = 0; j < k; j++) {
      const a = concentration[j]!;
      const b = concentration[k + j]!;
      w[j] = (a / (a + b)) * rest;
      rest *= b / (a + b);
    }
  } else {
    for (let j = 0; j < k; j++) w[j] = concentration[j]!;
  }
  let total = 0;
  for (const v of w) total += v;
  return w.map((v) => v / total);
}

/**
 * What the variational E-step scores rows under (scikit-learn's
 * _estimate_weighted_log_prob): the kernel's log N(x | m_k, covariances_k)
 * plus, per component, E[ln π_k] - (d/2) ln ν_k + ½ (E[ln det Λ_k] - d / β_k).
 */
export function variationalEStep(type: WeightConcentrationPriorType, state: VariationalState, k: number, d: number): EStepParameters {
  const logPi = expectedLogWeights(type, state.weightConcentration, k);
  const logWeights = new Float64Array(k);
  for (let j = 0; j < k; j++) {
    const nu = state.degreesOfFreedom[j]!;
    let logLambda = d * Math.LN2;
    for (let i = 0; i < d; i++) logLambda += digamma(0.5 * (nu - i));
    logWeights[j] = logPi[j]! - 0.5 * d * Math.log(nu) + 0.5 * (logLambda - d / state.meanPrecision[j]!);
  }
  return { ...state.params, logWeights, entropy: true };
}

/**
 * The variational EM steps (scikit-learn's BayesianGaussianMixture._m_step,
 * _estimate_weighted_log_prob and _compute_lower_bound) for one of the
 * built-in families, given resolved priors.
 */
export function variationalInference(
  family: CovarianceFamily,
  priors: BayesianPriors,
  regCovar: number,
  ctx: PluginContext,
): EmStrategy<VariationalState> {
  const { k, d } = ctx;
  const name = family.name;
  const { meanPrecisionPrior: beta0, meanPrior: m0, degreesOfFreedomPrior: nu0, covariancePrior: psi0 } = priors;
  const type = priors.weightConcentrationPriorType;
  const gamma0 = priors.weightConcentrationPrior;

  const eStep = (state: VariationalState): EStepParameters => variationalEStep(type, state, k, d);

  const mStep = (stats: SufficientStatistics): VariationalState => {
    // n_k + 10 eps, x̄_k and S_k + regCovar I: the family's maximum-likelihood M-step (scikit-learn's _estimate_gaussian_parameters).
    const ml = family.mStep(stats, regCovar, ctx);
    const { nk } = weightsAndMeans(stats, k, d);
    const xk = ml.means;
    const sk = ml.covariances;
    let weightConcentration: Float64Array;
    if (type === 'dirichlet-process') {
      weightConcentration = new Float64Array(2 * k);
      let tail = 0; // Σ_{j>k} n_j
      for (let j = k - 1; j >= 0; j--) {
        weightConcentration[j] = 1 + nk[j]!;
        weightConcentration[k + j] = gamma0 + tail;
        tail += nk[j]!;
      }
    } else {
      weightConcentration = nk.map((v) => gamma0 + v);
    }
    const meanPrecision = nk.map((v) => beta0 + v);
    const means = new Float64Array(k * d);
    const diff = new Float64Array(k * d); // x̄_k - m₀
    for (let j = 0; j < k; j++)
      for (let c = 0; c < d; c++) {
        means[j * d + c] = (beta0 * m0[c]! + nk[j]! * xk[j * d + c]!) / meanPrecision[j]!;
        diff[j * d + c] = xk[j * d + c]! - m0[c]!;
      }
    const degreesOfFreedom = new Float64Array(k);
    let covariances: Float64Array;
    if (name === 'full') {
      covariances = new Float64Array(k * d * d);
      for (let j = 0; j < k; j++) {
        const nu = (degreesOfFreedom[j] = nu0 + nk[j]!);
        const shrink = (nk[j]! * beta0) / meanPrecision[j]!;
        for (let a = 0; a < d; a++)
          for (let b = 0; b < d; b++) {
            const i = j * d * d + a * d + b;
            covariances[i] = (psi0[a * d + b]! + nk[j]! * sk[i]! + shrink * diff[j * d + a]! * diff[j * d + b]!) / nu;
          }
      }
    } else if (name === 'tied') {
      let total = 0;
      for (const v of nk) total += v;
      const nu = nu0 + total / k;
      degreesOfFreedom.fill(nu);
      covariances = new Float64Array(d * d);
      for (let a = 0; a < d; a++)
        for (let b = 0; b < d; b++) {
          let m2 = 0;
          for (let j = 0; j < k; j++) m2 += (nk[j]! / meanPrecision[j]!) * diff[j * d + a]! * diff[j * d + b]!;
          covariances[a * d + b] = (psi0[a * d + b]! + (sk[a * d + b]! * total) / k + (beta0 / k) * m2) / nu;
        }
    } else if (name === 'diag') {
      covariances = new Float64Array(k * d);
      for (let j = 0; j < k; j++) {
        const nu = (degreesOfFreedom[j] = nu0 + nk[j]!);
        for (let c = 0; c < d; c++) {
          const i = j * d + c;
          covariances[i] = (psi0[c]! + nk[j]! * (sk[i]! + (beta0 / meanPrecision[j]!) * diff[i]! ** 2)) / nu;
        }
      }
    } else {
      covariances = new Float64Array(k);
      for (let j = 0; j < k; j++) {
        const nu = (degreesOfFreedom[j] = nu0 + nk[j]!);
        let m2 = 0;
        for (let c = 0; c < d; c++) m2 += diff[j * d + c]! ** 2;
        covariances[j] = (psi0[0]! + nk[j]! * (sk[j]! + ((beta0 / meanPrecision[j]!) * m2) / d)) / nu;
      }
    }
    for (let j = 0; j < (name === 'tied' ? 1 : k); j++) {
      const ok =
        name === 'full' || name === 'tied'
          ? tryCholesky(covariances.subarray(j * d * d, (j + 1) * d * d), d) !== null
          : name === 'diag'
            ? covariances.subarray(j * d, (j + 1) * d).every((v) => v > 0 && Number.isFinite(v))
            : covariances[j]! > 0 && Number.isFinite(covariances[j]!);
      if (!ok) {
        throw new SingularCovarianceError(
          `'${name}' posterior covariance${name === 'tied' ? '' : ` (component ${j + 1})`} is not positive definite with regCovar=${regCovar}; increase regCovar`,
        );
      }
    }
    const weights = expectedWeights(type, weightConcentration, k);
    return { params: { weights, means, covariances }, weightConcentration, meanPrecision, degreesOfFreedom };
  };

  const lowerBound = (pass: PassResult, next: VariationalState): number => {
    const logDetChol = logDetPrecisionCholesky(name, family.precisionsCholesky(next.params.covariances, k, d), k, d);
    let logWishart = 0; // Σ_k ln B(W_k, ν_k) without the ln π term (scikit-learn's _log_wishart_norm)
    let logMeanPrecision = 0;
    for (let j = 0; j < k; j++) {
      const nu = next.degreesOfFreedom[j]!;
      const ldc = logDetChol[j]! - 0.5 * d * Math.log(nu);
      let g = 0;
      for (let i = 0; i < d; i++) g += lgamma(0.5 * (nu - i));
      logWishart += -(nu * ldc + nu * d * 0.5 * Math.LN2 + g);
      logMeanPrecision += Math.log(next.meanPrecision[j]!);
    }
    let logNormWeight: number;
    const c = next.weightConcentration;
    if (type === 'dirichlet-process') {
      logNormWeight = 0;
      for (let j = 0; j < k; j++) logNormWeight -= betaln(c[j]!, c[k + j]!);
    } else {
      let total = 0;
      let lg = 0;
      for (let j = 0; j < k; j++) {
        total += c[j]!;
        lg += lgamma(c[j]!);
      }
      logNormWeight = lgamma(total) - lg;
    }
    if (pass.sumRespLogResp === undefined) throw new InvalidArgumentError('the pass did not return Σ r ln r (EStepParameters.entropy)');
    return -pass.sumRespLogResp - logWishart - logNormWeight - 0.5 * d * logMeanPrecision;
  };

  return { eStep, mStep, lowerBound };
}

/**
 * Variational Bayesian estimation of a Gaussian mixture, as scikit-learn's
 * BayesianGaussianMixture (same options in camelCase, same defaults, same
 * fitted attributes and lower bound). Give an upper bound on the number of
 * components: with the Dirichlet-process prior the data switch the surplus
 * ones off (their weights go to ~0). Shares GaussianMixture's fit (restarts,
 * warm start, workers) and its EM loop; only the EM steps differ.
 */
export class BayesianGaussianMixture extends BaseMixture<VariationalState, BayesianFittedState> {
  private readonly b: {
    weightConcentrationPriorType: WeightConcentrationPriorType;
    weightConcentrationPrior: number | undefined;
    meanPrecisionPrior: number;
    meanPrior: Shaped | undefined;
    degreesOfFreedomPrior: number | undefined;
    covariancePrior: Shaped | undefined;
  };
  readonly bayesianOptions: Readonly<BayesianGaussianMixtureOptions>;

  constructor(options: BayesianGaussianMixtureOptions = {}) {
    if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options must be an object');
    for (const key of NOT_BAYESIAN) {
      if ((options as GaussianMixtureConfig)[key] !== undefined)
        throw new InvalidArgumentError(
          key === 'prior'
            ? "BayesianGaussianMixture has no prior option: its priors are weightConcentrationPrior, meanPrecisionPrior, meanPrior, degreesOfFreedomPrior and covariancePrior"
            : `BayesianGaussianMixture has no ${key} option (scikit-learn's has none either)`,
        );
    }
    rejectUnknownOptions(options, BAYESIAN_OPTION_NAMES, 'BayesianGaussianMixture');
    // The variational E-step of a row with gaps would need the Wishart posterior's marginal over its
    // observed coordinates (d_o, ν - d_m), and the M-step expectations under q: not implemented.
    if (options.missing === 'marginalize')
      throw new InvalidArgumentError(
        "BayesianGaussianMixture does not support missing: 'marginalize' (its variational E-step over a row's observed cells is not implemented); use GaussianMixture, or fill the gaps first",
      );
    const {
      weightConcentrationPriorType,
      weightConcentrationPrior,
      meanPrecisionPrior,
      meanPrior,
      degreesOfFreedomPrior,
      covariancePrior,
      ...common
    } = options;
    super(common);
    if (!SUPPORTED.includes(this._family.name)) {
      throw new InvalidArgumentError(
        `BayesianGaussianMixture supports covarianceType ${SUPPORTED.join(', ')}; got '${this._family.name}'`,
      );
    }
    const type = weightConcentrationPriorType ?? 'dirichlet-process';
    if (type !== 'dirichlet-process' && type !== 'dirichlet-distribution') {
      throw new InvalidArgumentError(
        `weightConcentrationPriorType must be 'dirichlet-process' or 'dirichlet-distribution', got ${String(type)}`,
      );
    }
    this.bayesianOptions = { ...options };
    this.b = {
      weightConcentrationPriorType: type,
      weightConcentrationPrior: weightConcentrationPrior === undefined ? undefined : numberOption('weightConcentrationPrior', weightConcentrationPrior, 0),
      meanPrecisionPrior: numberOption('meanPrecisionPrior', meanPrecisionPrior, 1),
      meanPrior: meanPrior === undefined ? undefined : shaped('meanPrior', meanPrior),
      degreesOfFreedomPrior: degreesOfFreedomPrior === undefined ? undefined : numberOption('degreesOfFreedomPrior', degreesOfFreedomPrior, 0),
      covariancePrior: covariancePrior === undefined ? undefined : shaped('covariancePrior', covariancePrior),
    };
  }

  /** The priors for data with `d` features (centered coordinates), defaults from the centered rows as scikit-learn's. */
  private priors(fit: FitData): BayesianPriors {
    const { d, k, center } = fit;
    const name = this._family.name;
    const o = this.b;
    if (o.meanPrior !== undefined) checkShape('meanPrior', o.meanPrior, [d], `one value per feature, ${d} features`);
    const nu0 = o.degreesOfFreedomPrior ?? d;
    if (!(nu0 > d - 1)) throw new InvalidArgumentError(`degreesOfFreedomPrior must be > d - 1 = ${d - 1}, got ${nu0}`);
    let psi0: Float64Array;
    const length = priorLength(name, d);
    if (o.covariancePrior !== undefined) {
      const shape = length === d * d ? [d, d] : length === d ? [d] : [];
      checkShape(`covariancePrior for '${name}'`, o.covariancePrior, shape, shape.length === 0 ? 'a number' : `${d} features`);
      psi0 = Float64Array.from(o.covariancePrior.values);
      const ok = length === d * d ? tryCholesky(psi0, d) !== null : psi0.every((v) => v > 0);
      if (!ok) throw new InvalidArgumentError(`covariancePrior must be positive definite`);
    } else {
      // np.cov(X.T) (ddof = 1) of the centered rows (the replicated rows with sample weights), in the family's layout.
      const cov = fitCovariance(fit, 'the default covariancePrior');
      if (length === d * d) psi0 = cov;
      else {
        const variances = Float64Array.from({ length: d }, (_, a) => cov[a * d + a]!);
        psi0 = length === d ? variances : Float64Array.of(variances.reduce((s, v) => s + v, 0) / d);
      }
      // scikit-learn fits with a singular Ψ₀ (an improper prior, under which the ELBO is not monotone): refuse instead.
      if (singularCovariance(cov, d, center)) {
        throw new InvalidArgumentError(
          `the default covariancePrior (the data covariance${length === d * d ? '' : "'s diagonal"}) is singular: a constant column${length === d * d ? ' or collinear columns' : ''}? Pass covariancePrior`,
        );
      }
    }
    return {
      weightConcentrationPriorType: o.weightConcentrationPriorType,
      weightConcentrationPrior: o.weightConcentrationPrior ?? 1 / k,
      meanPrecisionPrior: o.meanPrecisionPrior,
      meanPrior: o.meanPrior === undefined ? new Float64Array(d) : o.meanPrior.values.map((v, c) => v - center[c]!),
      degreesOfFreedomPrior: nu0,
      covariancePrior: psi0,
    };
  }

  protected strategy(fit: FitData): EmStrategy<VariationalState> {
    return variationalInference(this._family, this.priors(fit), this.o.regCovar, fit.ctx);
  }

  protected presetState(): VariationalState | undefined {
    return undefined;
  }

  /** scikit-learn's _initialize: the variational M-step on the initial responsibilities. */
  protected initialState(strategy: EmStrategy<VariationalState>, stats: SufficientStatistics): VariationalState {
    return strategy.mStep(stats);
  }

  /** The fitted posterior with its means centered at `center`. */
  private centeredState(center: Float64Array): VariationalState {
    const s = this.state;
    return {
      params: this.centeredParams(center),
      weightConcentration: Float64Array.from(s.weightConcentration),
      meanPrecision: Float64Array.from(s.meanPrecision),
      degreesOfFreedom: Float64Array.from(s.degreesOfFreedom),
    };
  }

  protected warmState({ center }: FitData): VariationalState {
    return this.centeredState(center);
  }

  protected fittedState(best: EmResult<VariationalState>, fit: FitData): BayesianFittedState {
    const { n, k, d, center } = fit;
    const p = best.params.params;
    const priors = this.priors(fit);
    return {
      k,
      d,
      covarianceType: this._family.name,
      weights: Float64Array.from(p.weights),
      means: p.means.map((v, i) => v + center[i % d]!),
      covariances: Float64Array.from(p.covariances),
      precisionsCholesky: this._family.precisionsCholesky(p.covariances, k, d),
      converged: best.converged,
      nIter: best.nIter,
      lowerBound: best.lowerBound,
      lowerBoundHistory: best.lowerBoundHistory,
      nSamples: n,
      weightConcentrationPriorType: priors.weightConcentrationPriorType,
      weightConcentration: Float64Array.from(best.params.weightConcentration),
      meanPrecision: Float64Array.from(best.params.meanPrecision),
      degreesOfFreedom: Float64Array.from(best.params.degreesOfFreedom),
      weightConcentrationPrior: priors.weightConcentrationPrior,
      meanPrecisionPrior: priors.meanPrecisionPrior,
      meanPrior: priors.meanPrior.map((v, c) => v + center[c]!),
      degreesOfFreedomPrior: priors.degreesOfFreedomPrior,
      covariancePrior: priors.covariancePrior,
    };
  }

  /** As scikit-learn: predict and score use the expected log weights and log-densities under the posterior. */
  protected scoringParameters(center: Float64Array): EStepParameters {
    const s = this.state;
    return { ...variationalEStep(s.weightConcentrationPriorType, this.centeredState(center), s.k, s.d), entropy: false };
  }

  /** How many components keep a weight above `threshold` (default 1e-2): the effective number of components. */
  effectiveComponents(threshold = 1e-2): number {
    return this.state.weights.reduce((count, w) => count + (w > threshold ? 1 : 0), 0);
  }

  /** Versioned JSON: GaussianMixture's format plus a `bayesian` section with the posterior and priors. */
  override toJSON(): GaussianMixtureJSON & { bayesian: BayesianJSON } {
    const s = this.state;
    return {
      ...super.toJSON(),
      bayesian: {
        weightConcentrationPriorType: s.weightConcentrationPriorType,
        weightConcentration: Array.from(s.weightConcentration),
        meanPrecision: Array.from(s.meanPrecision),
        degreesOfFreedom: Array.from(s.degreesOfFreedom),
        weightConcentrationPrior: s.weightConcentrationPrior,
        meanPrecisionPrior: s.meanPrecisionPrior,
        meanPrior: Array.from(s.meanPrior),
        degreesOfFreedomPrior: s.degreesOfFreedomPrior,
        covariancePrior: Array.from(s.covariancePrior),
      },
    };
  }

  /**
   * Restores a model from toJSON() output (object or JSON text), validating
   * every field. Asynchronous, as GaussianMixture.fromJSON: using the promise
   * as a model throws an error that says to await it.
   */
  static fromJSON(json: unknown, options: { container?: Container; backend?: BackendName } = {}): Promise<BayesianGaussianMixture> {
    return guardUnawaited(BayesianGaussianMixture.restore(json, options), BayesianGaussianMixture.prototype, 'BayesianGaussianMixture.fromJSON');
  }

  private static async restore(json: unknown, options: { container?: Container; backend?: BackendName }): Promise<BayesianGaussianMixture> {
    const value: unknown = typeof json === 'string' ? parseText(json) : json;
    // The GaussianMixture part is validated by GaussianMixture.fromJSON (which also initializes the backend).
    const base = await GaussianMixture.fromJSON(value, options);
    const section = (value as Record<string, unknown>)['bayesian'];
    if (typeof section !== 'object' || section === null) throw new ModelFormatError('not a Bayesian mixture: no "bayesian" section');
    const b = section as Record<string, unknown>;
    const { k, d } = base.state;
    const type = b['weightConcentrationPriorType'];
    if (type !== 'dirichlet-process' && type !== 'dirichlet-distribution') {
      throw new ModelFormatError(`bayesian.weightConcentrationPriorType must be 'dirichlet-process' or 'dirichlet-distribution'`);
    }
    const arr = (key: string, length: number): Float64Array => {
      const v = b[key];
      if (!Array.isArray(v) || v.length !== length || v.some((x) => typeof x !== 'number' || !Number.isFinite(x))) {
        throw new ModelFormatError(`bayesian.${key} must be an array of ${length} finite numbers`);
      }
      return Float64Array.from(v as number[]);
    };
    const pos = (key: string): number => {
      const v = b[key];
      if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new ModelFormatError(`bayesian.${key} must be a finite number > 0`);
      return v;
    };
    const positives = (key: string, length: number): Float64Array => {
      const v = arr(key, length);
      if (v.some((x) => !(x > 0))) throw new ModelFormatError(`bayesian.${key} values must be > 0`);
      return v;
    };
    const s = base.state;
    let model: BayesianGaussianMixture;
    try {
      model = new BayesianGaussianMixture({
        nComponents: k,
        covarianceType: s.covarianceType,
        ...base.toJSON().options,
        weightConcentrationPriorType: type,
        ...(options.container === undefined ? {} : { container: options.container }),
        ...(options.backend === undefined ? {} : { backend: options.backend }),
      });
    } catch (error) {
      throw new ModelFormatError(`invalid options: ${(error as Error).message}`, { cause: error });
    }
    model._state = {
      ...s,
      weightConcentrationPriorType: type,
      weightConcentration: positives('weightConcentration', type === 'dirichlet-process' ? 2 * k : k),
      meanPrecision: positives('meanPrecision', k),
      degreesOfFreedom: positives('degreesOfFreedom', k),
      weightConcentrationPrior: pos('weightConcentrationPrior'),
      meanPrecisionPrior: pos('meanPrecisionPrior'),
      meanPrior: arr('meanPrior', d),
      degreesOfFreedomPrior: pos('degreesOfFreedomPrior'),
      covariancePrior: arr('covariancePrior', priorLength(s.covarianceType, d)),
    };
    if (model._state.degreesOfFreedom.some((nu) => !(nu > d - 1))) throw new ModelFormatError(`bayesian.degreesOfFreedom values must be > d - 1 = ${d - 1}`);
    return model;
  }
}

function parseText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ModelFormatError(`model is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * A model from its JSON: a BayesianGaussianMixture when the JSON has a
 * `bayesian` section, else a GaussianMixture. Asynchronous: using the promise
 * as a model throws an error that says to await it.
 */
export function loadMixture(
  json: unknown,
  options: { container?: Container; backend?: BackendName; missing?: 'error' | 'marginalize' } = {},
): Promise<GaussianMixture | BayesianGaussianMixture> {
  const load = async (): Promise<GaussianMixture | BayesianGaussianMixture> => {
    const value: unknown = typeof json === 'string' ? parseText(json) : json;
    const bayesian = typeof value === 'object' && value !== null && 'bayesian' in value;
    // missing (GaussianMixture only): score rows with missing cells by their observed marginal.
    const { missing: _missing, ...rest } = options;
    return bayesian ? BayesianGaussianMixture.fromJSON(value, rest) : GaussianMixture.fromJSON(value, options);
  };
  return guardUnawaited(load(), BayesianGaussianMixture.prototype, 'loadMixture');
}
