import {
  AbortedError,
  InvalidArgumentError,
  InvalidDataError,
  PluginRegistry,
  deriveSeed,
  loadPluginModules,
  platform,
  pluginModule,
  shareable,
  type Container,
  type Criterion,
  type PluginSet,
} from '@gmmkit/core';
import { CALLING_THREAD_FITS } from '#selection-platform';
import {
  FitCache,
  centerRows,
  columnMeans,
  GaussianMixture,
  createGmmContainer,
  currentBackend,
  checkSampleWeight,
  getWasmPaths,
  initBackend,
  toMatrix,
  validatePrior,
  type DataInput,
  type GaussianMixtureJSON,
  type PriorOption,
} from '@gmmkit/tfjs';
import { fitCell, type CellResult, type CellSpec, type FitSettings, type MatrixData } from './cell.js';
import { aic, bic, createSelectionContainer, icl } from './criteria.js';
import { crossStarts } from './cross-starts.js';
import { runPool } from './pool.js';

/** The four covariance families gmmkit ships, in mclust's usual order of flexibility. */
export const BUILTIN_COVARIANCE_TYPES = ['full', 'tied', 'diag', 'spherical'] as const;

/**
 * Values of k: a single k, a list (`[2, 3, 5]`), an inclusive range
 * (`{ min: 1, max: 6 }`), or the CLI's text forms `'1..6'`, `'2,3,5'`, `'4'`.
 */
export type KSpec = number | readonly number[] | { min: number; max: number } | string;

export interface SweepProgress {
  /** Cells finished (failed ones included). */
  done: number;
  /** Cells planned; shrinks when `patience` stops a family early. */
  total: number;
  /** The row just finished. */
  row: SweepRow;
}

