// The EM engine: chunked E-step + accumulation passes over row blocks held as
// tensors, float64 reductions on the host, the EM loop of scikit-learn's
// BaseMixture.fit_predict for one initialization.
import {
  AbortedError,
  InvalidArgumentError,
  SingularCovarianceError,
  platform,
  shareableFloat64Array,
  type CovarianceFamily,
  type Degeneracy,
  type DegeneracyContext,
  type MixtureParameters,
  type PluginContext,
  type Responsibilities,
  type SufficientStatistics,
  type Tensor2D,
  type Tf,
} from '@gmmkit/core';
import { oneHot } from './init/kmeans.js';
import { createBlockCache, type BlockCache, type EngineContext } from './covariance/common.js';
import {
  accumulateChunk,
  accumulatePatternHost,
  conditionalMeans,
  disposePatterns,
  emptyMoments,
  familySecond,
  groupPatterns,
  hasMissing,
  patternModel,
  patternRegression,
  type MissingPattern,
} from './missing.js';

/** Default rows per block: large enough to amortize op dispatch, small enough to keep reductions over N short (tfjs-wasm). */
export const DEFAULT_CHUNK_SIZE = 8192;

/** Cells of a fit block's widest intermediate (the full kernel's [rows, k·d]) that fitChunkRows aims at. */
const FIT_BLOCK_CELLS = 32768 * 40;

/**
 * A fit's rows per block when `chunkSize` is not given: as many as keep the
 * density kernel's [rows, k·d] intermediate near FIT_BLOCK_CELLS (fewer tfjs
 * ops a pass, each on more rows), a multiple of 1024 between 1024 and 32768.
 * Measured on the 1M x 8, k = 5 full fit (wasm, a calling-thread shard and one
 * worker; fit() alone, alternating runs): 1.85-1.92 s with 8192 rows,
 * 1.64-1.66 with 16384, 1.57-1.59 with 32768 in one series; 1.29-1.39 against
 * 1.22-1.40 (8192 against 32768) in another, on a faster phase of the same
 * machine. Scoring (predict, scoreSamples) keeps DEFAULT_CHUNK_SIZE: 65536
 * rows were slower there and 32768 no faster.
 */
export function fitChunkRows(k: number, d: number): number {
  return Math.min(32768, Math.max(1024, Math.floor(FIT_BLOCK_CELLS / (k * d) / 1024) * 1024));
}

/**
 * Rows uploaded once as float32 blocks [rows_b, d], in the engine's centered
 * coordinates. Rows with missing cells (NaN, missing: 'marginalize') are in
 * the blocks with those cells at 0 (the column mean: what initializers see),
 * weighted 0 in the E-step of the blocks, and scored exactly by `patterns`.
 */
export interface RowBlocks {
  tensors: Tensor2D[];
  /** First row of each block. */
  starts: number[];
  /** The same centered rows on the host, float64 [n, d] (missing cells at 0). */
  hostData: Float64Array;
  n: number;
  d: number;
  /** Per-block tensors families may keep across iterations (see BlockCache); disposed with the blocks. */
  cache?: BlockCache | undefined;
  /**
   * Sample (frequency) weights [n], float64: a row of weight w counts as w
   * copies of it. undefined: every row counts once.
   */
  sampleWeight?: Float64Array | undefined;
  /** Σ_i w_i (n when unweighted): the n of the lower bound and of BIC. */
  totalWeight: number;
  /**
   * Weights of the blocks' E-step, float64 [n]: the sample weights, 0 for
   * rows with missing cells (those go through `patterns`). undefined when
   * every row counts once.
   */
  passWeight?: Float64Array | undefined;
  /** `passWeight` per block as float32 [rows, 1], multiplied into the responsibilities; undefined when unweighted. */
  weightTensors?: Tensor2D[] | undefined;
  /** Rows with missing cells grouped by pattern (missing: 'marginalize'); undefined when none. */
  patterns?: MissingPattern[] | undefined;
  /** false while the tensors of deferred blocks (deferredUpload) are not made yet; undefined: uploaded. */
  readonly uploaded?: boolean;
  dispose(): void;
}

/**
 * Uploads data [n, d] minus `center` [d] in blocks of `chunkSize` rows, with
 * optional sample weights [n]. Complete rows are centered block by block
 * straight into float32, and the float64 centered rows (RowBlocks.hostData)
 * made only if something reads them (impute, the M-step's float64
 * fallback): scoring 1M x 8 rows then holds no 64 MB copy of them.
 */
export function uploadBlocks(
  tf: Tf,
  data: Float64Array,
  n: number,
  d: number,
  center: Float64Array,
  chunkSize: number,
  sampleWeight?: Float64Array,
): RowBlocks {
  if (hasMissing(data)) return uploadCentered(tf, centerRows(data, n, d, center), n, d, chunkSize, 0, sampleWeight);
  return uploadRows(tf, data, n, d, chunkSize, 0, sampleWeight, center);
}

/**
 * data [n, d] minus center [d], float64. `shared` puts the result in a
 * SharedArrayBuffer (where the runtime allows one) so shard workers read it without a copy.
 */
export function centerRows(data: Float64Array, n: number, d: number, center: Float64Array, shared = false): Float64Array {
  const out = shared ? shareableFloat64Array(n * d) : new Float64Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) out[i * d + j] = data[i * d + j]! - center[j]!;
  return out;
}

/**
 * Uploads already centered rows [n, d] in blocks of `chunkSize` rows;
 * `hostData` (and `sampleWeight` [n]) are kept by reference (no copy)
 * unless it has missing cells (NaN): those rows are grouped by pattern
 * (RowBlocks.patterns) and hostData becomes a copy with the cells at 0.
 * `cacheBytes` > 0 gives the blocks a BlockCache of that budget (for fits
 * that pass over them many times).
 */
export function uploadCentered(
  tf: Tf,
  hostData: Float64Array,
  n: number,
  d: number,
  chunkSize: number,
  cacheBytes = 0,
  sampleWeight?: Float64Array,
): RowBlocks {
  return uploadRows(tf, hostData, n, d, chunkSize, cacheBytes, sampleWeight);
}

