import {
  ModelFormatError,
  PluginRegistry,
  UnknownPluginError,
  loadPluginModule,
  pluginModule,
  type Container,
  type PluginSet,
} from '@gmmkit/core';
import {
  NUMBER_OPTIONS,
  loadMixture,
  meetsRule,
  ruleText,
  type BayesianGaussianMixture,
  type ConjugatePrior,
  type GaussianMixture,
  type NumberOption,
  type PriorOption,
} from '@gmmkit/tfjs';
import { createSelectionContainer } from '@gmmkit/model-selection';
import { mclustPlugins } from '@gmmkit/mclust';
import { EXIT, UsageError, exitCodeFor, messageFor } from '../errors.js';
import {
  checkDistinct,
  checkWritable,
  openOutput,
  type OutputTarget,
  type WriteOptions,
} from '../io/write-atomic.js';
import { readModelFile, readRawTable, type ReadTableOptions } from '../io/read-file.js';
import { selectColumns, toNumeric, type NumericTable, type RawTable, type TextOptions } from '../io/read-table.js';
import { applyStandardization, parseModelFile, type LoadedModelFile, type ModelFile } from '../model-file.js';

/** Where a command writes: stdout for results, stderr for notes and progress. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Progress line: overwritten in place on a terminal, else a no-op (unless $GMM_PROGRESS=lines: one line each). */
  progress(text: string): void;
  /** Ends a progress line, if one is showing. */
  endProgress(): void;
  /** Raw output on stdout, resolving once it is taken (backpressure); default: out(). */
  write?(chunk: string | Uint8Array): Promise<void>;
}

/** stdout as a stream for openOutput: Io.write, else Io.out. */
export function stdoutWriter(io: Io): (chunk: string | Uint8Array) => Promise<void> {
  return (chunk) => {
    if (io.write !== undefined) return io.write(chunk);
    io.out(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return Promise.resolve();
  };
}

/** Parsed arguments as yargs hands them over (kebab-case keys). */
export type Args = Record<string, unknown>;

/** A flag given twice keeps its last value (yargs collects repeats into an array). */
export function last(v: unknown): unknown {
  return Array.isArray(v) ? v[v.length - 1] : v;
}

export function str(args: Args, name: string): string | undefined {
  const v = last(args[name]);
  if (v === undefined || v === null) return undefined;
  return String(v);
}

/** -o or --plot as given ('-' and /dev/stdout are stdout; see write-atomic.ts). */
export function fileOutput(args: Args, name: 'output' | 'plot'): string | undefined {
  return str(args, name);
}

export function bool(args: Args, name: string): boolean {
  return last(args[name]) === true;
}

function flagName(name: string): string {
  return name.length === 1 ? `-${name}` : `--${name}`;
}

/** An integer flag with a lower bound; yargs turns non-numbers into NaN or null. */
export function int(args: Args, name: string, min: number): number | undefined {
  const v = last(args[name]);
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new UsageError(`${flagName(name)} must be an integer >= ${min}, got ${describeValue(v)}`);
  }
  return v;
}

/** --workers of `gmm fit`: 'auto' or an integer >= 0 (0 = one thread). */
export function workersFlag(args: Args): number | 'auto' | undefined {
  const v = last(args['workers']);
  if (v === undefined) return undefined;
  const t = String(v).trim();
  if (t === 'auto') return 'auto';
  if (/^\d+$/.test(t)) return Number(t);
  throw new UsageError(`--workers must be 'auto' or an integer >= 0, got ${JSON.stringify(v)}`);
}

/**
 * The -o and --plot files of fit and sweep, checked before any work: they
 * differ, their directories exist, neither is the input, and neither exists
 * unless --force.
 */
export function checkOutputs(
  outputs: { output: string | undefined; plot: string | undefined },
  force: boolean,
  inputs: readonly string[],
): { output: OutputTarget | undefined; plot: OutputTarget | undefined } {
  checkDistinct([
    ['-o', outputs.output],
    ['--plot', outputs.plot],
  ]);
  const check = (file: string | undefined, flag: string) =>
    file === undefined ? undefined : checkWritable(file, { force, inputs }, flag);
  return { output: check(outputs.output, '-o'), plot: check(outputs.plot, '--plot') };
}

