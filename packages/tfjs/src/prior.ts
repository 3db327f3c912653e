// MAP EM under mclust's conjugate prior (priorControl(), Fraley & Raftery 2007):
// another EmStrategy over the engine's one EM loop. The E-step is plain EM's;
// the M-step is the posterior mode; the lower bound is the penalized
// log-likelihood (log-likelihood + log prior density) per row, which MAP EM
// never decreases. The log-likelihood at the MAP estimate is what BIC uses, as
// mclustBIC(..., prior = priorControl()) reports.
import {
  InvalidArgumentError,
  logDetFromCholesky,
  tryCholesky,
  trySpdInverse,
  type CovarianceFamily,
  type MixtureParameters,
  type PluginContext,
  type SufficientStatistics,
} from '@gmmkit/core';
import { meanOffsets, singularCovarianceError, weightsAndMeans } from './covariance/common.js';
import type { EmStrategy } from './engine.js';
import type { FitData } from './gaussian-mixture.js';

/**
 * mclust's conjugate prior. Each field left out takes mclust's defaultPrior
 * value: shrinkage 0.01, mean the data mean, dof d + 2, and scale
 * var(X) / k^(2/d) ([d, d]) for full and tied, sum(diag var(X)) / d / k^(2/d)
 * (a number) for diag and spherical.
 */
export interface ConjugatePrior {
  /** κ_P, the prior's weight on the mean (0 = no prior on the means). */
  shrinkage?: number;
  /** μ_P [d], original units. */
  mean?: readonly number[];
  /** ν_P, degrees of freedom. */
  dof?: number;
  /** Λ_P: [d, d] for full and tied, a number for diag and spherical (a number for full/tied means that times I). */
  scale?: number | readonly (readonly number[])[];
}

export type PriorOption = 'default' | ConjugatePrior;

/** The prior resolved for one fit (centered coordinates). */
export interface ResolvedPrior {
  shrinkage: number;
  /** [d] */
  mean: Float64Array;
  dof: number;
  /** [d, d] for full and tied, [1] for diag and spherical. */
  scale: Float64Array;
}

/** mclust's name of each built-in family the prior supports. */
export const PRIOR_FAMILIES: Readonly<Record<string, string>> = { full: 'VVV', tied: 'EEE', diag: 'VVI', spherical: 'VII' };

/**
 * The other mclust models with a conjugate-prior M-step in mclust 6.1 (its
 * Fortran ms*p routines: mstepEII, mstepEEI, mstepVEI, mstepEVI, mstepEEV,
 * mstepVEV), not yet in gmmkit, and those mclust itself refuses under a prior
 * (mstepEVE, mstepVEE, mstepVVE, mstepEVV: "model is not available with prior").
 */
const MCLUST_PRIOR_MODELS = ['EII', 'EEI', 'VEI', 'EVI', 'EEV', 'VEV'];
const MCLUST_NO_PRIOR_MODELS = ['EVE', 'VEE', 'VVE', 'EVV'];

/**
 * Whether a data covariance [d, d] is singular to float64 resolution: a column
 * whose variance is below (1e-12 |mean|)² (a constant column: centering leaves
 * only rounding), or a correlation matrix whose Cholesky pivots fall below 1e-12
 * (exactly collinear columns).
 */
export function singularCovariance(cov: Float64Array, d: number, mean: Float64Array): boolean {
  const sd = new Float64Array(d);
  for (let a = 0; a < d; a++) {
    const v = cov[a * d + a]!;
    if (!(v > (1e-12 * Math.abs(mean[a]!)) ** 2) || !Number.isFinite(v)) return true;
    sd[a] = Math.sqrt(v);
  }
  const corr = cov.map((v, i) => v / (sd[Math.floor(i / d)]! * sd[i % d]!));
  const l = tryCholesky(corr, d);
  if (l === null) return true;
  for (let a = 0; a < d; a++) if (!(l[a * d + a]! ** 2 > 1e-12)) return true;
  return false;
}

const matrixScale = (family: string): boolean => family === 'full' || family === 'tied';

