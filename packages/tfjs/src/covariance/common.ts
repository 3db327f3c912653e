// Helpers shared by the built-in covariance families, exported so a plugin
// author can write a new family (e.g. mclust's EEI) from the same parts.
import type { Tensor, Tensor3D } from '@tensorflow/tfjs-core';
import {
  InvalidArgumentError,
  SingularCovarianceError,
  type DensityKernel,
  type PluginContext,
  type SufficientStatistics,
  type Tensor2D,
  type Tf,
} from '@gmmkit/core';

/** ln(2π). */
export const LOG_2PI = Math.log(2 * Math.PI);

/**
 * Added to every component's Σ_i r_ik before dividing, as scikit-learn does
 * (10 * float64 eps): a component that lost all its points keeps finite
 * means (0 in centered coordinates, i.e. the data mean) and a covariance of
 * regCovar * I instead of 0/0.
 */
export const NK_EPSILON = 10 * Number.EPSILON;

/**
 * Per-block tensors that do not change between EM iterations (e.g. the
 * outer products x_i x_iᵀ of a block), computed once and kept until the
 * blocks are disposed, within a byte budget. Families read it from the
 * context the engine passes to `accumulate` (EngineContext.blockCache);
 * without one (or over budget) they compute on the fly.
 */
export interface BlockCache {
  /** The cached `make()` for (key, x), making it if `bytes` fits the budget; undefined otherwise. */
  get(key: string, x: Tensor2D, bytes: number, make: () => Tensor): Tensor | undefined;
  dispose(): void;
}

/** The PluginContext the engine hands to `accumulate`, plus its block cache. */
export interface EngineContext extends PluginContext {
  blockCache?: BlockCache | undefined;
}

/** Default cache budget per thread: 256 MiB of tfjs memory. */
export const BLOCK_CACHE_BYTES = 256 * 2 ** 20;

export function createBlockCache(tf: Tf, budgetBytes = BLOCK_CACHE_BYTES): BlockCache {
  const entries = new Map<string, Map<Tensor2D, Tensor>>();
  let used = 0;
  return {
    get(key, x, bytes, make) {
      let forKey = entries.get(key);
      const hit = forKey?.get(x);
      if (hit !== undefined) return hit;
      if (used + bytes > budgetBytes) return undefined;
      // keep: the cache owns it even when called inside someone's tidy
      const t = tf.keep(tf.tidy(make));
      used += bytes;
      if (forKey === undefined) entries.set(key, (forKey = new Map()));
      forKey.set(x, t);
      return t;
    },
    dispose() {
      for (const forKey of entries.values()) for (const t of forKey.values()) t.dispose();
      entries.clear();
      used = 0;
    },
  };
}

/** What the second-moment callbacks of `accumulateMoments` receive (tensors owned by the surrounding tidy). */
export interface BlockTensors {
  /** Rows [n, d]. */
  x: Tensor2D;
  /** Responsibilities transposed, [k, n]. */
  respT: Tensor2D;
}

/**
 * Builds a family's `accumulate` from its second moment: n, Σ r ([k]) and
 * Σ r x ([k, d]) are common; `raw` returns the second moment about the origin
 * and `about` (optional) the one about ctx.reference, given the deviations
 * dev [k, n, d] = x - m_k. Downloads to float64, leaks no tensors.
 */
export function accumulateMoments(
  tf: Tf,
  x: Tensor2D,
  resp: Tensor2D,
  ctx: { k: number; d: number; reference?: Float64Array | undefined },
  raw: (b: BlockTensors) => Tensor,
  about?: (b: BlockTensors & { dev: Tensor3D }) => Tensor,
): SufficientStatistics {
  const reference = about === undefined ? undefined : ctx.reference;
  const [nk, sumX, second] = downloadAll(tf, () => {
    const { respT, nk, sumX } = transposedMoments(tf, x, resp);
    const b = { x, respT };
    const s = reference === undefined ? raw(b) : about!({ ...b, dev: deviations(tf, x, reference, ctx.k, ctx.d) });
    return [nk, sumX, s];
  });
  const stats: SufficientStatistics = { n: x.shape[0], nk: nk!, sumX: sumX!, second: second! };
  if (reference !== undefined) stats.reference = Float64Array.from(reference);
  return stats;
}

