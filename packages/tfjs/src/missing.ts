// Missing values (missing: 'marginalize'): rows with empty cells (NaN in the
// engine's rows) are grouped by their pattern of observed columns, and every
// pattern is scored and reduced on tensors as a whole. The E-step takes each
// row's marginal density over its observed coordinates; the statistics are
// the exact EM for data missing at random (Ghahramani & Jordan 1994): each
// missing block is replaced by its conditional expectation under every
// component, and the second moments gain that component's conditional
// covariance of the missing block.
import {
  InvalidArgumentError,
  SingularCovarianceError,
  tryPrecisionCholesky,
  type CovarianceFamily,
  type DensityKernel,
  type MixtureParameters,
  type Tensor2D,
  type Tf,
} from '@gmmkit/core';
import type { Tensor3D } from '@tensorflow/tfjs-core';
import { addOuter } from './covariance/common.js';
import { matrixKernel } from './covariance/full.js';

/** Rows of one missing-data pattern, in blocks of at most chunkSize rows. */
export interface MissingPattern {
  /** Observed columns, ascending, [d_o] (d_o >= 1). */
  observed: number[];
  /** Missing columns, ascending, [d_m] (d_m >= 1). */
  missing: number[];
  chunks: PatternChunk[];
}

export interface PatternChunk {
  /** Indices of these rows among the RowBlocks' rows. */
  rows: Int32Array;
  /** Their observed (centered) values, float32 [rows, d_o]. */
  x: Tensor2D;
  /** Their sample weights (1 when unweighted), float64 [rows]. */
  weights: Float64Array;
  /** The same as float32 [rows, 1]. */
  weightTensor: Tensor2D;
}

/** Whether row-major data [n, d] has a NaN (a missing cell). */
export function hasMissing(data: Float64Array): boolean {
  for (let i = 0; i < data.length; i++) if (Number.isNaN(data[i])) return true;
  return false;
}

/**
 * Groups the rows of centered data [n, d] that have NaN cells by pattern and
 * uploads their observed values. A row with no observed value is an error.
 */
export function groupPatterns(
  tf: Tf,
  data: Float64Array,
  n: number,
  d: number,
  sampleWeight: Float64Array | undefined,
  chunkSize: number,
): MissingPattern[] {
  const byKey = new Map<string, number[]>();
  const mask = new Array<string>(d);
  for (let i = 0; i < n; i++) {
    let any = false;
    let all = true;
    for (let j = 0; j < d; j++) {
      const m = Number.isNaN(data[i * d + j]);
      mask[j] = m ? '1' : '0';
      any ||= m;
      all &&= m;
    }
    if (!any) continue;
    if (all) throw new InvalidArgumentError(`row ${i + 1} has no observed value: every row needs at least one`);
    const key = mask.join('');
    let rows = byKey.get(key);
    if (rows === undefined) byKey.set(key, (rows = []));
    rows.push(i);
  }
  const patterns: MissingPattern[] = [];
  for (const [key, rows] of byKey) {
    const observed: number[] = [];
    const missing: number[] = [];
    for (let j = 0; j < d; j++) (key[j] === '1' ? missing : observed).push(j);
    const chunks: PatternChunk[] = [];
    for (let start = 0; start < rows.length; start += chunkSize) {
      const part = Int32Array.from(rows.slice(start, start + chunkSize));
      const values = new Float32Array(part.length * observed.length);
      const weights = new Float64Array(part.length);
      part.forEach((row, r) => {
        observed.forEach((col, c) => (values[r * observed.length + c] = data[row * d + col]!));
        weights[r] = sampleWeight === undefined ? 1 : sampleWeight[row]!;
      });
      chunks.push({
        rows: part,
        x: tf.tensor2d(values, [part.length, observed.length]),
        weights,
        weightTensor: tf.tensor2d(Float32Array.from(weights), [part.length, 1]),
      });
    }
    patterns.push({ observed, missing, chunks });
  }
  return patterns;
}

export function disposePatterns(patterns: readonly MissingPattern[]): void {
  for (const p of patterns)
    for (const c of p.chunks) {
      c.x.dispose();
      c.weightTensor.dispose();
    }
}

