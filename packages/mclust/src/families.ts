// mclust's covariance models as gmmkit CovarianceFamily plugins, written
// against the public contract (@gmmkit/core) with the building blocks
// @gmmkit/tfjs exports for plugin authors. Each model is a small spec: which
// sufficient statistics it needs (the built-in family with the same ones does
// the tensor work), the layout of its covariances, its parameter count, and
// its M-step on the host (mstep.ts).
import {
  InvalidArgumentError,
  symmetricEigen,
  tryCholesky,
  tryCovarianceFromPrecisionCholesky,
  tryPrecisionCholesky,
  type CovarianceFamily,
  type MixtureParameters,
  type SufficientStatistics,
} from '@gmmkit/core';
import {
  axisAlignedKernel,
  checkPositive,
  checkValues,
  diagCovariance,
  diagonalCovariances,
  fewPointsDegeneracy,
  fullCovariance,
  inverseSqrt,
  inverseSquare,
  mapBlocks,
  matrixKernel,
  meanOffsets,
  pinnedMatrixDegeneracy,
  pinnedVarianceDegeneracy,
  singularCovarianceError,
  sphericalCovariance,
  validateSpd,
  weightsAndMeans,
  type EngineContext,
} from '@gmmkit/tfjs';
import { geometricMean } from './linalg.js';
import { commonOrientation, variableOrientation, vee, volumeShape, type Letter } from './mstep.js';

/** Which scatter a model's M-step reads: traces [k], diagonals [k, d] or full matrices [k, d, d]. */
type Scatter = 'trace' | 'diagonal' | 'full';

/**
 * Layout of the covariances array: one shared variance [1], per-component
 * variances [k], one shared diagonal [d], per-component diagonals [k, d], or
 * full matrices [k, d, d].
 */
type Layout = 'one' | 'k' | 'd' | 'kd' | 'kdd';

/**
 * The effective points a model's covariances need (the count in its
 * degeneracy rule; n_k = w_k n, counted to the nearest point as for the
 * built-ins): what the parts a component estimates from its own rows need.
 *   - Nothing of its own (EII, EEI, EEV, E): one point, its mean (an empty component is
 *     mclust's "mixing proportion fell below threshold"), and `rows` in all for the shared
 *     spectrum (the pooled scatter about k means has rank at most n - k; tied's rule).
 *     EEV's own orientation needs no more: on a singular scatter it only turns within the
 *     null space, where the shared shape sets the variances.
 *   - Its own volume or diagonal (VEI, EVI, VEE, VEV, V; VII and VVI built in): 2 points, as a
 *     component of one point has no scatter for them.
 *   - Its own shape read off a full scatter (EVE, VVE, EVV; VVV built in): d + 1 points. Below
 *     that the scatter is singular, the orientation can turn into its null space, and the
 *     shape there is set by regCovar alone (regCovar 0: singular); mclust refuses these too
 *     (its EVE, VVE and EVV need a positive definite scatter of every component).
 * A component that flattens without losing points is the pinned-variance test's.
 */
interface Needs {
  points: (d: number) => number;
  what: string;
  rows?: (k: number, d: number) => number;
}

const pooled = (rows: (k: number, d: number) => number): Needs => ({ points: () => 1, what: 'a mean', rows });
const OWN_VARIANCE: Needs = { points: () => 2, what: 'its own variances' };
const OWN_SHAPE: Needs = { points: (d) => d + 1, what: 'its own shape from a full scatter' };

interface ModelSpec {
  /** mclust's name: volume, shape, orientation letters (or E/V in 1-D). */
  code: string;
  description: string;
  scatter: Scatter;
  layout: Layout;
  /** nMclustParams' covariance part. */
  parameters: (k: number, d: number) => number;
  /**
   * The M-step: covariances in `layout` from the scatter (regularized) and n_k, given the previous
   * iteration's covariances when the engine passes them (the iterative orientation starts from them);
   * null when singular.
   */
  solve: (scatter: Float64Array, nk: Float64Array, k: number, d: number, previous?: Float64Array) => Float64Array | null;
  /** Effective points the covariances need (degeneracy). */
  needs: Needs;
  /** Only for 1-D data (mclust's univariate E and V). */
  univariate?: boolean;
}