/**
 * uploadCentered of `rows`, or with `center` uploadBlocks' complete rows:
 * each block is `rows` minus `center` in float32 and RowBlocks.hostData the
 * float64 centered rows, made on first read.
 */
function uploadRows(
  tf: Tf,
  rows: Float64Array,
  n: number,
  d: number,
  chunkSize: number,
  cacheBytes: number,
  sampleWeight: Float64Array | undefined,
  center?: Float64Array,
): RowBlocks {
  let hostData = center === undefined ? rows : undefined;
  let patterns: MissingPattern[] | undefined;
  let passWeight = sampleWeight;
  if (center === undefined && hasMissing(rows)) {
    patterns = groupPatterns(tf, rows, n, d, sampleWeight, chunkSize);
    passWeight = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let complete = true;
      for (let j = 0; j < d; j++) if (Number.isNaN(rows[i * d + j])) complete = false;
      passWeight[i] = complete ? (sampleWeight === undefined ? 1 : sampleWeight[i]!) : 0;
    }
    hostData = rows.map((v) => (Number.isNaN(v) ? 0 : v));
  }
  const tensors: Tensor2D[] = [];
  const starts: number[] = [];
  const weightTensors: Tensor2D[] | undefined = passWeight === undefined ? undefined : [];
  for (let start = 0; start < n; start += chunkSize) {
    const count = Math.min(chunkSize, n - start);
    tensors.push(tf.tensor2d(center === undefined ? Float32Array.from(hostData!.subarray(start * d, (start + count) * d)) : centeredBlock(rows, start, count, d, center), [count, d]));
    weightTensors?.push(tf.tensor2d(Float32Array.from(passWeight!.subarray(start, start + count)), [count, 1]));
    starts.push(start);
  }
  const cache = cacheBytes > 0 ? createBlockCache(tf, cacheBytes) : undefined;
  return {
    tensors,
    starts,
    get hostData() {
      return (hostData ??= centerRows(rows, n, d, center!));
    },
    n,
    d,
    cache,
    sampleWeight,
    totalWeight: sampleWeight === undefined ? n : sumWeights(sampleWeight),
    passWeight,
    weightTensors,
    patterns,
    dispose() {
      cache?.dispose();
      for (const t of tensors) t.dispose();
      for (const t of weightTensors ?? []) t.dispose();
      tensors.length = 0;
      weightTensors?.splice(0);
      if (patterns !== undefined) disposePatterns(patterns.splice(0));
    },
  };
}

/** Rows [start, start + count) of data [*, d] minus center [d], as float32. */
function centeredBlock(data: Float64Array, start: number, count: number, d: number, center: Float64Array): Float32Array {
  const block = new Float32Array(count * d);
  for (let i = 0, from = start * d; i < count * d; i += d, from += d) for (let j = 0; j < d; j++) block[i + j] = data[from + j]! - center[j]!;
  return block;
}

/**
 * uploadCentered deferred: the host fields now, the tensors (and the block
 * cache) on first use of `tensors`, `weightTensors` or `cache`. For a fit
 * whose passes run in shard workers, where this thread may never need them
 * (rowsTensor uploads the initializer's rows without them). Rows with
 * missing cells upload at once (their patterns are tensors).
 */
export function deferredUpload(...args: Parameters<typeof uploadCentered>): RowBlocks {
  const [, hostData, n, d, chunkSize, , sampleWeight] = args;
  if (hasMissing(hostData)) return uploadCentered(...args);
  let blocks: RowBlocks | undefined;
  const upload = (): RowBlocks => (blocks ??= uploadCentered(...args));
  const starts: number[] = [];
  for (let start = 0; start < n; start += chunkSize) starts.push(start);
  return {
    get tensors() {
      return upload().tensors;
    },
    get weightTensors() {
      return upload().weightTensors;
    },
    get cache() {
      return upload().cache;
    },
    get uploaded() {
      return blocks !== undefined;
    },
    starts,
    hostData,
    n,
    d,
    sampleWeight,
    totalWeight: sampleWeight === undefined ? n : sumWeights(sampleWeight),
    passWeight: sampleWeight,
    patterns: undefined,
    dispose() {
      blocks?.dispose();
    },
  };
}

/** rowsTensor made on the first call of x() (an initializer that never reads InitializerInput.x costs no upload); dispose frees it if made. */
export function lazyRowsTensor(tf: Tf, blocks: RowBlocks): { x(): Tensor2D; dispose(): void } {
  let made: ReturnType<typeof rowsTensor> | undefined;
  return {
    x: () => (made ??= rowsTensor(tf, blocks)).x,
    dispose: () => made?.dispose(),
  };
}

/**
 * All rows of `blocks` as one tensor [n, d] (what InitializerInput.x hands
 * initializers), the same float32 values either way: the one block, their
 * concatenation, or, for deferred blocks not uploaded yet, straight from the
 * host rows. `dispose` frees it unless it is a block.
 */
export function rowsTensor(tf: Tf, blocks: RowBlocks): { x: Tensor2D; dispose(): void } {
  if (blocks.uploaded === false) {
    const x = tf.tensor2d(Float32Array.from(blocks.hostData), [blocks.n, blocks.d]);
    return { x, dispose: () => x.dispose() };
  }
  if (blocks.tensors.length === 1) return { x: blocks.tensors[0]!, dispose: () => undefined };
  const x = tf.concat(blocks.tensors, 0) as Tensor2D;
  return { x, dispose: () => x.dispose() };
}

/**
 * Fills the blocks' cache (what family.accumulate keeps across passes, e.g.
 * the full family's outer products) ahead of the first pass, one block per
 * event-loop turn: for a thread that would otherwise wait, as a shard worker
 * while the main thread runs the initializer. The cached tensors are what the
 * first pass would make (the same function of the same rows), so results do
 * not change. Stops at the first block the family caches nothing for (or the
 * budget is spent), and when `stop()` says a request has come (its pass fills
 * the rest).
 */
