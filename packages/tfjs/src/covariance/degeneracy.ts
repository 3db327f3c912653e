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
 * The float32 part of the pinned-variance floor, a fraction of the data's own
 * variance along the direction tested. A component's variance is pinned at
 * the regCovar floor when what the data contribute to it (the variance minus
 * regCovar) is at or below the floor in some direction: the data's grid
 * variance over the component's points (dataResolution / n_k) plus this
 * fraction of the data's variance (docs/degenerate-solutions.md). Measured
 * (packages/bench/src/trust/degeneracy-ratios.ts): the real components with the
 * smallest data part on this scale are 1.5e-8 and 3.0e-7 of the data's
 * variance (a thin component of generateDataset(20000, 8, 4, 12) at k = 5 and
 * k = 4), so the former 1e-5 rejected them; 1e-9 is 15x under the smaller.
 * 46 of the 52 collapsed components measured have a negative data part
 * (float32 rounding of an exact 0), which this term alone catches on data
 * without a grid; the other 6 measured 4.6e-8 to 6.7e-5 of the data's
 * variance, on the scale of real ones: only the grid term separates them.
 */
export const PINNED_VARIANCE_RATIO = 1e-9;

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
 * What the data must contribute to a variance of feature a (beyond regCovar)
 * in a component of `points` effective points for it to count: the feature's
 * grid variance g²/12 (ctx.dataResolution, 0 when not given) divided by the
 * points (one row a grid step g off the others already contributes about
 * g²/points: below 1/12 of that, every row ties), plus PINNED_VARIANCE_RATIO
 * of the feature's variance (float32 noise).
 */
function featureFloor(ctx: DegeneracyContext, resolution: Float64Array | undefined, a: number, points: number): number {
  return (resolution?.[a] ?? 0) / points + PINNED_VARIANCE_RATIO * ctx.dataVariance[a]!;
}

/**
 * Runs a pinned-variance test with the data's resolution. The exact one sorts
 * every column (O(n log n) per feature), so when the context has a cheap upper
 * bound (the smallest gap over a sample of the rows is at least the smallest
 * over all of them: see degeneracyContextFor) the test runs with it first: a larger
 * floor only makes the test fire more, so a solution that passes it passes the
 * exact test, and the exact resolution is computed only for the rare solution
 * that does not.
 */
function withResolution(
  ctx: DegeneracyContext,
  test: (resolution: Float64Array | undefined) => Degeneracy | undefined,
  bound = RESOLUTION_BOUNDS.get(ctx)?.(),
): Degeneracy | undefined {
  if (bound !== undefined && test(bound) === undefined) return undefined;
  return test(ctx.dataResolution);
}

/** The upper bound of each context's dataResolution (degeneracyContextFor), made on first call. */
const RESOLUTION_BOUNDS = new WeakMap<DegeneracyContext, () => Float64Array>();

/** Effective points of component j (at least 1), or all n rows for a shared covariance / without weights. */
function pointsOf(ctx: DegeneracyContext, weights: Float64Array | undefined, j: number): number {
  return Math.max(1, weights === undefined ? ctx.n : weights[j]! * ctx.n);
}

/**
 * Axis-aligned variances: `variance(j, a)` of component j along feature a
 * (j = 0 only, `component` undefined in the result, when `shared`). The first
 * one whose data part (minus regCovar) is at or below the feature's floor
 * (its grid's variance plus PINNED_VARIANCE_RATIO of its variance), or the
 * mean floor when `isotropic` (spherical). Constant features (data variance
 * 0) are skipped.
 */
