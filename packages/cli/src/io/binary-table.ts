import { createReadStream } from 'node:fs';
import { InvalidDataError } from '@gmmkit/core';
import type { BinaryFormat } from './input.js';
import type { Cell, RawTable } from './read-table.js';

/**
 * Parquet (hyparquet, with the codecs of hyparquet-compressors: snappy,
 * gzip, zstd, brotli, lz4 as pandas/pyarrow, Spark and DuckDB write them)
 * and Arrow IPC, file (Feather v2) or stream format (apache-arrow), read
 * into the same RawTable as text formats: named columns, one row per
 * record, nulls as missing cells. Row groups (Parquet) and record batches
 * (Arrow) are also offered one at a time for `gmm fit --stream`.
 */

/** pandas writes a non-default index as a column of this name; it is not a feature. */
const PANDAS_INDEX = /^__index_level_\d+__$/;

/** A table's columns and its rows in batches (Parquet row groups, Arrow record batches). */
export interface BinaryBatches {
  columns: string[];
  /** Rows in batches of whole records; cells as numbers, strings, booleans or null. */
  batches(): AsyncIterable<Cell[][]>;
}

/**
 * `input` is the whole file in memory, or the path of a plain (uncompressed)
 * file to read a row group or record batch at a time.
 */
export async function binaryBatches(
  input: Uint8Array | string,
  kind: BinaryFormat,
  source: string,
): Promise<BinaryBatches> {
  try {
    return kind === 'parquet' ? await parquetBatches(input) : await arrowBatches(input);
  } catch (err) {
    if (err instanceof InvalidDataError) throw err;
    throw new InvalidDataError(
      `${source}: not a readable ${kind === 'parquet' ? 'Parquet' : 'Arrow IPC'} file (${(err as Error).message})`,
      { file: source },
    );
  }
}

export async function readBinaryTable(bytes: Uint8Array, kind: BinaryFormat, source: string): Promise<RawTable> {
  const t = await binaryBatches(bytes, kind, source);
  return binaryTable(t, kind, source, await collectRows(t, source));
}

async function collectRows(t: BinaryBatches, source: string): Promise<Cell[][]> {
  const rows: Cell[][] = [];
  try {
    for await (const batch of t.batches()) for (const r of batch) rows.push(r);
  } catch (err) {
    if (err instanceof InvalidDataError) throw err;
    throw new InvalidDataError(`${source}: cannot read its rows (${(err as Error).message})`, { file: source });
  }
  return rows;
}

/** The RawTable of a binary table's columns and some of its rows. */
export function binaryTable(t: BinaryBatches, kind: BinaryFormat, source: string, rows: Cell[][]): RawTable {
  return {
    source,
    format: kind,
    hasHeader: true,
    columns: t.columns,
    rows,
    lines: rows.map(() => undefined),
    indexColumns: t.columns.flatMap((c, j) => (PANDAS_INDEX.test(c) ? [j] : [])),
  };
}

/** A value as a table cell: bigint to number, typed scalars kept, the rest as objects (not numbers). */
function cell(v: unknown): Cell {
  if (v === undefined || v === null) return null;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
  return v as object;
}

async function parquetBatches(input: Uint8Array | string): Promise<BinaryBatches> {
  const { asyncBufferFromFile, parquetMetadataAsync, parquetSchema, parquetRead } = await import('hyparquet');
  const { compressors } = await import('hyparquet-compressors');
  const file =
    typeof input === 'string'
      ? await asyncBufferFromFile(input)
      : (input.buffer.slice(input.byteOffset, input.byteOffset + input.byteLength) as ArrayBuffer);
  const metadata = await parquetMetadataAsync(file);
  const columns = parquetSchema(metadata).children.map((c) => c.element.name);
  return {
    columns,
    batches: async function* () {
      let start = 0;
      for (const group of metadata.row_groups) {
        const end = start + Number(group.num_rows);
        let rows: unknown[][] = [];
        await parquetRead({
          file,
          metadata,
          compressors,
          rowStart: start,
          rowEnd: end,
          rowFormat: 'array',
          onComplete: (r: unknown[][]) => {
            rows = r;
          },
        });
        start = end;
        yield rows.map((r) => r.map(cell));
      }
    },
  };
}

async function arrowBatches(input: Uint8Array | string): Promise<BinaryBatches> {
  const { RecordBatchReader } = await import('apache-arrow');
  const open = async () =>
    typeof input === 'string'
      ? await RecordBatchReader.from(createReadStream(input))
      : RecordBatchReader.from(input);
  const first = await open();
  await first.open();
  const columns = first.schema.fields.map((f) => f.name);
  await first.cancel();
  return {
    columns,
    batches: async function* () {
      for await (const batch of await open()) {
        const vectors = columns.map((_, j) => batch.getChildAt(j)!);
        const rows: Cell[][] = [];
        for (let i = 0; i < batch.numRows; i++) rows.push(vectors.map((v) => cell(v.get(i))));
        yield rows;
      }
    },
  };
}
