import {
  InvalidArgumentError,
  InvalidDataError,
  ModelFormatError,
  NotFittedError,
  PluginRegistry,
  SingularCovarianceError,
  compensatedSum,
  createRng,
  deriveSeed,
  shareable,
  shareableFloat64Array,
  symmetricEigenvalues,
  tryCholesky,
  type Container,
  type CovarianceFamily,
  type DegeneracyContext,
  type InitialGuess,
  type Initializer,
  type InitializerInput,
  type MixtureParameters,
  type PluginContext,
  type Responsibilities,
  type SufficientStatistics,
} from '@gmmkit/core';
import { builtinPlugins, createGmmContainer } from './container.js';
import { BLOCK_CACHE_BYTES } from './covariance/common.js';
import { centerAndSummarize, degeneracyContextFor } from './covariance/degeneracy.js';
import { reseedResponsibilities, responsibilities } from './reseed.js';
import { checkObserved, columnMeans, toMatrix, type Matrix } from './data.js';
import {
  DEFAULT_CHUNK_SIZE,
  fitChunkRows,
  assignedMeans,
  hostStatistics,
  checkSampleWeight,
  exactPass,
  imputeRows,
  localPass,
  maximumLikelihood,
  runStrategy,
  statsFromResponsibilities,
  throwIfAborted,
  uploadBlocks,
  uploadCentered,
  deferredUpload,
  lazyRowsTensor,
  rowsTensor,
  scorePass,
  rowLogSumExp,
  weightedLogProb,
  type DegenerateMode,
  type EStepParameters,
  type EmResult,
  type EmSettings,
  type EmStrategy,
  type PassFn,
  type RowBlocks,
} from './engine.js';
import { arrayShape, numberOption, rejectUnknownOptions, shapedArray } from './options.js';
import { builtinBackends, currentBackend, initBackend, tf } from './runtime/index.js';
import { maximumAPosteriori, resolvePrior, validatePrior, type PriorOption } from './prior.js';
import { ShardPool, resolveWorkerCount, shardWorkersAvailable } from './sharded.js';
import { CALLING_THREAD_SHARD } from '#tfjs-platform';
import type { FitCache } from './fit-cache.js';
import type { BackendName, DataInput, FitOptions, FittedState, TrainingScore, GaussianMixtureJSON, GaussianMixtureOptions } from './types.js';

export type { Matrix } from './data.js';

/** Options of GaussianMixture plus the backend to run on. */
export interface GaussianMixtureConfig extends GaussianMixtureOptions {
  /** Backend (default: the one already initialized, else GMM_BACKEND, else 'auto'). */
  backend?: BackendName;
}

/** Spacing of float32 numbers at 1 (2^-23). */
const FLOAT32_EPSILON = 2 ** -23;

/** GaussianMixtureOptions.reseeds: re-seeds per restart under degenerate: 'reject' (docs/degenerate-solutions.md: 3 was measured). */
export const DEFAULT_RESEEDS = 3;

export const MODEL_FORMAT = 'gmmkit.gaussian-mixture';
export const MODEL_VERSION = 1;

/** GaussianMixtureOptions validated, with scikit-learn's defaults filled in (shared with fitStream). */
export interface ResolvedOptions {
  k: number;
  covarianceType: string;
  tol: number;
  regCovar: number;
  maxIter: number;
  nInit: number;
  initParams: string;
  seed: number;
  warmStart: boolean;
  /** undefined: fitChunkRows(k, d) for fits, DEFAULT_CHUNK_SIZE for scoring. */
  chunkSize: number | undefined;
  weightsInit: Float64Array | undefined;
  meansInit: Float64Array | undefined;
  meansInitD: number | undefined;
  precisionsInit: Float64Array | undefined;
  /** Shape of precisionsInit as given (checked against the family's layout once d is known). */
  precisionsInitShape: number[] | undefined;
  convergenceWarning: boolean;
  onIteration: ((iteration: number, lowerBound: number) => void) | undefined;
  backend: BackendName | undefined;
  workers: number | 'auto';
  callingThread: boolean;
  plugins: readonly string[];
  signal: AbortSignal | undefined;
  prior: PriorOption | undefined;
  degenerate: DegenerateMode;
  reseeds: number;
  missing: 'error' | 'marginalize';
}

export function integerAtLeast(name: string, value: unknown, min: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new InvalidArgumentError(`${name} must be an integer >= ${min}, got ${String(value)}`);
  }
  return value;
}

/**
 * Every option of GaussianMixture, as the keys of an object the compiler
 * checks against GaussianMixtureConfig (a new option that is not added here
 * does not compile); BayesianGaussianMixture derives its names from it.
 */
export const OPTION_KEYS = {
  nComponents: true,
  covarianceType: true,
  tol: true,
  regCovar: true,
  maxIter: true,
  nInit: true,
  initParams: true,
  weightsInit: true,
  meansInit: true,
  precisionsInit: true,
  seed: true,
  warmStart: true,
  convergenceWarning: true,
  onIteration: true,
  container: true,
  chunkSize: true,
  workers: true,
  callingThread: true,
  plugins: true,
  signal: true,
  backend: true,
  prior: true,
  degenerate: true,
  reseeds: true,
  missing: true,
} as const satisfies Record<keyof GaussianMixtureConfig, true>;

/** Every option name GaussianMixture accepts. */
export const OPTION_NAMES: readonly string[] = Object.keys(OPTION_KEYS);

export function resolveOptions(o: GaussianMixtureConfig): ResolvedOptions {
  if (typeof o !== 'object' || o === null) throw new InvalidArgumentError('options must be an object');
  rejectUnknownOptions(o, OPTION_NAMES, 'GaussianMixture');
  const k = numberOption('nComponents', o.nComponents, 1);
  let weightsInit: Float64Array | undefined;
  if (o.weightsInit !== undefined) {
    weightsInit = shapedArray('weightsInit', o.weightsInit, [k], `one weight per component, nComponents=${k}`);
    let s = 0;
    for (const w of weightsInit) {
      if (w < 0 || w > 1) throw new InvalidArgumentError(`weightsInit values must be in [0, 1], got ${w}`);
      s += w;
    }
    if (Math.abs(s - 1) > 1e-6) throw new InvalidArgumentError(`weightsInit must sum to 1, got ${s}`);
  }
  let meansInit: Float64Array | undefined;
  let meansInitD: number | undefined;
  if (o.meansInit !== undefined) {
    const shape = arrayShape('meansInit', o.meansInit);
    if (shape.length !== 2 || shape[0] !== k || shape[1]! < 1) {
      throw new InvalidArgumentError(`meansInit must have shape [${k}, d] (nComponents=${k} rows of d >= 1 features), got shape [${shape.join(', ')}]`);
    }
    meansInitD = shape[1]!;
    meansInit = Float64Array.from(o.meansInit.flat());
  }
  let precisionsInit: Float64Array | undefined;
  let precisionsInitShape: number[] | undefined;
  if (o.precisionsInit !== undefined) {
    precisionsInitShape = arrayShape('precisionsInit', o.precisionsInit);
    precisionsInit = Float64Array.from((o.precisionsInit as unknown[]).flat(precisionsInitShape.length) as number[]);
  }
  if (o.warmStart !== undefined && typeof o.warmStart !== 'boolean') throw new InvalidArgumentError(`warmStart must be a boolean, got ${String(o.warmStart)}`);
  if (o.convergenceWarning !== undefined && typeof o.convergenceWarning !== 'boolean') {
    throw new InvalidArgumentError(`convergenceWarning must be a boolean, got ${String(o.convergenceWarning)}`);
  }
  if (o.onIteration !== undefined && typeof o.onIteration !== 'function') throw new InvalidArgumentError('onIteration must be a function');
  const workers = o.workers ?? 'auto';
  if (workers !== 'auto' && (typeof workers !== 'number' || !Number.isInteger(workers) || workers < 0)) {
    throw new InvalidArgumentError(`workers must be 'auto' or an integer >= 0, got ${String(workers)}`);
  }
  if (o.callingThread !== undefined && typeof o.callingThread !== 'boolean') {
    throw new InvalidArgumentError(`callingThread must be a boolean, got ${String(o.callingThread)}`);
  }
  const plugins = o.plugins ?? [];
  if (!Array.isArray(plugins) || plugins.some((p) => typeof p !== 'string' || p === '')) {
    throw new InvalidArgumentError('plugins must be an array of non-empty module specifiers');
  }
  if (o.signal !== undefined && (typeof o.signal !== 'object' || o.signal === null || typeof o.signal.aborted !== 'boolean')) {
    throw new InvalidArgumentError('signal must be an AbortSignal');
  }
  const degenerate = o.degenerate ?? 'reject';
  if (degenerate !== 'reject' && degenerate !== 'warn' && degenerate !== 'allow') {
    throw new InvalidArgumentError(`degenerate must be 'reject', 'warn' or 'allow', got ${String(degenerate)}`);
  }
  const covarianceType = o.covarianceType ?? 'full';
  const missing = o.missing ?? 'error';
  if (missing !== 'error' && missing !== 'marginalize')
    throw new InvalidArgumentError(`missing must be 'error' or 'marginalize', got ${JSON.stringify(missing)}`);
  return {
    k,
    covarianceType,
    tol: numberOption('tol', o.tol, 1e-3),
    regCovar: numberOption('regCovar', o.regCovar, 1e-6),
    maxIter: numberOption('maxIter', o.maxIter, 100),
    nInit: numberOption('nInit', o.nInit, 1),
    initParams: o.initParams ?? 'kmeans',
    seed: numberOption('seed', o.seed, 0),
    warmStart: o.warmStart ?? false,
    chunkSize: o.chunkSize === undefined ? undefined : numberOption('chunkSize', o.chunkSize, DEFAULT_CHUNK_SIZE),
    weightsInit,
    meansInit,
    meansInitD,
    precisionsInit,
    precisionsInitShape,
    convergenceWarning: o.convergenceWarning ?? true,
    onIteration: o.onIteration,
    backend: o.backend,
    workers,
    callingThread: o.callingThread ?? CALLING_THREAD_SHARD,
    plugins: [...plugins],
    signal: o.signal,
    prior: validatePrior(o.prior, covarianceType),
    degenerate,
    reseeds: numberOption('reseeds', o.reseeds, DEFAULT_RESEEDS),
    missing,
  };
}