/** Whether any of these outputs is stdout (results then go to stderr). */
export function stdoutTaken(...targets: (OutputTarget | undefined)[]): boolean {
  return targets.some((t) => t?.kind === 'stdout');
}

/**
 * Writes rendered outputs one after the other; a failure is reported (one
 * line) and the others are still written. Returns the exit code: 0, or that
 * of the first failure.
 */
export async function writeOutputs(
  io: Io,
  files: readonly (readonly [OutputTarget, string | Uint8Array, string?])[],
  options: WriteOptions,
): Promise<number> {
  let code: number = EXIT.ok;
  for (const [target, content, note] of files) {
    try {
      const out = await openOutput(target, { ...options, stdout: stdoutWriter(io) });
      await out.write(content);
      await out.commit();
      if (target.kind !== 'stdout') io.err(`wrote ${target.target}${note === undefined ? '' : ` ${note}`}`);
    } catch (err) {
      io.err(`gmm: error: ${messageFor(err)}`);
      if (code === EXIT.ok) code = Math.max(exitCodeFor(err), EXIT.failure);
    }
  }
  return code;
}

/** The data-reading flags shared by every command that reads a table. */
export function textOptions(args: Args): TextOptions {
  const delimiter = str(args, 'delimiter');
  const decimal = str(args, 'decimal');
  const comment = str(args, 'comment');
  const header = last(args['header']);
  const named: Record<string, string> = { tab: '\t', '\\t': '\t', semicolon: ';', comma: ',', space: ' ', pipe: '|' };
  const d = delimiter === undefined ? undefined : (named[delimiter] ?? delimiter);
  if (d !== undefined && d.length !== 1)
    throw new UsageError(`--delimiter must be one character (or tab), got ${JSON.stringify(delimiter)}`);
  if (decimal !== undefined && decimal !== '.' && decimal !== ',')
    throw new UsageError(`--decimal must be '.' or ',', got ${JSON.stringify(decimal)}`);
  if (decimal === ',' && d === ',')
    throw new UsageError("--decimal , needs another --delimiter than ',' (Excel writes ';')");
  if (comment !== undefined && comment.length !== 1)
    throw new UsageError(`--comment must be one character, got ${JSON.stringify(comment)}`);
  return {
    ...(d === undefined ? {} : { delimiter: d }),
    ...(decimal === undefined ? {} : { decimal: decimal as '.' | ',' }),
    ...(typeof header === 'boolean' ? { header } : {}),
    ...(comment === undefined ? {} : { comment }),
  };
}

/** --columns as given: each occurrence (repeatable), or undefined. */
export function columnsFlag(args: Args): string[] | undefined {
  const v = args['columns'];
  if (v === undefined || v === null) return undefined;
  return (Array.isArray(v) ? v : [v]).map(String);
}

/** Everything the table readers take from the flags; a wait on a FIFO is shown as progress. */
export function readOptions(args: Args, io: Io, extra: Partial<ReadTableOptions> = {}): ReadTableOptions {
  return { ...textOptions(args), columns: columnsFlag(args), onWait: (m) => io.progress(m), ...extra };
}

/** Prints the reader's warnings (one line each). */
export function reportReadWarnings(io: Io, warnings: readonly string[]): void {
  for (const w of warnings) io.err(`warning: ${w}`);
}

/**
 * The warnings of data a model is trained on (fit, sweep): a column with one
 * value in every row (missing cells aside) has no spread to model. Every
 * component's variance along it is then the regularization floor, adding the same
 * large term to every model's log-likelihood (and the column's parameters to
 * every model's count) while telling nothing about the clusters.
 */
