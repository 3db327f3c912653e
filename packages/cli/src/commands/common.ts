import {
  ModelFormatError,
  PluginRegistry,
  UnknownPluginError,
  loadPluginModules,
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
import { UsageError } from '../errors.js';
import { checkDistinct, checkWritable } from '../io/write-atomic.js';
import { readModelFile, readRawTable } from '../io/read-file.js';
import { selectColumns, toNumeric, type NumericTable, type RawTable } from '../io/read-table.js';
import { applyStandardization, type LoadedModelFile } from '../model-file.js';

/** Where a command writes: stdout for results, stderr for notes and progress. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Progress line: overwritten in place on a terminal, else a no-op (unless $GMM_PROGRESS=lines: one line each). */
  progress(text: string): void;
  /** Ends a progress line, if one is showing. */
  endProgress(): void;
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

/** -o for CSV results: '-' means stdout, like no -o at all. */
export function csvOutput(args: Args): string | undefined {
  const o = str(args, 'output');
  return o === '-' ? undefined : o;
}

/** -o for model files and --plot: stdout is not an option (results already go there). */
export function fileOutput(args: Args, name: 'output' | 'plot'): string | undefined {
  const o = str(args, name);
  if (o === '-')
    throw new UsageError(
      `${name === 'output' ? '-o' : '--plot'} needs a file name ('-' for stdout is not supported here)`,
    );
  return o;
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
  dataFile: string,
): void {
  const flags = [
    ['-o', outputs.output],
    ['--plot', outputs.plot],
  ] as const;
  checkDistinct(flags);
  for (const [flag, file] of flags) {
    if (file !== undefined) checkWritable(file, { force, inputs: [dataFile] }, flag);
  }
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
}

export function emSettings(args: Args): EmSettings {
  const given: Record<keyof EmSettings, number | undefined> = {
    nInit: optionFlag(args, 'n-init', 'nInit'),
    maxIter: optionFlag(args, 'max-iter', 'maxIter'),
    seed: optionFlag(args, 'seed', 'seed'),
    tol: optionFlag(args, 'tol', 'tol'),
    regCovar: optionFlag(args, 'reg-covar', 'regCovar'),
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

/**
 * Loads --plugin modules (relative paths resolve against the working
 * directory) on top of the built-ins and @gmmkit/mclust's models, which the
 * CLI registers by default (a --plugin binding the same name wins).
 */
export async function loadPlugins(args: Args): Promise<Plugins> {
  const specifiers = pluginSpecifiers(args);
  const sets = [mclustPlugins, ...(await loadPluginModules(specifiers, process.cwd()))];
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
 * model's columns by name when the header has them all, else every column;
 * then checks the width against the model.
 */
export async function readDataForModel(
  file: string,
  model: LoadedModel,
  columnsFlag: string | undefined,
  missing = false,
): Promise<NumericTable> {
  return (await readRawDataForModel(file, model, columnsFlag, missing)).table;
}

/** readDataForModel, with the raw table and the selected column indices (for gmm impute). */
export async function readRawDataForModel(
  file: string,
  model: LoadedModel,
  columnsFlag: string | undefined,
  missing: boolean,
): Promise<{ raw: RawTable; indices: number[]; table: NumericTable }> {
  const raw = await readRawTable(file);
  const d = model.gmm.d;
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
    indices = selectColumns(raw, undefined);
  }
  if (indices.length !== d) {
    const expected =
      model.columns === undefined
        ? `${d} columns`
        : `${d} column${d === 1 ? '' : 's'} (${model.columns.join(', ')})`;
    throw new ModelFormatError(
      `${model.file} expects ${expected} but ${raw.source} has ${indices.length} ${columnsFlag === undefined ? 'columns' : 'selected columns'} (${indices.map((j) => raw.columns[j]).join(', ')}); choose them with --columns`,
    );
  }
  return { raw, indices, table: toNumeric(raw, indices, 0, missing) };
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