/** Downloads several tensors computed inside `fn` to float64 and frees everything `fn` allocated. */
export function downloadAll(tf: Tf, fn: () => Tensor[]): Float64Array[] {
  const ts = tf.tidy(fn);
  try {
    return ts.map((t) => Float64Array.from(t.dataSync()));
  } finally {
    for (const t of ts) t.dispose();
  }
}

/**
 * Transposed views of a block for fast reductions over rows: tfjs-wasm's
 * matMul with transposeA is ~10x slower than a plain matMul on a transposed
 * operand, so the row axis is moved last once per block.
 * Call inside tf.tidy. respT [k, n], and Σ_i r_ik ([k]) and Σ_i r_ik x_i ([k, d]).
 */
export function transposedMoments(tf: Tf, x: Tensor2D, resp: Tensor2D): { respT: Tensor2D; nk: Tensor; sumX: Tensor2D } {
  const respT = tf.transpose(resp) as Tensor2D;
  return { respT, nk: tf.sum(respT, 1), sumX: tf.matMul(respT, x) };
}

/**
 * Deviations of a block from per-component reference points, [k, n, d]:
 * dev[j, i] = x_i - reference_j. Call inside tf.tidy.
 */
export function deviations(tf: Tf, x: Tensor2D, reference: Float64Array, k: number, d: number): Tensor3D {
  return tf.sub(tf.expandDims(x, 0), tf.tensor3d(Float32Array.from(reference), [k, 1, d]));
}

/**
 * μ_k - m_k ([k, d]): the means relative to the points the statistics'
 * second moments were taken about (the origin when there is no reference).
 */
export function meanOffsets(means: Float64Array, stats: SufficientStatistics): Float64Array {
  const ref = stats.reference;
  if (ref === undefined) return means;
  if (ref.length !== means.length) throw new InvalidArgumentError('statistics reference has the wrong shape');
  return means.map((m, i) => m - ref[i]!);
}

/** Downloads a tensor computed inside `fn` to float64 and frees everything `fn` allocated. */
export function download(tf: Tf, fn: () => Tensor): Float64Array {
  const t = tf.tidy(fn);
  try {
    return Float64Array.from(t.dataSync());
  } finally {
    t.dispose();
  }
}

/** Statistics of the union of two disjoint blocks: element-wise sums. Works for every family whose `second` adds. */
export function addStatistics(a: SufficientStatistics, b: SufficientStatistics): SufficientStatistics {
  if (!sameReference(a.reference, b.reference)) {
    throw new InvalidArgumentError('cannot merge sufficient statistics taken about different reference points');
  }
  if (a.nk.length !== b.nk.length || a.sumX.length !== b.sumX.length || a.second.length !== b.second.length) {
    throw new InvalidArgumentError('cannot merge sufficient statistics of different shapes');
  }
  const add = (p: Float64Array, q: Float64Array): Float64Array => {
    const out = new Float64Array(p.length);
    for (let i = 0; i < p.length; i++) out[i] = p[i]! + q[i]!;
    return out;
  };
  const out: SufficientStatistics = { n: a.n + b.n, nk: add(a.nk, b.nk), sumX: add(a.sumX, b.sumX), second: add(a.second, b.second) };
  if (a.reference !== undefined) out.reference = a.reference;
  return out;
}