/**
 * What one pattern needs from the parameters: the marginal density of its
 * observed coordinates and the regression of its missing coordinates on them,
 * per component k (Σ_k = [[Σ_oo, Σ_om], [Σ_mo, Σ_mm]]):
 *   E[x_m | x_o, k] = μ_km + B_k (x_o - μ_ko),   B_k = Σ_mo Σ_oo⁻¹
 *   Cov[x_m | x_o, k] = Σ_mm - B_k Σ_om          (the same for every row of the pattern)
 */
export interface PatternModel {
  /** log N(x_o | μ_ko, Σ_koo) for rows of observed values [rows, d_o] → [rows, k]. */
  kernel: DensityKernel;
  /** [B_1ᵀ ... B_kᵀ], [d_o, k·d_m]. */
  regression: Tensor2D;
  /** μ_km - B_k μ_ko, [1, k·d_m]. */
  intercept: Tensor2D;
  /** Cov[x_m | x_o, k], [k, d_m, d_m] float64. */
  conditional: Float64Array;
  dispose(): void;
}

/**
 * The host (float64) part of a PatternModel, per component k: the observed
 * block's means and precision Cholesky factor, B_k = Σ_mo Σ_oo⁻¹, the
 * intercept μ_km - B_k μ_ko and Cov[x_m | x_o, k].
 */
export interface PatternRegression {
  /** μ_ko, [k, d_o]. */
  meansO: Float64Array;
  /** P_k with Σ_koo⁻¹ = P_k P_kᵀ, [k, d_o, d_o]. */
  precO: Float64Array;
  /** B_k, [k, d_m, d_o]. */
  b: Float64Array;
  /** μ_km - B_k μ_ko, [k, d_m]. */
  intercept: Float64Array;
  /** Cov[x_m | x_o, k], [k, d_m, d_m]. */
  conditional: Float64Array;
}

/** The PatternRegression of `pattern` under means [k, d] and full covariances [k, d, d] (centered coordinates, float64). */
export function patternRegression(pattern: MissingPattern, means: Float64Array, full: Float64Array, k: number, d: number): PatternRegression {
  const { observed: o, missing: m } = pattern;
  const dO = o.length;
  const dM = m.length;
  const meansO = new Float64Array(k * dO);
  const precO = new Float64Array(k * dO * dO);
  const bAll = new Float64Array(k * dM * dO);
  const intercept = new Float64Array(k * dM);
  const conditional = new Float64Array(k * dM * dM);
  for (let j = 0; j < k; j++) {
    const s = (a: number, b: number): number => full[j * d * d + a * d + b]!;
    const soo = new Float64Array(dO * dO);
    for (let a = 0; a < dO; a++) for (let b = 0; b < dO; b++) soo[a * dO + b] = s(o[a]!, o[b]!);
    const p = tryPrecisionCholesky(soo, dO); // Σ_oo⁻¹ = P Pᵀ
    if (p === null) throw new SingularCovarianceError(`covariance of component ${j + 1} restricted to columns ${o.map((c) => c + 1).join(',')} is not positive definite`);
    precO.set(p, j * dO * dO);
    for (let a = 0; a < dO; a++) meansO[j * dO + a] = means[j * d + o[a]!]!;
    // B = Σ_mo P Pᵀ, [d_m, d_o]
    const b = bAll.subarray(j * dM * dO, (j + 1) * dM * dO);
    for (let r = 0; r < dM; r++) {
      const t = new Float64Array(dO); // (Σ_mo P)_r
      for (let c = 0; c < dO; c++) {
        let v = 0;
        for (let a = 0; a < dO; a++) v += s(m[r]!, o[a]!) * p[a * dO + c]!;
        t[c] = v;
      }
      for (let c = 0; c < dO; c++) {
        let v = 0;
        for (let a = 0; a < dO; a++) v += t[a]! * p[c * dO + a]!;
        b[r * dO + c] = v;
      }
    }
    for (let r = 0; r < dM; r++) {
      let v = means[j * d + m[r]!]!;
      for (let c = 0; c < dO; c++) v -= b[r * dO + c]! * means[j * d + o[c]!]!;
      intercept[j * dM + r] = v;
      for (let q = 0; q < dM; q++) {
        let v2 = s(m[r]!, m[q]!);
        for (let c = 0; c < dO; c++) v2 -= b[r * dO + c]! * s(o[c]!, m[q]!);
        conditional[j * dM * dM + r * dM + q] = v2;
      }
    }
    // symmetrize the conditional covariance (rounding)
    for (let r = 0; r < dM; r++)
      for (let q = 0; q < r; q++) {
        const i1 = j * dM * dM + r * dM + q;
        const i2 = j * dM * dM + q * dM + r;
        const v = 0.5 * (conditional[i1]! + conditional[i2]!);
        conditional[i1] = v;
        conditional[i2] = v;
      }
  }
  return { meansO, precO, b: bAll, intercept, conditional };
}