export function trainingDataWarnings(table: NumericTable): string[] {
  const { n, d, data, columns } = table;
  const out: string[] = [];
  for (let c = 0; c < d; c++) {
    let first = NaN;
    let constant = true;
    for (let i = 0; i < n && constant; i++) {
      const v = data[i * d + c]!;
      if (Number.isNaN(v)) continue;
      if (Number.isNaN(first)) first = v;
      else if (v !== first) constant = false;
    }
    if (constant && n > 1 && !Number.isNaN(first))
      out.push(
        `column '${columns[c]}' has the same value (${first}) in every row: every component's variance along it is the regularization floor alone, which adds the same large term to every model's log-likelihood; leave it out with --columns`,
      );
  }
  return out;
}

export function nonNegative(args: Args, name: string): number | undefined {
  const v = last(args[name]);
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw new UsageError(`${flagName(name)} must be a finite number >= 0, got ${describeValue(v)}`);
  }
  return v;
}

/**
 * A flag for one of GaussianMixture's numeric options, checked by the
 * library's own rule (NUMBER_OPTIONS), so `--seed -1` and `seed: -1` fail alike.
 */
export function optionFlag(args: Args, name: string, option: NumberOption): number | undefined {
  const v = last(args[name]);
  if (v === undefined) return undefined;
  const rule = NUMBER_OPTIONS[option];
  if (!meetsRule(rule, v)) throw new UsageError(`${flagName(name)} must be ${ruleText(rule)}, got ${describeValue(v)}`);
  return v;
}

/** EM settings shared by fit and sweep: only the flags given, so the library's defaults apply to the rest. */
export interface EmSettings {
  nInit?: number;
  maxIter?: number;
  seed?: number;
  tol?: number;
  regCovar?: number;
  reseeds?: number;
}

/** --degenerate (its choices are checked by yargs): what fit and sweep do with degenerate solutions. */
export function degenerateFlag(args: Args): 'reject' | 'warn' | 'allow' {
  return (str(args, 'degenerate') ?? 'reject') as 'reject' | 'warn' | 'allow';
}

export function emSettings(args: Args): EmSettings {
  const given: Record<keyof EmSettings, number | undefined> = {
    nInit: optionFlag(args, 'n-init', 'nInit'),
    maxIter: optionFlag(args, 'max-iter', 'maxIter'),
    seed: optionFlag(args, 'seed', 'seed'),
    tol: optionFlag(args, 'tol', 'tol'),
    regCovar: optionFlag(args, 'reg-covar', 'regCovar'),
    reseeds: optionFlag(args, 'reseeds', 'reseeds'),
  };
  const settings: EmSettings = {};
  for (const key of Object.keys(given) as (keyof EmSettings)[]) {
    const value = given[key];
    if (value !== undefined) settings[key] = value;
  }
  return settings;
}

/** --prior default and the --prior-* flags as GaussianMixture's prior option (undefined: maximum likelihood). */
export function priorSettings(args: Args): PriorOption | undefined {
  const named = str(args, 'prior');
  const fields: ConjugatePrior = {};
  const shrinkage = nonNegative(args, 'prior-shrinkage');
  if (shrinkage !== undefined) fields.shrinkage = shrinkage;
  const dof = positiveNumber(args, 'prior-dof');
  if (dof !== undefined) fields.dof = dof;
  const scale = positiveNumber(args, 'prior-scale');
  if (scale !== undefined) fields.scale = scale;
  const mean = str(args, 'prior-mean');
  if (mean !== undefined) {
    const values = mean.split(',').map((t) => Number(t.trim()));
    if (values.some((v, i) => !Number.isFinite(v) || mean.split(',')[i]!.trim() === '')) {
      throw new UsageError(`--prior-mean must be comma-separated numbers, got '${mean}'`);
    }
    fields.mean = values;
  }
  if (named === undefined) {
    if (Object.keys(fields).length > 0) throw new UsageError('--prior-shrinkage, --prior-mean, --prior-dof and --prior-scale need --prior default');
    return undefined;
  }
  if (named !== 'default') throw new UsageError(`--prior must be 'default', got '${named}'`);
  return Object.keys(fields).length === 0 ? 'default' : fields;
}

