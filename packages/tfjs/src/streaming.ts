// Streaming EM: the fit of GaussianMixture over rows that are read again on
// every pass instead of held in memory. Built on the same accumulate/merge
// contract as the in-memory engine: each block of rows is uploaded, scored,
// reduced to sufficient statistics and disposed before the next is read.
import {
  AbortedError,
  GmmError,
  InvalidArgumentError,
  InvalidDataError,
  PluginRegistry,
  SingularCovarianceError,
  createRng,
  deriveSeed,
  tryCholesky,
  type CovarianceFamily,
  type MixtureParameters,
  type PluginContext,
  type SufficientStatistics,
} from '@gmmkit/core';
import { createGmmContainer } from './container.js';
import { emPass, uploadBlocks } from './engine.js';
import {
  GaussianMixture,
  MODEL_FORMAT,
  MODEL_VERSION,
  type GaussianMixtureConfig,
} from './gaussian-mixture.js';
import { currentBackend, initBackend, tf } from './runtime/index.js';
import type { GaussianMixtureJSON } from './types.js';

/**
 * Rows that can be read more than once: `blocks()` is called once per pass
 * and must yield the same rows in the same order every time, as row-major
 * [rows, d] Float64Array blocks (any number of rows per block, a multiple of d values).
 */
export interface RowSource {
  d: number;
  blocks(): AsyncIterable<Float64Array>;
}

export interface StreamFitOptions extends GaussianMixtureConfig {
  /** Rows kept (reservoir sample, seeded) for the initialization (default 10000). */
  sampleSize?: number;
  /** Called after each pass over the source: which pass (1-based), what it was for, and the rows read. */
  onPass?: (pass: number, purpose: 'statistics' | 'em' | 'accurate-moments', rows: number) => void;
}

/** Default reservoir size for the initialization sample. */
export const DEFAULT_SAMPLE_SIZE = 10_000;

/** Compensated float64 sum (as the engine's) of per-block totals. */
class Sum {
  private s = 0;
  private c = 0;
  add(x: number): void {
    const t = this.s + x;
    this.c += Math.abs(this.s) >= Math.abs(x) ? this.s - t + x : x - t + this.s;
    this.s = t;
  }
  get value(): number {
    return this.s + this.c;
  }
}

function positiveInteger(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new InvalidArgumentError(`${name} must be an integer >= 1, got ${String(value)}`);
  }
  return value;
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
 *   to the sample with the same options (initializer, nInit restarts, tol,
 *   maxIter, seed): restarts run on the sample only, and the streaming EM
 *   starts from the best one. When n <= sampleSize the sample is every row in
 *   order, so this is exactly the in-memory fit and the streaming passes only
 *   confirm it (usually 2 passes).
 * - Each EM iteration is one pass: E-step and sufficient statistics per
 *   block (float32 on the backend), merged in float64, then the family's
 *   M-step. Lower bound = total log-likelihood / n; stop when it changes by
 *   less than tol, as the in-memory fit. A singular M-step is retried once
 *   with second moments about the current means (one more pass), as the engine does.
 *
 * nIter, lowerBoundHistory and converged describe the streaming iterations
 * (passes over all rows); the sample fit is not counted. The result is a
 * normal GaussianMixture (built through fromJSON): predict, score, toJSON work.
 * `signal` is checked before every block (and by the sample fit); an abort
 * rejects with core's AbortedError and closes the source. `workers` applies
 * to the sample fit only: the passes run on the calling thread.
 */
