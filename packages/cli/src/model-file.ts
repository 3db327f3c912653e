import { ModelFormatError } from '@gmmkit/core';
import type { GaussianMixtureJSON } from '@gmmkit/tfjs';

/**
 * The file `gmm fit -o` writes: the library's GaussianMixture JSON wrapped
 * with what the CLI needs to apply it to new data: the column names it was
 * fitted on and the standardization (if any). A bare GaussianMixture JSON
 * (from `gm.toJSON()`) is accepted too. No Node APIs here: the playground
 * writes the same file in the browser (io/read-file.ts reads it from disk).
 */
export const MODEL_FILE_FORMAT = 'gmmkit.cli-model';
export const MODEL_FILE_VERSION = 1;

export interface Standardization {
  /** Column means subtracted before the model sees the data. */
  mean: number[];
  /** Column standard deviations (population, ddof 0) divided by; 1 for a constant column. */
  scale: number[];
}

export interface ModelFile {
  format: typeof MODEL_FILE_FORMAT;
  version: typeof MODEL_FILE_VERSION;
  /** Names of the columns, in the model's order. */
  columns: string[];
  /** z-scoring applied before the model (--standardize), or null. */
  standardize: Standardization | null;
  /** --plugin modules the model was fitted with (informational: they are not loaded automatically). */
  plugins: string[];
  gmm: GaussianMixtureJSON;
}

/** A model file as read: columns are unknown for a bare library model. */
export interface LoadedModelFile {
  file: string;
  columns: string[] | undefined;
  standardize: Standardization | null;
  plugins: string[];
  gmm: GaussianMixtureJSON;
}

export function modelFile(
  gmm: GaussianMixtureJSON,
  columns: string[],
  standardize: Standardization | null,
  plugins: string[],
): ModelFile {
  return { format: MODEL_FILE_FORMAT, version: MODEL_FILE_VERSION, columns, standardize, plugins, gmm };
}

export function parseModelFile(value: unknown, file: string): LoadedModelFile {
  const bad = (why: string) => new ModelFormatError(`${file}: corrupt model file: ${why}`);
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw bad('expected a JSON object');
  const v = value as Record<string, unknown>;
  if (v['format'] === 'gmmkit.gaussian-mixture') {
    return { file, columns: undefined, standardize: null, plugins: [], gmm: value as GaussianMixtureJSON };
  }
  if (v['format'] !== MODEL_FILE_FORMAT) {
    throw new ModelFormatError(
      `${file}: not a gmmkit model file (format is ${JSON.stringify(v['format'] ?? null)}, expected "${MODEL_FILE_FORMAT}")`,
    );
  }
  const version = v['version'];
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1)
    throw bad(`invalid version ${JSON.stringify(version)}`);
  if (version > MODEL_FILE_VERSION) {
    throw new ModelFormatError(
      `${file}: model file schema version ${version} is newer than this gmm supports (${MODEL_FILE_VERSION}); upgrade @gmmkit/cli`,
    );
  }
  const gmm = v['gmm'];
  if (gmm === null || typeof gmm !== 'object' || Array.isArray(gmm)) throw bad("missing 'gmm' object");
  const d = (gmm as { d?: unknown }).d;
  if (typeof d !== 'number' || !Number.isInteger(d) || d < 1) throw bad("'gmm.d' is not a positive integer");
  const columns = v['columns'];
  if (!Array.isArray(columns) || columns.length !== d || !columns.every((c) => typeof c === 'string')) {
    throw bad(`'columns' must be ${d} column names`);
  }
  const standardize = parseStandardization(v['standardize'], d, bad);
  const plugins = v['plugins'] ?? [];
  if (!Array.isArray(plugins) || !plugins.every((p) => typeof p === 'string'))
    throw bad("'plugins' must be a list of strings");
  return {
    file,
    columns: columns as string[],
    standardize,
    plugins: plugins as string[],
    gmm: gmm as GaussianMixtureJSON,
  };
}

function parseStandardization(s: unknown, d: number, bad: (why: string) => Error): Standardization | null {
  if (s === null || s === undefined) return null;
  const { mean, scale } = s as { mean?: unknown; scale?: unknown };
  const ok = (a: unknown, positive: boolean) =>
    Array.isArray(a) &&
    a.length === d &&
    a.every((x) => typeof x === 'number' && Number.isFinite(x) && (!positive || x > 0));
  if (!ok(mean, false) || !ok(scale, true))
    throw bad(`'standardize' must hold ${d} finite means and ${d} positive scales`);
  return { mean: mean as number[], scale: scale as number[] };
}

