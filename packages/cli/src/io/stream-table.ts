import { InvalidDataError } from '@gmmkit/core';
import { UsageError } from '../errors.js';
import { binaryBatches, binaryTable, type BinaryBatches } from './binary-table.js';
import { openInput } from './input.js';
import { inputOptions, type ReadTableOptions } from './read-file.js';
import {
  DelimitedParser,
  HEADER_SAMPLE,
  checkWidth,
  delimitedHeader,
  featuresAndWeight,
  formatFromName,
  sampleWeights,
  selectColumns,
  sniffDelimiter,
  sniffFormat,
  toNumeric,
  type Cell,
  type DelimitedRecord,
  type RawTable,
  type TableFormat,
} from './read-table.js';

/**
 * A table read in chunks for `gmm fit --stream`: the file is opened again
 * for every pass and parsed incrementally (CSV/TSV, gzip or not, RFC 4180
 * across chunk boundaries; Parquet a row group and Arrow a record batch at
 * a time), yielding `chunkRows` numeric rows at a time. Errors name the
 * file, the data row (and text line), the column and the value, as readTable's.
 */
export interface StreamTable {
  source: string;
  format: TableFormat;
  /** Names of the selected columns. */
  columns: string[];
  d: number;
  /** With --weights: the weight column's name. */
  weightColumn?: string | undefined;
  /** The reader's warnings (a numeric first row that may be a header). */
  warnings: string[];
  /** One pass over the data rows: row-major [rows, d] blocks of at most chunkRows rows. */
  blocks(): AsyncIterable<Float64Array>;
  /** One pass yielding each block with its --weights values (undefined without --weights). */
  weightedBlocks(): AsyncIterable<{ data: Float64Array; weights: Float64Array | undefined }>;
}

export interface StreamTableOptions extends ReadTableOptions {
  chunkRows: number;
}

/** Reads the header (first records) of a file and returns a re-iterable reader of its rows. */
export async function openStreamTable(file: string, options: StreamTableOptions): Promise<StreamTable> {
  if (file === '-') {
    throw new UsageError(
      "--stream reads its file once per pass, and stdin ('-') can be read only once: give a file name",
    );
  }
  const source = file;
  const input = await openInput(file, source, inputOptions(options));
  if (input.kind !== 'text') {
    // A plain file is read a row group / record batch at a time; a compressed one from memory.
    const t = await binaryBatches(input.gzip ? await input.bytes() : file, input.kind, source);
    return blockReader(binaryTable(t, input.kind, source, []), options, () => cellBatches(t));
  }
  let format = options.format ?? formatFromName(file);
  // The first records: the format (when the extension does not say), the header and the width.
  const first: DelimitedRecord[] = [];
  let parser: DelimitedParser | undefined;
  let delimiter = ',';
  let ended = true;
  for await (const text of input.chunks) {
    if (format === undefined) format = sniffFormat(text);
    if (format !== 'csv' && format !== 'tsv') {
      throw new UsageError(
        `--stream reads CSV, TSV, Parquet or Arrow, and ${source} is ${format.toUpperCase()}: fit it without --stream`,
      );
    }
    if (parser === undefined) {
      delimiter = sniffDelimiter(text, format, options);
      parser = new DelimitedParser(delimiter, source, options.comment);
    }
    first.push(...parser.push(text));
    if (first.length > HEADER_SAMPLE) {
      ended = false;
      break;
    }
  }
  if (parser !== undefined && ended) first.push(...parser.end());
  const head = delimitedHeader(first, source, options);
  const delimitedFormat = format === 'tsv' ? 'tsv' : 'csv';
  const shape: RawTable = { source, format: delimitedFormat, ...head, rows: [], lines: [] };
  if (first.length === (head.hasHeader ? 1 : 0)) throw noRows(source);

  async function* records(): AsyncIterable<Cell[][]> {
    const opened = await openInput(file, source, inputOptions(options));
    if (opened.kind !== 'text') throw new InvalidDataError(`${source} changed while being read`, { file: source });
    const parser = new DelimitedParser(delimiter, source, options.comment);
    let skipHeader = head.hasHeader;
    let r = 0; // data records so far
    const take = (recs: DelimitedRecord[]): Cell[][] => {
      const out: Cell[][] = [];
      for (const rec of recs) {
        if (skipHeader) {
          skipHeader = false;
          continue;
        }
        checkWidth(rec, r++, head.width, source);
        out.push(rec.fields);
        lines.push(rec.line);
      }
      return out;
    };
    for await (const text of opened.chunks) yield take(parser.push(text));
    yield take(parser.end());
  }
  // Text lines of the rows handed out and not yet converted (error messages name them).
  const lines: number[] = [];
  return blockReader(shape, options, records, lines);
}

async function* cellBatches(t: BinaryBatches): AsyncIterable<Cell[][]> {
  yield* t.batches();
}

/** Re-blocks batches of cells into numeric blocks of chunkRows rows. */
function blockReader(
  shape: RawTable,
  options: StreamTableOptions,
  batches: () => AsyncIterable<Cell[][]>,
  lines?: number[],
): StreamTable {
  const picked =
    options.weights === undefined
      ? { features: selectColumns(shape, options.columns), weight: undefined }
      : featuresAndWeight(shape, options.columns, options.weights);
  const indices = picked.features;
  const weightIndex = picked.weight;
  const chunkRows = options.chunkRows;
  async function* weightedBlocks(): AsyncIterable<{ data: Float64Array; weights: Float64Array | undefined }> {
    let done = 0; // data rows yielded so far
    let positive = false;
    let rows: Cell[][] = [];
    const flush = (): { data: Float64Array; weights: Float64Array | undefined } => {
      const rowLines = lines === undefined ? rows.map(() => undefined) : lines.splice(0, rows.length);
      const table: RawTable = { ...shape, rows, lines: rowLines };
      const data = toNumeric(table, indices, done, options.missing).data;
      const weights = weightIndex === undefined ? undefined : sampleWeights(table, weightIndex, done, false).sampleWeight;
      if (weights?.some((w) => w > 0)) positive = true;
      done += rows.length;
      rows = [];
      return { data, weights };
    };
    if (lines !== undefined) lines.length = 0;
    for await (const batch of batches()) {
      for (const row of batch) {
        rows.push(row);
        if (rows.length === chunkRows) yield flush();
      }
    }
    if (rows.length > 0) yield flush();
    if (done === 0) throw noRows(shape.source);
    if (weightIndex !== undefined && !positive)
      throw new InvalidDataError(`${shape.source}: --weights column '${shape.columns[weightIndex]}' is zero in every row`, {
        file: shape.source,
      });
  }
  async function* blocks(): AsyncIterable<Float64Array> {
    for await (const b of weightedBlocks()) yield b.data;
  }
  return {
    source: shape.source,
    format: shape.format,
    columns: indices.map((j) => shape.columns[j]!),
    d: indices.length,
    weightColumn: weightIndex === undefined ? undefined : shape.columns[weightIndex],
    warnings: shape.warnings ?? [],
    blocks,
    weightedBlocks,
  };
}

function noRows(source: string): InvalidDataError {
  return new InvalidDataError(`${source}: no data rows`, { file: source });
}
