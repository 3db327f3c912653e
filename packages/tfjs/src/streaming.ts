// Streaming EM: the fit of GaussianMixture over rows that are read again on
// every pass instead of held in memory. Built on the same accumulate/merge
// contract as the in-memory engine: each block of rows is uploaded, scored,
// reduced to sufficient statistics and disposed before the next is read.
import {
  GmmError,
  InvalidArgumentError,
  InvalidDataError,
  createRng,
  deriveSeed,
  type PluginContext,
  type SufficientStatistics,
} from '@gmmkit/core';
import { BAYESIAN_OPTION_NAMES, BayesianGaussianMixture, type BayesianGaussianMixtureOptions } from './bayesian.js';
import { CompensatedSum, emPass, throwIfAborted, uploadBlocks, type EStepParameters, type PassResult } from './engine.js';
import {
  GaussianMixture,
  OPTION_NAMES,
  covariancesFromPrecisions,
  integerAtLeast,
  resolveOptions,
  type BaseMixture,
  type FitData,
  type GaussianMixtureConfig,
} from './gaussian-mixture.js';
import { rejectUnknownOptions } from './options.js';
import { CovarianceSums } from './prior.js';
import { currentBackend, initBackend, tf } from './runtime/index.js';

/** A block of rows with their sample (frequency) weights: data [rows, d] row-major, weights [rows]. */
export interface WeightedBlock {
  data: Float64Array;
  weights: Float64Array;
}

/**
 * Rows that can be read more than once: `blocks()` is called once per pass
 * and must yield the same rows in the same order every time, as row-major
 * [rows, d] Float64Array blocks (any number of rows per block, a multiple of
 * d values), or, for a weighted fit, every block as a WeightedBlock (the
 * weights of GaussianMixture.fit's sampleWeight: finite, >= 0, not all zero).
 */
export interface RowSource {
  d: number;
  blocks(): AsyncIterable<Float64Array | WeightedBlock>;
}

/** fitStream's own options, besides the estimator's. */
export interface StreamOptions {
  /** Rows kept (reservoir sample, seeded) for the initialization (default: defaultSampleSize(k, d)). */
  sampleSize?: number;
  /**
   * Called after each pass over the source: which pass (1-based), what it was for, and the rows read.
   * 'accurate-moments': second moments about the current means, the M-step's fallback when the raw
   * moments give a singular covariance, and every later pass of that run.
   */
  onPass?: (pass: number, purpose: 'statistics' | 'em' | 'accurate-moments', rows: number) => void;
}

export interface StreamFitOptions extends GaussianMixtureConfig, StreamOptions {}

export interface BayesianStreamFitOptions extends BayesianGaussianMixtureOptions, StreamOptions {}

/** Smallest default reservoir size for the initialization sample. */
export const DEFAULT_SAMPLE_SIZE = 10_000;

/**
 * Initializations of the sample fit when the sample is not every row: at
 * least this many (more with a larger nInit). They run on the sample only,
 * so they cost little next to one pass over the data, and they keep a
 * single unlucky initialization on a sample from deciding the whole fit.
 */
export const MIN_SAMPLE_INITS = 5;

/**
 * The default sample size for k components in d columns: 10000 rows, or
 * 200 rows per component-column pair when that is more (capped at 100000),
 * so each component's d x d covariance is estimated from enough rows.
 */
export function defaultSampleSize(k: number, d: number): number {
  return Math.max(DEFAULT_SAMPLE_SIZE, Math.min(100_000, 200 * k * d));
}

/**
 * Fits a Gaussian mixture by EM over a re-iterable source of row blocks,
 * holding only one block (and the initialization sample) at a time.
 *
 * - Pass 1 reads every row once: n, the column means (the engine's
 *   centering, summed in the same order as the in-memory fit) and a seeded
 *   reservoir sample of `sampleSize` rows.
 * - Initialization: when weightsInit, meansInit and precisionsInit are all
 *   given, EM starts from them. Otherwise an in-memory GaussianMixture is fitted
 *   to the sample with the same options (initializer, tol, maxIter, seed) and
 *   max(nInit, MIN_SAMPLE_INITS) restarts: restarts run on the sample only,
 *   and the streaming EM starts from the best one. When n <= sampleSize the
 *   sample is every row in order and nInit is used as given, so this is
 *   exactly the in-memory fit and the streaming passes only confirm it
 *   (usually 2 passes).
 * - Each EM iteration is one pass: E-step and sufficient statistics per
 *   block (float32 on the backend), merged in float64, then the family's
 *   M-step. Lower bound = total log-likelihood / n; stop when it changes by
 *   less than tol, as the in-memory fit. A singular M-step is retried once
 *   with second moments about the current means (one more pass), as the engine does.
 *
 * nIter, lowerBoundHistory and converged describe the streaming iterations
 * (passes over all rows); the sample fit is not counted. The result is a
 * normal GaussianMixture: predict, score, toJSON work.
 *
 * The passes run the estimator's own EM steps (its EmStrategy, as in memory):
 * with `prior`, MAP EM; with `estimator` BayesianGaussianMixture (its options
 * in `options`), variational inference, initialized on the sample by a
 * BayesianGaussianMixture and returning one. The default priors' data
 * covariance is taken in pass 1 (not with missing: 'marginalize').
 * `signal` is checked before every block (and by the sample fit); an abort
 * rejects with core's AbortedError and closes the source. `workers` applies
 * to the sample fit only: the passes run on the calling thread.
 */
