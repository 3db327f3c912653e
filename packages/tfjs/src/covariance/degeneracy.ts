// Degeneracy rules of the built-in families, exported so a plugin family
// states its own from the same parts (see CovarianceFamily.degeneracy and
// docs/degenerate-solutions.md).
import {
  invertLowerTriangular,
  matMul,
  symmetricEigenvalues,
  symmetrize,
  transpose,
  tryCholesky,
  type Degeneracy,
  type DegeneracyContext,
  type MixtureParameters,
} from '@gmmkit/core';

/**
 * A variance is pinned at the regCovar floor when what the data contribute
 * to it (the variance minus regCovar) is below this fraction of the data's
 * own variance along the same direction, i.e. a standard deviation under
 * 1/300 of the data's. Chosen from measurements (docs/degenerate-solutions.md,
 * packages/bench/src/trust/degeneracy-ratios.ts): collapsed components measured
 * -1e-6 to 5e-8 of the data's variance, healthy ones 1.7e-4 and up.
 */
export const PINNED_VARIANCE_RATIO = 1e-5;

/**
 * The first component with fewer than `needed` effective points
 * (weights[j] * n, rounded: a component holding `needed` rows has n_k just
 * below it after a soft E-step), or undefined.
 */
export function fewPointsDegeneracy(
  params: MixtureParameters,
  ctx: DegeneracyContext,
  needed: number,
  what: string,
): Degeneracy | undefined {
  for (let j = 0; j < ctx.k; j++) {
    const nk = params.weights[j]! * ctx.n;
    if (nk < needed - 0.5) {
      return {
        component: j,
        reason: `component ${j + 1} has ${nk.toPrecision(3)} effective points; ${what} needs at least ${needed}`,
      };
    }
  }
  return undefined;
}

/**
 * Axis-aligned variances: `variance(j, a)` of component j along feature a
 * (j = 0 only, `component` undefined in the result, when `shared`). The first
 * one whose data part (minus regCovar) is below PINNED_VARIANCE_RATIO of the
 * feature's variance, or of the mean feature variance when `isotropic`
 * (spherical). Constant features (data variance 0) are skipped.
 */
export function pinnedVarianceDegeneracy(
  ctx: DegeneracyContext,
  variance: (j: number, a: number) => number,
  layout: { shared?: boolean; isotropic?: boolean } = {},
): Degeneracy | undefined {
  const { d, regCovar, dataVariance } = ctx;
  const components = layout.shared === true ? 1 : ctx.k;
  let meanVariance = 0;
  for (let a = 0; a < d; a++) meanVariance += dataVariance[a]! / d;
  for (let j = 0; j < components; j++)
    for (let a = 0; a < (layout.isotropic === true ? 1 : d); a++) {
      const scale = layout.isotropic === true ? meanVariance : dataVariance[a]!;
      if (!(scale > 0)) continue;
      const ratio = (variance(j, a) - regCovar) / scale;
      if (ratio < PINNED_VARIANCE_RATIO) {
        const who = layout.shared === true ? 'the shared covariance' : `component ${j + 1}`;
        const where = layout.isotropic === true ? '' : ` along feature ${a + 1}`;
        return {
          component: layout.shared === true ? undefined : j,
          reason: `${who} has a variance${where} pinned at the regCovar floor (${fmt(ratio)} of the data's variance beyond regCovar)`,
        };
      }
    }
  return undefined;
}

/**
 * General covariance matrices, `count` blocks [d, d] at the start of
 * `covariances` (count 1, `component` undefined in the result, for a shared
 * matrix): the first whose smallest eigenvalue, after removing regCovar and
 * whitening by the data's own covariance (L⁻¹ (Σ - reg I) L⁻ᵀ with
 * L Lᵀ = the data covariance over its non-constant features; per-feature
 * standardization when the features are exactly collinear), is below
 * PINNED_VARIANCE_RATIO: a direction in which the component is flatter than
 * the data by that factor.
 */