/** A finite number > 0, or undefined when the flag is absent. */
export function positiveNumber(args: Args, name: string): number | undefined {
  const v = last(args[name]);
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
    throw new UsageError(`${flagName(name)} must be a finite number > 0, got ${describeValue(v)}`);
  }
  return v;
}

function describeValue(v: unknown): string {
  return typeof v === 'number' && !Number.isNaN(v)
    ? String(v)
    : v === null || Number.isNaN(v)
      ? 'a non-number'
      : JSON.stringify(v);
}

export function pluginSpecifiers(args: Args): string[] {
  const v = args['plugin'];
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).map(String);
}

export interface Plugins {
  /** The --plugin specifiers (recorded in model files). */
  specifiers: string[];
  /** What worker threads load: @gmmkit/mclust (registered by default) and the --plugin modules. */
  workerSpecifiers: string[];
  sets: PluginSet[];
  /** Built-ins, criteria and the plugins. */
  container: Container;
  registry: PluginRegistry;
}

/** The module URL of @gmmkit/mclust, which worker threads import to get the same families. */
export const MCLUST_MODULE = import.meta.resolve('@gmmkit/mclust');

/** Seconds a --plugin module may take to load ($GMM_PLUGIN_TIMEOUT, default 60). */
export function pluginTimeoutSeconds(): number {
  const v = Number(process.env['GMM_PLUGIN_TIMEOUT'] ?? 60);
  return Number.isFinite(v) && v > 0 ? v : 60;
}

/**
 * Loads one plugin module, or fails naming it: when its top-level await can
 * never settle (nothing left for the event loop to do: detected at once),
 * or when it has not loaded after pluginTimeoutSeconds().
 */
export async function loadPluginWithTimeout(specifier: string): Promise<PluginSet> {
  const seconds = pluginTimeoutSeconds();
  let onDrain: () => void = () => undefined;
  let timer: NodeJS.Timeout | undefined;
  const stuck = new Promise<never>((_, reject) => {
    onDrain = () =>
      reject(
        new UsageError(
          `--plugin ${specifier}: the module never finished loading (its top-level await waits on nothing that can settle)`,
        ),
      );
    // unref: the timer alone does not keep the process alive, so a dead wait is seen at once.
    timer = setTimeout(
      () =>
        reject(
          new UsageError(
            `--plugin ${specifier}: the module did not finish loading within ${seconds} s (GMM_PLUGIN_TIMEOUT sets the limit)`,
          ),
        ),
      seconds * 1000,
    );
    timer.unref();
  });
  process.on('beforeExit', onDrain);
  try {
    return await Promise.race([loadPluginModule(specifier, process.cwd()), stuck]);
  } finally {
    process.off('beforeExit', onDrain);
    clearTimeout(timer);
  }
}

/**
 * Loads --plugin modules (relative paths resolve against the working
 * directory) on top of the built-ins and @gmmkit/mclust's models, which the
 * CLI registers by default (a --plugin binding the same name wins).
 */
export async function loadPlugins(args: Args): Promise<Plugins> {
  const specifiers = pluginSpecifiers(args);
  const sets: PluginSet[] = [mclustPlugins];
  for (const s of specifiers) sets.push(await loadPluginWithTimeout(s));
  const container = createSelectionContainer(...sets.map((s) => pluginModule(s)));
  return {
    specifiers,
    workerSpecifiers: [MCLUST_MODULE, ...specifiers],
    sets,
    container,
    registry: new PluginRegistry(container),
  };
}

/** --backend, else $GMM_BACKEND, else 'auto'; an unknown name is rejected before any work. */
export function backendName(args: Args, plugins: Plugins): string {
  const name = (str(args, 'backend') ?? process.env['GMM_BACKEND'] ?? 'auto').trim() || 'auto';
  if (name !== 'auto' && !plugins.registry.backends().some((b) => b.name === name)) {
    throw new UnknownPluginError('backend', name, [
      'auto',
      ...plugins.registry.backends().map((b) => b.name),
    ]);
  }
  return name;
}