/** The PatternModel of `pattern` under means [k, d] and full covariances [k, d, d] (centered coordinates, float64). */
export function patternModel(tf: Tf, pattern: MissingPattern, means: Float64Array, full: Float64Array, k: number, d: number): PatternModel {
  const dO = pattern.observed.length;
  const dM = pattern.missing.length;
  const host = patternRegression(pattern, means, full, k, d);
  const reg = new Float32Array(dO * k * dM); // [B_1ᵀ ... B_kᵀ]
  for (let j = 0; j < k; j++)
    for (let r = 0; r < dM; r++) for (let c = 0; c < dO; c++) reg[c * k * dM + j * dM + r] = host.b[j * dM * dO + r * dO + c]!;
  const kernel = matrixKernel(tf, host.meansO, host.precO, k, dO);
  const regression = tf.tensor2d(reg, [dO, k * dM]);
  const interceptT = tf.tensor2d(Float32Array.from(host.intercept), [1, k * dM]);
  return {
    kernel,
    regression,
    intercept: interceptT,
    conditional: host.conditional,
    dispose() {
      kernel.dispose();
      regression.dispose();
      interceptT.dispose();
    },
  };
}

/** E[x_m | x_o, k] for rows x_o [rows, d_o]: [k, rows, d_m]. Call inside tf.tidy. */
export function conditionalMeans(tf: Tf, model: PatternModel, x: Tensor2D, k: number, dM: number): Tensor3D {
  const y = tf.add(tf.matMul(x, model.regression), model.intercept); // [rows, k*d_m]
  return tf.transpose(tf.reshape(y, [x.shape[0], k, dM]), [1, 0, 2]) as Tensor3D;
}

/**
 * The rows completed under every component, [k, rows, d] in the original
 * column order: observed values, and E[x_m | x_o, k] in the missing columns.
 * Call inside tf.tidy.
 */
export function completedRows(tf: Tf, model: PatternModel, pattern: MissingPattern, x: Tensor2D, k: number): Tensor3D {
  const { observed, missing } = pattern;
  const d = observed.length + missing.length;
  const order = [...observed, ...missing];
  const inverse = new Int32Array(d);
  order.forEach((col, at) => (inverse[col] = at));
  const xo = tf.tile(tf.expandDims(x, 0), [k, 1, 1]);
  const joined = tf.concat([xo, conditionalMeans(tf, model, x, k, missing.length)], 2);
  return tf.gather(joined, tf.tensor1d(inverse, 'int32'), 2) as Tensor3D;
}

/** Full-form statistics of the incomplete rows: Σ r ([k]), Σ r E[x] ([k, d]) and Σ r E[x xᵀ] ([k, d, d], about `reference` when given). */
export interface FullMoments {
  rows: number;
  nk: Float64Array;
  sumX: Float64Array;
  second: Float64Array;
}

export function emptyMoments(k: number, d: number): FullMoments {
  return { rows: 0, nk: new Float64Array(k), sumX: new Float64Array(k * d), second: new Float64Array(k * d * d) };
}

/**
 * Adds one chunk's statistics to `acc`: resp [rows, k] are the (sample-
 * weighted) responsibilities of the chunk's rows. Second moments of the
 * completed rows, plus Σ_i r_ik Cov[x_m | x_o, k] in the missing block.
 */