export async function fitStream(source: RowSource, options: StreamFitOptions = {}): Promise<GaussianMixture> {
  const { sampleSize: sampleOpt, onPass, ...config } = options;
  // The GaussianMixture constructor validates every option (and resolves the family and initializer).
  const probe = new GaussianMixture(config);
  const family = probe.family;
  const container = config.container ?? createGmmContainer();
  new PluginRegistry(container).initializer(config.initParams ?? 'kmeans');
  const d = source.d;
  if (!Number.isInteger(d) || d < 1)
    throw new InvalidArgumentError(`source.d must be an integer >= 1, got ${String(d)}`);
  const sampleSize = positiveInteger('sampleSize', sampleOpt, DEFAULT_SAMPLE_SIZE);
  // Same defaults as GaussianMixture (types.ts).
  const k = config.nComponents ?? 1;
  const tol = config.tol ?? 1e-3;
  const regCovar = config.regCovar ?? 1e-6;
  const maxIter = config.maxIter ?? 100;
  const seed = config.seed ?? 0;
  if (config.meansInit !== undefined && config.meansInit[0]?.length !== d) {
    throw new InvalidArgumentError(
      `meansInit has ${config.meansInit[0]?.length ?? 0} features but the data has ${d}`,
    );
  }
  if (config.warmStart === true)
    throw new InvalidArgumentError(
      'warmStart is not supported by fitStream: pass weightsInit, meansInit and precisionsInit',
    );
  const presetCovariances =
    config.precisionsInit === undefined
      ? undefined
      : covariancesFromPrecisions(family, flatten(config.precisionsInit), k, d);

  await initBackend(config.backend ?? currentBackend(), container);
  const ctx: PluginContext = { tf, k, d };
  let pass = 0;

  /** One pass over the source, checking shapes and values; `visit` gets each block and the index of its first row. */
  const readPass = async (
    purpose: 'statistics' | 'em' | 'accurate-moments',
    visit: (block: Float64Array, rows: number, start: number) => void,
  ): Promise<number> => {
    pass++;
    let rows = 0;
    let iterable: AsyncIterable<Float64Array>;
    try {
      iterable = source.blocks();
    } catch (error) {
      throw sourceError(error, pass, purpose, rows);
    }
    const iterator = iterable[Symbol.asyncIterator]();
    try {
      for (;;) {
        // Checked between blocks: one pass over a large file can take long.
        if (config.signal?.aborted) throw new AbortedError('fit aborted');
        let step: IteratorResult<Float64Array>;
        try {
          step = await iterator.next();
        } catch (error) {
          throw sourceError(error, pass, purpose, rows);
        }
        if (step.done === true) break;
        const block = step.value;
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
        if (r === 0) continue;
        visit(block, r, rows);
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

  // ---- pass 1: n, column means, reservoir sample, finiteness
  const colSum = new Float64Array(d);
  const sample = new Float64Array(sampleSize * d);
  const reservoirRng = createRng(deriveSeed(seed, 0x5eed));
  const n = await readPass('statistics', (block, rows, start) => {
    for (let i = 0; i < rows; i++) {
      const g = start + i;
      for (let j = 0; j < d; j++) {
        const v = block[i * d + j]!;
        if (!Number.isFinite(v)) {
          throw new InvalidDataError(`non-finite value ${v} at row ${g + 1}, column ${j + 1}`, {
            row: g + 1,
            column: j + 1,
            value: String(v),
          });
        }
        colSum[j] += v;
      }
      // Algorithm R: the first sampleSize rows fill the reservoir in order, later row g replaces a slot with probability sampleSize/(g+1).
      const slot = g < sampleSize ? g : reservoirRng.int(g + 1);
      if (slot < sampleSize) sample.set(block.subarray(i * d, (i + 1) * d), slot * d);
    }
  });
  if (n === 0) throw new InvalidDataError('data is empty: no rows');
  if (k > n) throw new InvalidArgumentError(`nComponents=${k} must be <= the number of samples (${n})`);
  const center = colSum.map((s) => s / n);
  const sampleRows = Math.min(n, sampleSize);
  if (k > sampleRows)
    throw new InvalidArgumentError(`nComponents=${k} must be <= sampleSize (${sampleRows})`);

  // ---- initial parameters (centered coordinates)
  let params: MixtureParameters;
  if (config.weightsInit !== undefined && config.meansInit !== undefined && presetCovariances !== undefined) {
    params = {
      weights: Float64Array.from(config.weightsInit),
      means: Float64Array.from(config.meansInit.flat(), (v, i) => v - center[i % d]!),
      covariances: presetCovariances,
    };
  } else {
    const { onIteration: _unused, ...sampleConfig } = config;
    const warm = new GaussianMixture({ ...sampleConfig, container });
    await warm.fit({ data: sample.subarray(0, sampleRows * d), shape: [sampleRows, d] });
    const s = warm.state;
    params = {
      weights: Float64Array.from(s.weights),
      means: s.means.map((v, i) => v - center[i % d]!),
      covariances: Float64Array.from(s.covariances),
    };
  }

  /** One pass: E-step under `at` and the merged statistics (about `reference` when given). */
  const statsPass = async (
    at: MixtureParameters,
    purpose: 'em' | 'accurate-moments',
    reference?: Float64Array,
  ) => {
    let stats: SufficientStatistics | undefined;
    const total = new Sum();
    const rows = await readPass(purpose, (block, r) => {
      // A one-block RowBlocks: centered, uploaded, used, freed before the next block is read.
      const blocks = uploadBlocks(tf, block, r, d, center, r);
      try {
        const out = emPass(tf, family, at, blocks, ctx, reference);
        stats = stats === undefined ? out.stats : family.merge(stats, out.stats);
        total.add(out.totalLogLikelihood);
      } finally {
        blocks.dispose();
      }
    });
    if (rows !== n) {
      throw new InvalidDataError(
        `the source yielded ${rows} rows in pass ${pass} but ${n} in pass 1; blocks() must yield the same rows on every pass`,
      );
    }
    return { stats: stats!, totalLogLikelihood: total.value };
  };

  // ---- EM, one pass per iteration (runEm's loop)
  let lowerBound = -Infinity;
  const history: number[] = [];
  let converged = false;
  let nIter = 0;
  for (let iter = 1; iter <= maxIter; iter++) {
    const previous = lowerBound;
    const { stats, totalLogLikelihood } = await statsPass(params, 'em');
    lowerBound = totalLogLikelihood / n;
    if (!Number.isFinite(lowerBound)) {
      throw new SingularCovarianceError(
        `the log-likelihood became non-finite at iteration ${iter} with regCovar=${regCovar}; increase regCovar`,
      );
    }
    try {
      params = family.mStep(stats, regCovar, ctx);
    } catch (error) {
      // As the engine: redo the moments about the current means (no float32 cancellation) before giving up.
      if (!(error instanceof SingularCovarianceError) || stats.reference !== undefined) throw error;
      const accurate = (await statsPass(params, 'accurate-moments', params.means)).stats;
      if (accurate.reference === undefined) throw error;
      params = family.mStep(accurate, regCovar, ctx);
    }
    nIter = iter;
    history.push(lowerBound);
    config.onIteration?.(iter, lowerBound);
    if (Math.abs(lowerBound - previous) < tol) {
      converged = true;
      break;
    }
  }

  const means: number[][] = [];
  for (let j = 0; j < k; j++)
    means.push(Array.from({ length: d }, (_, c) => params.means[j * d + c]! + center[c]!));
  const json: GaussianMixtureJSON = {
    format: MODEL_FORMAT,
    version: MODEL_VERSION,
    covarianceType: family.name,
    k,
    d,
    weights: Array.from(params.weights),
    means,
    covariances: { shape: family.covarianceShape(k, d), values: Array.from(params.covariances) },
    converged,
    nIter,
    lowerBound,
    lowerBoundHistory: history,
    nSamples: n,
    options: {
      tol,
      regCovar,
      maxIter,
      nInit: config.nInit ?? 1,
      initParams: config.initParams ?? 'kmeans',
      seed,
    },
  };
  return GaussianMixture.fromJSON(json, {
    container,
    ...(config.backend === undefined ? {} : { backend: config.backend }),
  });
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

function flatten(value: unknown): Float64Array {
  const out: number[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) for (const e of v) walk(e);
    else if (typeof v === 'number' && Number.isFinite(v)) out.push(v);
    else throw new InvalidArgumentError(`precisionsInit must contain only finite numbers, got ${String(v)}`);
  };
  walk(value);
  return Float64Array.from(out);
}

/**
 * precisionsInit (the family's layout) to covariances, as GaussianMixture does
 * (its helper is private): [d, d] blocks are factored by Cholesky, other layouts hold precisions element-wise.
 */
function covariancesFromPrecisions(
  family: CovarianceFamily,
  precisions: Float64Array,
  k: number,
  d: number,
): Float64Array {
  const shape = family.covarianceShape(k, d);
  const size = shape.reduce((a, b) => a * b, 1);
  if (precisions.length !== size) {
    throw new InvalidArgumentError(
      `precisionsInit for '${family.name}' must have shape [${shape.join(', ')}] (${size} values), got ${precisions.length} values`,
    );
  }
  const probe = family.covarianceShape(2, 3);
  const matrixBlocks = probe.length >= 2 && probe[probe.length - 1] === 3 && probe[probe.length - 2] === 3;
  let factors: Float64Array;
  if (matrixBlocks) {
    factors = new Float64Array(precisions.length);
    for (let j = 0; j < precisions.length / (d * d); j++) {
      const l = tryCholesky(precisions.subarray(j * d * d, (j + 1) * d * d), d);
      if (l === null)
        throw new InvalidArgumentError(`precisionsInit matrix ${j + 1} is not positive definite`);
      factors.set(l, j * d * d);
    }
  } else {
    factors = precisions.map((p) => {
      if (!(p > 0)) throw new InvalidArgumentError(`precisionsInit values must be > 0, got ${p}`);
      return Math.sqrt(p);
    });
  }
  return family.covariancesFromPrecisionsCholesky(factors, k, d);
}