/** A model file loaded into a GaussianMixture (or a BayesianGaussianMixture), with what the CLI stored beside it. */
export interface LoadedModel extends LoadedModelFile {
  gm: GaussianMixture | BayesianGaussianMixture;
}

export async function loadModel(file: string, plugins: Plugins, backend: string, missing = false): Promise<LoadedModel> {
  const m = await readModelFile(file);
  let gm: GaussianMixture | BayesianGaussianMixture;
  try {
    gm = await loadMixture(m.gmm, {
      container: plugins.container,
      backend,
      ...(missing ? { missing: 'marginalize' as const } : {}),
    });
  } catch (err) {
    if (err instanceof ModelFormatError) {
      const unregistered = /not registered/.test(err.message);
      const hint = unregistered
        ? m.plugins.length > 0
          ? ` (it was fitted with --plugin ${m.plugins.join(' --plugin ')}; load the same plugin)`
          : ' (load the plugin that defines it with --plugin)'
        : '';
      throw new ModelFormatError(`${file}: ${err.message}${hint}`, { cause: err });
    }
    throw err;
  }
  return { ...m, gm };
}

/**
 * Reads the data a saved model is applied to: --columns if given, else the
 * model's columns by name when the header has them all, else every column
 * (less an --id-column); then checks the width against the model. With
 * `idColumn`, that column's cells come back as text, to carry through.
 */
export async function readDataForModel(
  file: string,
  model: LoadedModel,
  options: ReadTableOptions,
  idColumn?: string,
): Promise<NumericTable & { ids?: string[]; idName?: string }> {
  const { table, ids, idName } = await readRawDataForModel(file, model, options, idColumn);
  return ids === undefined ? table : { ...table, ids, idName: idName! };
}

/** readDataForModel, with the raw table and the selected column indices (for gmm impute). */
export async function readRawDataForModel(
  file: string,
  model: LoadedModel,
  options: ReadTableOptions,
  idColumn?: string,
): Promise<{ raw: RawTable; indices: number[]; table: NumericTable; ids?: string[]; idName?: string }> {
  const columnsFlag = options.columns;
  const raw = await readRawTable(file, options);
  const d = model.gmm.d;
  const idIndex = idColumn === undefined ? undefined : selectColumns(raw, [idColumn]);
  if (idIndex !== undefined && idIndex.length !== 1)
    throw new UsageError(`--id-column names one column, got '${idColumn}'`);
  let indices: number[];
  if (columnsFlag !== undefined) {
    indices = selectColumns(raw, columnsFlag);
  } else if (
    model.columns !== undefined &&
    raw.hasHeader &&
    model.columns.every((c) => raw.columns.includes(c))
  ) {
    indices = model.columns.map((c) => raw.columns.indexOf(c));
  } else {
    indices = selectColumns(raw, undefined).filter((j) => j !== idIndex?.[0]);
  }
  if (indices.length !== d) {
    const expected =
      model.columns === undefined
        ? `${d} columns`
        : `${d} column${d === 1 ? '' : 's'} (${cutList(model.columns)})`;
    throw new ModelFormatError(
      `${model.file} expects ${expected} but ${raw.source} has ${indices.length} ${columnsFlag === undefined ? 'columns' : 'selected columns'} (${cutList(indices.map((j) => raw.columns[j]!))}); choose them with --columns`,
    );
  }
  const table = toNumeric(raw, indices, 0, options.missing);
  if (idIndex === undefined) return { raw, indices, table };
  const j = idIndex[0]!;
  const ids = raw.rows.map((r) => {
    const c = r[j];
    return c === null || c === undefined ? '' : typeof c === 'object' ? JSON.stringify(c) : String(c);
  });
  return { raw, indices, table, ids, idName: raw.columns[j]! };
}