export interface SweepOptions {
  /**
   * Training rows (validated by the engine's toMatrix: finite numbers, rectangular, non-empty).
   * Copied once, except a flat Float64Array on a whole SharedArrayBuffer, which the workers read
   * as it is: leave it unchanged until the sweep settles.
   */
  data: DataInput;
  /**
   * Frequency weights, one finite number >= 0 per row, not all zero (as
   * GaussianMixture.fit's sampleWeight). Every cell is fitted and scored
   * weighted: log-likelihood Σ_i w_i ln p(x_i), entropy Σ_i w_i Σ_k -r_ik ln r_ik,
   * and n = Σ_i w_i in BIC (the BIC of the data with row i repeated w_i times).
   */
  sampleWeight?: ArrayLike<number>;
  /**
   * 'marginalize': NaN (and null) cells are missing values, fitted by every
   * cell's exact EM and scored by the marginal over each row's observed
   * columns (GaussianMixture's `missing`). Default 'error'.
   */
  missing?: 'error' | 'marginalize';
  /** Values of k (default 1..9, capped at the number of rows). */
  k?: KSpec;
  /** Covariance family names (default the four built-ins); any registered family works. */
  covarianceTypes?: readonly string[];
  /** 'bic' (default), 'aic', 'icl', a registered criterion's name, or a Criterion object. Lower is better. */
  criterion?: string | Criterion;
  /** EM initializations per cell; the best lower bound is kept (default 1). */
  nInit?: number;
  /** Master seed (default 0). The cells of k fit with deriveSeed(seed, k), whatever their family (cellSeed). */
  seed?: number;
  /**
   * Cells fitted at once (default: the machine's cores, at most one per
   * cell, or in-process when the whole sweep is small enough that starting
   * workers costs more than it saves; see SMALL_SWEEP_WORK). In Node the
   * calling thread is one of them (N - 1 worker threads start; see
   * `callingThread`). 0 or 1 runs in-process. Results do not depend on it.
   */
  workers?: number;
  /**
   * With workers, the calling thread fits cells too (one worker thread
   * fewer, and that thread's memory saved); its event loop then runs only
   * between EM iterations. Default: true in Node, false in browsers (a
   * page's thread stays free); false for a server that must stay responsive.
   */
  callingThread?: boolean;
  /**
   * Stop growing k for a family once that many consecutive k (in increasing
   * order) failed to improve on the family's best criterion value so far; a
   * failed cell counts as not improving. Default: no early stop.
   */
  patience?: number;
  /** Cancels the sweep; the promise rejects with AbortedError once every worker has exited. */
  signal?: AbortSignal;
  onProgress?: (progress: SweepProgress) => void;
  /** Convergence threshold (default 1e-3, as GaussianMixture). */
  tol?: number;
  regCovar?: number;
  maxIter?: number;
  /** Initializer name (default 'kmeans'). */
  initParams?: string;
  /**
   * Cross starts: `{ VVE: ['EVE', 'VEE', 'VVV', 'VVI'] }` fits every VVE cell
   * a second time from each listed family's converged partition at the same
   * k, after the grid, and keeps the better fit (healthy first under
   * 'reject', then the higher likelihood; SweepRow.startedFrom says which).
   * Families must be in covarianceTypes; pairs a 1-D sweep maps away are skipped.
   * One extra fit per pair and k, run in-process.
   */
  startFrom?: Readonly<Record<string, readonly string[]>>;
  /**
   * MAP EM under mclust's conjugate prior in every cell (GaussianMixture's
   * prior option: 'default' is mclust's defaultPrior for that k and family);
   * the criteria are then at the MAP log-likelihood, as
   * mclustBIC(..., prior = priorControl()). Families: full, tied, diag, spherical.
   */
  prior?: PriorOption;
  /**
   * Degenerate solutions (a component on too few points or with a variance
   * pinned at regCovar, docs/degenerate-solutions.md): 'reject' (default)
   * fits each cell's best healthy restart and never chooses a cell that has
   * none (its row has `degenerate: true`); 'warn' flags such cells but ranks
   * them like any other (scikit-learn); 'allow' does not check.
   */
  degenerate?: 'reject' | 'warn' | 'allow';
  /** Under 'reject', how many times a restart re-seeds a degenerate component before it ends (GaussianMixture's `reseeds`, default 3). */
  reseeds?: number;
  /**
   * Plugin container (default createSelectionContainer() plus `plugins`).
   * Workers cannot receive a container: if it binds families or an
   * initializer other than the built-ins and `plugins` does not name the
   * modules they come from, the sweep runs in-process.
   */
  container?: Container;
  /**
   * Plugin module specifiers (paths or package names, see core's
   * loadPluginModule). Loaded on the main thread and in every worker, so
   * plugin families run in parallel too.
   */
  plugins?: readonly string[];
  /** Directory relative plugin paths resolve against (default process.cwd(); in a browser, the page URL). */
  pluginBaseDir?: string;
  /** tfjs backend ('auto', 'wasm', 'cpu', ...). Default: the active one, else initBackend()'s choice. Workers use the same. */
  backend?: string;
}

export interface SweepRow {
  k: number;
  covarianceType: string;
  bic: number;
  aic: number;
  /** BIC + 2 x entropy (see `icl`). */
  icl: number;
  /** Total log-likelihood Σ_i ln p(x_i). */
  logLikelihood: number;
  nParameters: number;
  /** Σ_i Σ_k -r_ik ln r_ik of the fitted responsibilities. */
  entropy: number;
  converged: boolean;
  /** EM iterations of the best initialization. */
  iterations: number;
  /** Wall time of the cell's fit and scoring. */
  seconds: number;
  /** The chosen criterion's value (lower is better). NaN when the cell failed. */
  score: number;
  /** Why the cell failed; its scores are NaN and it is never chosen. */
  error?: string;
  /** The cell's solution is degenerate (see SweepOptions.degenerate); under 'reject' it is never chosen. */
  degenerate: boolean;
  /** Why, when degenerate. */
  degeneracy?: string;
  /** The family whose converged partition started this fit (SweepOptions.startFrom). */
  startedFrom?: string;
}

