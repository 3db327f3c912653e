// Reading tables and model files from disk or stdin (Node only). The parsing
// itself lives in read-table.ts and model-file.ts, which run in browsers too.
import { readFile } from 'node:fs/promises';
import { ModelFormatError } from '@gmmkit/core';
import { UsageError } from '../errors.js';
import { parseModelFile, type LoadedModelFile } from '../model-file.js';
import {
  featuresAndWeight,
  formatFromName,
  parseTable,
  sampleWeights,
  selectColumns,
  toNumeric,
  type NumericTable,
  type RawTable,
  type TableFormat,
} from './read-table.js';

export interface ReadTableOptions {
  /** --columns: names or 1-based indices/ranges, comma separated ("1-4", "a,c", "2,petal"). */
  columns?: string | undefined;
  /** --weights: one column (name or 1-based index) of sample weights, excluded from the features. */
  weights?: string | undefined;
  /** --missing marginalize: empty cells, NA, NaN and JSON null become NaN (missing) instead of errors. */
  missing?: boolean | undefined;
  /** Force a format instead of guessing from the extension and contents. */
  format?: TableFormat | undefined;
  /** Text to use for '-' instead of process.stdin (tests). */
  stdinText?: string | undefined;
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
  const text = isStdin ? (options.stdinText ?? (await readStdin())) : await readText(file);
  return parseTable(text, { source, format: options.format ?? formatFromName(isStdin ? '' : file) });
}

export async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${describeFsError(err)}`);
  }
}

export function describeFsError(err: unknown): string {
  const code = (err as { code?: string }).code;
  switch (code) {
    case 'ENOENT':
      return 'no such file';
    case 'EISDIR':
      return 'it is a directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    default:
      return err instanceof Error ? err.message : String(err);
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin)
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
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