export async function warmBlockCache(tf: Tf, family: CovarianceFamily, blocks: RowBlocks, ctx: PluginContext, stop: () => boolean): Promise<void> {
  const cache = blocks.cache;
  if (cache === undefined) return;
  let made = false;
  const probe: BlockCache = {
    get(key, x, bytes, make) {
      const t = cache.get(key, x, bytes, make);
      if (t !== undefined) made = true;
      return t;
    },
    dispose: () => undefined,
  };
  for (const x of blocks.tensors) {
    if (stop()) return;
    made = false;
    const resp = tf.fill([x.shape[0], ctx.k], 1 / ctx.k) as Tensor2D;
    try {
      family.accumulate(x, resp, { ...ctx, blockCache: probe } as EngineContext);
    } finally {
      resp.dispose();
    }
    if (!made) return;
    await yieldToEventLoop();
  }
}

/** Σ_i w_i, compensated (float64). */
export function sumWeights(weights: ArrayLike<number>): number {
  const s = new CompensatedSum();
  s.add(weights);
  return s.value;
}

/**
 * Checks sample weights against n rows: one finite number >= 0 per row, not
 * all zero. Returns them as float64. Throws InvalidArgumentError (one line).
 */
export function checkSampleWeight(weights: unknown, n: number): Float64Array {
  if (weights === null || typeof weights !== 'object' || typeof (weights as ArrayLike<unknown>).length !== 'number') {
    throw new InvalidArgumentError('sampleWeight must be an array of numbers, one per row');
  }
  const w = weights as ArrayLike<unknown>;
  if (w.length !== n) throw new InvalidArgumentError(`sampleWeight has ${w.length} values but the data has ${n} rows`);
  const out = new Float64Array(n);
  let positive = false;
  for (let i = 0; i < n; i++) {
    const v = w[i];
    if (typeof v !== 'number' || Number.isNaN(v)) throw new InvalidArgumentError(`sampleWeight[${i}] is not a number (${String(v)})`);
    if (!Number.isFinite(v)) throw new InvalidArgumentError(`sampleWeight[${i}] is not finite (${v})`);
    if (v < 0) throw new InvalidArgumentError(`sampleWeight[${i}] is negative (${v}); weights must be >= 0`);
    if (v > 0) positive = true;
    out[i] = v;
  }
  if (!positive) throw new InvalidArgumentError('sampleWeight is zero for every row: at least one row needs a positive weight');
  return out;
}

/** Neumaier-compensated float64 accumulator for per-row log-likelihoods (and per-block totals). */
export class CompensatedSum {
  private s = 0;
  private c = 0;
  add(values: ArrayLike<number>): void {
    let { s, c } = this;
    for (let i = 0; i < values.length; i++) {
      const x = values[i]!;
      const t = s + x;
      c += Math.abs(s) >= Math.abs(x) ? s - t + x : x - t + s;
      s = t;
    }
    this.s = s;
    this.c = c;
  }
  /** Adds Σ_i values[i] · weights[offset + i], skipping rows of weight 0 (whatever their value). */
  addWeighted(values: ArrayLike<number>, weights: ArrayLike<number>, offset: number): void {
    const products = new Float64Array(values.length);
    for (let i = 0; i < values.length; i++) {
      const w = weights[offset + i]!;
      products[i] = w === 0 ? 0 : values[i]! * w;
    }
    this.add(products);
  }
  get value(): number {
    return this.s + this.c;
  }
}

/**
 * What an E-step scores rows under: the family's density parameters and the
 * per-component log weights added to the log-densities, log w_k unless
 * `logWeights` [k] is given (the variational E[log π_k] plus its corrections,
 * see bayesian.ts). With `entropy`, the pass also returns Σ_i Σ_k r_ik ln r_ik.
 * Plain MixtureParameters are EStepParameters; the extra fields cross to shard
 * workers with the parameters.
 */
export interface EStepParameters extends MixtureParameters {
  logWeights?: Float64Array | undefined;
  entropy?: boolean | undefined;
}

function logWeightsTensor(tf: Tf, params: EStepParameters): Tensor2D {
  const values = params.logWeights === undefined ? Float32Array.from(params.weights, Math.log) : Float32Array.from(params.logWeights);
  return tf.tensor2d(values, [1, values.length]);
}

/**
 * Responsibilities, log p(x_i) ([rows, 1]) and, with `entropy`, Σ_k r_ik ln r_ik
 * per row ([rows]) from weighted log-probabilities w [rows, k] (log w_k + log
 * N(x_i | θ_k)), sharing one exp; the responsibilities are scaled by
 * `rowWeight` [rows, 1] when given. Call inside tf.tidy.
 */
function posterior(tf: Tf, w: Tensor2D, rowWeight: Tensor2D | undefined, entropy: boolean): Tensor2D[] {
  // One fused softmax (XNNPACK on wasm: ~2x faster than max, sub, exp, sum, div as separate ops).
  const soft = tf.softmax(w);
  // exp(-87..-103) is a float32 denormal, and denormals make wasm arithmetic (here and in
  // the accumulation matMuls) several times slower: responsibilities below e^-80 / k (~1e-36,
  // far below float32 resolution against the row's total of 1) become exactly 0.
  const r = tf.mul(soft, tf.step(tf.sub(soft, Math.exp(-80) / w.shape[1]))) as Tensor2D;
  // log p(x_i) = max_k w_ik + ln Σ_k exp(w_ik - max): the largest responsibility is exp(0) / Σ.
  const lse = tf.sub(tf.max(w, 1, true), tf.log(tf.max(soft, 1, true))) as Tensor2D;
  // Sample weights scale each row's responsibilities: the families' statistics
  // (linear in the responsibilities) then count a row of weight w as w rows.
  const out = [rowWeight === undefined ? r : (tf.mul(r, rowWeight) as Tensor2D), lse];
  // Σ r ln r per row, ln r = w - log p(x); ln r is floored where r was flushed to 0, so 0 · ln r stays 0.
  if (entropy) out.push(tf.sum(tf.mul(r, tf.maximum(tf.sub(w, lse), -100)), 1) as Tensor2D);
  return out;
}