export function accumulateChunk(
  tf: Tf,
  acc: FullMoments,
  model: PatternModel,
  pattern: MissingPattern,
  x: Tensor2D,
  resp: Tensor2D,
  k: number,
  d: number,
  reference: Float64Array | undefined,
): void {
  const ts = tf.tidy(() => {
    const completed = completedRows(tf, model, pattern, x, k); // [k, rows, d]
    const r = tf.expandDims(tf.transpose(resp), 2); // [k, rows, 1]
    const dev = reference === undefined ? completed : tf.sub(completed, tf.tensor3d(Float32Array.from(reference), [k, 1, d]));
    return [tf.sum(resp, 0), tf.sum(tf.mul(r, completed), 1), tf.matMul(tf.mul(r, dev), dev, true, false)];
  });
  let nk: Float64Array;
  try {
    const [a, b, c] = ts.map((t) => t.dataSync());
    nk = Float64Array.from(a!);
    for (let i = 0; i < acc.nk.length; i++) acc.nk[i] += nk[i]!;
    for (let i = 0; i < acc.sumX.length; i++) acc.sumX[i] += b![i]!;
    for (let i = 0; i < acc.second.length; i++) acc.second[i] += c![i]!;
  } finally {
    for (const t of ts) t.dispose();
  }
  acc.rows += x.shape[0];
  const { missing } = pattern;
  const dM = missing.length;
  for (let j = 0; j < k; j++)
    for (let r = 0; r < dM; r++)
      for (let q = 0; q < dM; q++)
        acc.second[j * d * d + missing[r]! * d + missing[q]!] += nk[j]! * model.conditional[j * dM * dM + r * dM + q]!;
}

/**
 * accumulateChunk in float64 on the host, for every row of `pattern` (the
 * M-step fallback's exact pass): observed values from hostData [n, d] (the
 * engine's centered rows), resp [n, k] the rows' sample-weighted
 * responsibilities. Pairs with r = 0 are skipped.
 */
export function accumulatePatternHost(
  acc: FullMoments,
  reg: PatternRegression,
  pattern: MissingPattern,
  hostData: Float64Array,
  resp: Float64Array,
  k: number,
  d: number,
  reference: Float64Array | undefined,
): void {
  const { observed, missing } = pattern;
  const dO = observed.length;
  const dM = missing.length;
  const x = new Float64Array(d);
  const dev = new Float64Array(d);
  const nk = new Float64Array(k);
  for (const chunk of pattern.chunks)
    for (const row of chunk.rows) {
      for (const col of observed) x[col] = hostData[row * d + col]!;
      for (let j = 0; j < k; j++) {
        const r = resp[row * k + j]!;
        if (r === 0) continue;
        for (let q = 0; q < dM; q++) {
          let v = reg.intercept[j * dM + q]!;
          for (let c = 0; c < dO; c++) v += reg.b[j * dM * dO + q * dO + c]! * x[observed[c]!]!;
          x[missing[q]!] = v;
        }
        nk[j] += r;
        for (let c = 0; c < d; c++) {
          acc.sumX[j * d + c] += r * x[c]!;
          dev[c] = reference === undefined ? x[c]! : x[c]! - reference[j * d + c]!;
        }
        addOuter(acc.second, j * d * d, dev, r);
      }
    }
  for (let j = 0; j < k; j++) {
    acc.nk[j] += nk[j]!;
    for (let r = 0; r < dM; r++)
      for (let q = 0; q < dM; q++)
        acc.second[j * d * d + missing[r]! * d + missing[q]!] += nk[j]! * reg.conditional[j * dM * dM + r * dM + q]!;
  }
  acc.rows += pattern.chunks.reduce((s, c) => s + c.rows.length, 0);
}

/** The family's `second` from full second moments, or a clear error when the family cannot say. */
export function familySecond(family: CovarianceFamily, full: Float64Array, k: number, d: number): Float64Array {
  if (family.secondFromFull === undefined) {
    throw new InvalidArgumentError(
      `covariance family '${family.name}' does not support missing: 'marginalize' (it has no secondFromFull)`,
    );
  }
  return family.secondFromFull(full, k, d);
}

/** Full covariances [k, d, d] of the current parameters (the family's own layout expanded). */
export function fullOf(family: CovarianceFamily, params: MixtureParameters, k: number, d: number): Float64Array {
  return family.fullCovariances(params.covariances, k, d);
}