function sameReference(a: Float64Array | undefined, b: Float64Array | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Weights [k] and means [k, d] from statistics, as scikit-learn's
 * `_estimate_gaussian_parameters` (+ the normalization in `_m_step`).
 * Also returns nk + NK_EPSILON, the divisor the covariances use.
 */
export function weightsAndMeans(
  stats: SufficientStatistics,
  k: number,
  d: number,
): { nk: Float64Array; weights: Float64Array; means: Float64Array } {
  const nk = new Float64Array(k);
  let total = 0;
  for (let j = 0; j < k; j++) {
    nk[j] = stats.nk[j]! + NK_EPSILON;
    total += nk[j]!;
  }
  const weights = nk.map((v) => v / total);
  const means = new Float64Array(k * d);
  for (let j = 0; j < k; j++) for (let c = 0; c < d; c++) means[j * d + c] = stats.sumX[j * d + c]! / nk[j]!;
  return { nk, weights, means };
}

/** The error every built-in family throws when a covariance is not positive definite. */
export function singularCovarianceError(family: string, regCovar: number, component?: number): SingularCovarianceError {
  const where = component === undefined ? '' : ` (component ${component + 1})`;
  return new SingularCovarianceError(
    `'${family}' covariance${where} is not positive definite with regCovar=${regCovar}: some components have ` +
      'ill-defined empirical covariance (collapsed or duplicate samples, a constant feature, or too few points). ' +
      'Increase regCovar (e.g. 1e-4), decrease nComponents, or use a simpler covariance type.',
  );
}

/** Throws InvalidArgumentError unless `values` has `expected` finite entries. */
export function checkValues(family: string, values: Float64Array, expected: number): void {
  if (values.length !== expected) {
    throw new InvalidArgumentError(`'${family}' covariances must have ${expected} values, got ${values.length}`);
  }
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) {
      throw new InvalidArgumentError(`'${family}' covariances contain a non-finite value at index ${i}: ${values[i]}`);
    }
  }
}

/**
 * Full covariance matrices [k, d, d] of an axis-aligned family (diag,
 * spherical, mclust's EEI, ...) from `variance(j, a)`, the variance of
 * component j along feature a in the family's own layout.
 */
export function diagonalCovariances(k: number, d: number, variance: (j: number, a: number) => number): Float64Array {
  const out = new Float64Array(k * d * d);
  for (let j = 0; j < k; j++) for (let a = 0; a < d; a++) out[j * d * d + a * d + a] = variance(j, a);
  return out;
}

/** Throws InvalidArgumentError unless every variance is > 0. */
export function checkPositive(family: string, values: Float64Array, what = 'variance'): void {
  for (let i = 0; i < values.length; i++) {
    if (!(values[i]! > 0)) {
      throw new InvalidArgumentError(`'${family}' ${what} at index ${i} must be > 0, got ${values[i]}`);
    }
  }
}

/**
 * Σ_j μ_kj² s_kj² above which the expanded kernel's float32 cancellation
 * (relative error ~1e-7 of this, per row near the component) could exceed
 * ~1e-4 in the log-density: tight components far from the data mean.
 */
export const EXPANDED_KERNEL_LIMIT = 1e3;

/**
 * E-step kernel for axis-aligned covariances: per component k and feature j
 * a precision factor s_kj = 1/σ_kj, so
 * log N(x | μ_k, Σ_k) = -½ (d ln 2π + Σ_j ((x_j - μ_kj) s_kj)²) + Σ_j ln s_kj.
 * means [k, d] (centered coordinates), precisionChol [k, d].
 * Serves 'diag', 'spherical' (s_kj = s_k) and e.g. mclust EEI (s_kj = s_j).
 */
export function axisAlignedKernel(
  tf: Tf,
  means: Float64Array,
  precisionChol: Float64Array,
  k: number,
  d: number,
  cache?: BlockCache,
): DensityKernel {
  // The expanded form is one small plain matMul per block, ~4x faster on wasm than the
  // [n, k, d] broadcasts of the direct form; it loses float32 precision when a tight
  // component sits far from the origin (the data mean), so such parameters keep the direct form.
  let worst = 0;
  for (let j = 0; j < k; j++) {
    let c = 0;
    for (let f = 0; f < d; f++) c += (means[j * d + f]! * precisionChol[j * d + f]!) ** 2;
    worst = Math.max(worst, c);
  }
  return worst <= EXPANDED_KERNEL_LIMIT
    ? expandedAxisAlignedKernel(tf, means, precisionChol, k, d, cache)
    : directAxisAlignedKernel(tf, means, precisionChol, k, d);
}