/** Checks a prior option's shape and values (not its size against the data: that is resolvePrior's). */
export function validatePrior(prior: unknown, familyOrModel: string): PriorOption | undefined {
  if (prior === undefined) return undefined;
  // the family's name, or its mclust model name (the registry resolves 'VVV' to 'full')
  const family = Object.keys(PRIOR_FAMILIES).find((f) => f === familyOrModel || PRIOR_FAMILIES[f] === familyOrModel) ?? familyOrModel;
  if (PRIOR_FAMILIES[family] === undefined) {
    const mclust = MCLUST_PRIOR_MODELS.includes(family)
      ? ` (mclust has a prior for ${family}; gmmkit does not yet)`
      : MCLUST_NO_PRIOR_MODELS.includes(family)
        ? ` (mclust has no prior for ${family} either)`
        : '';
    throw new InvalidArgumentError(
      `prior supports covarianceType ${Object.entries(PRIOR_FAMILIES).map(([f, m]) => `${f} (${m})`).join(', ')}; got '${familyOrModel}'${mclust}`,
    );
  }
  if (prior === 'default') return prior;
  if (typeof prior !== 'object' || prior === null || Array.isArray(prior)) {
    throw new InvalidArgumentError(`prior must be 'default' or an object { shrinkage, mean, dof, scale }, got ${JSON.stringify(prior)}`);
  }
  const p = prior as Record<string, unknown>;
  for (const key of Object.keys(p)) {
    if (!['shrinkage', 'mean', 'dof', 'scale'].includes(key)) throw new InvalidArgumentError(`prior has no field '${key}' (shrinkage, mean, dof, scale)`);
  }
  const { shrinkage, dof, mean, scale } = p;
  if (shrinkage !== undefined && (typeof shrinkage !== 'number' || !Number.isFinite(shrinkage) || shrinkage < 0)) {
    throw new InvalidArgumentError(`prior.shrinkage must be a finite number >= 0, got ${String(shrinkage)}`);
  }
  if (dof !== undefined && (typeof dof !== 'number' || !Number.isFinite(dof) || dof <= 0)) {
    throw new InvalidArgumentError(`prior.dof must be a finite number > 0, got ${String(dof)}`);
  }
  if (mean !== undefined && (!Array.isArray(mean) || mean.some((v) => typeof v !== 'number' || !Number.isFinite(v)))) {
    throw new InvalidArgumentError('prior.mean must be an array of finite numbers');
  }
  if (scale !== undefined) {
    const ok =
      typeof scale === 'number'
        ? Number.isFinite(scale) && scale > 0
        : matrixScale(family) && Array.isArray(scale) && scale.every((r) => Array.isArray(r) && r.every((v) => typeof v === 'number' && Number.isFinite(v)));
    if (!ok) {
      throw new InvalidArgumentError(
        `prior.scale must be ${matrixScale(family) ? 'a positive number or a [d, d] matrix' : 'a positive number'} for '${family}'`,
      );
    }
  }
  return p as ConjugatePrior;
}

/**
 * Σ w (x - s)(x - s)ᵀ, Σ w (x - s) and Σ w of rows added block by block, about
 * a shift s (the first row added; 0 for centered rows): the data covariance of
 * rows read once, as a stream reads them, before their mean is known.
 */
export class CovarianceSums {
  private shift: Float64Array | undefined;
  private readonly first: Float64Array;
  private readonly second: Float64Array;
  total = 0;

  constructor(private readonly d: number, shift?: Float64Array) {
    this.shift = shift;
    this.first = new Float64Array(d);
    this.second = new Float64Array(d * d);
  }

  /** Adds rows [count, d] with their sample weights [count] (undefined: 1 each). */
  add(rows: Float64Array, count: number, sampleWeight?: Float64Array): void {
    const d = this.d;
    const s = (this.shift ??= rows.slice(0, d));
    const t = new Float64Array(d);
    for (let i = 0; i < count; i++) {
      const w = sampleWeight === undefined ? 1 : sampleWeight[i]!;
      this.total += w;
      if (w === 0) continue;
      for (let a = 0; a < d; a++) {
        t[a] = rows[i * d + a]! - s[a]!;
        this.first[a] += w * t[a]!;
      }
      for (let a = 0; a < d; a++) {
        const ta = w * t[a]!;
        for (let b = 0; b <= a; b++) this.second[a * d + b] += ta * t[b]!;
      }
    }
  }