const half = (d: number) => (d * (d - 1)) / 2;

/** Variances [k, d] from volumeShape, reduced to the layout. */
function diagonalSolve(volume: 'E' | 'V', shape: Letter, layout: Layout) {
  return (s: Float64Array, nk: Float64Array, k: number, d: number): Float64Array => {
    const v = volumeShape(volume, shape, s, nk, k, d);
    if (layout === 'one') return v.slice(0, 1);
    if (layout === 'd') return v.slice(0, d);
    if (layout === 'k') return Float64Array.from({ length: k }, (_, j) => v[j * d]!);
    return v;
  };
}

const MODELS: ModelSpec[] = [
  {
    code: 'EII',
    description: 'spherical, equal volume: one variance λ·I shared by all components (mclust EII)',
    scatter: 'trace',
    layout: 'one',
    parameters: () => 1,
    solve: diagonalSolve('E', 'I', 'one'),
    needs: pooled((k) => k + 1),
  },
  {
    code: 'EEI',
    description: 'diagonal, equal volume and shape: one diagonal covariance shared by all components (mclust EEI)',
    scatter: 'diagonal',
    layout: 'd',
    parameters: (_k, d) => d,
    solve: diagonalSolve('E', 'E', 'd'),
    needs: pooled((k) => k + 1),
  },
  {
    code: 'VEI',
    description: 'diagonal, variable volume, equal shape: λ_k·A (mclust VEI)',
    scatter: 'diagonal',
    layout: 'kd',
    parameters: (k, d) => k + d - 1,
    solve: diagonalSolve('V', 'E', 'kd'),
    needs: OWN_VARIANCE,
  },
  {
    code: 'EVI',
    description: 'diagonal, equal volume, variable shape: λ·A_k (mclust EVI)',
    scatter: 'diagonal',
    layout: 'kd',
    parameters: (k, d) => 1 + k * (d - 1),
    solve: diagonalSolve('E', 'V', 'kd'),
    needs: OWN_VARIANCE,
  },
  {
    code: 'VEE',
    description: 'ellipsoidal, variable volume, equal shape and orientation: λ_k·C (mclust VEE)',
    scatter: 'full',
    layout: 'kdd',
    parameters: (k, d) => k + (d * (d + 1)) / 2 - 1,
    solve: vee,
    needs: OWN_VARIANCE,
  },
  {
    code: 'EVE',
    description: 'ellipsoidal, equal volume and orientation, variable shape: λ·D A_k Dᵀ (mclust EVE)',
    scatter: 'full',
    layout: 'kdd',
    parameters: (k, d) => 1 + k * (d - 1) + half(d),
    solve: (w, nk, k, d, previous) => commonOrientation('E', w, nk, k, d, previous),
    needs: OWN_SHAPE,
  },
  {
    code: 'VVE',
    description: 'ellipsoidal, equal orientation, variable volume and shape: λ_k·D A_k Dᵀ (mclust VVE)',
    scatter: 'full',
    layout: 'kdd',
    parameters: (k, d) => k * d + half(d),
    solve: (w, nk, k, d, previous) => commonOrientation('V', w, nk, k, d, previous),
    needs: OWN_SHAPE,
  },
  {
    code: 'EEV',
    description: 'ellipsoidal, equal volume and shape, variable orientation: λ·D_k A D_kᵀ (mclust EEV)',
    scatter: 'full',
    layout: 'kdd',
    parameters: (k, d) => d + k * half(d),
    solve: (w, nk, k, d) => variableOrientation('E', 'E', w, nk, k, d),
    needs: pooled((k, d) => k + d),
  },
  {
    code: 'VEV',
    description: 'ellipsoidal, equal shape, variable volume and orientation: λ_k·D_k A D_kᵀ (mclust VEV)',
    scatter: 'full',
    layout: 'kdd',
    parameters: (k, d) => k + d - 1 + k * half(d),
    solve: (w, nk, k, d) => variableOrientation('V', 'E', w, nk, k, d),
    needs: OWN_VARIANCE,
  },
  {
    code: 'EVV',
    description: 'ellipsoidal, equal volume, variable shape and orientation: λ·D_k A_k D_kᵀ (mclust EVV)',
    scatter: 'full',
    layout: 'kdd',
    parameters: (k, d) => (k * d * (d + 1)) / 2 - (k - 1),
    solve: (w, nk, k, d) => variableOrientation('E', 'V', w, nk, k, d),
    needs: OWN_SHAPE,
  },
  {
    code: 'E',
    description: 'univariate, equal variance (mclust E; 1-D data only)',
    scatter: 'trace',
    layout: 'one',
    parameters: () => 1,
    solve: diagonalSolve('E', 'I', 'one'),
    needs: pooled((k) => k + 1),
    univariate: true,
  },
  {
    code: 'V',
    description: 'univariate, variable variance (mclust V; 1-D data only)',
    scatter: 'trace',
    layout: 'k',
    parameters: (k) => k,
    solve: diagonalSolve('V', 'I', 'k'),
    needs: OWN_VARIANCE,
    univariate: true,
  },
];