/**
 * One fused pass: E-step under `params` and the statistics of the resulting
 * responsibilities. Returns the merged statistics and Σ_i log p(x_i) (float64),
 * and Σ r ln r when params.entropy is set.
 */
export function emPass(
  tf: Tf,
  family: CovarianceFamily,
  params: EStepParameters,
  blocks: RowBlocks,
  ctx: PluginContext,
  reference?: Float64Array,
): PassResult {
  return blocksPass(tf, family, params, blocks, ctx, true, reference);
}

/**
 * A fit's final scoring over its own blocks: Σ_i w_i log p(x_i) and
 * Σ_i w_i Σ_k r_ik ln r_ik under `params` (in the blocks' coordinates), the
 * E-step of emPass without the statistics. The rows and kernel are the
 * pass's (its block cache), not scoreSamples' (rows re-uploaded about the
 * mixture's mean): the sums agree with scoreSamples' to float32 precision.
 */
export function scorePass(tf: Tf, family: CovarianceFamily, params: EStepParameters, blocks: RowBlocks, ctx: PluginContext): ScoreResult {
  const { totalLogLikelihood, sumRespLogResp } = blocksPass(tf, family, { ...params, entropy: true }, blocks, ctx, false);
  return { totalLogLikelihood, sumRespLogResp: sumRespLogResp! };
}

/** emPass, or with `statistics` false its E-step alone (scorePass; rows with missing cells still get theirs). */
function blocksPass(
  tf: Tf,
  family: CovarianceFamily,
  params: EStepParameters,
  blocks: RowBlocks,
  ctx: PluginContext,
  statistics: boolean,
  reference?: Float64Array,
): PassResult {
  const kernelCtx: EngineContext = { ...ctx, blockCache: blocks.cache };
  const kernel = family.densityKernel(params, kernelCtx);
  const accCtx: EngineContext = reference === undefined ? { ...ctx, blockCache: blocks.cache } : { ...ctx, reference, blockCache: blocks.cache };
  const logW = logWeightsTensor(tf, params);
  const total = new CompensatedSum();
  const entropy = params.entropy === true ? new CompensatedSum() : undefined;
  let stats: SufficientStatistics | undefined;
  try {
    for (const [b, x] of blocks.tensors.entries()) {
      const rowWeight = blocks.weightTensors?.[b];
      const [resp, lse, rlr] = tf.tidy(() =>
        posterior(tf, tf.add(kernel.logDensity(x), logW) as Tensor2D, rowWeight, entropy !== undefined),
      );
      try {
        if (statistics) {
          const s = family.accumulate(x, resp!, accCtx);
          stats = stats === undefined ? s : family.merge(stats, s);
        }
        // passWeight: the sample weights, 0 for rows with missing cells (scored by their patterns below).
        if (blocks.passWeight === undefined) {
          total.add(lse!.dataSync());
          if (entropy !== undefined) entropy.add(rlr!.dataSync());
        } else {
          total.addWeighted(lse!.dataSync(), blocks.passWeight, blocks.starts[b]!);
          if (entropy !== undefined) entropy.addWeighted(rlr!.dataSync(), blocks.passWeight, blocks.starts[b]!);
        }
      } finally {
        resp!.dispose();
        lse!.dispose();
        rlr?.dispose();
      }
    }
    if (blocks.patterns !== undefined && blocks.patterns.length > 0) {
      // Second moments about the same points as the blocks' (none when the family ignores references).
      const missing = missingPass(tf, family, params, blocks.patterns, logW, total, entropy, ctx, stats?.reference);
      if (statistics) stats = family.merge(stats!, missing);
    }
  } finally {
    kernel.dispose();
    logW.dispose();
  }
  const result: PassResult = { stats: stats!, totalLogLikelihood: total.value };
  if (entropy !== undefined) result.sumRespLogResp = entropy.value;
  return result;
}

/** What scorePass returns: the pass's sums without statistics. */
export type ScoreResult = Omit<PassResult, 'stats'> & { sumRespLogResp: number };

/** log Σ_k exp(v[i, k]) of row i of v [n, k], float64. */
export function rowLogSumExp(v: Float64Array, i: number, k: number): number {
  let max = -Infinity;
  for (let j = 0; j < k; j++) if (v[i * k + j]! > max) max = v[i * k + j]!;
  if (max === -Infinity) return -Infinity;
  let s = 0;
  for (let j = 0; j < k; j++) s += Math.exp(v[i * k + j]! - max);
  return max + Math.log(s);
}

/**
 * The E-step and statistics of the rows with missing cells, pattern by
 * pattern: marginal log-likelihoods (added to `total`, sample-weighted; Σ r ln r
 * to `entropy` when given) and the exact EM statistics (conditional
 * expectations, plus the conditional covariance in the second moments) in the
 * family's layout.
 */
function missingPass(
  tf: Tf,
  family: CovarianceFamily,
  params: MixtureParameters,
  patterns: readonly MissingPattern[],
  logW: Tensor2D,
  total: CompensatedSum,
  entropy: CompensatedSum | undefined,
  ctx: PluginContext,
  reference: Float64Array | undefined,
): SufficientStatistics {
  const { k, d } = ctx;
  const full = family.fullCovariances(params.covariances, k, d);
  const acc = emptyMoments(k, d);
  for (const pattern of patterns) {
    const model = patternModel(tf, pattern, params.means, full, k, d);
    try {
      for (const chunk of pattern.chunks) {
        const [resp, lse, rlr] = tf.tidy(() =>
          posterior(tf, tf.add(model.kernel.logDensity(chunk.x), logW) as Tensor2D, chunk.weightTensor, entropy !== undefined),
        );
        try {
          accumulateChunk(tf, acc, model, pattern, chunk.x, resp!, k, d, reference);
          total.addWeighted(lse!.dataSync(), chunk.weights, 0);
          if (entropy !== undefined) entropy.addWeighted(rlr!.dataSync(), chunk.weights, 0);
        } finally {
          resp!.dispose();
          lse!.dispose();
          rlr?.dispose();
        }
      }
    } finally {
      model.dispose();
    }
  }
  // n: 0, these rows are already counted by the blocks (with weight 0 there).
  const stats: SufficientStatistics = { n: 0, nk: acc.nk, sumX: acc.sumX, second: familySecond(family, acc.second, k, d) };
  if (reference !== undefined) stats.reference = Float64Array.from(reference);
  return stats;
}