  /**
   * Σ w (x - c)(x - c)ᵀ / (Σ w - 1) about the rows' mean c (ddof = 1, R's var
   * and np.cov; with sample weights, that of the rows replicated by them).
   * Throws when Σ w < 2; `what` names what needs it.
   */
  covariance(center: Float64Array, what: string, weighted: boolean): Float64Array {
    const d = this.d;
    if (this.total < 2) {
      const detail = weighted ? ` (a total sampleWeight of at least 2; got ${this.total})` : '';
      throw new InvalidArgumentError(`${what} (the data covariance) needs at least 2 rows${detail}`);
    }
    const s = this.shift ?? new Float64Array(d);
    const c = center.map((v, a) => v - s[a]!);
    const cov = new Float64Array(d * d);
    for (let a = 0; a < d; a++)
      for (let b = 0; b <= a; b++) {
        const v = this.second[a * d + b]! - c[a]! * this.first[b]! - this.first[a]! * c[b]! + this.total * c[a]! * c[b]!;
        cov[a * d + b] = cov[b * d + a] = v / (this.total - 1);
      }
    return cov;
  }
}

/**
 * The covariance (ddof = 1, R's var and np.cov) of centered rows [n, d]; with
 * sample weights [n] that of the rows replicated by them, Σ w x xᵀ / (Σ w - 1)
 * (the rows centered at their weighted mean). Both default priors' data scale.
 * Throws when there are fewer than 2 rows (Σ w < 2); `what` names the prior.
 */
export function dataCovariance(centered: Float64Array, n: number, d: number, what: string, sampleWeight?: Float64Array): Float64Array {
  const zero = new Float64Array(d);
  const sums = new CovarianceSums(d, zero);
  sums.add(centered, n, sampleWeight);
  return sums.covariance(zero, what, sampleWeight !== undefined);
}

/**
 * What the default priors take from the data: its covariance (dataCovariance),
 * from the rows in memory, or given when they are not (fitStream's first pass).
 */
export function fitCovariance(
  fit: Pick<FitData, 'centered' | 'n' | 'd' | 'sampleWeight' | 'dataCovariance'>,
  what: string,
): Float64Array {
  return fit.dataCovariance?.(what) ?? dataCovariance(fit.centered, fit.n, fit.d, what, fit.sampleWeight);
}

/**
 * The prior for a fit of k components (FitData: the centered rows, or the data
 * covariance when they are not in memory, Σ w and the column means `center`):
 * mclust's defaultPrior for every field not given.
 */
export function resolvePrior(
  prior: PriorOption,
  family: string,
  fit: Pick<FitData, 'centered' | 'n' | 'd' | 'k' | 'center' | 'sampleWeight' | 'totalWeight' | 'dataCovariance'>,
): ResolvedPrior {
  const { d, k, center } = fit;
  const given: ConjugatePrior = prior === 'default' ? {} : prior;
  const fac = (1 / k) ** (2 / d);
  let scale: Float64Array;
  if (given.scale !== undefined) {
    if (typeof given.scale === 'number') {
      scale = matrixScale(family) ? Float64Array.from({ length: d * d }, (_, i) => (i % (d + 1) === 0 ? (given.scale as number) : 0)) : Float64Array.of(given.scale);
    } else {
      scale = Float64Array.from(given.scale.flat());
      if (given.scale.length !== d || scale.length !== d * d) throw new InvalidArgumentError(`prior.scale must be [${d}, ${d}] for data with ${d} features`);
      if (tryCholesky(scale, d) === null) throw new InvalidArgumentError('prior.scale must be symmetric positive definite');
    }
  } else {
    // var(X), ddof = 1, as R's var (of the replicated rows with sample weights)
    const cov = fitCovariance(fit, 'the default prior scale');
    // A singular data covariance makes a singular scale: the prior would not regularize that direction.
    if (singularCovariance(cov, d, center)) {
      throw new InvalidArgumentError(
        'the default prior scale (the data covariance) is singular: a constant column or collinear columns? Pass prior.scale',
      );
    }
    if (matrixScale(family)) {
      // mclust: var(X) when n > d (n = Σ w with sample weights), else its diagonal
      scale = fit.totalWeight > d ? cov.map((v) => fac * v) : cov.map((v, i) => (i % (d + 1) === 0 ? fac * v : 0));
    } else {
      let trace = 0;
      for (let a = 0; a < d; a++) trace += cov[a * d + a]!;
      scale = Float64Array.of((fac * trace) / d);
    }
  }
  if (given.mean !== undefined && given.mean.length !== d) {
    throw new InvalidArgumentError(`prior.mean has ${given.mean.length} values but the data has ${d} features`);
  }
  return {
    shrinkage: given.shrinkage ?? 0.01,
    mean: given.mean === undefined ? new Float64Array(d) : Float64Array.from(given.mean, (v, c) => v - center[c]!),
    dof: given.dof ?? d + 2,
    scale,
  };
}