/** The built-in family that accumulates the statistics a scatter needs (it does the tensor work). */
const STATISTICS: Record<Scatter, CovarianceFamily> = {
  trace: sphericalCovariance,
  diagonal: diagCovariance,
  full: fullCovariance,
};

/**
 * Within-component scatter from merged statistics, about the means, plus
 * n_k·regCovar on the diagonal (regularizing the scatter keeps the model's
 * constraint, where adding regCovar to a constrained Σ_k would break it):
 * traces [k], diagonals [k, d] or matrices [k, d, d].
 */
function scatterOf(kind: Scatter, stats: SufficientStatistics, nk: Float64Array, means: Float64Array, regCovar: number, k: number, d: number): Float64Array {
  const delta = meanOffsets(means, stats);
  if (kind === 'trace') {
    const out = new Float64Array(k);
    for (let j = 0; j < k; j++) {
      let m2 = 0;
      for (let c = 0; c < d; c++) m2 += delta[j * d + c]! ** 2;
      out[j] = stats.second[j]! - nk[j]! * m2 + nk[j]! * d * regCovar;
    }
    return out;
  }
  if (kind === 'diagonal') {
    const out = new Float64Array(k * d);
    for (let i = 0; i < k * d; i++) {
      const n = nk[Math.floor(i / d)]!;
      out[i] = stats.second[i]! - n * delta[i]! ** 2 + n * regCovar;
    }
    return out;
  }
  const dd = d * d;
  const out = new Float64Array(k * dd);
  for (let j = 0; j < k; j++)
    for (let a = 0; a < d; a++)
      for (let b = a; b < d; b++) {
        const i = j * dd + a * d + b;
        const s =
          (stats.second[i]! + stats.second[j * dd + b * d + a]!) / 2 -
          nk[j]! * delta[j * d + a]! * delta[j * d + b]! +
          (a === b ? nk[j]! * regCovar : 0);
        out[i] = s;
        out[j * dd + b * d + a] = s;
      }
  return out;
}

/** The trace layout ('one', 'k') stores d copies per variance as the spectrum volumeShape reads. */
function spectraOf(kind: Scatter, scatter: Float64Array, k: number, d: number): Float64Array {
  if (kind !== 'trace') return scatter;
  const out = new Float64Array(k * d);
  for (let j = 0; j < k; j++) out.fill(scatter[j]! / d, j * d, (j + 1) * d);
  return out;
}

function shapeOf(layout: Layout, k: number, d: number): number[] {
  switch (layout) {
    case 'one':
      return [1];
    case 'k':
      return [k];
    case 'd':
      return [d];
    case 'kd':
      return [k, d];
    case 'kdd':
      return [k, d, d];
  }
}

/** Variance of component j along feature a in an axis-aligned layout. */
function varianceAt(layout: Layout, c: Float64Array, d: number): (j: number, a: number) => number {
  switch (layout) {
    case 'one':
      return () => c[0]!;
    case 'k':
      return (j) => c[j]!;
    case 'd':
      return (_j, a) => c[a]!;
    default:
      return (j, a) => c[j * d + a]!;
  }
}