export function fitStream(source: RowSource, options?: StreamFitOptions): Promise<GaussianMixture>;
export function fitStream(
  source: RowSource,
  options: BayesianStreamFitOptions,
  estimator: typeof BayesianGaussianMixture,
): Promise<BayesianGaussianMixture>;
export async function fitStream(
  source: RowSource,
  options: StreamFitOptions | BayesianStreamFitOptions = {},
  estimator?: typeof BayesianGaussianMixture,
): Promise<GaussianMixture | BayesianGaussianMixture> {
  // Both estimators' constructors validate their options: here they are records of names.
  const given = options as StreamOptions & Record<string, unknown>;
  if (estimator === undefined) return streamFit(source, given, OPTION_NAMES, (c) => new GaussianMixture(c as GaussianMixtureConfig));
  if (estimator !== BayesianGaussianMixture)
    throw new InvalidArgumentError('fitStream: the estimator must be BayesianGaussianMixture (or none: GaussianMixture)');
  return streamFit(source, given, BAYESIAN_OPTION_NAMES, (c) => new BayesianGaussianMixture(c as BayesianGaussianMixtureOptions));
}

/** fitStream for the estimator `make` builds (its options named by `names`): the passes run its EmStrategy. */
async function streamFit<M extends BaseMixture<unknown>>(
  source: RowSource,
  options: StreamOptions & Record<string, unknown>,
  names: readonly string[],
  make: (config: Record<string, unknown>) => M,
): Promise<M> {
  rejectUnknownOptions(options, [...names, 'sampleSize', 'onPass'], 'fitStream');
  const { sampleSize: sampleOpt, onPass, ...config } = options;
  // The estimator's constructor validates every option (and resolves the family and initializer).
  const model = make(config);
  const family = model.family;
  const container = model.container;
  // The same validated options and defaults (those every estimator shares) as the estimator's.
  const o = resolveOptions(Object.fromEntries(Object.entries(config).filter(([key]) => OPTION_NAMES.includes(key))));
  const { k, seed } = o;
  const d = source.d;
  if (!Number.isInteger(d) || d < 1)
    throw new InvalidArgumentError(`source.d must be an integer >= 1, got ${String(d)}`);
  const sampleSize = integerAtLeast('sampleSize', sampleOpt, 1, defaultSampleSize(k, d));
  if (o.meansInitD !== undefined && o.meansInitD !== d) {
    throw new InvalidArgumentError(`meansInit has ${o.meansInitD} features but the data has ${d}`);
  }
  if (o.warmStart)
    throw new InvalidArgumentError(
      'warmStart is not supported by fitStream: pass weightsInit, meansInit and precisionsInit',
    );
  // The priors' default scale is the data covariance, taken in the statistics pass.
  const priors = o.prior !== undefined || model instanceof BayesianGaussianMixture;
  if (priors && o.missing === 'marginalize')
    throw new InvalidArgumentError(
      "fitStream: prior with missing: 'marginalize' is not supported (the prior's data covariance fills gaps with column means not yet known in the first pass); fit in memory",
    );
  const presetCovariances =
    o.precisionsInit === undefined
      ? undefined
      : covariancesFromPrecisions(family, o.precisionsInit, o.precisionsInitShape!, k, d);

  await initBackend(o.backend ?? currentBackend(), container);
  const ctx: PluginContext = { tf, k, d };
  let pass = 0;

  /** Whether the source yields WeightedBlocks (decided by its first block). */
  let weighted: boolean | undefined;
  /**
   * One pass over the source, checking shapes and values; `visit` gets each
   * block, its weights (undefined when unweighted) and the index of its first row.
   */
  const readPass = async (
    purpose: 'statistics' | 'em' | 'accurate-moments',
    visit: (block: Float64Array, weights: Float64Array | undefined, rows: number, start: number) => void,
  ): Promise<number> => {
    pass++;
    let rows = 0;
    let iterable: AsyncIterable<Float64Array | WeightedBlock>;
    try {
      iterable = source.blocks();
    } catch (error) {
      throw sourceError(error, pass, purpose, rows);
    }
    const iterator = iterable[Symbol.asyncIterator]();
    try {
      for (;;) {
        // Checked between blocks: one pass over a large file can take long.
        throwIfAborted(o.signal);
        let step: IteratorResult<Float64Array | WeightedBlock>;
        try {
          step = await iterator.next();
        } catch (error) {
          throw sourceError(error, pass, purpose, rows);
        }
        if (step.done === true) break;
        const isWeighted = !(step.value instanceof Float64Array);
        weighted ??= isWeighted;
        if (isWeighted !== weighted)
          throw new InvalidDataError(
            `pass ${pass}: the block after row ${rows} is ${isWeighted ? '' : 'not '}weighted but the first block is${weighted ? '' : ' not'}; yield WeightedBlocks for every block or for none`,
            { row: rows + 1 },
          );
        const block = isWeighted ? (step.value as WeightedBlock).data : (step.value as Float64Array);
        if (!(block instanceof Float64Array))
          throw new InvalidDataError(`pass ${pass}: a block after row ${rows} is not a Float64Array`, {
            row: rows + 1,
          });
        if (block.length % d !== 0) {
          throw new InvalidDataError(
            `pass ${pass}: a block after row ${rows} has ${block.length} values, not a multiple of d=${d}`,
            { row: rows + 1 },
          );
        }
        const r = block.length / d;
        const weights = isWeighted ? (step.value as WeightedBlock).weights : undefined;
        if (weights !== undefined) {
          if (!(weights instanceof Float64Array) || weights.length !== r)
            throw new InvalidDataError(
              `pass ${pass}: the block after row ${rows} has ${r} rows but ${weights instanceof Float64Array ? weights.length : 'no Float64Array of'} weights`,
              { row: rows + 1 },
            );
          weights.forEach((w, i) => {
            if (!Number.isFinite(w) || w < 0)
              throw new InvalidArgumentError(`sampleWeight of row ${rows + i + 1} is ${w}; weights must be finite and >= 0`);
          });
        }
        if (r === 0) continue;
        visit(block, weights, r, rows);
        rows += r;
      }
    } catch (error) {
      // Stop the source (close its file) when the fit gives up mid-pass.
      await iterator.return?.().catch(() => undefined);
      throw error;
    }
    onPass?.(pass, purpose, rows);
    return rows;
  };

  // ---- pass 1: n, Σ w, (weighted) column means, reservoir sample (with its weights), finiteness
  const colSum = new Float64Array(d);
  // Σ w over each column's observed cells (missing: 'marginalize' skips missing cells, NaN).
  const colWeight = new Float64Array(d);
  const allowMissing = o.missing === 'marginalize';
  const sample = new Float64Array(sampleSize * d);
  const sampleWeights = new Float64Array(sampleSize);
  const totalWeight = new CompensatedSum();
  const reservoirRng = createRng(deriveSeed(seed, 0x5eed));
  const covariance = priors ? new CovarianceSums(d) : undefined;
  const n = await readPass('statistics', (block, weights, rows, start) => {
    if (weights !== undefined) totalWeight.add(weights);
    covariance?.add(block, rows, weights);
    for (let i = 0; i < rows; i++) {
      const g = start + i;
      const w = weights === undefined ? 1 : weights[i]!;
      let observed = 0;
      for (let j = 0; j < d; j++) {
        const v = block[i * d + j]!;
        if (allowMissing && Number.isNaN(v)) continue;
        if (!Number.isFinite(v)) {
          const hint = Number.isNaN(v) ? " (missing values need the option missing: 'marginalize')" : '';
          throw new InvalidDataError(`non-finite value ${v} at row ${g + 1}, column ${j + 1}${hint}`, {
            row: g + 1,
            column: j + 1,
            value: String(v),
          });
        }
        observed++;
        colSum[j] += w * v;
        colWeight[j] += w;
      }
      if (observed === 0)
        throw new InvalidDataError(`row ${g + 1} has no observed value: every row needs at least one`, { row: g + 1 });
      // Algorithm R: the first sampleSize rows fill the reservoir in order, later row g replaces a slot with probability sampleSize/(g+1).
      // A weighted source keeps each sampled row's weight: the sample fit is weighted as the data.
      const slot = g < sampleSize ? g : reservoirRng.int(g + 1);
      if (slot < sampleSize) {
        sample.set(block.subarray(i * d, (i + 1) * d), slot * d);
        sampleWeights[slot] = w;
      }
    }
  });
  if (n === 0) throw new InvalidDataError('data is empty: no rows');
  const weightSum = weighted === true ? totalWeight.value : n;
  if (!(weightSum > 0)) throw new InvalidArgumentError('sampleWeight is zero for every row: at least one row needs a positive weight');
  if (k > n) throw new InvalidArgumentError(`nComponents=${k} must be <= the number of samples (${n})`);
  const center = colSum.map((s, j) => s / colWeight[j]!);
  const empty = colWeight.findIndex((w) => !(w > 0));
  if (empty >= 0) throw new InvalidDataError(`column ${empty + 1} has no observed value`, { column: empty + 1 });
  const sampleRows = Math.min(n, sampleSize);
  if (k > sampleRows)
    throw new InvalidArgumentError(`nComponents=${k} must be <= sampleSize (${sampleRows})`);

  // ---- the start: the options' parameters, or the estimator fitted to the sample
  let start: M | undefined;
  if (o.weightsInit === undefined || o.meansInit === undefined || presetCovariances === undefined) {
    const { onIteration: _unused, ...sampleConfig } = config;
    // Every row in the sample: exactly the in-memory fit. A true sample: more restarts (MIN_SAMPLE_INITS).
    // A warm-up on the sample: only the streaming EM's convergence is reported.
    const nInit = n <= sampleSize ? o.nInit : Math.max(o.nInit, MIN_SAMPLE_INITS);
    start = make({ ...sampleConfig, nInit, container, convergenceWarning: false });
    await start.fit(
      { data: sample.subarray(0, sampleRows * d), shape: [sampleRows, d] },
      weighted === true ? { sampleWeight: sampleWeights.subarray(0, sampleRows) } : {},
    );
  }

  /** One pass: E-step under `at` and the merged statistics (about `reference` when given). */
  const statsPass = async (
    at: EStepParameters,
    purpose: 'em' | 'accurate-moments',
    reference?: Float64Array,
  ): Promise<PassResult> => {
    let stats: SufficientStatistics | undefined;
    const total = new CompensatedSum();
    const entropy = new CompensatedSum();
    const rows = await readPass(purpose, (block, weights, r) => {
      // A one-block RowBlocks: centered, uploaded, used, freed before the next block is read.
      const blocks = uploadBlocks(tf, block, r, d, center, r, weights);
      try {
        const out = emPass(tf, family, at, blocks, ctx, reference);
        stats = stats === undefined ? out.stats : family.merge(stats, out.stats);
        total.add([out.totalLogLikelihood]);
        if (out.sumRespLogResp !== undefined) entropy.add([out.sumRespLogResp]);
      } finally {
        blocks.dispose();
      }
    });
    if (rows !== n) {
      throw new InvalidDataError(
        `the source yielded ${rows} rows in pass ${pass} but ${n} in pass 1; blocks() must yield the same rows on every pass`,
      );
    }
    return { stats: stats!, totalLogLikelihood: total.value, ...(at.entropy === true ? { sumRespLogResp: entropy.value } : {}) };
  };

  // ---- EM, one pass per iteration: the estimator's strategy in the engine's loop (and its M-step
  // fallback: a singular M-step is retried once with second moments about the current means, one more pass).
  // No rows are in memory: the priors take the data covariance of pass 1.
  const fit: FitData = {
    n,
    d,
    k,
    center,
    centered: new Float64Array(0),
    ctx,
    presetCovariances,
    // Not used: fitPasses does not apply the degeneracy rule (it needs the rows).
    degeneracyContext: { ...ctx, n: weightSum, regCovar: o.regCovar, dataVariance: new Float64Array(d), dataCovariance: new Float64Array(d * d) },
    sampleWeight: undefined,
    totalWeight: weightSum,
    ...(covariance === undefined ? {} : { dataCovariance: (what: string) => covariance.covariance(center, what, weighted === true) }),
  };
  try {
    await model.fitPasses(
      fit,
      (at, reference) => (reference === undefined ? statsPass(at, 'em') : statsPass(at, 'accurate-moments', reference)),
      start,
    );
  } finally {
    start?.dispose();
  }
  return model;
}

/** A failure of the source itself, with where the fit was; gmmkit errors (data errors with locations) pass through. */
function sourceError(error: unknown, pass: number, purpose: string, rows: number): Error {
  if (error instanceof GmmError) return error;
  const what =
    purpose === 'statistics'
      ? 'the statistics pass'
      : purpose === 'em'
        ? `EM pass ${pass - 1}`
        : 'the accurate-moments pass';
  const message = error instanceof Error ? error.message : String(error);
  return new Error(
    `fitStream: the row source failed in pass ${pass} (${what}) after ${rows} rows: ${message}`,
    { cause: error },
  );
}