/**
 * The rows with their missing cells filled by E[x_m | x_o] = Σ_k p(k | x_o)
 * E[x_m | x_o, k] (centered coordinates, [n, d] float64); complete rows as they are.
 */
export function imputeRows(tf: Tf, family: CovarianceFamily, params: EStepParameters, blocks: RowBlocks, ctx: PluginContext): Float64Array {
  const { k, d } = ctx;
  const out = Float64Array.from(blocks.hostData);
  if (blocks.patterns === undefined) return out;
  const full = family.fullCovariances(params.covariances, k, d);
  const logW = logWeightsTensor(tf, params);
  try {
    for (const pattern of blocks.patterns) {
      const model = patternModel(tf, pattern, params.means, full, k, d);
      const dM = pattern.missing.length;
      try {
        for (const chunk of pattern.chunks) {
          const filled = tf.tidy(() => {
            const [resp] = posterior(tf, tf.add(model.kernel.logDensity(chunk.x), logW) as Tensor2D, undefined, false);
            const means = conditionalMeans(tf, model, chunk.x, k, dM); // [k, rows, d_m]
            return tf.sum(tf.mul(means, tf.expandDims(tf.transpose(resp!), 2)), 0); // [rows, d_m]
          });
          try {
            const v = filled.dataSync();
            chunk.rows.forEach((row, r) => pattern.missing.forEach((col, c) => (out[row * d + col] = v[r * dM + c]!)));
          } finally {
            filled.dispose();
          }
        }
      } finally {
        model.dispose();
      }
    }
  } finally {
    logW.dispose();
  }
  return out;
}

/** Σ_i w_i r_ik x_i / Σ_i w_i r_ik in float64, [k, d] (0 for an empty component); w = 1 without weights. */
export function responsibilityMeans(
  resp: Float64Array,
  data: Float64Array,
  n: number,
  d: number,
  k: number,
  sampleWeight?: Float64Array,
): Float64Array {
  const sums = new Float64Array(k * d);
  const nk = new Float64Array(k);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < k; j++) {
      const r = resp[i * k + j]! * (sampleWeight === undefined ? 1 : sampleWeight[i]!);
      if (r === 0) continue;
      nk[j] += r;
      for (let c = 0; c < d; c++) sums[j * d + c] += r * data[i * d + c]!;
    }
  for (let j = 0; j < k; j++) if (nk[j]! > 0) for (let c = 0; c < d; c++) sums[j * d + c]! /= nk[j]!;
  return sums;
}

/** The responsibilities [n, k] of r: its own, or one-hot from its labels. */
export function responsibilitiesOf(r: Responsibilities, n: number, k: number): Float64Array {
  return r.kind === 'responsibilities' ? r.resp : oneHot(r.labels, n, k);
}

/** responsibilityMeans of r; with labels without the one-hot matrix (the same sums in the same order). */
export function assignedMeans(r: Responsibilities, data: Float64Array, n: number, d: number, k: number, sampleWeight?: Float64Array): Float64Array {
  if (r.kind === 'responsibilities') return responsibilityMeans(r.resp, data, n, d, k, sampleWeight);
  const sums = new Float64Array(k * d);
  const nk = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    const w = sampleWeight === undefined ? 1 : sampleWeight[i]!;
    if (w === 0) continue;
    const j = r.labels[i]!;
    nk[j] += w;
    for (let c = 0; c < d; c++) sums[j * d + c] += w * data[i * d + c]!;
  }
  for (let j = 0; j < k; j++) if (nk[j]! > 0) for (let c = 0; c < d; c++) sums[j * d + c]! /= nk[j]!;
  return sums;
}

/** Statistics of given responsibilities or labels (float64 host) over the blocks. */
export function statsFromResponsibilities(
  tf: Tf,
  family: CovarianceFamily,
  blocks: RowBlocks,
  r: Responsibilities,
  ctx: PluginContext,
): SufficientStatistics {
  // Second moments about each component's exact (float64) mean, so a
  // component seeded on one row gets covariance regCovar·I, not float32 noise.
  const reference = assignedMeans(r, blocks.hostData, blocks.n, blocks.d, ctx.k, blocks.sampleWeight);
  return accumulateResponsibilities(tf, family, blocks, r, reference, ctx);
}

/**
 * Statistics of responsibilities [rows of blocks, k] or labels with second
 * moments about `reference` [k, d]; each row's responsibilities are scaled by
 * its sample weight.
 */
export function accumulateResponsibilities(
  tf: Tf,
  family: CovarianceFamily,
  blocks: RowBlocks,
  r: Responsibilities,
  reference: Float64Array,
  ctx: PluginContext,
): SufficientStatistics {
  const { k } = ctx;
  const host = (assigned: Responsibilities): SufficientStatistics =>
    hostStatistics(family, blocks.hostData, assigned, blocks.n, blocks.sampleWeight, reference, ctx)!;
  // Labels (k-means' start): one row at a time on the host, without the one-hot [n, k] matrix (~35
  // against 50-80 ms at 500k x 8, k = 5), where the family can; else as their one-hot responsibilities.
  if (r.kind === 'labels' && family.accumulateHostLabels !== undefined) return host(r);
  const resp = responsibilitiesOf(r, blocks.n, k);
  // A hard start (one-hot responsibilities): float64 on the host, one outer product per row instead
  // of k in float32 tensors (100 against 245-354 ms at 500k x 8, k = 5), and exact.
  if (family.accumulateHost !== undefined && hardAssignments(resp, k)) return host({ kind: 'responsibilities', resp });
  let stats: SufficientStatistics | undefined;
  const accCtx: PluginContext = { ...ctx, reference };
  blocks.tensors.forEach((x, b) => {
    const start = blocks.starts[b]!;
    const rows = x.shape[0];
    const part = resp.slice(start * k, (start + rows) * k);
    const w = blocks.sampleWeight;
    if (w !== undefined) for (let i = 0; i < rows; i++) for (let j = 0; j < k; j++) part[i * k + j]! *= w[start + i]!;
    const r = tf.tensor2d(Float32Array.from(part), [rows, k]);
    try {
      const s = family.accumulate(x, r, accCtx);
      stats = stats === undefined ? s : family.merge(stats, s);
    } finally {
      r.dispose();
    }
  });
  return stats!;
}