/** Relative tolerance of the constraint checks in `validate` (parameters read back from JSON). */
const CONSTRAINT_TOL = 1e-6;

/**
 * Throws unless full matrices [k, d, d] satisfy the model's letters: equal
 * volumes |Σ_k|^(1/d), equal shapes (normalized eigenvalues, in decreasing
 * order), or a common orientation (the Σ_k commute).
 */
function checkConstraint(code: string, full: Float64Array, k: number, d: number): void {
  if (code.length !== 3 || k < 2) return;
  const dd = d * d;
  const spectra = Array.from({ length: k }, (_, j) => symmetricEigen(full.subarray(j * dd, (j + 1) * dd), d).values);
  const volumes = spectra.map((v) => geometricMean(v, 0, d));
  const close = (a: number, b: number) => Math.abs(a - b) <= CONSTRAINT_TOL * Math.max(Math.abs(a), Math.abs(b));
  for (let j = 1; j < k; j++) {
    if (code[0] === 'E' && !close(volumes[j]!, volumes[0]!))
      throw new InvalidArgumentError(`'${code}' covariances must have equal volumes |Σ_k|^(1/d): component ${j + 1} differs from component 1`);
    if (code[1] === 'E')
      for (let c = 0; c < d; c++)
        if (!close(spectra[j]![c]! / volumes[j]!, spectra[0]![c]! / volumes[0]!))
          throw new InvalidArgumentError(`'${code}' covariances must have equal shapes: component ${j + 1} differs from component 1`);
    if (code[2] === 'E') {
      // Σ_1 Σ_j = Σ_j Σ_1 exactly when they share eigenvectors
      // ‖Σ_1 Σ_j − Σ_j Σ_1‖ against ‖Σ_1‖ ‖Σ_j‖ (Frobenius)
      let diff = 0;
      let n1 = 0;
      let nj = 0;
      for (let a = 0; a < d; a++)
        for (let b = 0; b < d; b++) {
          let ab = 0;
          let ba = 0;
          for (let c = 0; c < d; c++) {
            ab += full[a * d + c]! * full[j * dd + c * d + b]!;
            ba += full[j * dd + a * d + c]! * full[c * d + b]!;
          }
          diff += (ab - ba) ** 2;
          n1 += full[a * d + b]! ** 2;
          nj += full[j * dd + a * d + b]! ** 2;
        }
      if (Math.sqrt(diff) > CONSTRAINT_TOL * Math.sqrt(n1 * nj))
        throw new InvalidArgumentError(`'${code}' covariances must share one orientation: component ${j + 1} does not commute with component 1`);
    }
  }
}