export function pinnedVarianceDegeneracy(
  ctx: DegeneracyContext,
  variance: (j: number, a: number) => number,
  layout: { shared?: boolean; isotropic?: boolean; weights?: Float64Array } = {},
): Degeneracy | undefined {
  const { d, regCovar, dataVariance } = ctx;
  const components = layout.shared === true ? 1 : ctx.k;
  const varying: number[] = [];
  for (let a = 0; a < d; a++) if (dataVariance[a]! > 0) varying.push(a);
  if (varying.length === 0) return undefined;
  return withResolution(ctx, (resolution) => {
    const floorOf = (a: number, points: number): number => featureFloor(ctx, resolution, a, points);
    for (let j = 0; j < components; j++) {
      const points = pointsOf(ctx, layout.shared === true ? undefined : layout.weights, j);
      for (let a = 0; a < (layout.isotropic === true ? 1 : d); a++) {
        if (layout.isotropic !== true && !(dataVariance[a]! > 0)) continue;
        const floor = layout.isotropic === true ? varying.reduce((sum, b) => sum + floorOf(b, points), 0) / d : floorOf(a, points);
        const ratio = (variance(j, a) - regCovar) / floor;
        if (ratio <= 1) {
          const who = layout.shared === true ? 'the shared covariance' : `component ${j + 1}`;
          const where = layout.isotropic === true ? '' : ` along feature ${a + 1}`;
          return { component: layout.shared === true ? undefined : j, reason: pinnedReason(who, where, ratio) };
        }
      }
    }
    return undefined;
  });
}

/**
 * General covariance matrices, `count` blocks [d, d] at the start of
 * `covariances` (count 1, `component` undefined in the result, for a shared
 * matrix): the first with a direction u in which the data part uᵀ(Σ - reg I)u
 * is at or below the floor uᵀFu, F = diag(dataResolution) / n_k +
 * PINNED_VARIANCE_RATIO · (the data's covariance), over the non-constant
 * features: the smallest eigenvalue of W (Σ - reg I) Wᵀ, W Wᵀ = F⁻¹, is <= 1.
 * F is the rounding noise of uᵀx (independent grids per feature) over the
 * component's n_k = weights[j] · n effective points (n without weights or for
 * a shared matrix) plus float32 noise relative to the data's spread along u
 * (F's diagonal alone when F is numerically singular).
 */
export function pinnedMatrixDegeneracy(
  ctx: DegeneracyContext,
  covariances: Float64Array,
  count: number,
  weights?: Float64Array,
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
  const noise = sub(dataCovariance, 0, 0).map((v) => PINNED_VARIANCE_RATIO * v);
  // The bound decides only when the noise term alone is positive definite: then every
  // floor is, and the exact test whitens with the full floor as the bound's test does.
  const bound = tryCholesky(noise, m) === null ? undefined : RESOLUTION_BOUNDS.get(ctx)?.();
  return withResolution(ctx, (resolution) => {
    for (let j = 0; j < count; j++) {
      const points = pointsOf(ctx, count === 1 ? undefined : weights, j);
      const floor = Float64Array.from(noise);
      kept.forEach((a, p) => (floor[p * m + p] += (resolution?.[a] ?? 0) / points));
      // Whitening factor W = L⁻¹ with L Lᵀ = F, or F's diagonal alone.
      const l = tryCholesky(floor, m);
      const w = l !== null ? invertLowerTriangular(l, m) : diagonalInverseSd(kept.map((_, p) => floor[p * m + p]!));
      const s = sub(covariances, j * d * d, regCovar);
      const whitened = matMul(matMul(w, s, m, m, m), transpose(w, m, m), m, m, m);
      const smallest = symmetricEigenvalues(symmetrize(whitened, m), m)[0]!;
      if (smallest <= 1) {
        const shared = count === 1 && ctx.k > 1;
        return {
          component: shared ? undefined : j,
          reason: pinnedReason(shared ? 'the shared covariance' : `component ${j + 1}`, ' in some direction', smallest),
        };
      }
    }
    return undefined;
  }, bound);
}

function pinnedReason(who: string, where: string, ratio: number): string {
  return `${who} has a variance${where} pinned at the regCovar floor (its data part is ${fmt(ratio)} of the floor of the data's grid and float32 noise)`;
}

function diagonalInverseSd(variances: number[]): Float64Array {
  const m = variances.length;
  const out = new Float64Array(m * m);
  variances.forEach((v, p) => (out[p * m + p] = 1 / Math.sqrt(v)));
  return out;
}

/**
 * Each feature's resolution [d] (DegeneracyContext.dataResolution): the
 * variance g²/12 of rounding to its grid, g the smallest positive gap between
 * its sorted distinct values (over the rows of positive weight; missing cells,
 * NaN, left out). 0 for a feature with fewer than two distinct values. On
 * continuous data g, and so this, is tiny; on rounded data, counts or answers
 * on a scale it is the grid's.
 */