export function pinnedMatrixDegeneracy(
  ctx: DegeneracyContext,
  covariances: Float64Array,
  count: number,
): Degeneracy | undefined {
  const { d, regCovar, dataVariance, dataCovariance } = ctx;
  const kept: number[] = [];
  for (let a = 0; a < d; a++) if (dataVariance[a]! > 0) kept.push(a);
  const m = kept.length;
  if (m === 0) return undefined;
  const sub = (source: Float64Array, offset: number, reg: number): Float64Array => {
    const out = new Float64Array(m * m);
    for (let p = 0; p < m; p++)
      for (let q = 0; q < m; q++)
        out[p * m + q] = source[offset + kept[p]! * d + kept[q]!]! - (p === q ? reg : 0);
    return out;
  };
  // Whitening factor W with W (data covariance) Wᵀ = I, or the per-feature 1/sd.
  const l = tryCholesky(sub(dataCovariance, 0, 0), m);
  const w = l !== null ? invertLowerTriangular(l, m) : diagonalInverseSd(kept.map((a) => dataVariance[a]!));
  for (let j = 0; j < count; j++) {
    const s = sub(covariances, j * d * d, regCovar);
    const whitened = matMul(matMul(w, s, m, m, m), transpose(w, m, m), m, m, m);
    const smallest = symmetricEigenvalues(symmetrize(whitened, m), m)[0]!;
    if (smallest < PINNED_VARIANCE_RATIO) {
      const shared = count === 1 && ctx.k > 1;
      return {
        component: shared ? undefined : j,
        reason: `${shared ? 'the shared covariance' : `component ${j + 1}`} has a variance pinned at the regCovar floor (${fmt(smallest)} of the data's variance in that direction beyond regCovar)`,
      };
    }
  }
  return undefined;
}

function diagonalInverseSd(variances: number[]): Float64Array {
  const m = variances.length;
  const out = new Float64Array(m * m);
  variances.forEach((v, p) => (out[p * m + p] = 1 / Math.sqrt(v)));
  return out;
}

/**
 * Per-feature variances [d] and covariance [d, d] of centered rows [n, d],
 * float64: DegeneracyContext.dataVariance and dataCovariance. With sample
 * weights [n] the moments are weighted (a row of weight w counts as w copies;
 * rows of weight 0 are left out). Missing cells (NaN, missing: 'marginalize')
 * are left out: each mean and variance is over the rows that observe the
 * feature, each covariance over the rows that observe both. A feature whose
 * values are all equal (over the rows that count) gets exactly 0 (not the
 * rounding of its mean).
 */
export function dataMoments(
  centered: Float64Array,
  n: number,
  d: number,
  sampleWeight?: Float64Array,
): { dataVariance: Float64Array; dataCovariance: Float64Array } {
  const weight = (i: number): number => (sampleWeight === undefined ? 1 : sampleWeight[i]!);
  const mean = new Float64Array(d);
  const count = new Float64Array(d); // Σ w over the rows observing each feature
  const first = new Float64Array(d).fill(Number.NaN); // a value of each feature: constant features equal it everywhere
  const constant = new Array<boolean>(d).fill(true);
  for (let i = 0; i < n; i++) {
    const w = weight(i);
    if (w === 0) continue;
    for (let a = 0; a < d; a++) {
      const v = centered[i * d + a]!;
      if (Number.isNaN(v)) continue;
      count[a] += w;
      if (Number.isNaN(first[a]!)) first[a] = v;
      else if (v !== first[a]) constant[a] = false;
    }
  }
  for (let i = 0; i < n; i++) {
    const w = weight(i);
    if (w === 0) continue;
    for (let a = 0; a < d; a++) {
      const v = centered[i * d + a]!;
      if (!Number.isNaN(v)) mean[a] += (w * v) / count[a]!;
    }
  }
  const sum = new Float64Array(d * d);
  const pairs = new Float64Array(d * d); // Σ w over the rows observing both features
  const t = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const w = weight(i);
    if (w === 0) continue;
    for (let a = 0; a < d; a++) {
      const v = centered[i * d + a]!;
      t[a] = Number.isNaN(v) ? v : constant[a] ? 0 : v - mean[a]!;
    }
    for (let a = 0; a < d; a++) {
      if (Number.isNaN(t[a]!)) continue;
      for (let b = 0; b < d; b++) {
        if (Number.isNaN(t[b]!)) continue;
        sum[a * d + b] += w * t[a]! * t[b]!;
        pairs[a * d + b] += w;
      }
    }
  }
  const cov = new Float64Array(d * d);
  for (let p = 0; p < d * d; p++) cov[p] = pairs[p]! > 0 ? sum[p]! / pairs[p]! : 0;
  const variance = new Float64Array(d);
  for (let a = 0; a < d; a++) variance[a] = cov[a * d + a]!;
  return { dataVariance: variance, dataCovariance: cov };
}

function fmt(v: number): string {
  return Math.abs(v) < 1e-3 ? v.toExponential(1) : v.toPrecision(2);
}