export interface SweepResult {
  /** The chosen criterion's name. */
  criterion: string;
  /** SweepOptions.degenerate as applied. */
  degenerate: 'reject' | 'warn' | 'allow';
  /** Rows in k order, then family order; with `patience`, only the k each family reached. */
  rows: SweepRow[];
  /** The row with the lowest score (the first such row on a tie). */
  best: SweepRow;
  /** The best row's fitted model; the caller disposes it. */
  model: GaussianMixture;
  /** Cells fitted at once, the calling thread's included in Node (0 = in-process, one at a time). */
  workers: number;
  /** tfjs backend the fits ran on. */
  backend: string;
}

/** Parses a KSpec into sorted distinct positive integers. */
export function parseKSpec(spec: KSpec): number[] {
  let ks: number[];
  if (typeof spec === 'number') ks = [spec];
  else if (typeof spec === 'string') ks = parseKText(spec);
  else if (Array.isArray(spec)) ks = [...(spec as readonly number[])];
  else if (spec !== null && typeof spec === 'object' && 'min' in spec && 'max' in spec) {
    const { min, max } = spec;
    checkK(min, 'k.min');
    checkK(max, 'k.max');
    if (max < min) throw new InvalidArgumentError(`empty k range: min ${min} > max ${max}`);
    ks = [];
    for (let k = min; k <= max; k++) ks.push(k);
  } else
    throw new InvalidArgumentError(
      `k must be a number, a list, { min, max } or text like '1..6'; got ${String(spec)}`,
    );
  if (ks.length === 0) throw new InvalidArgumentError('empty k list: give at least one k');
  for (const k of ks) checkK(k, 'k');
  return [...new Set(ks)].sort((a, b) => a - b);
}

function parseKText(text: string): number[] {
  const t = text.trim();
  const range = /^(\d+)\s*(?:\.\.|-|:)\s*(\d+)$/.exec(t);
  if (range) {
    const min = Number(range[1]);
    const max = Number(range[2]);
    if (max < min) throw new InvalidArgumentError(`empty k range '${text}': ${min} > ${max}`);
    return parseKSpec({ min, max });
  }
  if (/^\d+(\s*,\s*\d+)*$/.test(t)) return t.split(',').map((s) => Number(s.trim()));
  throw new InvalidArgumentError(`cannot read k from '${text}': use a range like 1..6 or a list like 2,3,5`);
}

function checkK(k: unknown, what: string): void {
  if (typeof k !== 'number' || !Number.isInteger(k) || k < 1) {
    throw new InvalidArgumentError(`${what} must be a positive integer, got ${String(k)}`);
  }
}

/**
 * On 1-D data mclust's models collapse to two, E (one variance) and V (a
 * variance per component). When families named E and V are registered
 * (@gmmkit/mclust), each requested family maps to the one its mclust name's
 * volume letter says (tied, EII, EEI, ... to E; full, diag, spherical, VEV,
 * ... to V), without duplicates; the others stay as they are.
 */
export function univariateFamilies(families: readonly string[], registry: PluginRegistry): string[] {
  const names = registry.covarianceFamilyNames();
  if (!names.includes('E') || !names.includes('V')) return [...families];
  const out: string[] = [];
  for (const f of families) {
    const volume = registry.covarianceFamily(f).mclustName?.[0];
    const mapped = volume === 'E' || volume === 'V' ? volume : f;
    if (!out.includes(mapped)) out.push(mapped);
  }
  return out;
}

/**
 * Below this many row-features x cells x restarts, a sweep runs in-process by
 * default: each worker thread spends 0.3-0.8 s loading tfjs and its backend,
 * more than such a sweep takes (measured: faithful, k = 1..9, 4 families,
 * nInit 10, about 2e5: 2.2 s in-process against 2.5 s with two workers; the
 * 20k x 8 benchmark sweep, 6.4e6: 3.2 s with two workers against 3.7 s).
 */