export function dataResolution(rows: Float64Array, n: number, d: number, sampleWeight?: Float64Array): Float64Array {
  const out = new Float64Array(d);
  const column = new Float64Array(n);
  for (let a = 0; a < d; a++) {
    let m = 0;
    for (let i = 0; i < n; i++) {
      const v = rows[i * d + a]!;
      if (!Number.isNaN(v) && (sampleWeight === undefined || sampleWeight[i]! > 0)) column[m++] = v;
    }
    const sorted = column.subarray(0, m).sort();
    let gap = Infinity;
    for (let i = 1; i < m; i++) {
      const g = sorted[i]! - sorted[i - 1]!;
      if (g > 0 && g < gap) gap = g;
    }
    out[a] = Number.isFinite(gap) ? (gap * gap) / 12 : 0;
  }
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
export function dataMoments(centered: Float64Array, n: number, d: number, sampleWeight?: Float64Array): DataMoments {
  const sum = new Float64Array(d); // Σ w x over the rows observing each feature
  const count = new Float64Array(d); // Σ w over the rows observing each feature
  const first = new Float64Array(d).fill(Number.NaN); // a value of each feature: constant features equal it everywhere
  const constant = new Uint8Array(d).fill(1);
  let gaps = false;
  for (let i = 0; i < n; i++) {
    const w = sampleWeight === undefined ? 1 : sampleWeight[i]!;
    if (w === 0) continue;
    for (let a = 0; a < d; a++) {
      const v = centered[i * d + a]!;
      if (Number.isNaN(v)) {
        gaps = true;
        continue;
      }
      count[a] += w;
      sum[a] += w * v;
      if (Number.isNaN(first[a]!)) first[a] = v;
      else if (v !== first[a]) constant[a] = 0;
    }
  }
  const mean = sum.map((s, a) => (constant[a] ? first[a]! : s / count[a]!));
  // Σ w t tᵀ (t = x - mean, 0 for a constant feature) over the upper triangle, and the
  // weight of the rows observing both features; no per-cell checks when nothing is missing.
  const outer = new Float64Array(d * d);
  const pairs = new Float64Array(d * d);
  const t = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const w = sampleWeight === undefined ? 1 : sampleWeight[i]!;
    if (w === 0) continue;
    const row = i * d;
    for (let a = 0; a < d; a++) t[a] = constant[a] ? 0 : centered[row + a]! - mean[a]!;
    if (!gaps) {
      // The common case in a loop of its own, without the per-cell checks (a third faster).
      for (let a = 0; a < d; a++) {
        const wa = w * t[a]!;
        const r = a * d;
        for (let b = a; b < d; b++) outer[r + b] += wa * t[b]!;
      }
      continue;
    }
    for (let a = 0; a < d; a++) {
      const wa = w * t[a]!;
      if (Number.isNaN(wa)) continue;
      for (let b = a; b < d; b++) {
        if (Number.isNaN(t[b]!)) continue;
        outer[a * d + b] += wa * t[b]!;
        pairs[a * d + b] += w;
      }
    }
  }
  return covarianceOf(outer, gaps ? pairs : undefined, count, d, constant);
}

export interface DataMoments {
  dataVariance: Float64Array;
  dataCovariance: Float64Array;
}

/**
 * DataMoments from Σ w t tᵀ over the upper triangle (`outer`), divided by the
 * weight of the rows observing both features (`pairs`, or each feature's
 * `count` when nothing is missing); a constant feature's row and column exactly 0.
 */
function covarianceOf(outer: Float64Array, pairs: Float64Array | undefined, count: Float64Array, d: number, constant: Uint8Array): DataMoments {
  const cov = new Float64Array(d * d);
  for (let a = 0; a < d; a++)
    for (let b = a; b < d; b++) {
      const weight = pairs !== undefined ? pairs[a * d + b]! : count[a]!;
      cov[a * d + b] = cov[b * d + a] = constant[a] || constant[b] || !(weight > 0) ? 0 : outer[a * d + b]! / weight;
    }
  const variance = new Float64Array(d);
  for (let a = 0; a < d; a++) variance[a] = cov[a * d + a]!;
  return { dataVariance: variance, dataCovariance: cov };
}