const product = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/**
 * Precisions in the family's layout (scikit-learn's precisions_init) to
 * covariances: layouts ending in [d, d] blocks (full, tied) are factored by
 * Cholesky; any other layout (diag, spherical, ...) holds precisions element-wise.
 */
export function covariancesFromPrecisions(
  family: CovarianceFamily,
  precisions: Float64Array,
  given: readonly number[],
  k: number,
  d: number,
): Float64Array {
  const shape = family.covarianceShape(k, d);
  if (given.length !== shape.length || given.some((v, i) => v !== shape[i])) {
    throw new InvalidArgumentError(
      `precisionsInit for '${family.name}' must have shape [${shape.join(', ')}] with nComponents=${k} and ${d} features, got shape [${given.join(', ')}]`,
    );
  }
  let factors: Float64Array;
  // Probe the layout at k=2, d=3 so a [k, d] layout is never mistaken for [d, d] blocks when k == d.
  const probe = family.covarianceShape(2, 3);
  const matrixBlocks = probe.length >= 2 && probe[probe.length - 1] === 3 && probe[probe.length - 2] === 3;
  if (matrixBlocks) {
    const count = precisions.length / (d * d);
    factors = new Float64Array(precisions.length);
    for (let j = 0; j < count; j++) {
      const l = tryCholesky(precisions.subarray(j * d * d, (j + 1) * d * d), d);
      if (l === null) throw new InvalidArgumentError(`precisionsInit matrix ${j + 1} is not positive definite`);
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

/** Index of the maximum of row i of a [n, k] matrix. */
function argmaxRow(v: Float64Array, i: number, k: number): number {
  let best = 0;
  for (let j = 1; j < k; j++) if (v[i * k + j]! > v[i * k + best]!) best = j;
  return best;
}

/** What one fit hands the estimator's hooks (engine coordinates: the rows minus their column means). */
export interface FitData {
  n: number;
  d: number;
  k: number;
  /** Column means of the training rows, [d]. */
  center: Float64Array;
  /** The training rows minus `center`, float64 [n, d]. */
  centered: Float64Array;
  ctx: PluginContext;
  /** Covariances from options.precisionsInit, in the family's layout (GaussianMixture only). */
  presetCovariances: Float64Array | undefined;
  /** What CovarianceFamily.degeneracy is told about this data (n = Σ w, weighted data moments). */
  degeneracyContext: DegeneracyContext;
  /** fit's sampleWeight [n] (frequency weights; undefined: every row counts once). */
  sampleWeight: Float64Array | undefined;
  /** Σ_i w_i (n when unweighted): the number of observations the rows stand for, the n of the lower bound. */
  totalWeight: number;
  /**
   * The rows' covariance (ddof 1, weighted: prior.ts dataCovariance) when they
   * are not in `centered` (fitStream), the default priors' scale; throws, naming
   * `what` needs it, when there are too few rows.
   */
  dataCovariance?: (what: string) => Float64Array;
  /** FitOptions.cache: guesses of reusable initializers kept across fits of these rows. */
  cache?: FitCache | undefined;
}

/** The warning of an EM run that hit maxIter (none for maxIter 0: nothing was iterated). */
export function convergenceMessage(nIter: number, tol: number): string {
  return `EM did not converge in ${nIter} iterations (tol ${tol}): raise maxIter or tol, or check the data and initialization`;
}

/**
 * scikit-learn's ConvergenceWarning, as a Node warning (`process.on('warning')`
 * sees it; name 'ConvergenceWarning'); `convergenceWarning: false` silences it.
 * Outside Node it goes to console.warn.
 */
export function warnIfNotConverged(o: Pick<ResolvedOptions, 'convergenceWarning' | 'tol'>, run: Pick<EmResult<unknown>, 'converged' | 'nIter'>): void {
  if (run.converged || run.nIter === 0 || !o.convergenceWarning) return;
  const message = convergenceMessage(run.nIter, o.tol);
  const proc = (globalThis as { process?: { emitWarning?: (message: string, type: string) => void } }).process;
  if (typeof proc?.emitWarning === 'function') proc.emitWarning(message, 'ConvergenceWarning');
  else console.warn(`ConvergenceWarning: ${message}`);
}

/**
 * What every mixture estimator shares, as scikit-learn's BaseMixture: the
 * fit (data upload, shard workers, nInit restarts from the initializer, warm
 * start, keeping the best lower bound) around the one EM loop of engine.ts,
 * and prediction, scoring and sampling from the fitted state. A subclass
 * gives the EM steps (an EmStrategy over its state P, in centered
 * coordinates) and how P maps to and from its fitted state S.
 */
export abstract class BaseMixture<P, S extends FittedState = FittedState> {
  readonly options: Readonly<GaussianMixtureConfig>;
  readonly container: Container;
  protected readonly o: ResolvedOptions;
  protected readonly _family: CovarianceFamily;
  protected readonly initializer: Initializer;
  protected _state: S | undefined;
  private _trainingScore: TrainingScore | undefined;

  /** The estimator's E-step, M-step and lower bound for one fit. */
  protected abstract strategy(fit: FitData): EmStrategy<P>;
  /** The initial state of one restart from the statistics of the initial responsibilities and the initializer's guess. */
  protected abstract initialState(strategy: EmStrategy<P>, stats: SufficientStatistics, guess: InitialGuess, fit: FitData): P;
  /** The initial state when the options give everything (no initializer runs), else undefined. */
  protected abstract presetState(fit: FitData): P | undefined;
  /** The fitted state as the initial state of a warm-started fit. */
  protected abstract warmState(fit: FitData): P;
  /** The fitted state (original units) from the best restart. */
  protected abstract fittedState(best: EmResult<P>, fit: FitData): S;
  /** What the fitted model scores rows under, in coordinates centered at `center` (predict, score). */
  protected abstract scoringParameters(center: Float64Array): EStepParameters;

  constructor(options: GaussianMixtureConfig = {}) {
    this.options = { ...options };
    this.o = resolveOptions(options);
    this.container = options.container ?? createGmmContainer();
    const registry = new PluginRegistry(this.container);
    this._family = registry.covarianceFamily(this.o.covarianceType);
    this.initializer = registry.initializer(this.o.initParams);
  }

  get isFitted(): boolean {
    return this._state !== undefined;
  }

  /** The fitted state (original units, float64). Throws NotFittedError before fit(). */
  get state(): S {
    if (this._state === undefined) throw new NotFittedError('state');
    return this._state;
  }

  get family(): CovarianceFamily {
    return this._family;
  }

  /** The last fit's training rows scored under the fitted model, when it was called with `score: true` (else undefined). */
  get trainingScore(): TrainingScore | undefined {
    return this._trainingScore;
  }

  /**
   * Fits the model to X [n, d]: nInit EM runs, keeping the best lower bound.
   * `sampleWeight` [n] (finite, >= 0, not all zero) are frequency weights: a
   * row of weight w counts as w copies of it in the initializer, every
   * M-step and the lower bound (Σ_i w_i log p(x_i) / Σ_i w_i).
   */
  async fit(X: DataInput, fitOptions: FitOptions = {}): Promise<this> {
    this._trainingScore = undefined;
    // Borrowed, not copied: fit only reads the rows (to center them); so do predict and score (onBlocks).
    const m = this.matrix(X, true);
    if (this.o.missing === 'marginalize') {
      checkObserved(m, true);
      if (this._family.secondFromFull === undefined && m.data.some(Number.isNaN))
        throw new InvalidArgumentError(`covariance family '${this._family.name}' does not support missing: 'marginalize' (it has no secondFromFull)`);
    }
    const { k } = this.o;
    const { rows: n, cols: d } = m;
    // Argument checks before any tensor work.
    const sampleWeight = fitOptions.sampleWeight === undefined ? undefined : checkSampleWeight(fitOptions.sampleWeight, n);
    if (k > n) throw new InvalidArgumentError(`nComponents=${k} must be <= the number of samples (${n})`);
    fitOptions.cache?.bind(m.data, n, d, sampleWeight);
    if (sampleWeight !== undefined) {
      const positive = sampleWeight.reduce((c, w) => c + (w > 0 ? 1 : 0), 0);
      if (k > positive) throw new InvalidArgumentError(`nComponents=${k} must be <= the number of rows with a positive sampleWeight (${positive})`);
    }
    if (this.o.meansInitD !== undefined && this.o.meansInitD !== d) {
      throw new InvalidArgumentError(`meansInit has ${this.o.meansInitD} features but the data has ${d}`);
    }
    const warm = this.o.warmStart && this._state !== undefined;
    if (warm && this._state!.d !== d) {
      throw new InvalidArgumentError(`warmStart: the model was fitted with ${this._state!.d} features but the data has ${d}`);
    }
    const presetCovariances =
      this.o.precisionsInit === undefined
        ? undefined
        : covariancesFromPrecisions(this._family, this.o.precisionsInit, this.o.precisionsInitShape!, k, d);

    const { signal } = this.o;
    throwIfAborted(signal);
    // The backend already initialized wins over GMM_BACKEND unless one is named explicitly.
    const backend = await initBackend(this.o.backend ?? currentBackend(), this.container);
    const ctx: PluginContext = { tf, k, d };
    const center = fitOptions.cache === undefined ? columnMeans(m, sampleWeight) : fitOptions.cache.center(() => columnMeans(m, sampleWeight));
    // Shards beyond one thread: worker threads, and with callingThread this thread as one of them.
    const chunkSize = this.o.chunkSize ?? fitChunkRows(k, d);
    const shards = this.workerCount(backend.name, n, d, chunkSize);
    const callingThread = shards > 1 && this.o.callingThread;
    const nWorkers = callingThread ? shards - 1 : shards;
    // Shared memory when sharded: workers read the centered rows (and weights) without a copy.
    const shared = nWorkers > 0;
    // What the degeneracy rules read of the rows: kept across fits by a FitCache, else made in the pass that centers them.
    const summaries = fitOptions.cache?.summaries ?? {};
    const centerData = (): Float64Array => {
      const out = shared ? shareableFloat64Array(n * d) : new Float64Array(n * d);
      const made = centerAndSummarize(m.data, n, d, center, out, sampleWeight);
      if (made !== undefined) {
        summaries.moments ??= made.moments;
        summaries.resolutionBound ??= made.resolutionBound;
      }
      return out;
    };
    const centered = fitOptions.cache === undefined ? centerData() : fitOptions.cache.centered(center, shared, centerData);
    const weights = sampleWeight === undefined || nWorkers === 0 ? sampleWeight : shareable(sampleWeight);
    // With shard workers doing the passes this thread uploads its blocks only if it needs them (deferredUpload).
    const blocks = (nWorkers === 0 ? uploadCentered : deferredUpload)(tf, centered, n, d, chunkSize, BLOCK_CACHE_BYTES, weights);
    // Workers start (backend, upload) while the initializer runs here.
    const starting =
      nWorkers === 0
        ? undefined
        : ShardPool.start({
            data: centered,
            sampleWeight: weights,
            n,
            d,
            k,
            chunkSize,
            workers: nWorkers,
            callingThread,
            backend: backend.name,
            family: this._family,
            plugins: this.o.plugins,
            signal,
          });
    starting?.catch(() => undefined); // awaited below; not an unhandled rejection meanwhile
    try {
      // blocks.hostData: the centered rows with missing cells at 0, the column mean (what the
      // initializer and the first M-step see); the same array as `centered` when nothing is missing.
      // The degeneracy rules count Σ w rows and take the data's scale from the observed cells (weighted).
      const totalWeight = blocks.totalWeight;
      const degeneracyContext = degeneracyContextFor({ ...ctx, n: totalWeight, regCovar: this.o.regCovar }, centered, n, d, weights, summaries);
      const fit: FitData = {
        n,
        d,
        k,
        center,
        centered: blocks.hostData,
        ctx,
        presetCovariances,
        degeneracyContext,
        sampleWeight: weights,
        totalWeight,
        cache: fitOptions.cache,
      };
      // The pool, once started (undefined: this thread).
      let pool: ShardPool | undefined;
      let waited = starting === undefined;
      const ready = async (): Promise<ShardPool | undefined> => {
        if (!waited) {
          waited = true;
          try {
            pool = await starting;
          } catch (error) {
            // 'auto' is an optimization: if workers cannot start, fit here; an explicit count reports why.
            if (this.o.workers !== 'auto' || signal?.aborted) throw error;
          }
        }
        return pool;
      };
      const respStats = async (r: Responsibilities): Promise<SufficientStatistics> => {
        const shards = await ready();
        if (shards === undefined) return statsFromResponsibilities(tf, this._family, blocks, r, ctx);
        return shards.statsFromResponsibilities(r, assignedMeans(r, blocks.hostData, n, d, k, weights));
      };
      const pass = async (): Promise<PassFn> => {
        const shards = await ready();
        return shards === undefined ? localPass(tf, this._family, blocks, ctx) : (p, r) => shards.pass(p, r);
      };
      await this.fitRestarts(fit, { blocks, fit }, pass, respStats, (p) => exactPass(tf, this._family, p, blocks, ctx), warm);
      if (fitOptions.score === true) {
        // The fitted model in the blocks' coordinates (centered at `center`), scored over the blocks the passes used.
        const params = this.scoringParameters(center);
        const shards = await ready();
        const s = shards === undefined ? scorePass(tf, this._family, params, blocks, ctx) : await shards.score(params);
        this._trainingScore = { logLikelihood: s.totalLogLikelihood, entropy: -s.sumRespLogResp };
      }
    } finally {
      blocks.dispose();
      if (starting !== undefined) await starting.then((pool) => pool.close(), () => undefined);
    }
    return this;
  }

  /**
   * The nInit restarts of one fit around the EM loop (or the one warm-started
   * run), for any driver: `rows` is what the initializer sees (all of `fit`'s
   * rows, as fit() passes, or a sample of them with its own FitData, as
   * @gmmkit/distributed passes), `pass` gives the pass over all of `fit`'s
   * rows for the next restart (this thread, shard workers, other machines),
   * `respStats` the statistics over all rows of the initializer's
   * responsibilities over `rows`, and `exact` the M-step fallback's float64
   * pass (EmSettings.exactPass). Keeps the best restart (healthy first under
   * degenerate: 'reject'), drops restarts singular even in float64 (a
   * warning; the fit fails only when all are) and sets the fitted state.
   */
  async fitRestarts(
    fit: FitData,
    rows: { blocks: RowBlocks; fit: FitData },
    pass: () => PassFn | Promise<PassFn>,
    respStats: (r: Responsibilities) => Promise<SufficientStatistics>,
    exact: EmSettings['exactPass'],
    warm = false,
  ): Promise<this> {
    const strategy = this.strategy(fit);
    const nInit = warm ? 1 : this.o.nInit;
    const settings: EmSettings = { ...this.o, exactPass: exact };
    let best: EmResult<P> | undefined;
    // every restart's result, for Initializer.refine's `others`
    const restarts: EmResult<P>[] = [];
    const dropped: string[] = [];
    let lastError: SingularCovarianceError | undefined;
    // InitializerInput.shortEm: a few iterations of this loop from a guess; a guess the initializer
    // returns after its short run continues from where that run stopped.
    const shortRuns = new Map<InitialGuess, EmResult<P>>();
    const shortEm = async (guess: InitialGuess, maxIter: number, tol = settings.tol): Promise<number> => {
      try {
        const init = await this.stateFromGuess(guess, rows.fit, strategy, respStats);
        const short = { ...settings, maxIter: Math.min(maxIter, settings.maxIter), tol: Math.min(tol, settings.tol) };
        const run = await runStrategy(strategy, await pass(), init, short);
        if (run.degeneracy !== undefined && this.o.degenerate === 'reject') return -Infinity;
        shortRuns.set(guess, run);
        return run.lowerBound;
      } catch (error) {
        if (!(error instanceof SingularCovarianceError)) throw error;
        return -Infinity;
      }
    };
    for (let restart = 0; restart < nInit; restart++) {
      throwIfAborted(this.o.signal);
      shortRuns.clear();
      let result: EmResult<P>;
      try {
        // A warm start measures its first change from the last fit's bound (scikit-learn's fit_predict), a continued short run from its own.
        const { init, previousLowerBound } = warm
          ? { init: this.warmState(fit), previousLowerBound: this._state!.lowerBound }
          : await this.initialParameters(rows.blocks, rows.fit, strategy, restart, respStats, shortEm, shortRuns);
        result = await runStrategy(strategy, await pass(), init, settings, previousLowerBound);
        result = await this.reseeded(result, strategy, rows, pass, respStats, settings);
      } catch (error) {
        if (!(error instanceof SingularCovarianceError)) throw error;
        lastError = error;
        dropped.push(`restart ${restart + 1} of ${nInit} was dropped: ${error.message}`);
        continue;
      }
      // As scikit-learn, the first restart always counts; `converged` is the kept restart's own flag
      // (scikit-learn reports the last restart's). Under 'reject' a healthy restart beats any degenerate one.
      restarts.push(result);
      if (best === undefined || betterRestart(result, best, this.o.degenerate)) best = result;
    }
    if (best === undefined) {
      const message = nInit === 1 ? lastError!.message : `all ${nInit} restarts failed; the last: ${lastError!.message}`;
      throw new SingularCovarianceError(message, { cause: lastError });
    }
    if (!warm && this.initializer.refine !== undefined && this.presetState(rows.fit) === undefined) {
      best = await this.refineBest(best, restarts, rows, strategy, settings, pass, shortEm, shortRuns, nInit);
    }
    this._state = this.fittedState(best, fit);
    if (best.degeneracy !== undefined) this._state.degeneracy = best.degeneracy.reason;
    if (dropped.length > 0) this._state.droppedRestarts = dropped;
    // A restart that 'reject' ended at a degenerate M-step did not fail to converge: its warning says why it stopped.
    if (best.degeneracy === undefined || this.o.degenerate !== 'reject') warnIfNotConverged(this.o, best);
    return this;
  }

  /**
   * Under degenerate: 'reject', a restart whose component degenerated goes on
   * from re-seeded responsibilities (reseedResponsibilities: the heaviest
   * component split in two along its main axis, one half taking the
   * degenerate component's place), up to `reseeds` times and within the
   * restart's maxIter; it ends degenerate, as before, when the budget is
   * spent, the degeneracy is of a shared covariance (no component to
   * re-seed) or the re-seeded start is singular. Each re-seed starts a new EM
   * run (onIteration counts from 1 again); the result's nIter and history are
   * the last run's.
   */
  private async reseeded(
    result: EmResult<P>,
    strategy: EmStrategy<P>,
    rows: { blocks: RowBlocks; fit: FitData },
    pass: () => PassFn | Promise<PassFn>,
    respStats: (r: Responsibilities) => Promise<SufficientStatistics>,
    settings: EmSettings,
  ): Promise<EmResult<P>> {
    if (this.o.degenerate !== 'reject') return result;
    const { blocks, fit } = rows;
    let spent = result.nIter;
    // one [n, k] buffer for every re-seed: its log-probabilities, then (in place) its responsibilities
    let buffer: Float64Array | undefined;
    for (let left = this.o.reseeds; left > 0; left--) {
      const component = result.degeneracy?.component;
      const budget = settings.maxIter - spent;
      if (component === undefined || budget <= 0) break;
      const logProb = (buffer = weightedLogProb(tf, this._family, strategy.eStep(result.params), blocks, fit.ctx, buffer));
      const resp = reseedResponsibilities(logProb, fit.centered, fit.n, fit.d, fit.k, component, fit.sampleWeight);
      if (resp === undefined) break;
      let next: EmResult<P>;
      try {
        const init = await this.stateFromGuess({ kind: 'responsibilities', resp }, fit, strategy, respStats);
        next = await runStrategy(strategy, await pass(), init, { ...settings, maxIter: budget });
      } catch (error) {
        if (!(error instanceof SingularCovarianceError)) throw error;
        break;
      }
      // a new EM run from the re-seeded start: its nIter and history are the result's (as a restart's), the budget is shared
      result = next;
      spent += next.nIter;
    }
    return result;
  }

  /**
   * Initializer.refine's stage after the restarts: from the best restart's
   * state (stood for by a guess of its responsibilities), the initializer's
   * moves run through shortEm; EM continues from the guess it returns, and
   * the result replaces `best` only when betterRestart says so. The other
   * `restarts` are offered as RefineInput.others, their guesses built on
   * demand.
   */
  private async refineBest(
    best: EmResult<P>,
    restarts: EmResult<P>[],
    rows: { blocks: RowBlocks; fit: FitData },
    strategy: EmStrategy<P>,
    settings: EmSettings,
    pass: () => PassFn | Promise<PassFn>,
    shortEm: NonNullable<InitializerInput['shortEm']>,
    shortRuns: Map<InitialGuess, EmResult<P>>,
    nInit: number,
  ): Promise<EmResult<P>> {
    throwIfAborted(this.o.signal);
    const { n, d, k, centered, ctx } = rows.fit;
    shortRuns.clear();
    const logProbOf = (run: EmResult<P>): Float64Array => weightedLogProb(tf, this._family, strategy.eStep(run.params), rows.blocks, ctx);
    const cache = new Map<InitialGuess, Float64Array>();
    // A guess standing for a converged run: its responsibilities, the run and its E-step registered for shortEm's continuation and weightedLogProb.
    const standFor = (run: EmResult<P>): InitialGuess => {
      const lp = logProbOf(run);
      const guess: InitialGuess = { kind: 'responsibilities', resp: responsibilities(lp, n, k) };
      shortRuns.set(guess, run);
      cache.set(guess, lp);
      return guess;
    };
    const start = standFor(best);
    const others = distinctOthers(best, restarts, settings.tol, this.o.degenerate).map((run) => {
      let guess: InitialGuess | undefined;
      return { lowerBound: run.lowerBound, start: () => (guess ??= standFor(run)) };
    });
    const weightedLogProbOf = (guess: InitialGuess): Float64Array | undefined => {
      const run = shortRuns.get(guess);
      if (run === undefined) return undefined;
      const cached = cache.get(guess);
      if (cached !== undefined) return cached;
      const lp = logProbOf(run);
      cache.set(guess, lp);
      return lp;
    };
    // The contract hands initializers all rows as one tensor [n, d]; it lives only for this call.
    const { x, dispose } = rowsTensor(tf, rows.blocks);
    let chosen: InitialGuess;
    try {
      chosen = await this.initializer.refine!({
        tf, x, data: centered, n, d, k,
        rng: createRng(deriveSeed(this.o.seed, nInit)),
        weights: rows.blocks.sampleWeight,
        shortEm,
        start,
        lowerBound: best.lowerBound,
        tol: settings.tol,
        weightedLogProb: weightedLogProbOf,
        others,
      });
    } finally {
      dispose();
    }
    throwIfAborted(this.o.signal);
    const continued = chosen === start ? undefined : shortRuns.get(chosen);
    if (continued === undefined) return best;
    try {
      const result = await runStrategy(strategy, await pass(), continued.params, settings, continued.lowerBound);
      return betterRestart(result, best, this.o.degenerate) ? result : best;
    } catch (error) {
      if (!(error instanceof SingularCovarianceError)) throw error;
      return best;
    }
  }

  /**
   * One EM run of this estimator's strategy over rows that are not in memory
   * (fitStream's passes), from `start`'s fitted state (a fit of the same
   * estimator to a sample of the rows) or, without it, from the options'
   * weightsInit, meansInit and precisionsInit; sets the fitted state. `fit`
   * describes all rows (`centered` may be empty; then `dataCovariance` is what
   * the default priors use). The degeneracy rule is not applied (no host rows to measure it on).
   */
  async fitPasses(fit: FitData, pass: PassFn, start?: this): Promise<this> {
    const init = start === undefined ? this.presetState(fit) : start.warmState(fit);
    if (init === undefined) throw new InvalidArgumentError('fitPasses needs a start: a fitted model, or weightsInit, meansInit and precisionsInit');
    const result = await runStrategy(this.strategy(fit), pass, init, { ...this.o, degenerate: 'allow' });
    this._state = this.fittedState(result, fit);
    warnIfNotConverged(this.o, result);
    return this;
  }

  /**
   * Shard workers for this fit (0 = single thread). Workers rebuild the
   * family and backend from built-ins plus `plugins`, so a family or backend
   * that is neither built in nor loadable from `plugins` keeps the fit on
   * this thread, as does a missing (unbuilt) worker script under 'auto'.
   */
  private workerCount(backend: string, n: number, d: number, chunkSize: number): number {
    const count = resolveWorkerCount(this.o.workers, n, d, this.o.k, chunkSize);
    if (count === 0) return 0;
    if (this.o.plugins.length === 0) {
      const builtin = builtinPlugins.covarianceFamilies?.find((f) => f.name === this._family.name);
      if (builtin !== this._family || !builtinBackends.some((b) => b.name === backend)) return 0;
    }
    if (!shardWorkersAvailable()) {
      if (this.o.workers === 'auto') return 0;
      throw new InvalidArgumentError(`workers=${this.o.workers}: the shard worker script is missing; build @gmmkit/tfjs`);
    }
    return count;
  }

  /** X as a validated Matrix: missing cells (NaN) allowed under missing: 'marginalize'. */
  private matrix(X: DataInput, borrow = false): Matrix {
    return toMatrix(X, { missing: this.o.missing === 'marginalize', borrow });
  }

  /** fit(X) then predict(X). */
  async fitPredict(X: DataInput, fitOptions: FitOptions = {}): Promise<Int32Array> {
    const m = this.matrix(X);
    const validated = { data: m.data, shape: [m.rows, m.cols] as const };
    await this.fit(validated, fitOptions);
    return this.predict(validated);
  }

  /**
   * Initial state of one restart (centered coordinates): the initializer's
   * guess, then the estimator's initialState (its M-step), or the state a
   * short EM run from that guess (InitializerInput.shortEm, kept in `shortRuns`) stopped at.
   */
  private async initialParameters(
    blocks: RowBlocks,
    fit: FitData,
    strategy: EmStrategy<P>,
    restart: number,
    respStats: (r: Responsibilities) => Promise<SufficientStatistics>,
    shortEm: InitializerInput['shortEm'],
    shortRuns: ReadonlyMap<InitialGuess, EmResult<P>>,
  ): Promise<{ init: P; previousLowerBound: number }> {
    const { k, d, n, centered } = fit;
    const preset = this.presetState(fit);
    if (preset !== undefined) return { init: preset, previousLowerBound: -Infinity }; // everything given: the initializer has nothing to add
    const seed = deriveSeed(this.o.seed, restart);
    const initialize = async (): Promise<InitialGuess> => {
      // The contract hands initializers all rows as one tensor [n, d], made if the initializer reads it; it lives only for this call.
      const rows = lazyRowsTensor(tf, blocks);
      try {
        const rng = createRng(seed);
        return await this.initializer.initialize({ tf, get x() { return rows.x(); }, data: centered, n, d, k, rng, weights: blocks.sampleWeight, shortEm });
      } finally {
        rows.dispose();
      }
    };
    const { cache } = fit;
    const guess = cache !== undefined && this.initializer.reusable === true ? await cache.guess(this.initializer.name, k, seed, n, initialize) : await initialize();
    throwIfAborted(this.o.signal);
    const continued = shortRuns.get(guess);
    if (continued !== undefined) return { init: continued.params, previousLowerBound: continued.lowerBound };
    return { init: await this.stateFromGuess(guess, fit, strategy, respStats), previousLowerBound: -Infinity };
  }

  /** The estimator's initial state from an initializer's guess: the M-step on its responsibilities (float64 fallback as in the EM loop). */
  private async stateFromGuess(
    guess: InitialGuess,
    fit: FitData,
    strategy: EmStrategy<P>,
    respStats: (r: Responsibilities) => Promise<SufficientStatistics>,
  ): Promise<P> {
    const { k, d, n, centered } = fit;
    const r: Responsibilities =
      guess.kind === 'means' ? { kind: 'responsibilities', resp: nearestMeanResponsibilities(centered, n, d, k, guess.means) } : guess;
    if (r.kind === 'responsibilities' && r.resp.length !== n * k)
      throw new InvalidArgumentError(`initializer '${this.initializer.name}' returned ${r.resp.length} responsibilities, expected n*k=${n * k}`);
    if (r.kind === 'labels') checkLabels(this.initializer.name, r.labels, n, k);
    try {
      return this.initialState(strategy, await respStats(r), guess, fit);
    } catch (error) {
      // As in the EM loop: a covariance float32 statistics lose is recomputed in float64 from the host rows.
      if (!(error instanceof SingularCovarianceError)) throw error;
      const reference = assignedMeans(r, centered, n, d, k, fit.sampleWeight);
      const exact = hostStatistics(this._family, centered, r, n, fit.sampleWeight, reference, fit.ctx);
      if (exact === undefined) throw error;
      return this.initialState(strategy, exact, guess, fit);
    }
  }

  /** The fitted parameters shifted into coordinates centered at `center`. */
  protected centeredParams(center: Float64Array): MixtureParameters {
    const s = this.state;
    const means = Float64Array.from(s.means);
    for (let j = 0; j < s.k; j++) for (let c = 0; c < s.d; c++) means[j * s.d + c] -= center[c]!;
    return { weights: Float64Array.from(s.weights), means, covariances: Float64Array.from(s.covariances) };
  }

  /**
   * log w_k + log N(x_i | θ_k), [n, k], computed in coordinates centered at
   * Σ_k w_k μ_k (a function of the state alone); for a row with missing
   * cells, the marginal density of its observed coordinates.
   */
  private weightedLogProb(X: DataInput, method: string): { logProb: Float64Array; n: number } {
    return this.onBlocks(X, method, (blocks, params, ctx) => ({
      logProb: weightedLogProb(tf, this._family, params, blocks, ctx),
      n: blocks.n,
    }));
  }

  /** Σ_k w_k μ_k, the mixture's mean: where rows are centered for scoring (a function of the state alone). */
  private scoringCenter(): Float64Array {
    const s = this.state;
    const center = new Float64Array(s.d);
    for (let j = 0; j < s.k; j++) for (let c = 0; c < s.d; c++) center[c] += s.weights[j]! * s.means[j * s.d + c]!;
    return center;
  }

  /** Runs `f` on X uploaded in coordinates centered at the mixture's mean, with the scoring parameters in those coordinates. */
  private onBlocks<T>(
    X: DataInput,
    method: string,
    f: (blocks: RowBlocks, params: EStepParameters, ctx: PluginContext, center: Float64Array) => T,
  ): T {
    const s = this._state;
    if (s === undefined) throw new NotFittedError(method);
    // Borrowed: only read, to center it into the blocks.
    const m = this.matrix(X, true);
    if (m.cols !== s.d) throw new InvalidDataError(`the model has ${s.d} features but the data has ${m.cols}`, { column: m.cols });
    const center = this.scoringCenter();
    const blocks = uploadBlocks(tf, m.data, m.rows, m.cols, center, this.o.chunkSize ?? DEFAULT_CHUNK_SIZE);
    try {
      return f(blocks, this.scoringParameters(center), { tf, k: s.k, d: s.d }, center);
    } finally {
      blocks.dispose();
    }
  }

  /**
   * X [n, d] with every missing cell (NaN, or null in nested arrays; needs
   * missing: 'marginalize') replaced by its conditional mean given the row's
   * observed cells, mixed over the components by their posterior
   * probabilities: Σ_k p(k | x_o) (μ_km + Σ_kmo Σ_koo⁻¹ (x_o - μ_ko)).
   * Observed cells are returned unchanged; same shape and column order.
   */
  impute(X: DataInput): Matrix {
    return this.onBlocks(X, 'impute', (blocks, params, ctx, center) => {
      const filled = imputeRows(tf, this._family, params, blocks, ctx);
      const m = this.matrix(X);
      const data = Float64Array.from(m.data);
      for (let i = 0; i < data.length; i++) if (Number.isNaN(data[i])) data[i] = filled[i]! + center[i % ctx.d]!;
      return { rows: m.rows, cols: m.cols, data };
    });
  }

  /** Component labels [n] (argmax of the posterior). */
  predict(X: DataInput): Int32Array {
    const { logProb, n } = this.weightedLogProb(X, 'predict');
    const k = this.state.k;
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = argmaxRow(logProb, i, k);
    return out;
  }

  /** Posterior probabilities [n, k]. */
  predictProba(X: DataInput): Matrix {
    return this.posterior(X, 'predictProba').proba;
  }

  /**
   * scoreSamples and predictProba from one E-step pass: what model selection
   * needs (log-likelihood and the responsibilities' entropy) for the price of one.
   */
  scoreSamplesAndProba(X: DataInput): { scores: Float64Array; proba: Matrix } {
    return this.posterior(X, 'scoreSamplesAndProba');
  }

  private posterior(X: DataInput, method: string): { scores: Float64Array; proba: Matrix } {
    const { logProb, n } = this.weightedLogProb(X, method);
    const k = this.state.k;
    const scores = new Float64Array(n);
    const data = new Float64Array(n * k);
    for (let i = 0; i < n; i++) {
      const lse = rowLogSumExp(logProb, i, k);
      scores[i] = lse;
      for (let j = 0; j < k; j++) data[i * k + j] = Math.exp(logProb[i * k + j]! - lse);
    }
    return { scores, proba: { rows: n, cols: k, data } };
  }

  /** log p(x_i) per row, [n]. */
  scoreSamples(X: DataInput): Float64Array {
    const { logProb, n } = this.weightedLogProb(X, 'scoreSamples');
    const k = this.state.k;
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = rowLogSumExp(logProb, i, k);
    return out;
  }

  /** Mean log-likelihood per row; with sampleWeight, Σ_i w_i log p(x_i) / Σ_i w_i. */
  score(X: DataInput, options: FitOptions = {}): number {
    const { total, n } = this.weightedLogLikelihood(X, options);
    return total / n;
  }

  /** Σ_i w_i log p(x_i) and n = Σ_i w_i (the row count without weights). */
  protected weightedLogLikelihood(X: DataInput, options: FitOptions): { total: number; n: number } {
    const s = this.scoreSamples(X);
    if (options.sampleWeight === undefined) return { total: compensatedSum(s), n: s.length };
    const w = checkSampleWeight(options.sampleWeight, s.length);
    return { total: compensatedSum(s.map((v, i) => (w[i] === 0 ? 0 : w[i]! * v))), n: compensatedSum(w) };
  }

  /** Free parameters: covariances + k*d means + k-1 weights (scikit-learn's _n_parameters; for a Bayesian mixture, those of its expected-parameter mixture). */
  nParameters(): number {
    const { k, d } = this.state;
    return this._family.nCovarianceParameters(k, d) + k * d + k - 1;
  }

  /** Covariance matrices [k, d, d] whatever the family. */
  fullCovariances(): Float64Array {
    const s = this.state;
    return this._family.fullCovariances(s.covariances, s.k, s.d);
  }

  /** Condition number (largest / smallest eigenvalue) of each component's covariance, [k]. */
  conditionNumbers(): Float64Array {
    const { k, d } = this.state;
    const full = this.fullCovariances();
    const out = new Float64Array(k);
    for (let j = 0; j < k; j++) {
      const values = symmetricEigenvalues(full.subarray(j * d * d, (j + 1) * d * d), d);
      out[j] = values[d - 1]! / values[0]!;
    }
    return out;
  }

  /**
   * Warnings about the fitted model, one sentence each (empty when there is
   * nothing to say): EM that stopped at maxIter without converging (the
   * ConvergenceWarning fit() emits), then numerical ones. tfjs computes in float32: once a covariance's
   * condition number κ nears 1/ε₃₂ ≈ 8e6, Mahalanobis distances carry relative
   * errors of about κ·ε₃₂ and the likelihood can move by whole nats between
   * iterations, so the fit is flagged well before that (κ·ε₃₂ > 0.01).
   */
  warnings(): string[] {
    const out: string[] = [];
    const { degeneracy, droppedRestarts } = this.state;
    for (const line of droppedRestarts ?? []) out.push(line);
    if (degeneracy !== undefined) {
      out.push(
        `degenerate solution: ${degeneracy}` +
          (this.o.degenerate === 'reject' ? ` (no restart of ${this.o.nInit} was free of it)` : '') +
          '; its likelihood is not comparable with healthy fits (docs/degenerate-solutions.md)',
      );
    }
    const { regCovar } = this.o;
    const { converged, nIter } = this.state;
    // Under 'reject' a degenerate run was ended by the guard, not by maxIter (fit() emits no ConvergenceWarning for it either).
    const endedByGuard = degeneracy !== undefined && this.o.degenerate === 'reject';
    if (!converged && nIter > 0 && !endedByGuard) out.push(convergenceMessage(nIter, this.o.tol));
    this.conditionNumbers().forEach((kappa, j) => {
      if (!(kappa * FLOAT32_EPSILON <= 0.01)) {
        out.push(
          `component ${j}'s covariance has condition number ${kappa.toExponential(1)}, beyond what float32 resolves ` +
            `(relative error about ${Math.min(kappa * FLOAT32_EPSILON, 1).toPrecision(1)}): standardize the data or raise regCovar (now ${regCovar})`,
        );
      }
    });
    return out;
  }

  /**
   * n draws from the fitted mixture (host float64): component counts from a
   * multinomial on the weights, rows grouped by component in order, as scikit-learn.
   */
  sample(n: number, seed?: number): { X: Matrix; labels: Int32Array } {
    const s = this.state;
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`sample size must be an integer >= 1, got ${n}`);
    const rng = createRng(seed ?? deriveSeed(this.o.seed, 0x5a));
    const { k, d } = s;
    const counts = new Int32Array(k);
    const cumulative = new Float64Array(k);
    let acc = 0;
    for (let j = 0; j < k; j++) cumulative[j] = acc += s.weights[j]!;
    for (let i = 0; i < n; i++) {
      const u = rng.next() * acc;
      let j = 0;
      while (j < k - 1 && u >= cumulative[j]!) j++;
      counts[j]++;
    }
    const full = this.fullCovariances();
    const data = new Float64Array(n * d);
    const labels = new Int32Array(n);
    const z = new Float64Array(d);
    let row = 0;
    for (let j = 0; j < k; j++) {
      const l = tryCholesky(full.subarray(j * d * d, (j + 1) * d * d), d);
      if (l === null) throw new InvalidArgumentError(`covariance of component ${j + 1} is not positive definite`);
      for (let t = 0; t < counts[j]!; t++, row++) {
        for (let c = 0; c < d; c++) z[c] = rng.normal();
        for (let a = 0; a < d; a++) {
          let v = s.means[j * d + a]!;
          for (let b = 0; b <= a; b++) v += l[a * d + b]! * z[b]!;
          data[row * d + a] = v;
        }
        labels[row] = j;
      }
    }
    return { X: { rows: n, cols: d, data }, labels };
  }

  /**
   * Versioned JSON (format 'gmmkit.gaussian-mixture', version 1): the fitted
   * state every estimator has; a subclass adds its own section.
   */
  toJSON(): GaussianMixtureJSON {
    const s = this.state;
    const means: number[][] = [];
    for (let j = 0; j < s.k; j++) means.push(Array.from(s.means.subarray(j * s.d, (j + 1) * s.d)));
    return {
      format: MODEL_FORMAT,
      version: MODEL_VERSION,
      covarianceType: s.covarianceType,
      k: s.k,
      d: s.d,
      weights: Array.from(s.weights),
      means,
      covariances: { shape: this._family.covarianceShape(s.k, s.d), values: Array.from(s.covariances) },
      converged: s.converged,
      nIter: s.nIter,
      lowerBound: s.lowerBound,
      lowerBoundHistory: [...s.lowerBoundHistory],
      nSamples: s.nSamples,
      ...(s.degeneracy === undefined ? {} : { degeneracy: s.degeneracy }),
      options: {
        tol: this.o.tol,
        regCovar: this.o.regCovar,
        maxIter: this.o.maxIter,
        nInit: this.o.nInit,
        initParams: this.o.initParams,
        seed: this.o.seed,
        ...(this.o.prior === undefined ? {} : { prior: this.o.prior }),
        ...(this.o.missing === 'error' ? {} : { missing: this.o.missing }),
      },
    };
  }

  /** Forgets the fitted state. The model holds no tensors between calls, so nothing else needs freeing. */
  dispose(): void {
    this._state = undefined;
  }
}

/**
 * A Gaussian mixture fitted by EM, with scikit-learn's options, defaults and
 * attribute definitions. Numbers in and out are float64 in original units;
 * the N-sized work runs in tfjs (float32) on centered data.
 */
export class GaussianMixture extends BaseMixture<MixtureParameters> {
  /** Maximum-likelihood EM, or MAP EM under options.prior. */
  protected strategy(fit: FitData): EmStrategy<MixtureParameters> {
    // Lower bound Σ_i w_i log p(x_i) / Σ_i w_i: the sample weights are in the pass (n = Σ w).
    const { prior, regCovar } = this.o;
    if (prior === undefined) return maximumLikelihood(this._family, regCovar, fit.totalWeight, fit.ctx, fit.degeneracyContext);
    const resolved = resolvePrior(prior, this._family.name, fit);
    return maximumAPosteriori(this._family, resolved, regCovar, fit.totalWeight, fit.ctx);
  }

  protected presetState({ center, d, presetCovariances }: FitData): MixtureParameters | undefined {
    const { weightsInit, meansInit } = this.o;
    if (weightsInit === undefined || meansInit === undefined || presetCovariances === undefined) return undefined;
    return { weights: Float64Array.from(weightsInit), means: meansInit.map((v, i) => v - center[i % d]!), covariances: presetCovariances };
  }

  /** The M-step on the initial responsibilities, then the initializer's means (and weights) and the user's overrides. */
  protected initialState(
    strategy: EmStrategy<MixtureParameters>,
    stats: SufficientStatistics,
    guess: InitialGuess,
    { center, d, presetCovariances }: FitData,
  ): MixtureParameters {
    const params = strategy.mStep(stats);
    if (guess.kind === 'means') {
      params.means = Float64Array.from(guess.means);
      if (guess.weights) params.weights = Float64Array.from(guess.weights);
    }
    if (this.o.weightsInit) params.weights = Float64Array.from(this.o.weightsInit);
    if (this.o.meansInit) params.means = this.o.meansInit.map((v, i) => v - center[i % d]!);
    if (presetCovariances) params.covariances = presetCovariances;
    return params;
  }

  protected warmState({ center }: FitData): MixtureParameters {
    return this.centeredParams(center);
  }

  protected fittedState(best: EmResult<MixtureParameters>, { n, k, d, center }: FitData): FittedState {
    const p = best.params;
    const means = Float64Array.from(p.means);
    for (let j = 0; j < k; j++) for (let c = 0; c < d; c++) means[j * d + c] += center[c]!;
    return {
      k,
      d,
      covarianceType: this._family.name,
      weights: Float64Array.from(p.weights),
      means,
      covariances: Float64Array.from(p.covariances),
      precisionsCholesky: this._family.precisionsCholesky(p.covariances, k, d),
      converged: best.converged,
      nIter: best.nIter,
      lowerBound: best.lowerBound,
      lowerBoundHistory: best.lowerBoundHistory,
      nSamples: n,
    };
  }

  protected scoringParameters(center: Float64Array): EStepParameters {
    return this.centeredParams(center);
  }

  /**
   * Bayesian information criterion, -2 ln L + p ln n (lower is better). With
   * sampleWeight (frequency weights), ln L = Σ_i w_i ln p(x_i) and n = Σ_i w_i:
   * the BIC of the data with each row repeated w_i times.
   */
  bic(X: DataInput, options: FitOptions = {}): number {
    const { total, n } = this.weightedLogLikelihood(X, options);
    return -2 * total + this.nParameters() * Math.log(n);
  }

  /** Akaike information criterion, -2 ln L + 2p (lower is better); ln L weighted as in bic. */
  aic(X: DataInput, options: FitOptions = {}): number {
    const { total } = this.weightedLogLikelihood(X, options);
    return -2 * total + 2 * this.nParameters();
  }

  /**
   * Restores a model from toJSON() output (object or JSON text), validating
   * every field. Asynchronous (it initializes the backend): `await` it. Using
   * the returned promise as a model (`GaussianMixture.fromJSON(j).predict(X)`)
   * throws an error that says so, not "predict is not a function".
   * `missing: 'marginalize'` lets the model score rows with missing cells.
   */
  static fromJSON(
    json: unknown,
    options: { container?: Container; backend?: BackendName; missing?: 'error' | 'marginalize' } = {},
  ): Promise<GaussianMixture> {
    return guardUnawaited(GaussianMixture.restore(json, options), GaussianMixture.prototype, 'GaussianMixture.fromJSON');
  }

  private static async restore(
    json: unknown,
    options: { container?: Container; backend?: BackendName; missing?: 'error' | 'marginalize' },
  ): Promise<GaussianMixture> {
    const j = parseModelJSON(json);
    const container = options.container ?? createGmmContainer();
    let family: CovarianceFamily;
    try {
      family = new PluginRegistry(container).covarianceFamily(j.covarianceType);
    } catch (error) {
      throw new ModelFormatError(`model uses covariance type '${j.covarianceType}' which is not registered`, { cause: error });
    }
    const shape = family.covarianceShape(j.k, j.d);
    if (j.covariances.shape.length !== shape.length || j.covariances.shape.some((v, i) => v !== shape[i])) {
      throw new ModelFormatError(`covariances.shape is [${j.covariances.shape.join(', ')}], expected [${shape.join(', ')}] for '${family.name}' with k=${j.k}, d=${j.d}`);
    }
    const covariances = Float64Array.from(j.covariances.values);
    if (covariances.length !== product(shape)) {
      throw new ModelFormatError(`covariances.values has ${covariances.length} values, expected ${product(shape)}`);
    }
    let precisionsCholesky: Float64Array;
    try {
      family.validate(covariances, j.k, j.d);
      precisionsCholesky = family.precisionsCholesky(covariances, j.k, j.d);
    } catch (error) {
      throw new ModelFormatError(`invalid covariances: ${(error as Error).message}`, { cause: error });
    }
    let model: GaussianMixture;
    try {
      model = new GaussianMixture({
        nComponents: j.k,
        covarianceType: j.covarianceType,
        tol: j.options.tol,
        regCovar: j.options.regCovar,
        maxIter: j.options.maxIter,
        nInit: j.options.nInit,
        initParams: j.options.initParams,
        seed: j.options.seed,
        ...(j.options.prior === undefined ? {} : { prior: j.options.prior }),
        container,
        ...((options.missing ?? j.options.missing) === undefined ? {} : { missing: options.missing ?? j.options.missing! }),
        ...(options.backend === undefined ? {} : { backend: options.backend }),
      });
    } catch (error) {
      throw new ModelFormatError(`invalid options: ${(error as Error).message}`, { cause: error });
    }
    model._state = {
      k: j.k,
      d: j.d,
      covarianceType: family.name,
      weights: Float64Array.from(j.weights),
      means: Float64Array.from(j.means.flat()),
      covariances,
      precisionsCholesky,
      converged: j.converged,
      nIter: j.nIter,
      lowerBound: j.lowerBound,
      lowerBoundHistory: [...j.lowerBoundHistory],
      nSamples: j.nSamples,
    };
    if (j.degeneracy !== undefined) model._state.degeneracy = j.degeneracy;
    await initBackend(options.backend ?? currentBackend(), container);
    return model;
  }

}

/**
 * RefineInput.others: the restarts other than `best`, best first, leaving out
 * those 'reject' would not keep over it and those whose lower bound is within
 * `tol` of the best's or of the last one listed (most likely the same optimum).
 */
function distinctOthers<P>(best: EmResult<P>, restarts: EmResult<P>[], tol: number, mode: DegenerateMode): EmResult<P>[] {
  const sorted = restarts.filter((r) => r !== best && !(mode === 'reject' && r.degeneracy !== undefined && best.degeneracy === undefined));
  sorted.sort((a, b) => b.lowerBound - a.lowerBound);
  const kept: EmResult<P>[] = [];
  let last = best.lowerBound;
  for (const r of sorted) {
    if (Math.abs(last - r.lowerBound) <= tol) continue;
    kept.push(r);
    last = r.lowerBound;
  }
  return kept;
}

/** Whether restart `a` should replace the best so far `b`: higher lower bound, healthy first under 'reject'. */
function betterRestart<P>(a: EmResult<P>, b: EmResult<P>, mode: DegenerateMode): boolean {
  if (mode === 'reject' && (a.degeneracy === undefined) !== (b.degeneracy === undefined)) return a.degeneracy === undefined;
  return a.lowerBound > b.lowerBound;
}

/**
 * Makes every member of the model a promise resolves to (the members of
 * `prototype` and its bases) throw an error saying to await it: plain
 * JavaScript gets no type error for a forgotten await, only "predict is not a
 * function" at best. `call` names the function, as 'GaussianMixture.fromJSON'.
 */
export function guardUnawaited<T>(promise: Promise<T>, prototype: object, call: string): Promise<T> {
  const members = new Set(['options', 'container']);
  for (let proto = prototype; proto !== Object.prototype; proto = Object.getPrototypeOf(proto) as object) {
    for (const name of Object.getOwnPropertyNames(proto)) members.add(name);
  }
  for (const name of members) {
    if (name === 'constructor' || name in promise) continue;
    Object.defineProperty(promise, name, {
      get(): never {
        throw new InvalidArgumentError(`${call}() returns a Promise: await it (const model = await ${call}(json)) before using model.${name}`);
      },
    });
  }
  return promise;
}

/** One-hot responsibilities [n, k] assigning each row of data [n, d] to its nearest mean in means [k, d] (for initializers that return means). */
export function nearestMeanResponsibilities(data: Float64Array, n: number, d: number, k: number, means: Float64Array): Float64Array {
  if (means.length !== k * d) throw new InvalidArgumentError(`initializer returned ${means.length} mean values, expected k*d=${k * d}`);
  const resp = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    let best = 0;
    let bestD = Infinity;
    for (let j = 0; j < k; j++) {
      let s = 0;
      for (let c = 0; c < d; c++) s += (data[i * d + c]! - means[j * d + c]!) ** 2;
      if (s < bestD) {
        bestD = s;
        best = j;
      }
    }
    resp[i * k + best] = 1;
  }
  return resp;
}

// ---- JSON validation ----

function fail(message: string): never {
  throw new ModelFormatError(message);
}

function finiteNumber(v: unknown, where: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(`${where} must be a finite number, got ${JSON.stringify(v)}`);
  return v;
}

function positiveInt(v: unknown, where: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) fail(`${where} must be an integer >= 1, got ${JSON.stringify(v)}`);
  return v;
}

