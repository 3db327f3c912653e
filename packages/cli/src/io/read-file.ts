// Reading tables and model files from disk, FIFOs or stdin (Node only):
// input.ts opens the bytes (gzip, UTF-16, FIFOs), binary-table.ts reads
// Parquet and Arrow, plain-numbers-parallel.ts scans large CSV bodies on
// worker threads. The text parsing lives in read-table.ts and
// model-file.ts, which run in browsers too.
import { ModelFormatError } from '@gmmkit/core';
import { parseModelFile, type LoadedModelFile } from '../model-file.js';
import { readBinaryTable } from './binary-table.js';
import { openInput, regularFileSize, type InputOptions } from './input.js';
import type { PlainNumbersOptions } from './plain-numbers.js';
import { PARALLEL_SCAN_CHARS, ScanWorkers, scanPlainNumbersInParallel } from './plain-numbers-parallel.js';
import {
  featuresAndWeight,
  formatFromName,
  parseTextChunks,
  sampleWeights,
  selectColumns,
  toNumeric,
  type NumericTable,
  type RawTable,
  type TableFormat,
  type TextOptions,
} from './read-table.js';

export { describeFsError } from './input.js';

export interface ReadTableOptions extends TextOptions {
  /** --columns: names or 1-based indices/ranges, comma separated ("1-4", "a,c", "2,petal"); repeatable. */
  columns?: string | readonly string[] | undefined;
  /** --weights: one column (name or 1-based index) of sample weights, excluded from the features. */
  weights?: string | undefined;
  /** --missing marginalize: empty cells, NA, NaN and JSON null become NaN (missing) instead of errors. */
  missing?: boolean | undefined;
  /** Force a format instead of guessing from the extension and contents. */
  format?: TableFormat | undefined;
  /** Text to use for '-' instead of process.stdin (tests). */
  stdinText?: string | undefined;
  /** Aborts a read that waits (a FIFO without a writer): Ctrl-C. */
  signal?: AbortSignal | undefined;
  /** Told when the input is a FIFO or device that may keep us waiting. */
  onWait?: ((message: string) => void) | undefined;
}

/** Reads a file (or stdin for '-') into a numeric matrix (and the --weights column). */
export async function readTable(file: string, options: ReadTableOptions = {}): Promise<NumericTable> {
  const raw = await readRawTable(file, options);
  if (options.weights === undefined) return toNumeric(raw, selectColumns(raw, options.columns), 0, options.missing);
  const { features, weight } = featuresAndWeight(raw, options.columns, options.weights);
  return { ...toNumeric(raw, features, 0, options.missing), ...sampleWeights(raw, weight) };
}

export async function readRawTable(file: string, options: ReadTableOptions = {}): Promise<RawTable> {
  const isStdin = file === '-';
  const source = isStdin ? '<stdin>' : file;
  const input = await openInput(file, source, inputOptions(options));
  if (input.kind !== 'text') {
    return readBinaryTable(await input.bytes(), input.kind, source);
  }
  const named = options.format ?? formatFromName(isStdin ? '' : file);
  // A file large enough to be scanned in parts: its scan workers load while it is read.
  const early = !isStdin && (named === undefined || named === 'csv' || named === 'tsv') && (regularFileSize(file) ?? 0) >= PARALLEL_SCAN_CHARS ? new ScanWorkers() : undefined;
  try {
    const scan = (text: string, start: number, opts: PlainNumbersOptions) => scanPlainNumbersInParallel(text, start, opts, undefined, undefined, undefined, early);
    return await parseTextChunks(input.chunks, { ...options, source, format: named, scan });
  } finally {
    early?.close();
  }
}

export function inputOptions(options: ReadTableOptions): InputOptions {
  return {
    signal: options.signal,
    stdin: options.stdinText === undefined ? undefined : Buffer.from(options.stdinText, 'utf8'),
    onWait: options.onWait,
  };
}

/** A whole small file as text (model files): same opening rules as the tables. */
export async function readText(file: string): Promise<string> {
  const input = await openInput(file, file);
  if (input.kind !== 'text') return Buffer.from(await input.bytes()).toString('utf8');
  let text = '';
  for await (const chunk of input.chunks) text += chunk;
  return text;
}

/** Reads and checks a model file's wrapper; the GaussianMixture part is checked by GaussianMixture.fromJSON. */
export async function readModelFile(file: string): Promise<LoadedModelFile> {
  const text = await readText(file);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ModelFormatError(`${file}: not a model file: invalid JSON (${(err as Error).message})`);
  }
  return parseModelFile(value, file);
}