/**
 * `data` [n, d] minus `center` [d] into `out`, and with it what
 * degeneracyContextFor reads of the centered rows (DataSummaries' moments
 * and resolution bound, as dataMoments and the bound give them; weighted by
 * `sampleWeight`), or undefined when a cell of a row that counts is missing
 * (the context then makes them itself): the centering pass takes each
 * feature's sum and range, a second pass over the centered rows (just
 * written, so cached) their outer products. `center` must be the rows'
 * (weighted) mean: the moments are then Σ w c cᵀ / Σ w less the square of
 * the mean of c (~1e-16 of the scale), so they lose nothing to dataMoments'
 * two passes about the mean.
 */
export function centerAndSummarize(
  data: Float64Array,
  n: number,
  d: number,
  center: Float64Array,
  out: Float64Array,
  sampleWeight?: Float64Array,
): Required<Pick<DataSummaries, 'moments' | 'resolutionBound'>> | undefined {
  const sum = new Float64Array(d);
  const low = new Float64Array(d).fill(Infinity);
  const high = new Float64Array(d).fill(-Infinity);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const row = i * d;
    const w = sampleWeight === undefined ? 1 : sampleWeight[i]!;
    for (let a = 0; a < d; a++) {
      const v = (out[row + a] = data[row + a]! - center[a]!);
      if (w === 0) continue;
      // A missing cell (NaN) compares false and makes its sum NaN: found after the loop.
      if (v < low[a]!) low[a] = v;
      if (v > high[a]!) high[a] = v;
      sum[a] += w * v;
    }
    total += w;
  }
  if (total === 0 || sum.some(Number.isNaN)) return undefined;
  const outer = outerSum(out, n, d, sampleWeight);
  const mean = sum.map((v) => v / total);
  for (let a = 0; a < d; a++) for (let b = a; b < d; b++) outer[a * d + b] -= total * mean[a]! * mean[b]!;
  // Every counted value of a feature equal: its moments are exactly 0.
  const constant = Uint8Array.from(low, (l, a) => (l === high[a] ? 1 : 0));
  const moments = covarianceOf(outer, undefined, new Float64Array(d).fill(total), d, constant);
  return { moments, resolutionBound: boundFromRange(out, n, d, sampleWeight, low, high) };
}

/**
 * Σ w c cᵀ over rows c [n, d] (finite where w > 0), upper triangle of [d, d].
 * Unweighted, four rows at a time: a quarter of the read-modify-writes of
 * the sums, which bound the one-row loop (~45 against ~85 ms at 1M x 8).
 */
function outerSum(rows: Float64Array, n: number, d: number, sampleWeight?: Float64Array): Float64Array {
  const outer = new Float64Array(d * d);
  let i = 0;
  if (sampleWeight === undefined)
    for (; i + 4 <= n; i += 4) {
      const r0 = i * d;
      const r1 = r0 + d;
      const r2 = r1 + d;
      const r3 = r2 + d;
      for (let a = 0; a < d; a++) {
        const x0 = rows[r0 + a]!;
        const x1 = rows[r1 + a]!;
        const x2 = rows[r2 + a]!;
        const x3 = rows[r3 + a]!;
        const r = a * d;
        for (let b = a; b < d; b++) outer[r + b] += x0 * rows[r0 + b]! + x1 * rows[r1 + b]! + x2 * rows[r2 + b]! + x3 * rows[r3 + b]!;
      }
    }
  // The rest one at a time; with weights every row (a row of weight 0 may hold missing cells).
  for (; i < n; i++) {
    const w = sampleWeight === undefined ? 1 : sampleWeight[i]!;
    if (w === 0) continue;
    const row = i * d;
    for (let a = 0; a < d; a++) {
      const wa = w * rows[row + a]!;
      const r = a * d;
      for (let b = a; b < d; b++) outer[r + b] += wa * rows[row + b]!;
    }
  }
  return outer;
}