function expandedAxisAlignedKernel(
  tf: Tf,
  means: Float64Array,
  precisionChol: Float64Array,
  k: number,
  d: number,
  cache: BlockCache | undefined,
): DensityKernel {
  // -½ Σ_j s²(x - μ)² + log det - ½ d ln 2π = [1, x, x²] @ W: one matMul of the block's
  // design (axisAlignedDesign) with W [2d + 1, k] = [c; μ s²; -½ s²], where the constant
  // c = log det - ½ d ln 2π - ½ Σ_j μ² s² is formed in float64.
  const w = new Float32Array((2 * d + 1) * k);
  for (let j = 0; j < k; j++) {
    let logDet = 0;
    let c = 0;
    for (let f = 0; f < d; f++) {
      const p = precisionChol[j * d + f]!;
      const s2 = p * p;
      const mu = means[j * d + f]!;
      logDet += Math.log(p);
      w[(1 + f) * k + j] = mu * s2;
      w[(1 + d + f) * k + j] = -0.5 * s2;
      c += mu * mu * s2;
    }
    w[j] = logDet - 0.5 * d * LOG_2PI - 0.5 * c;
  }
  const weights = tf.tensor2d(w, [2 * d + 1, k]);
  return {
    logDensity(x: Tensor2D): Tensor2D {
      return tf.tidy(() => tf.matMul(axisAlignedDesign(tf, x, cache), weights));
    },
    dispose() {
      weights.dispose();
    },
  };
}

function directAxisAlignedKernel(tf: Tf, means: Float64Array, precisionChol: Float64Array, k: number, d: number): DensityKernel {
  const logDet = new Float32Array(k);
  for (let j = 0; j < k; j++) {
    let s = 0;
    for (let c = 0; c < d; c++) s += Math.log(precisionChol[j * d + c]!);
    logDet[j] = s - 0.5 * d * LOG_2PI;
  }
  // [1, k, d] so they broadcast against rows [n, 1, d].
  const mu = tf.tensor3d(Float32Array.from(means), [1, k, d]);
  // s² per component and feature: (x - μ)² s² needs one fused squaredDifference, ~25% faster on wasm than (x - μ)·s squared.
  const s = tf.tensor3d(Float32Array.from(precisionChol, (v) => v * v), [1, k, d]);
  const bias = tf.tensor2d(logDet, [1, k]);
  return {
    logDensity(x: Tensor2D): Tensor2D {
      return tf.tidy(() => {
        const q = tf.sum(tf.mul(tf.squaredDifference(tf.expandDims(x, 1), mu), s), 2); // [n, k]
        return tf.add(tf.mul(q, -0.5), bias) as Tensor2D;
      });
    },
    dispose() {
      mu.dispose();
      s.dispose();
      bias.dispose();
    },
  };
}

/**
 * The design [1, x, x²] of a block x [n, d], [n, 2d + 1]: one matMul with it gives the
 * axis-aligned families' log-densities (expanded kernel) and, against the transposed
 * responsibilities, all their statistics (Σ r, Σ r x, Σ r x², see axisAlignedMoments).
 * From the cache (made once per block), else made now. Call inside tf.tidy.
 */
export function axisAlignedDesign(tf: Tf, x: Tensor2D, cache: BlockCache | undefined): Tensor2D {
  const [n, d] = x.shape;
  const make = (): Tensor2D => concatColumns(tf, [tf.ones([n, 1]), x, tf.square(x)]);
  return (cache?.get('axis-aligned.design', x, n * (2 * d + 1) * 4, make) as Tensor2D | undefined) ?? make();
}

/**
 * Matrices [n, a], [n, b], ... side by side, [n, a + b + ...]; the same
 * numbers as tf.concat(parts, 1), which on wasm copies row by row: stacking
 * the transposes (one copy per part) and transposing back is 4x faster
 * (8192 x [1, 8, 8]: 0.56 against 2.35 ms). Call inside tf.tidy.
 */
export function concatColumns(tf: Tf, parts: Tensor2D[]): Tensor2D {
  return tf.transpose(tf.concat(parts.map((p) => tf.transpose(p)), 0));
}

/**
 * `accumulate` of an axis-aligned family (diag, spherical, mclust's EEI, ...).
 * Without ctx.reference: n, Σ r, Σ r x and Σ r x² ([k, d], passed through
 * `second` into the family's layout) from one matMul of the transposed
 * responsibilities with the block's design [1, x, x²] and one download.
 * With ctx.reference: accumulateMoments with `about` (deviations, accurate).
 */