/**
 * Statistics of r over host rows [n, d] in float64, each row's
 * responsibilities scaled by its sample weight, second moments about
 * `reference`: the family's accumulateHostLabels for labels where it has one,
 * else its accumulateHost; undefined when it has neither.
 */
export function hostStatistics(
  family: CovarianceFamily,
  rows: Float64Array,
  r: Responsibilities,
  n: number,
  sampleWeight: Float64Array | undefined,
  reference: Float64Array,
  ctx: PluginContext,
): SufficientStatistics | undefined {
  const at = { ...ctx, reference };
  if (r.kind === 'labels' && family.accumulateHostLabels !== undefined) return family.accumulateHostLabels(rows, r.labels, sampleWeight, n, at);
  if (family.accumulateHost === undefined) return undefined;
  const { k } = ctx;
  const resp = responsibilitiesOf(r, n, k);
  const w = sampleWeight;
  return family.accumulateHost(rows, w === undefined ? resp : resp.map((v, c) => (v === 0 ? 0 : v * w[Math.floor(c / k)]!)), n, at);
}

/** At most one nonzero responsibility per row on average: what the host's sparse accumulation is cheap for. */
function hardAssignments(resp: Float64Array, k: number): boolean {
  let nonzero = 0;
  for (let i = 0; i < resp.length; i++) if (resp[i] !== 0) nonzero++;
  return nonzero * k <= resp.length;
}

/**
 * The float64 pass of the M-step fallback: responsibilities from the E-step
 * under `params` (float32 log-densities, normalized in float64, flushed to 0
 * below e^-80 as in emPass, times the sample weights) and statistics with
 * second moments about params.means, in float64 from blocks.hostData:
 * family.accumulateHost for the complete rows, and for rows with missing
 * cells the exact EM statistics of their patterns (accumulatePatternHost,
 * mapped by the family's secondFromFull). Undefined when the family has no
 * accumulateHost.
 */
export function exactPass(tf: Tf, family: CovarianceFamily, params: EStepParameters, blocks: RowBlocks, ctx: PluginContext): PassResult | undefined {
  if (family.accumulateHost === undefined) return undefined;
  const { k, d } = ctx;
  const n = blocks.n;
  const resp = weightedLogProb(tf, family, params, blocks, ctx); // rows with gaps: their marginals
  const lse = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let max = -Infinity;
    for (let j = 0; j < k; j++) max = Math.max(max, resp[i * k + j]!);
    let s = 0;
    for (let j = 0; j < k; j++) {
      const shifted = resp[i * k + j]! - max;
      const e = shifted < -80 ? 0 : Math.exp(shifted);
      resp[i * k + j] = e;
      s += e;
    }
    // Sample weights scale the responsibilities (statistics) and the log-likelihood, as in emPass.
    const w = blocks.sampleWeight === undefined ? 1 : blocks.sampleWeight[i]!;
    for (let j = 0; j < k; j++) resp[i * k + j] = (resp[i * k + j]! / s) * w;
    lse[i] = max + Math.log(s);
  }
  const total = new CompensatedSum();
  if (blocks.sampleWeight === undefined) total.add(lse);
  else total.addWeighted(lse, blocks.sampleWeight, 0);
  const reference = params.means;
  const patterns = blocks.patterns ?? [];
  if (patterns.length === 0) {
    const stats = family.accumulateHost(blocks.hostData, resp, n, { ...ctx, reference });
    return { stats, totalLogLikelihood: total.value };
  }
  // Rows with gaps: 0 in the complete rows' statistics (passWeight is 0 there), their patterns' exact statistics instead.
  const complete = resp.slice();
  for (let i = 0; i < n; i++) if (blocks.passWeight![i] === 0) complete.fill(0, i * k, (i + 1) * k);
  const host = family.accumulateHost(blocks.hostData, complete, n, { ...ctx, reference });
  const full = family.fullCovariances(params.covariances, k, d);
  const acc = emptyMoments(k, d);
  // Second moments about the same points as the complete rows' (none when the family ignores references).
  for (const pattern of patterns)
    accumulatePatternHost(acc, patternRegression(pattern, params.means, full, k, d), pattern, blocks.hostData, resp, k, d, host.reference);
  const gaps: SufficientStatistics = { n: 0, nk: acc.nk, sumX: acc.sumX, second: familySecond(family, acc.second, k, d) };
  if (host.reference !== undefined) gaps.reference = Float64Array.from(host.reference);
  return { stats: family.merge(host, gaps), totalLogLikelihood: total.value };
}

/**
 * Weighted log-probabilities log w_k + log N(x_i | θ_k) (or params.logWeights in place of log w_k) for every row, [n, k]
 * float64 on the host, written to `out` when given (a buffer reused across calls).
 */
export function weightedLogProb(
  tf: Tf,
  family: CovarianceFamily,
  params: EStepParameters,
  blocks: RowBlocks,
  ctx: PluginContext,
  out: Float64Array = new Float64Array(blocks.n * ctx.k),
): Float64Array {
  const { k } = ctx;
  const kernel = family.densityKernel(params, ctx);
  const logW = logWeightsTensor(tf, params);
  try {
    blocks.tensors.forEach((x, b) => {
      const t = tf.tidy(() => tf.add(kernel.logDensity(x), logW));
      try {
        out.set(t.dataSync(), blocks.starts[b]! * k);
      } finally {
        t.dispose();
      }
    });
    // Rows with missing cells: the marginal over their observed coordinates (overwriting the blocks' values).
    if (blocks.patterns !== undefined) {
      const full = family.fullCovariances(params.covariances, k, ctx.d);
      for (const pattern of blocks.patterns) {
        const model = patternModel(tf, pattern, params.means, full, k, ctx.d);
        try {
          for (const chunk of pattern.chunks) {
            const t = tf.tidy(() => tf.add(model.kernel.logDensity(chunk.x), logW));
            try {
              const v = t.dataSync();
              chunk.rows.forEach((row, r) => out.set(v.subarray(r * k, (r + 1) * k), row * k));
            } finally {
              t.dispose();
            }
          }
        } finally {
          model.dispose();
        }
      }
    }
  } finally {
    kernel.dispose();
    logW.dispose();
  }
  return out;
}