/**
 * MAP EM for one of the built-in families (mclust's VVV, EEE, VVI, VII) under
 * the resolved prior. With n_k, x̄_k, W_k = Σ_i r_ik (x_i - x̄_k)(x_i - x̄_k)ᵀ,
 * κ, μ_P, ν, Λ and c_k = n_k κ / (n_k + κ), δ_k = x̄_k - μ_P, [κ>0] = 1 when κ > 0:
 *   μ_k = (n_k x̄_k + κ μ_P) / (n_k + κ), w_k = n_k / n,
 *   full:      Σ_k  = (Λ + W_k + c_k δ_k δ_kᵀ) / (ν + n_k + d + 1 + [κ>0])
 *   tied:      Σ    = (Λ + Σ_k (W_k + c_k δ_k δ_kᵀ)) / (ν + n + d + 1 + [κ>0] k)
 *   diag:      σ²_kj = (λ + W_k,jj + c_k δ_kj²) / (ν + n_k + 2 + [κ>0])
 *   spherical: σ²_k = (λ + tr W_k + c_k ‖δ_k‖²) / (ν + n_k d + 2 + [κ>0] d)
 * (mclust's msvvvp, mseeep, msvvip, msviip), plus regCovar on the diagonal.
 * The prior density these are the modes of (each component's covariance
 * inverse-Wishart / inverse-gamma, its mean normal with covariance Σ_k / κ)
 * gives the penalized objective; its θ-free normalizing constants are left out.
 */