export function axisAlignedMoments(
  tf: Tf,
  x: Tensor2D,
  resp: Tensor2D,
  ctx: EngineContext,
  second: (diagonal: Float64Array) => Float64Array,
  about: (b: BlockTensors & { dev: Tensor3D }) => Tensor,
): SufficientStatistics {
  if (ctx.reference !== undefined) {
    return accumulateMoments(tf, x, resp, ctx, () => {
      throw new Error('unreachable: moments about ctx.reference use `about`');
    }, about);
  }
  const { k, d } = ctx;
  const m = download(tf, () => tf.matMul(tf.transpose(resp), axisAlignedDesign(tf, x, ctx.blockCache))); // [k, 2d + 1]
  const w = 2 * d + 1;
  const nk = new Float64Array(k);
  const sumX = new Float64Array(k * d);
  const diagonal = new Float64Array(k * d);
  for (let j = 0; j < k; j++) {
    nk[j] = m[j * w]!;
    sumX.set(m.subarray(j * w + 1, j * w + 1 + d), j * d);
    diagonal.set(m.subarray(j * w + 1 + d, (j + 1) * w), j * d);
  }
  return { n: x.shape[0], nk, sumX, second: second(diagonal) };
}

/** xᵀ of a block ([d, n], the row axis last for the second-moment matMuls) from the cache (made once per block), else made here. */
export function transposedRows(tf: Tf, x: Tensor2D, cache: BlockCache | undefined): Tensor2D {
  const make = (): Tensor2D => tf.transpose(x);
  return (cache?.get('x.T', x, x.shape[0] * x.shape[1] * 4, make) as Tensor2D | undefined) ?? make();
}

/** x² of a block ([n, d]) from the cache (made once per block), or undefined without one. */
export function squaredRows(tf: Tf, x: Tensor2D, cache: BlockCache | undefined): Tensor2D | undefined {
  return cache?.get('x2', x, x.shape[0] * x.shape[1] * 4, () => tf.square(x)) as Tensor2D | undefined;
}

/** Σ_i r_ik x_i² per feature ([k, d]) about the origin (inside tf.tidy): the raw second moment of axis-aligned families. */
export function diagonalSecondMomentsOf(tf: Tf, b: BlockTensors, cache?: BlockCache): Tensor {
  return tf.matMul(b.respT, squaredRows(tf, b.x, cache) ?? tf.square(b.x));
}

/** Σ_i r_ik x_i² per feature, [k, d], downloaded to float64. x [n, d], resp [n, k]. Leaves no tensors behind. */
export function diagonalSecondMoments(tf: Tf, x: Tensor2D, resp: Tensor2D): Float64Array {
  return download(tf, () => diagonalSecondMomentsOf(tf, { x, respT: tf.transpose(resp) as Tensor2D }));
}

/**
 * Σ_i r_ik ([k]) and Σ_i r_ik x_i ([k, d]) of a block, downloaded to float64.
 * x [n, d], resp [n, k]. Leaves no tensors behind.
 */
export function firstMoments(tf: Tf, x: Tensor2D, resp: Tensor2D): { nk: Float64Array; sumX: Float64Array } {
  const [nk, sumX] = downloadAll(tf, () => {
    const m = transposedMoments(tf, x, resp);
    return [m.nk, m.sumX];
  });
  return { nk: nk!, sumX: sumX! };
}

/** Σ_i r_ik (x_ij - m_kj)² ([k, d]) from deviations dev [k, n, d]. */
export function diagonalSecondMomentsAbout(tf: Tf, b: BlockTensors & { dev: Tensor3D }): Tensor {
  return tf.sum(tf.mul(tf.square(b.dev), tf.expandDims(b.respT, 2)), 1);
}

/** Hard assignments on the host: row i's responsibility is 1 at labels[i], times weights[i] (1 without weights). */
export interface LabelAssignment {
  labels: Int32Array;
  weights?: Float64Array | undefined;
}