/** --missing: true for 'marginalize' (missing cells allowed), false for 'error' (the default). */
export function missingFlag(args: Args): boolean {
  const v = str(args, 'missing') ?? 'error';
  if (v !== 'error' && v !== 'marginalize') throw new UsageError(`--missing must be 'error' or 'marginalize', got '${v}'`);
  return v === 'marginalize';
}

/** The rows the model sees: standardized when the model says so. */
export function modelInput(
  table: NumericTable,
  model: LoadedModelFile,
): { data: Float64Array; shape: [number, number] } {
  const data =
    model.standardize === null ? table.data : applyStandardization(table.data, table.d, model.standardize);
  return { data, shape: [table.n, table.d] };
}

/** Where results go: stdout, or stderr when an output file is stdout itself (-o -). */
export function resultIo(
  io: Io,
  targets: { output: OutputTarget | undefined; plot: OutputTarget | undefined },
): (text: string) => void {
  return stdoutTaken(targets.output, targets.plot) ? (t) => io.err(t) : (t) => io.out(t);
}

/** A non-finite figure in a result: exit 1 with one line, nothing written. */
export class NonFiniteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NonFiniteError';
  }
}

/** Throws NonFiniteError naming the first non-finite figure of a fit. */
export function checkFiniteFit(r: {
  logLikelihood: number;
  weights: readonly number[];
  means: readonly (readonly number[])[];
  covariances: readonly (readonly (readonly number[])[])[];
  standardized: boolean;
}): void {
  const bad: string[] = [];
  if (!Number.isFinite(r.logLikelihood)) bad.push(`log-likelihood ${r.logLikelihood}`);
  if (!r.weights.every(Number.isFinite)) bad.push('weights');
  if (!r.means.every((m) => m.every(Number.isFinite))) bad.push('means');
  if (!r.covariances.every((c) => c.every((row) => row.every(Number.isFinite)))) bad.push('covariances');
  if (bad.length === 0) return;
  throw new NonFiniteError(
    `the fit gave non-finite results (${bad.join(', ')})${r.standardized ? ' in original units' : ''}: the data's values or spread overflow floating point (values near 1e300? rescale the columns); nothing written`,
  );
}

/**
 * A model file as text, after checking that gmm can read it back (a file
 * that `gmm predict` would reject is never written).
 */
export async function modelFileText(file: ModelFile, plugins: Plugins): Promise<string> {
  const text = JSON.stringify(file, null, 2) + '\n';
  try {
    const back = parseModelFile(JSON.parse(text), 'the model');
    const gm = await loadMixture(back.gmm, { container: plugins.container });
    gm.dispose();
  } catch (err) {
    throw new NonFiniteError(
      `the fitted model does not read back (${messageFor(err)}): not writing it`,
    );
  }
  return text;
}

/** A list for a message: at most `max` items, then how many more. */
export function cutList(items: readonly (string | number)[], max = 8): string {
  if (items.length <= max) return items.join(', ');
  return `${items.slice(0, max).join(', ')}, ... (${items.length - max} more)`;
}

/** Σ of a Float64Array (pairwise, so n large sums stay accurate). */
export function sum(v: ArrayLike<number>, lo = 0, hi = v.length): number {
  if (hi - lo <= 64) {
    let s = 0;
    for (let i = lo; i < hi; i++) s += v[i]!;
    return s;
  }
  const mid = (lo + hi) >>> 1;
  return sum(v, lo, mid) + sum(v, mid, hi);
}

/** Rows of a row-major [n, d] array as nested arrays. */
export function nested(data: ArrayLike<number>, rows: number, cols: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < rows; i++) out.push(Array.from({ length: cols }, (_, j) => data[i * cols + j]!));
  return out;
}

/** [k, d, d] as k nested D x D matrices. */
export function matrices(data: ArrayLike<number>, k: number, d: number): number[][][] {
  const out: number[][][] = [];
  for (let j = 0; j < k; j++)
    out.push(
      nested(
        Array.from({ length: d * d }, (_, t) => data[j * d * d + t]!),
        d,
        d,
      ),
    );
  return out;
}