// ------------------------------------------------------------ standardization

/**
 * Column means and population standard deviations of row-major [n, d]
 * data, computed on each column divided by its largest magnitude so that
 * values near the float64 limit (1e300) do not overflow the sums. Missing
 * cells (NaN, --missing marginalize) are skipped: each column's observed values.
 */
export function computeStandardization(data: Float64Array, n: number, d: number): Standardization {
  const mean = new Array<number>(d).fill(0);
  const scale = new Array<number>(d).fill(0);
  for (let j = 0; j < d; j++) {
    let m = 0;
    let count = 0;
    for (let i = 0; i < n; i++) {
      const v = data[i * d + j]!;
      if (Number.isNaN(v)) continue;
      m = Math.max(m, Math.abs(v));
      count++;
    }
    if (!(m > 0) || !Number.isFinite(m)) {
      mean[j] = m === 0 && count > 0 ? 0 : Number.NaN;
      scale[j] = 1;
      continue;
    }
    let s = 0;
    for (let i = 0; i < n; i++) {
      const v = data[i * d + j]!;
      if (!Number.isNaN(v)) s += v / m;
    }
    const mu = s / count;
    let v2 = 0;
    for (let i = 0; i < n; i++) {
      const v = data[i * d + j]!;
      if (!Number.isNaN(v)) v2 += (v / m - mu) ** 2;
    }
    mean[j] = mu * m;
    // A constant column keeps scale 1 so it stays finite (it is then all zeros).
    scale[j] = Math.sqrt(v2 / count) * m || 1;
  }
  return { mean, scale };
}

export function applyStandardization(data: Float64Array, d: number, s: Standardization): Float64Array {
  const out = new Float64Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const mean = s.mean[i % d]!;
    const scale = s.scale[i % d]!;
    const v = (data[i]! - mean) / scale;
    // x - mean overflows only for values at the float64 limit: divide first.
    out[i] = Number.isFinite(v) ? v : data[i]! / scale - mean / scale;
  }
  return out;
}

export function undoStandardization(data: Float64Array, d: number, s: Standardization): Float64Array {
  const out = new Float64Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i]! * s.scale[i % d]! + s.mean[i % d]!;
  return out;
}

/**
 * log|det J| per row of the map from original to standardized units,
 * -Σ log scale_j: a density in original units is the standardized density
 * plus this, so likelihoods, BIC and AIC are reported in original units.
 */
export function logJacobian(s: Standardization | null): number {
  if (s === null) return 0;
  return -s.scale.reduce((acc, x) => acc + Math.log(x), 0);
}

/**
 * Σ_i w_i Σ_{j observed in row i} -log scale_j over rows [n, d] in original
 * units: the shift from standardized to original-unit log-likelihoods, which
 * for a row with missing cells covers only its observed columns (w = 1
 * without weights; n · logJacobian(s) when nothing is missing).
 */
export function totalLogJacobian(
  data: Float64Array,
  d: number,
  s: Standardization | null,
  weights?: Float64Array,
): number {
  if (s === null) return 0;
  const logs = s.scale.map((x) => Math.log(x));
  let total = 0;
  for (let i = 0; i < data.length / d; i++) {
    const w = weights === undefined ? 1 : weights[i]!;
    if (w === 0) continue;
    let row = 0;
    for (let j = 0; j < d; j++) if (!Number.isNaN(data[i * d + j])) row -= logs[j]!;
    total += w * row;
  }
  return total;
}

/** Means [k, d] back to original units. */
export function unstandardizeMeans(means: Float64Array, d: number, s: Standardization | null): Float64Array {
  return s === null ? means : undoStandardization(means, d, s);
}

/** Full covariances [k, d, d] back to original units: S Σ S with S = diag(scale). */
export function unstandardizeCovariances(
  cov: Float64Array,
  d: number,
  s: Standardization | null,
): Float64Array {
  if (s === null) return cov;
  const out = new Float64Array(cov.length);
  for (let idx = 0; idx < cov.length; idx++) {
    const a = Math.floor(idx / d) % d;
    const b = idx % d;
    out[idx] = cov[idx]! * s.scale[a]! * s.scale[b]!;
  }
  return out;
}