/**
 * Float64 statistics of host rows [n, d] under responsibilities resp [n, k]
 * or hard assignments (CovarianceFamily.accumulateHost and
 * accumulateHostLabels): n, Σ r and Σ r x are common; `add(second, j, dev,
 * r)` adds row deviation dev = x_i - m_j (m_j = ctx.reference's row j, or 0)
 * with weight r to the family's `secondLength` second moments. Pairs with r
 * = 0 are skipped; labels visit one component a row, with no [n, k] matrix.
 */
export function hostMoments(
  rows: Float64Array,
  resp: Float64Array | LabelAssignment,
  n: number,
  ctx: { k: number; d: number; reference?: Float64Array | undefined },
  secondLength: number,
  add: (second: Float64Array, j: number, dev: Float64Array, r: number) => void,
): SufficientStatistics {
  const { k, d, reference } = ctx;
  const nk = new Float64Array(k);
  const sumX = new Float64Array(k * d);
  const second = new Float64Array(secondLength);
  const dev = new Float64Array(d);
  const addRow = (i: number, j: number, r: number): void => {
    nk[j] += r;
    for (let c = 0; c < d; c++) {
      const x = rows[i * d + c]!;
      sumX[j * d + c] += r * x;
      dev[c] = reference === undefined ? x : x - reference[j * d + c]!;
    }
    add(second, j, dev, r);
  };
  if (resp instanceof Float64Array) {
    for (let i = 0; i < n; i++)
      for (let j = 0; j < k; j++) {
        const r = resp[i * k + j]!;
        if (r !== 0) addRow(i, j, r);
      }
  } else {
    const { labels, weights } = resp;
    for (let i = 0; i < n; i++) {
      const r = weights === undefined ? 1 : weights[i]!;
      if (r !== 0) addRow(i, labels[i]!, r);
    }
  }
  const stats: SufficientStatistics = { n, nk, sumX, second };
  if (reference !== undefined) stats.reference = Float64Array.from(reference);
  return stats;
}

/** Adds r · dev devᵀ to the [d, d] block of `second` at `offset`. */
export function addOuter(second: Float64Array, offset: number, dev: Float64Array, r: number): void {
  const d = dev.length;
  for (let a = 0; a < d; a++) {
    const ra = r * dev[a]!;
    for (let b = 0; b < d; b++) second[offset + a * d + b] += ra * dev[b]!;
  }
}

/**
 * hostMoments of outer products Σ r (x - m)(x - m)ᵀ: [k, d, d] (full), or
 * one [d, d] over all components when `shared` (tied). Only the upper
 * triangle is accumulated, then mirrored: half addOuter's multiply-adds, and
 * exactly symmetric.
 */
export function hostOuterMoments(
  rows: Float64Array,
  resp: Float64Array | LabelAssignment,
  n: number,
  ctx: { k: number; d: number; reference?: Float64Array | undefined },
  shared: boolean,
): SufficientStatistics {
  const { k, d } = ctx;
  const matrices = shared ? 1 : k;
  const stats = hostMoments(rows, resp, n, ctx, matrices * d * d, (s, j, dev, r) => {
    const offset = shared ? 0 : j * d * d;
    for (let a = 0; a < d; a++) {
      const ra = r * dev[a]!;
      const row = offset + a * d;
      for (let b = a; b < d; b++) s[row + b] += ra * dev[b]!;
    }
  });
  const { second } = stats;
  for (let m = 0; m < matrices; m++)
    for (let a = 0; a < d; a++) for (let b = a + 1; b < d; b++) second[m * d * d + b * d + a] = second[m * d * d + a * d + b]!;
  return stats;
}

/** hostMoments for axis-aligned second moments Σ r (x - m)², [k, d] (diag, mclust's EEI, ...). */
export function hostDiagonalMoments(rows: Float64Array, resp: Float64Array | LabelAssignment, n: number, ctx: { k: number; d: number; reference?: Float64Array | undefined }): SufficientStatistics {
  return hostMoments(rows, resp, n, ctx, ctx.k * ctx.d, (s, j, dev, r) => {
    for (let c = 0; c < dev.length; c++) s[j * dev.length + c] += r * dev[c]! * dev[c]!;
  });
}