/** Rows sampled for the cheap upper bound of the data's resolution (degeneracyContextFor). */
const RESOLUTION_SAMPLE_ROWS = 4096;

/**
 * A DegeneracyContext over centered rows [n, d]: `base` (the plugin context,
 * n and regCovar), with dataMoments and dataResolution computed on first use
 * (the moments are two passes over the rows; the resolution sorts every
 * column); a fit makes both while it centers its rows (centerAndSummarize).
 * Most fits never use the resolution: the rules test with a cheap upper bound
 * first (withResolution), each feature's smallest gap over a strided sample of
 * the rows capped by its range over all rows (both at least the smallest gap
 * over all rows), also made on first use.
 */
export function degeneracyContextFor(
  base: Omit<DegeneracyContext, 'dataVariance' | 'dataCovariance' | 'dataResolution'>,
  centered: Float64Array,
  n: number,
  d: number,
  sampleWeight?: Float64Array,
  summaries: DataSummaries = {},
): DegeneracyContext {
  const s = summaries;
  // Made when a check first needs them, unless the fit's centering pass made them (centerAndSummarize).
  const moments = (): DataMoments => (s.moments ??= dataMoments(centered, n, d, sampleWeight));
  const lazy = (get: () => Float64Array): PropertyDescriptor => ({ get, enumerable: true });
  const ctx = Object.defineProperties(
    { ...base },
    {
      dataVariance: lazy(() => moments().dataVariance),
      dataCovariance: lazy(() => moments().dataCovariance),
      dataResolution: lazy(() => (s.resolution ??= dataResolution(centered, n, d, sampleWeight))),
    },
  ) as DegeneracyContext;
  RESOLUTION_BOUNDS.set(ctx, () => (s.resolutionBound ??= dataResolutionBound(centered, n, d, sampleWeight)));
  return ctx;
}

/**
 * What degeneracyContextFor computes from the rows alone, made on first use
 * and kept here: one holder serves every fit of the same rows (FitCache).
 */
export interface DataSummaries {
  moments?: DataMoments;
  resolution?: Float64Array;
  resolutionBound?: Float64Array;
}

/** An upper bound of dataResolution (see degeneracyContextFor), what a context's pinned-variance tests try first. */
export function dataResolutionBound(rows: Float64Array, n: number, d: number, sampleWeight?: Float64Array): Float64Array {
  const low = new Float64Array(d).fill(Infinity);
  const high = new Float64Array(d).fill(-Infinity);
  for (let i = 0; i < n; i++) {
    if (sampleWeight !== undefined && !(sampleWeight[i]! > 0)) continue;
    for (let a = 0; a < d; a++) {
      const v = rows[i * d + a]!; // NaN compares false: missing cells are left out
      if (v < low[a]!) low[a] = v;
      if (v > high[a]!) high[a] = v;
    }
  }
  return boundFromRange(rows, n, d, sampleWeight, low, high);
}

/** resolutionBound from each feature's range over the rows (low, high): the smallest gap over a strided sample of the rows, capped by the range's. */
function boundFromRange(rows: Float64Array, n: number, d: number, sampleWeight: Float64Array | undefined, low: Float64Array, high: Float64Array): Float64Array {
  const counted = (i: number): boolean => sampleWeight === undefined || sampleWeight[i]! > 0;
  const stride = Math.max(1, Math.floor(n / RESOLUTION_SAMPLE_ROWS));
  const sampled: number[] = [];
  for (let i = 0; i < n; i += stride) if (counted(i)) sampled.push(i);
  const picked = new Float64Array(sampled.length * d);
  sampled.forEach((i, s) => picked.set(rows.subarray(i * d, i * d + d), s * d));
  const sampleResolution = dataResolution(picked, sampled.length, d);
  return Float64Array.from(sampleResolution, (r, a) => {
    const range = high[a]! - low[a]!;
    const rangeBound = range > 0 ? (range * range) / 12 : 0;
    return r > 0 ? Math.min(r, rangeBound) : rangeBound;
  });
}

function fmt(v: number): string {
  return Math.abs(v) < 1e-3 ? v.toExponential(1) : v.toPrecision(2);
}