/** A CovarianceFamily from a model spec. */
export function mclustFamily(spec: ModelSpec): CovarianceFamily {
  const { code, layout } = spec;
  const statistics = STATISTICS[spec.scatter];
  const axisAligned = layout !== 'kdd';
  const family: CovarianceFamily = {
    name: code,
    description: spec.description,
    mclustName: code,
    covarianceShape: (k, d) => shapeOf(layout, k, d),
    nCovarianceParameters: (k, d) => spec.parameters(k, d),

    accumulate: (x, resp, ctx) => statistics.accumulate(x, resp, ctx),
    merge: (a, b) => statistics.merge(a, b),
    // Missing values (missing: 'marginalize'): the same statistics as the built-in family, so its projection of full second moments.
    secondFromFull: (full, k, d) => statistics.secondFromFull!(full, k, d),

    mStep(stats, regCovar, { k, d }, previous): MixtureParameters {
      if (spec.univariate === true && d !== 1)
        throw new InvalidArgumentError(`'${code}' is mclust's univariate model, for 1-D data; got ${d} columns (use ${code}II)`);
      const { nk, weights, means } = weightsAndMeans(stats, k, d);
      const scatter = scatterOf(spec.scatter, stats, nk, means, regCovar, k, d);
      const covariances = spec.solve(spectraOf(spec.scatter, scatter, k, d), nk, k, d, previous?.covariances);
      if (covariances === null) throw singularCovarianceError(code, regCovar);
      if (axisAligned) {
        for (let i = 0; i < covariances.length; i++)
          if (!(covariances[i]! > 0) || !Number.isFinite(covariances[i]!)) throw singularCovarianceError(code, regCovar);
      } else {
        for (let j = 0; j < k; j++)
          if (tryCholesky(covariances.subarray(j * d * d, (j + 1) * d * d), d) === null) throw singularCovarianceError(code, regCovar, j);
      }
      return { weights, means, covariances };
    },

    densityKernel(params, ctx) {
      const { tf, k, d } = ctx;
      const cache = (ctx as EngineContext).blockCache;
      if (!axisAligned) return matrixKernel(tf, params.means, family.precisionsCholesky(params.covariances, k, d), k, d, false, cache);
      const at = varianceAt(layout, params.covariances, d);
      const s = new Float64Array(k * d);
      for (let j = 0; j < k; j++) for (let a = 0; a < d; a++) s[j * d + a] = 1 / Math.sqrt(at(j, a));
      return axisAlignedKernel(tf, params.means, s, k, d, cache);
    },

    degeneracy(params, ctx) {
      const { k, d, n } = ctx;
      const { needs } = spec;
      const rows = needs.rows?.(k, d) ?? 0;
      if (n < rows) return { reason: `${n} rows are too few for the shared covariance of '${code}' (it needs ${rows}): it is singular` };
      const few = fewPointsDegeneracy(params, ctx, needs.points(d), `'${code}' (${needs.what})`);
      if (few !== undefined) return few;
      if (!axisAligned) return pinnedMatrixDegeneracy(ctx, params.covariances, k);
      return pinnedVarianceDegeneracy(ctx, varianceAt(layout, params.covariances, d), {
        shared: layout === 'one' || layout === 'd',
        isotropic: layout === 'one' || layout === 'k',
      });
    },
    fullCovariances: (c, k, d) => (axisAligned ? diagonalCovariances(k, d, varianceAt(layout, c, d)) : Float64Array.from(c)),
    precisionsCholesky(c, k, d) {
      if (!axisAligned) return mapBlocks(code, c, k, d, tryPrecisionCholesky, 'covariance');
      checkPositive(code, c);
      return inverseSqrt(c);
    },
    covariancesFromPrecisionsCholesky(p, k, d) {
      if (!axisAligned) return mapBlocks(code, p, k, d, tryCovarianceFromPrecisionCholesky, 'precision');
      checkPositive(code, p, 'precision');
      return inverseSquare(p);
    },
    validate(c, k, d) {
      checkValues(code, c, shapeOf(layout, k, d).reduce((a, b) => a * b, 1));
      if (axisAligned) checkPositive(code, c);
      else for (let j = 0; j < k; j++) validateSpd(code, c, j * d * d, d, `covariance of component ${j + 1}`);
      checkConstraint(code, family.fullCovariances(c, k, d), k, d);
    },
  };
  return family;
}

/** The ten multivariate models gmmkit lacks, plus mclust's univariate E and V. */
export const mclustFamilies: readonly CovarianceFamily[] = MODELS.map(mclustFamily);

/** mclust's 14 multivariate models in mclust's order, with gmmkit's names for the four built-ins. */
export const MCLUST_MODELS = ['EII', 'VII', 'EEI', 'VEI', 'EVI', 'VVI', 'EEE', 'VEE', 'EVE', 'VVE', 'EEV', 'VEV', 'EVV', 'VVV'] as const;

/** gmmkit's built-in names of four mclust models. */
export const BUILTIN_NAMES: Readonly<Record<string, string>> = { VVV: 'full', EEE: 'tied', VVI: 'diag', VII: 'spherical' };

/**
 * The family names of mclust's models as registered in gmmkit: the 14 for
 * multivariate data (full/tied/diag/spherical standing for VVV/EEE/VVI/VII),
 * or the univariate E and V for 1-D data.
 */
export function mclustModelNames(d: number): string[] {
  return d === 1 ? ['E', 'V'] : MCLUST_MODELS.map((m) => BUILTIN_NAMES[m] ?? m);
}
