import { createReadStream } from 'node:fs';
import { InvalidDataError } from '@gmmkit/core';
import { UsageError } from '../errors.js';
import { describeFsError } from './read-file.js';
import {
  DelimitedParser,
  checkWidth,
  delimitedHeader,
  featuresAndWeight,
  sampleWeights,
  formatFromName,
  selectColumns,
  sniffFormat,
  toNumeric,
  type Cell,
  type DelimitedRecord,
  type RawTable,
} from './read-table.js';

/**
 * CSV/TSV read in chunks for `gmm fit --stream`: the file is opened again
 * for every pass and parsed incrementally (RFC 4180 across chunk
 * boundaries), yielding `chunkRows` numeric rows at a time. Errors name the
 * file, the data row (and text line), the column and the value, as readTable's.
 */
export interface StreamTable {
  source: string;
  format: 'csv' | 'tsv';
  /** Names of the selected columns. */
  columns: string[];
  d: number;
  /** With --weights: the weight column's name. */
  weightColumn?: string | undefined;
  /** One pass over the data rows: row-major [rows, d] blocks of at most chunkRows rows. */
  blocks(): AsyncIterable<Float64Array>;
  /** One pass yielding each block with its --weights values (undefined without --weights). */
  weightedBlocks(): AsyncIterable<{ data: Float64Array; weights: Float64Array | undefined }>;
}

export interface StreamTableOptions {
  columns?: string | undefined;
  /** --weights: the weight column (name or 1-based index), excluded from the features. */
  weights?: string | undefined;
  /** --missing marginalize: missing cells become NaN. */
  missing?: boolean | undefined;
  chunkRows: number;
}

/** Bytes read per file chunk. */
const READ_CHUNK = 1 << 16;

/** Reads the header (first records) of a CSV/TSV file and returns a re-iterable reader of its rows. */
export async function openStreamTable(file: string, options: StreamTableOptions): Promise<StreamTable> {
  if (file === '-') {
    throw new UsageError(
      "--stream reads its file once per pass, and stdin ('-') can be read only once: give a file name",
    );
  }
  const source = file;
  let format = formatFromName(file);
  // The first records: the format (when the extension does not say), the header and the width.
  const first: DelimitedRecord[] = [];
  let parser: DelimitedParser | undefined;
  for await (const text of readChunks(file)) {
    if (format === undefined) format = sniffFormat(text);
    if (format === 'json' || format === 'ndjson') {
      throw new UsageError(
        `--stream reads CSV or TSV, and ${source} is ${format.toUpperCase()}: fit it without --stream`,
      );
    }
    parser ??= new DelimitedParser(format === 'tsv' ? '\t' : ',', source);
    first.push(...parser.push(text));
    if (first.length >= 2) break;
  }
  if (parser !== undefined && first.length < 2) first.push(...parser.end());
  const head = delimitedHeader(first, source);
  const delimitedFormat = format === 'tsv' ? 'tsv' : 'csv';
  // selectColumns and toNumeric only look at the names and the rows handed to them.
  const shape: RawTable = { source, format: delimitedFormat, ...head, rows: [], lines: [] };
  const picked =
    options.weights === undefined
      ? { features: selectColumns(shape, options.columns), weight: undefined }
      : featuresAndWeight(shape, options.columns, options.weights);
  const indices = picked.features;
  const weightIndex = picked.weight;
  const chunkRows = options.chunkRows;
  if (first.length === (head.hasHeader ? 1 : 0)) throw noRows(source);

  async function* weightedBlocks(): AsyncIterable<{ data: Float64Array; weights: Float64Array | undefined }> {
    let positive = false;
    const parser = new DelimitedParser(delimitedFormat === 'tsv' ? '\t' : ',', source);
    let skipHeader = head.hasHeader;
    let done = 0; // data rows yielded so far
    let rows: Cell[][] = [];
    let lines: number[] = [];
    const flush = (): { data: Float64Array; weights: Float64Array | undefined } => {
      const table: RawTable = { ...shape, rows, lines };
      const block = toNumeric(table, indices, done, options.missing).data;
      const weights = weightIndex === undefined ? undefined : sampleWeights(table, weightIndex, done, false).sampleWeight;
      if (weights?.some((w) => w > 0)) positive = true;
      done += rows.length;
      rows = [];
      lines = [];
      return { data: block, weights };
    };
    const take = (rec: DelimitedRecord): boolean => {
      if (skipHeader) {
        skipHeader = false;
        return false;
      }
      checkWidth(rec, done + rows.length, head.width, source);
      rows.push(rec.fields);
      lines.push(rec.line);
      return rows.length === chunkRows;
    };
    for await (const text of readChunks(file)) {
      for (const rec of parser.push(text)) if (take(rec)) yield flush();
    }
    for (const rec of parser.end()) if (take(rec)) yield flush();
    if (rows.length > 0) yield flush();
    if (done === 0) throw noRows(source);
    if (weightIndex !== undefined && !positive)
      throw new InvalidDataError(`${source}: --weights column '${head.columns[weightIndex]}' is zero in every row`, {
        file: source,
      });
  }

  async function* blocks(): AsyncIterable<Float64Array> {
    for await (const b of weightedBlocks()) yield b.data;
  }

  return {
    source,
    format: delimitedFormat,
    columns: indices.map((j) => head.columns[j]!),
    d: indices.length,
    weightColumn: weightIndex === undefined ? undefined : head.columns[weightIndex],
    blocks,
    weightedBlocks,
  };
}

function noRows(source: string): InvalidDataError {
  return new InvalidDataError(`${source}: no data rows`, { file: source });
}

/** The file's text in chunks (UTF-8 sequences split across reads are decoded whole), BOM removed. */
async function* readChunks(file: string): AsyncIterable<string> {
  const stream = createReadStream(file, { encoding: 'utf8', highWaterMark: READ_CHUNK });
  let first = true;
  try {
    for await (const chunk of stream) {
      let text = chunk as string;
      if (first) {
        text = text.replace(/^\uFEFF/, '');
        first = false;
      }
      yield text;
    }
  } catch (err) {
    if ((err as { code?: unknown }).code !== undefined)
      throw new UsageError(`cannot read ${file}: ${describeFsError(err)}`);
    throw err;
  } finally {
    stream.destroy();
  }
}