export interface EmSettings {
  tol: number;
  maxIter: number;
  regCovar: number;
  onIteration?: ((iteration: number, lowerBound: number) => void) | undefined;
  /** Checked before every iteration (runEmAsync only). */
  signal?: AbortSignal | undefined;
  /**
   * The strategy's degeneracy rule is checked after every M-step: 'reject'
   * ends the restart at the first degenerate M-step, 'warn' only reports the
   * final state's in EmResult.degeneracy (also when undefined); 'allow' skips the check.
   */
  degenerate?: DegenerateMode | undefined;
  /**
   * The M-step fallback's last resort (see emLoop): the pass under these
   * parameters with statistics computed exactly, in float64, from the host
   * rows (exactPass); undefined where there are no host rows or the family
   * has no accumulateHost.
   */
  exactPass?: ((params: EStepParameters) => PassResult | undefined) | undefined;
}

/** What to do with degenerate solutions (CovarianceFamily.degeneracy): see docs/degenerate-solutions.md. */
export type DegenerateMode = 'reject' | 'warn' | 'allow';

/** What one E-step + accumulation pass over all rows returns. */
export interface PassResult {
  stats: SufficientStatistics;
  /** Σ_i log Σ_k exp(log-weight_k + log-density_ik), float64. */
  totalLogLikelihood: number;
  /** Σ_i Σ_k r_ik ln r_ik, when the E-step parameters asked for it (`entropy`). */
  sumRespLogResp?: number;
}

/**
 * One pass over all rows under `params`; with `reference`, second moments
 * are taken about those points (the M-step fallback). Local (emPass over
 * blocks) or sharded across worker threads.
 */
export type PassFn = (params: EStepParameters, reference?: Float64Array) => PassResult | Promise<PassResult>;

/** A pass over row blocks on this thread. */
export function localPass(tf: Tf, family: CovarianceFamily, blocks: RowBlocks, ctx: PluginContext): PassFn {
  return (params, reference) => emPass(tf, family, params, blocks, ctx, reference);
}

/** Throws AbortedError when `signal` is aborted. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortedError('fit aborted');
}

/** Lets timers and signal handlers (Ctrl-C) run between iterations. */
export function yieldToEventLoop(): Promise<void> {
  return platform.yieldToEventLoop();
}

export interface EmResult<S = MixtureParameters> {
  /** The estimator's state after the last M-step. */
  params: S;
  lowerBound: number;
  lowerBoundHistory: number[];
  nIter: number;
  converged: boolean;
  /** Why the result is degenerate (strategy.degeneracy, checked unless settings.degenerate is 'allow'). */
  degeneracy?: Degeneracy | undefined;
}

/**
 * What varies between the estimators that share the EM loop (scikit-learn's
 * BaseMixture hooks): maximum-likelihood EM, MAP EM under a conjugate prior
 * and the variational Bayesian mixture differ only in these three steps, over
 * the same passes and the same sufficient statistics. S is the estimator's
 * state in the engine's centered coordinates.
 */
export interface EmStrategy<S> {
  /** The E-step's view of a state: what the pass scores rows under. */
  eStep(state: S): EStepParameters;
  /**
   * The M-step from merged statistics (`previous`: the state of the iteration before, when there is one);
   * throws SingularCovarianceError when a covariance is not positive definite.
   */
  mStep(stats: SufficientStatistics, previous?: S): S;
  /**
   * The objective the loop reports and tests for convergence, after the
   * M-step: `pass` is the E-step under `previous`, `next` the state the
   * M-step made from it (scikit-learn's _compute_lower_bound).
   */
  lowerBound(pass: PassResult, next: S, previous: S): number;
  /** Optional: why a state is degenerate (CovarianceFamily.degeneracy), checked after every M-step per settings.degenerate. */
  degeneracy?(state: S): Degeneracy | undefined;
}

/**
 * Maximum-likelihood EM (GaussianMixture): the family's M-step; lower bound = mean log-likelihood under the E-step's parameters;
 * the family's degeneracy rule when given the data's context.
 */
export function maximumLikelihood(
  family: CovarianceFamily,
  regCovar: number,
  n: number,
  ctx: PluginContext,
  degeneracyContext?: DegeneracyContext,
): EmStrategy<MixtureParameters> {
  return {
    eStep: (params) => params,
    mStep: (stats, previous) => family.mStep(stats, regCovar, ctx, previous),
    lowerBound: (pass) => pass.totalLogLikelihood / n,
    degeneracy: (params) => (degeneracyContext === undefined ? undefined : family.degeneracy?.(params, degeneracyContext)),
  };
}

/** A pass the EM loop asks its driver for: under `params`, second moments about `reference` when given. */
interface PassRequest {
  params: EStepParameters;
  /** Set for the M-step fallback, and after it for every pass of the run; undefined before. */
  reference: Float64Array | undefined;
}