export const SMALL_SWEEP_WORK = 1e6;

/**
 * The seed of the cells of k under a master seed. Every family at one k gets
 * the same one, as a scikit-learn BIC loop with one random_state: the same
 * k-means starts, computed once (FitCache) and shared across the families.
 */
export function cellSeed(master: number, k: number): number {
  return deriveSeed(master, k);
}

function checkInt(value: number | undefined, name: string, min: number): void {
  if (value === undefined) return;
  if (!Number.isInteger(value) || value < min)
    throw new InvalidArgumentError(`${name} must be an integer >= ${min}, got ${value}`);
}

function checkNonNegative(value: number | undefined, name: string): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new InvalidArgumentError(`${name} must be a finite number >= 0, got ${String(value)}`);
  }
}

/**
 * Fits a Gaussian mixture for every (k, covariance family) cell and picks the
 * best by a criterion, like mclust's `Mclust()` or a scikit-learn BIC loop.
 * Every check on the options happens before any fit starts.
 */
export async function sweep(options: SweepOptions): Promise<SweepResult> {
  const { signal } = options;
  if (signal?.aborted) throw new AbortedError('sweep aborted');

  // ---- validation: all of it before any work ----
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed)) throw new InvalidArgumentError(`seed must be an integer, got ${seed}`);
  checkInt(options.nInit, 'nInit', 1);
  checkInt(options.reseeds, 'reseeds', 0);
  checkInt(options.maxIter, 'maxIter', 1);
  checkInt(options.workers, 'workers', 0);
  checkInt(options.patience, 'patience', 1);
  checkNonNegative(options.tol, 'tol');
  checkNonNegative(options.regCovar, 'regCovar');

  const missing = options.missing ?? 'error';
  if (missing !== 'error' && missing !== 'marginalize')
    throw new InvalidArgumentError(`missing must be 'error' or 'marginalize', got ${JSON.stringify(missing)}`);
  const matrix = toMatrix(options.data, { missing: missing === 'marginalize', borrow: true });
  // One copy of the rows, which workers share, unless they are shareable already (SweepOptions.data).
  const x: MatrixData = { rows: matrix.rows, cols: matrix.cols, data: shareable(matrix.data), cache: new FitCache() };
  if (x.rows < 1) throw new InvalidDataError('no rows to fit');
  if (options.sampleWeight !== undefined) x.sampleWeight = shareable(checkSampleWeight(options.sampleWeight, x.rows));
  // The rows as every fit centers them (at the column means), made once on shared memory: every lane's FitCache starts with them.
  const center = columnMeans(x, x.sampleWeight);
  const centered = centerRows(x.data, x.rows, x.cols, center, true);
  x.cache!.centered(center, true, () => centered);
  // Each component needs a row of positive weight.
  const usableRows = x.sampleWeight === undefined ? x.rows : x.sampleWeight.filter((w) => w > 0).length;

  const ks = options.k === undefined ? defaultKs(usableRows) : parseKSpec(options.k);
  const tooBig = ks.filter((k) => k > usableRows);
  if (tooBig.length > 0) {
    throw new InvalidArgumentError(
      `k = ${tooBig.join(', ')} exceeds the number of rows${usableRows < x.rows ? ' of positive weight' : ''} (${usableRows}): each component needs a row`,
    );
  }

  const pluginSpecs = [...(options.plugins ?? [])];
  const pluginSets: PluginSet[] = await loadPluginModules(pluginSpecs, options.pluginBaseDir);
  const container = options.container ?? createSelectionContainer(...pluginSets.map((s) => pluginModule(s)));
  const registry = new PluginRegistry(container);

  const requested = [...(options.covarianceTypes ?? BUILTIN_COVARIANCE_TYPES)];
  if (requested.length === 0)
    throw new InvalidArgumentError('covarianceTypes is empty: name at least one covariance family');
  if (new Set(requested).size !== requested.length)
    throw new InvalidArgumentError(`covarianceTypes has duplicates: ${requested.join(', ')}`);
  for (const f of requested) registry.covarianceFamily(f); // throws UnknownPluginError listing what exists
  const families = x.cols === 1 ? univariateFamilies(requested, registry) : requested;
  const initParams = options.initParams ?? 'kmeans';
  registry.initializer(initParams);
  const startFrom = options.startFrom;
  if (startFrom !== undefined) {
    for (const [target, sources] of Object.entries(startFrom)) {
      if (!Array.isArray(sources)) throw new InvalidArgumentError(`startFrom.${target} must be a list of family names`);
      for (const f of [target, ...sources]) {
        if (!requested.includes(f))
          throw new InvalidArgumentError(`startFrom names '${f}', which is not in covarianceTypes (${requested.join(', ')})`);
      }
    }
  }
  const criterion = resolveCriterion(options.criterion ?? 'bic', container);

  const settings: FitSettings = { initParams, missing };
  if (options.tol !== undefined) settings.tol = options.tol;
  if (options.regCovar !== undefined) settings.regCovar = options.regCovar;
  if (options.maxIter !== undefined) settings.maxIter = options.maxIter;
  if (options.nInit !== undefined) settings.nInit = options.nInit;
  if (options.reseeds !== undefined) settings.reseeds = options.reseeds;
  if (options.prior !== undefined) {
    for (const f of families) validatePrior(options.prior, f); // one clear error before any fit
    settings.prior = options.prior;
  }
  const degenerate = options.degenerate ?? 'reject';
  if (degenerate !== 'reject' && degenerate !== 'warn' && degenerate !== 'allow') {
    throw new InvalidArgumentError(`degenerate must be 'reject', 'warn' or 'allow', got ${String(degenerate)}`);
  }
  settings.degenerate = degenerate;
  // Under 'reject' a degenerate cell is never chosen: it ranks (and counts for patience) as failed.
  const eligible = (row: SweepRow): boolean => Number.isFinite(row.score) && !(degenerate === 'reject' && row.degenerate);

  const backendName = (await initBackend(options.backend ?? currentBackend(), container)).name;
  settings.backend = backendName;

  // ---- the grid, and the scheduler shared by both runners ----
  const cells: CellSpec[] = [];
  for (const k of ks)
    for (const f of families)
      cells.push({ id: cells.length, k, covarianceType: f, seed: cellSeed(seed, k) });
  const patience = options.patience;
  // Without patience, biggest cells first balances the workers' load; with
  // it, k must grow in order so a family can stop.
  const queue = patience === undefined ? [...cells].sort((a, b) => b.k - a.k || a.id - b.id) : [...cells];

  const results = new Map<number, CellResult>();
  const rowsById = new Map<number, SweepRow>();
  const stopAt = new Map<string, number>(); // family -> last k in its table
  let done = 0;

  const inTable = (c: { k: number; covarianceType: string }): boolean => {
    const stop = stopAt.get(c.covarianceType);
    return stop === undefined || c.k <= stop;
  };
  const fitting = new Map<number, number>(); // k -> its cells being fitted now
  // A worker keeps to the k it fitted last (its FitCache holds that k's k-means starts),
  // else takes a k no other worker is on, else the head of the queue.
  const next = (previous?: CellSpec): CellSpec | undefined => {
    for (let i = queue.length - 1; i >= 0; i--) if (!inTable(queue[i]!)) queue.splice(i, 1);
    if (queue.length === 0) return undefined;
    let at = previous === undefined ? -1 : queue.findIndex((c) => c.k === previous.k);
    if (at === -1) at = queue.findIndex((c) => !fitting.has(c.k));
    const [c] = queue.splice(Math.max(at, 0), 1);
    fitting.set(c!.k, (fitting.get(c!.k) ?? 0) + 1);
    return c;
  };
  const onResult = (r: CellResult): void => {
    const left = (fitting.get(r.k) ?? 1) - 1;
    if (left > 0) fitting.set(r.k, left);
    else fitting.delete(r.k);
    const row = toRow(r, criterion);
    results.set(r.id, r);
    rowsById.set(r.id, row);
    if (patience !== undefined && !stopAt.has(r.covarianceType)) updateStop(r.covarianceType);
    // A speculative cell past its family's stop is dropped silently.
    if (!inTable(r)) return;
    done++;
    options.onProgress?.({ done, total: cells.filter(inTable).length, row });
  };
  const updateStop = (family: string): void => {
    let best = Number.POSITIVE_INFINITY;
    let worse = 0;
    for (const c of cells) {
      if (c.covarianceType !== family) continue;
      const row = rowsById.get(c.id);
      if (!row) return; // the prefix is not complete yet
      if (eligible(row) && row.score < best) {
        best = row.score;
        worse = 0;
      } else if (++worse >= patience!) {
        stopAt.set(family, c.k);
        return;
      }
    }
  };

  // ---- run ----
  const work = x.rows * x.cols * cells.length * (options.nInit ?? 1);
  const wanted = options.workers ?? (work < SMALL_SWEEP_WORK ? 0 : platform.hardwareConcurrency());
  const workersSeeBindings = canUseWorkers(
    registry,
    families,
    initParams,
    pluginSets,
    options.container !== undefined,
  );
  const poolSize = workersSeeBindings ? Math.min(wanted, cells.length) : 0;
  if (poolSize >= 2) {
    // This thread fits cells too, by default in Node (one worker fewer, each holding its own tfjs and working memory).
    const local = (options.callingThread ?? CALLING_THREAD_FITS)
      ? (cell: CellSpec, stop: AbortSignal): Promise<CellResult> => fitCell(x, cell, { ...settings, workers: 0 }, container, stop)
      : undefined;
    const wasmPaths = getWasmPaths();
    await runPool({
      size: local === undefined ? poolSize : poolSize - 1,
      init: {
        backend: backendName,
        plugins: pluginSpecs,
        baseDir: options.pluginBaseDir ?? platform.defaultBaseDir(),
        ...(wasmPaths === undefined ? {} : { wasmPaths }),
        data: x.data.buffer as SharedArrayBuffer | ArrayBuffer,
        center,
        centered: centered.buffer as SharedArrayBuffer | ArrayBuffer,
        sampleWeight: x.sampleWeight?.buffer as SharedArrayBuffer | ArrayBuffer | undefined,
        rows: x.rows,
        cols: x.cols,
        settings,
      },
      next,
      onResult,
      local,
      ...(signal ? { signal } : {}),
    });
  } else {
    for (let c = next(); c !== undefined; c = next()) {
      // Yield to the event loop between cells so an abort (or a timer) can
      // run; a fit also stops within an iteration of an abort.
      await platform.yieldToEventLoop();
      if (signal?.aborted) throw new AbortedError('sweep aborted');
      onResult(await fitCell(x, c, settings, container, signal));
    }
  }
  if (signal?.aborted) throw new AbortedError('sweep aborted');
  if (startFrom !== undefined) {
    await crossStarts(x, cells.filter(inTable), results, startFrom, settings, container, backendName, signal);
    for (const [id, r] of results) rowsById.set(id, toRow(r, criterion));
  }

  // ---- table and best ----
  const rows: SweepRow[] = cells.filter(inTable).map((c) => rowsById.get(c.id)!);
  let best: SweepRow | undefined;
  let bestId = -1;
  for (const c of cells) {
    if (!inTable(c)) continue;
    const row = rowsById.get(c.id)!;
    if (eligible(row) && (best === undefined || row.score < best.score)) {
      best = row;
      bestId = c.id;
    }
  }
  if (best === undefined) {
    const reasons = [...new Set(rows.map((r) => r.error ?? (r.degenerate ? `degenerate: ${r.degeneracy}` : 'non-finite score')))];
    throw new InvalidDataError(`every cell of the sweep failed: ${reasons.slice(0, 3).join('; ')}`);
  }
  const json = results.get(bestId)!.model as GaussianMixtureJSON;
  const model = await GaussianMixture.fromJSON(json, { container, backend: backendName });
  return {
    criterion: criterion.name,
    degenerate,
    rows,
    best,
    model,
    workers: poolSize >= 2 ? poolSize : 0,
    backend: backendName,
  };
}