function nonNegativeInt(v: unknown, where: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) fail(`${where} must be an integer >= 0, got ${JSON.stringify(v)}`);
  return v;
}

function numberArray(v: unknown, where: string, length?: number): number[] {
  if (!Array.isArray(v)) fail(`${where} must be an array`);
  if (length !== undefined && v.length !== length) fail(`${where} must have ${length} entries, got ${v.length}`);
  return v.map((x, i) => finiteNumber(x, `${where}[${i}]`));
}

function parseModelJSON(json: unknown): GaussianMixtureJSON {
  let o: unknown = json;
  if (typeof json === 'string') {
    try {
      o = JSON.parse(json);
    } catch (error) {
      throw new ModelFormatError(`model is not valid JSON: ${(error as Error).message}`, { cause: error });
    }
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) fail('model must be a JSON object');
  const r = o as Record<string, unknown>;
  if (r['format'] !== MODEL_FORMAT) fail(`not a gmmkit model: format is ${JSON.stringify(r['format'])}, expected '${MODEL_FORMAT}'`);
  const version = r['version'];
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) fail(`invalid model version ${JSON.stringify(version)}`);
  if (version > MODEL_VERSION) {
    fail(`model format version ${version} is newer than this gmmkit supports (${MODEL_VERSION}); upgrade @gmmkit/tfjs`);
  }
  if (typeof r['covarianceType'] !== 'string') fail('covarianceType must be a string');
  const k = positiveInt(r['k'], 'k');
  const d = positiveInt(r['d'], 'd');
  const weights = numberArray(r['weights'], 'weights', k);
  let total = 0;
  weights.forEach((w, i) => {
    if (w < 0) fail(`weights[${i}] must be >= 0, got ${w}`);
    total += w;
  });
  if (Math.abs(total - 1) > 1e-6) fail(`weights must sum to 1, got ${total}`);
  if (!Array.isArray(r['means']) || r['means'].length !== k) fail(`means must be an array of k=${k} rows`);
  const means = (r['means'] as unknown[]).map((row, i) => numberArray(row, `means[${i}]`, d));
  const cov = r['covariances'] as Record<string, unknown> | undefined;
  if (typeof cov !== 'object' || cov === null) fail('covariances must be an object { shape, values }');
  const shape = numberArray(cov['shape'], 'covariances.shape');
  const values = numberArray(cov['values'], 'covariances.values');
  if (typeof r['converged'] !== 'boolean') fail('converged must be a boolean');
  const nIter = r['nIter'];
  if (typeof nIter !== 'number' || !Number.isInteger(nIter) || nIter < 0) fail(`nIter must be an integer >= 0, got ${JSON.stringify(nIter)}`);
  const opts = r['options'];
  if (typeof opts !== 'object' || opts === null) fail('options must be an object');
  const op = opts as Record<string, unknown>;
  if (typeof op['initParams'] !== 'string') fail('options.initParams must be a string');
  const degeneracy = r['degeneracy'];
  if (degeneracy !== undefined && typeof degeneracy !== 'string') fail('degeneracy must be a string when present');
  const missing = op['missing'];
  if (missing !== undefined && missing !== 'error' && missing !== 'marginalize')
    fail(`options.missing must be 'error' or 'marginalize', got ${JSON.stringify(missing)}`);
  return {
    format: MODEL_FORMAT,
    version: MODEL_VERSION,
    covarianceType: r['covarianceType'],
    k,
    d,
    weights,
    means,
    covariances: { shape, values },
    converged: r['converged'],
    nIter,
    lowerBound: finiteNumber(r['lowerBound'], 'lowerBound'),
    lowerBoundHistory: numberArray(r['lowerBoundHistory'] ?? [], 'lowerBoundHistory'),
    nSamples: positiveInt(r['nSamples'], 'nSamples'),
    ...(degeneracy === undefined ? {} : { degeneracy }),
    options: {
      tol: finiteNumber(op['tol'], 'options.tol'),
      regCovar: finiteNumber(op['regCovar'], 'options.regCovar'),
      maxIter: nonNegativeInt(op['maxIter'], 'options.maxIter'),
      nInit: positiveInt(op['nInit'], 'options.nInit'),
      initParams: op['initParams'],
      seed: finiteNumber(op['seed'], 'options.seed'),
      ...(op['prior'] === undefined ? {} : { prior: op['prior'] as PriorOption }),
      ...(missing === undefined ? {} : { missing }),
    },
  };
}

/** An initializer's labels: one per row, each a component index 0..k-1. */
function checkLabels(initializer: string, labels: Int32Array, n: number, k: number): void {
  if (labels.length !== n) throw new InvalidArgumentError(`initializer '${initializer}' returned ${labels.length} labels, expected one per row (${n})`);
  for (let i = 0; i < n; i++) {
    const label = labels[i]!;
    if (!(label >= 0 && label < k)) throw new InvalidArgumentError(`initializer '${initializer}' labelled row ${i} with ${label}: labels must be 0..${k - 1}`);
  }
}