/**
 * The EM loop of scikit-learn's BaseMixture.fit_predict for one
 * initialization, written once for every estimator (its EmStrategy) and every
 * driver (runEm, runEmAsync and fitStream): it yields the passes it needs and
 * receives their results. Each iteration runs the E-step pass under the
 * current state, the strategy's M-step on the merged statistics and the
 * strategy's lower bound; it stops when the lower bound changes by less than tol.
 * Sample weights are in the pass (weighted statistics and log-likelihoods);
 * the strategy's n is Σ_i w_i.
 *
 * The M-step runs on the fast (raw float32 moment) statistics; when it finds a
 * covariance that is not positive definite, the pass is redone with second
 * moments about the current means (ctx.reference), which removes the float32
 * cancellation of tiny components (k close to n, duplicate rows), and the
 * run's later passes take them about the means from the start; when
 * that still fails, settings.exactPass recomputes the statistics in float64
 * from the host rows (a component of a few rows in units of ~100 loses its
 * covariance to float32 rounding even about its mean), and only then does a
 * SingularCovarianceError propagate.
 *
 * `previousLowerBound` is what the first iteration's change is measured
 * from: -Infinity for a fresh initialization, the last fit's bound for a warm
 * start (so refitting a converged model stops after one iteration, as
 * scikit-learn's fit_predict). maxIter 0 returns `init` itself after one
 * scoring pass: its lower bound is the strategy's bound of `init` (for
 * maximum likelihood, the mean log-likelihood of the initialization;
 * scikit-learn reports -inf, which JSON cannot hold).
 */
function* emLoop<S>(
  strategy: EmStrategy<S>,
  init: S,
  settings: EmSettings,
  previousLowerBound: number,
): Generator<PassRequest, EmResult<S>, PassResult> {
  const degeneracyOf = (s: S): Degeneracy | undefined => (settings.degenerate === 'allow' ? undefined : strategy.degeneracy?.(s));
  let state = init;
  let lowerBound = previousLowerBound;
  const history: number[] = [];
  let converged = false;
  let nIter = 0;
  const scored = (pass: PassResult, iter: number): PassResult => {
    if (!Number.isFinite(pass.totalLogLikelihood)) {
      throw new SingularCovarianceError(
        `the log-likelihood became non-finite at iteration ${iter} with regCovar=${settings.regCovar}; increase regCovar`,
      );
    }
    return pass;
  };
  if (settings.maxIter === 0) {
    const pass = scored(yield { params: strategy.eStep(state), reference: undefined }, 0);
    const bound = strategy.lowerBound(pass, state, state);
    return { params: state, lowerBound: bound, lowerBoundHistory: history, nIter, converged, degeneracy: degeneracyOf(state) };
  }
  // Once the raw moments have failed in this run, later passes take their moments about the means at
  // once: the components that needed it still need it, and the failed raw pass would be redone every
  // iteration (27 of the 200k x 8 sweep's 169 iterations were).
  let aboutMeans = false;
  for (let iter = 1; iter <= settings.maxIter; iter++) {
    const previous = lowerBound;
    const params = strategy.eStep(state);
    const pass = scored(yield { params, reference: aboutMeans ? params.means : undefined }, iter);
    let next: S;
    try {
      next = strategy.mStep(pass.stats, state);
    } catch (error) {
      if (!(error instanceof SingularCovarianceError)) throw error;
      try {
        if (pass.stats.reference !== undefined) throw error; // already about the means
        const accurate = (yield { params, reference: params.means }).stats;
        if (accurate.reference === undefined) throw error; // the family ignores references
        aboutMeans = true;
        next = strategy.mStep(accurate, state);
      } catch (again) {
        // Still singular about the means: float32 itself is the limit; recompute in float64 from the host rows.
        const exact = settings.exactPass?.(params);
        if (!(again instanceof SingularCovarianceError) || exact === undefined) throw again;
        next = strategy.mStep(exact.stats, state);
      }
    }
    lowerBound = strategy.lowerBound(pass, next, state);
    state = next;
    nIter = iter;
    history.push(lowerBound);
    settings.onIteration?.(iter, lowerBound);
    if (Math.abs(lowerBound - previous) < settings.tol) {
      converged = true;
      break;
    }
    if (settings.degenerate === 'reject') {
      // Stop at the first degenerate M-step: the restart driver re-seeds the component or ends the restart (GaussianMixture.reseeded).
      const degeneracy = degeneracyOf(state);
      if (degeneracy !== undefined) return { params: state, lowerBound, lowerBoundHistory: history, nIter, converged, degeneracy };
    }
  }
  return { params: state, lowerBound, lowerBoundHistory: history, nIter, converged, degeneracy: degeneracyOf(state) };
}

/** EM from initial parameters over row blocks on this thread, synchronously (the loop of emLoop). */
export function runEm(
  tf: Tf,
  family: CovarianceFamily,
  blocks: RowBlocks,
  init: MixtureParameters,
  settings: EmSettings,
  ctx: PluginContext,
): EmResult {
  const withHost: EmSettings = { exactPass: (p) => exactPass(tf, family, p, blocks, ctx), ...settings };
  const loop = emLoop(maximumLikelihood(family, settings.regCovar, blocks.totalWeight, ctx), init, withHost, -Infinity);
  let step = loop.next();
  while (step.done !== true) {
    step = loop.next(emPass(tf, family, step.value.params, blocks, ctx, step.value.reference));
  }
  return step.value;
}

/**
 * Maximum-likelihood EM over any pass (local blocks, worker shards, a
 * streamed source): runStrategy with the family's M-step. `n` is the lower
 * bound's divisor: Σ_i w_i (the row count when unweighted).
 */
export function runEmAsync(
  family: CovarianceFamily,
  pass: PassFn,
  n: number,
  init: MixtureParameters,
  settings: EmSettings,
  ctx: PluginContext,
): Promise<EmResult> {
  return runStrategy(maximumLikelihood(family, settings.regCovar, n, ctx), pass, init, settings);
}

/**
 * The EM loop of `strategy` over any pass, yielding to the event loop and
 * checking settings.signal before every iteration.
 */
export async function runStrategy<S>(
  strategy: EmStrategy<S>,
  pass: PassFn,
  init: S,
  settings: EmSettings,
  previousLowerBound = -Infinity,
): Promise<EmResult<S>> {
  const loop = emLoop(strategy, init, settings, previousLowerBound);
  let step = loop.next();
  while (step.done !== true) {
    const { params, reference } = step.value;
    if (reference === undefined) {
      await yieldToEventLoop();
      throwIfAborted(settings.signal);
    }
    step = loop.next(await pass(params, reference));
  }
  return step.value;
}