/** Default k: 1..9 as mclust's Mclust(), capped at the number of rows. */
function defaultKs(rows: number): number[] {
  const ks: number[] = [];
  for (let k = 1; k <= Math.min(9, rows); k++) ks.push(k);
  return ks;
}

/** A criterion by name from the container, or a Criterion object checked for shape. */
export function resolveCriterion(c: string | Criterion, container: Container): Criterion {
  if (typeof c === 'string') return new PluginRegistry(container).criterion(c);
  if (c === null || typeof c !== 'object' || typeof c.score !== 'function' || typeof c.name !== 'string') {
    throw new InvalidArgumentError(
      'criterion must be a name or an object { name, description, score(input) }',
    );
  }
  return c;
}

/** A cell's table row: bic, aic, icl and the criterion's score (NaN, with the reason, when it failed). */
export function toRow(r: CellResult, criterion: Criterion): SweepRow {
  const row: SweepRow = {
    k: r.k,
    covarianceType: r.covarianceType,
    bic: Number.NaN,
    aic: Number.NaN,
    icl: Number.NaN,
    logLikelihood: r.logLikelihood,
    nParameters: r.nParameters,
    entropy: r.entropy,
    converged: r.converged,
    iterations: r.iterations,
    seconds: r.seconds,
    score: Number.NaN,
    degenerate: r.degeneracy !== undefined,
  };
  if (r.degeneracy !== undefined) row.degeneracy = r.degeneracy;
  if (r.startedFrom !== undefined) row.startedFrom = r.startedFrom;
  if (r.error !== undefined) {
    row.error = r.error;
    return row;
  }
  const input = { logLikelihood: r.logLikelihood, n: r.n, nParameters: r.nParameters, entropy: r.entropy };
  row.bic = bic.score(input);
  row.aic = aic.score(input);
  row.icl = icl.score(input);
  let score: number;
  try {
    score = criterion.score(input);
  } catch (err) {
    row.error = `criterion '${criterion.name}' failed: ${err instanceof Error ? err.message : String(err)}`;
    return row;
  }
  row.score = Number.isFinite(score) ? score : Number.NaN;
  if (!Number.isFinite(score)) row.error = `criterion '${criterion.name}' gave ${score}`;
  return row;
}

/**
 * Workers build their own container from the built-ins and the plugin
 * specifiers, so they can only run families and initializers that are
 * either the very built-in objects or come from those plugin modules.
 */
function canUseWorkers(
  registry: PluginRegistry,
  families: readonly string[],
  initParams: string,
  pluginSets: readonly PluginSet[],
  customContainer: boolean,
): boolean {
  if (!customContainer) return true;
  const builtins = new PluginRegistry(createGmmContainer());
  const pluginFamilies = new Set(pluginSets.flatMap((s) => (s.covarianceFamilies ?? []).map((f) => f.name)));
  const pluginInits = new Set(pluginSets.flatMap((s) => (s.initializers ?? []).map((i) => i.name)));
  const same = <T>(get: (r: PluginRegistry) => T): boolean => {
    try {
      return get(registry) === get(builtins);
    } catch {
      return false;
    }
  };
  for (const f of families) {
    if (!pluginFamilies.has(f) && !same((r) => r.covarianceFamily(f))) return false;
  }
  return pluginInits.has(initParams) || same((r) => r.initializer(initParams));
}