export function maximumAPosteriori(
  family: CovarianceFamily,
  prior: ResolvedPrior,
  regCovar: number,
  n: number,
  ctx: PluginContext,
): EmStrategy<MixtureParameters> {
  const { k, d } = ctx;
  const name = family.name;
  const { shrinkage: kappa, mean: mu0, dof: nu, scale } = prior;
  const on = kappa > 0 ? 1 : 0;

  const mStep = (stats: SufficientStatistics): MixtureParameters => {
    const { nk: nkEps, weights, means: xbar } = weightsAndMeans(stats, k, d);
    const nk = stats.nk; // the counts mclust divides by (no epsilon)
    const delta = meanOffsets(xbar, stats); // x̄_k - reference (or x̄_k for raw moments)
    const means = new Float64Array(k * d);
    const dev = new Float64Array(k * d); // x̄_k - μ_P
    const c = new Float64Array(k);
    for (let j = 0; j < k; j++) {
      c[j] = (nk[j]! * kappa) / (nk[j]! + kappa);
      for (let a = 0; a < d; a++) {
        const i = j * d + a;
        means[i] = kappa + nk[j]! > 0 ? (nk[j]! * xbar[i]! + kappa * mu0[a]!) / (nk[j]! + kappa) : mu0[a]!;
        dev[i] = xbar[i]! - mu0[a]!;
      }
    }
    // W_k from the second moments: S - n_k δ δᵀ (δ = x̄_k - the point S was taken about)
    const w = (j: number, a: number, b: number): number => {
      const off = name === 'full' ? j * d * d : 0;
      const s = name === 'tied' ? 0 : stats.second[off + a * d + b]!;
      return s - nkEps[j]! * delta[j * d + a]! * delta[j * d + b]!;
    };
    let covariances: Float64Array;
    if (name === 'full') {
      covariances = new Float64Array(k * d * d);
      for (let j = 0; j < k; j++) {
        const denom = nu + nk[j]! + d + 1 + on;
        for (let a = 0; a < d; a++)
          for (let b = 0; b < d; b++)
            covariances[j * d * d + a * d + b] = (scale[a * d + b]! + w(j, a, b) + c[j]! * dev[j * d + a]! * dev[j * d + b]!) / denom;
        symmetrizeAndRegularize(covariances, j * d * d, d, regCovar);
        if (tryCholesky(covariances.subarray(j * d * d, (j + 1) * d * d), d) === null) throw singularCovarianceError(name, regCovar, j);
      }
    } else if (name === 'tied') {
      covariances = new Float64Array(d * d);
      const denom = nu + n + d + 1 + on * k;
      for (let a = 0; a < d; a++)
        for (let b = 0; b < d; b++) {
          let s = stats.second[a * d + b]!;
          for (let j = 0; j < k; j++) s += -nkEps[j]! * delta[j * d + a]! * delta[j * d + b]! + c[j]! * dev[j * d + a]! * dev[j * d + b]!;
          covariances[a * d + b] = (scale[a * d + b]! + s) / denom;
        }
      symmetrizeAndRegularize(covariances, 0, d, regCovar);
      if (tryCholesky(covariances, d) === null) throw singularCovarianceError(name, regCovar);
    } else if (name === 'diag') {
      covariances = new Float64Array(k * d);
      for (let j = 0; j < k; j++) {
        const denom = nu + nk[j]! + 2 + on;
        for (let a = 0; a < d; a++) {
          const i = j * d + a;
          const wjj = stats.second[i]! - nkEps[j]! * delta[i]! * delta[i]!;
          covariances[i] = (scale[0]! + wjj + c[j]! * dev[i]! * dev[i]!) / denom + regCovar;
          if (!(covariances[i]! > 0) || !Number.isFinite(covariances[i]!)) throw singularCovarianceError(name, regCovar, j);
        }
      }
    } else {
      covariances = new Float64Array(k);
      for (let j = 0; j < k; j++) {
        let m2 = 0;
        let dd = 0;
        for (let a = 0; a < d; a++) {
          m2 += delta[j * d + a]! ** 2;
          dd += dev[j * d + a]! ** 2;
        }
        const trW = stats.second[j]! - nkEps[j]! * m2;
        covariances[j] = (scale[0]! + trW + c[j]! * dd) / (nu + nk[j]! * d + 2 + on * d) + regCovar;
        if (!(covariances[j]! > 0) || !Number.isFinite(covariances[j]!)) throw singularCovarianceError(name, regCovar, j);
      }
    }
    return { weights, means, covariances };
  };

  /** log p(θ) up to θ-free constants (see above). */
  const logPrior = (p: MixtureParameters): number => {
    let total = 0;
    const quad = (inv: Float64Array, j: number): number => {
      let s = 0;
      for (let a = 0; a < d; a++)
        for (let b = 0; b < d; b++) s += (p.means[j * d + a]! - mu0[a]!) * inv[a * d + b]! * (p.means[j * d + b]! - mu0[b]!);
      return s;
    };
    const traceWith = (inv: Float64Array): number => {
      let s = 0;
      for (let a = 0; a < d * d; a++) s += inv[a]! * scale[a]!;
      return s;
    };
    if (name === 'full' || name === 'tied') {
      const blocks = name === 'full' ? k : 1;
      for (let b = 0; b < blocks; b++) {
        const cov = p.covariances.subarray(b * d * d, (b + 1) * d * d);
        const l = tryCholesky(cov, d);
        const inv = trySpdInverse(cov, d);
        if (l === null || inv === null) return -Infinity;
        const logDet = logDetFromCholesky(l, d);
        const meansOf = name === 'full' ? [b] : Array.from({ length: k }, (_, j) => j);
        total += -0.5 * (nu + d + 1 + on * meansOf.length) * logDet - 0.5 * traceWith(inv);
        for (const j of meansOf) total -= 0.5 * kappa * quad(inv, j);
      }
    } else {
      const perCoordinate = name === 'diag';
      for (let j = 0; j < k; j++) {
        for (let a = 0; a < (perCoordinate ? d : 1); a++) {
          const v = perCoordinate ? p.covariances[j * d + a]! : p.covariances[j]!;
          const coords = perCoordinate ? [a] : Array.from({ length: d }, (_, c) => c);
          let m2 = 0;
          for (const c of coords) m2 += (p.means[j * d + c]! - mu0[c]!) ** 2;
          total += -0.5 * (nu + 2 + on * coords.length) * Math.log(v) - (scale[0]! + kappa * m2) / (2 * v);
        }
      }
    }
    return total;
  };

  return {
    eStep: (params) => params,
    mStep,
    // The E-step pass scored `previous`: its penalized log-likelihood, per row.
    lowerBound: (pass, _next, previous) => (pass.totalLogLikelihood + logPrior(previous)) / n,
  };
}

function symmetrizeAndRegularize(m: Float64Array, offset: number, d: number, regCovar: number): void {
  for (let a = 0; a < d; a++) {
    for (let b = 0; b < a; b++) {
      const v = 0.5 * (m[offset + a * d + b]! + m[offset + b * d + a]!);
      m[offset + a * d + b] = v;
      m[offset + b * d + a] = v;
    }
    m[offset + a * d + a] += regCovar;
  }
}
