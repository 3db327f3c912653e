import { InvalidDataError } from '@gmmkit/core';
import { UsageError } from '../errors.js';
import { NUMBER_RE, parseNumber, scanPlainNumbers, type PlainNumbers, type PlainNumbersOptions } from './plain-numbers.js';

export { parseNumber };

/**
 * Parsing numeric tables: CSV and TSV (RFC 4180 quoting, header detection,
 * any one-character delimiter, decimal commas, comment lines), JSON (an
 * array of arrays, of objects, or of numbers) and NDJSON, from text whole
 * or as it arrives, with a bound on the length of a line. No Node APIs
 * here: this module runs in browsers too (read-file.ts opens files, FIFOs,
 * stdin, gzip, UTF-16, Parquet and Arrow). Every data problem is reported
 * with where it sits: file, data row (and text line), column, value.
 */

export type TableFormat = 'csv' | 'tsv' | 'json' | 'ndjson' | 'parquet' | 'arrow';

/** One cell as read: text from CSV/TSV, a JSON value otherwise. */
export type Cell = string | number | boolean | null | object;

/** A parsed table before any numeric conversion. */
export interface RawTable {
  /** File name as the user gave it, or '<stdin>'. */
  source: string;
  format: TableFormat;
  /** Whether the first CSV/TSV record was taken as a header (JSON objects always have names). */
  hasHeader: boolean;
  /** Column names; for header-less input, the 1-based column numbers as strings. */
  columns: string[];
  rows: Cell[][];
  /** 1-based text line where each row starts (undefined for JSON arrays). */
  lines: (number | undefined)[];
  /**
   * Column indices (0-based) excluded unless asked for by --columns: an
   * unnamed first column holding row names (R's write.csv) or an index (pandas).
   */
  indexColumns: number[];
  /** The decimal separator of text cells ('.' unless --decimal ','). */
  decimal?: Decimal;
  /** Things the reader guessed that the user may want to know (printed as warnings). */
  warnings?: string[];
  /**
   * The body as numbers, when the delimited reader's fast path read it
   * (plain-numbers.ts): toNumeric takes plain columns from here, and `rows`
   * and `lines` are then only built (by the record parser) when something
   * asks for them.
   */
  numeric?: PlainNumbers;
}

/** A numeric matrix ready for the engine, with where it came from. */
export interface NumericTable {
  source: string;
  /** Names of the selected columns. */
  columns: string[];
  /** 0-based indices of the selected columns in the input. */
  columnIndices: number[];
  n: number;
  d: number;
  /** Row-major [n, d]. */
  data: Float64Array;
  /** With --weights: the weight column's values [n] (finite, >= 0, not all zero). */
  sampleWeight?: Float64Array | undefined;
  /** With --weights: the weight column's name. */
  weightColumn?: string | undefined;
  /** The reader's warnings (RawTable.warnings). */
  warnings: string[];
}

/**
 * The feature columns and the --weights column (0-based): without --columns,
 * every column but the weights (and an index column); a --columns list that
 * names the weight column is an error (weights are not a feature).
 */
export function featuresAndWeight(
  table: RawTable,
  columns: string | readonly string[] | undefined,
  weights: string,
): { features: number[]; weight: number } {
  const picked = selectColumns(table, weights).map((j) => j);
  if (picked.length !== 1 || weights.includes(','))
    throw new UsageError(`--weights names one column, got '${weights}'`);
  const weight = picked[0]!;
  const features = selectColumns(table, columns);
  if (columns === undefined) return { features: features.filter((j) => j !== weight), weight };
  if (features.includes(weight))
    throw new UsageError(
      `--weights column '${table.columns[weight]}' is also selected by --columns: the weights are not a feature`,
    );
  return { features, weight };
}

/**
 * The --weights column as sample weights: numbers >= 0, not all zero; a bad
 * cell is named by row and column (rows of a chunk numbered from rowOffset + 1).
 */
export function sampleWeights(
  table: RawTable,
  column: number,
  rowOffset = 0,
  requirePositive = true,
): { sampleWeight: Float64Array; weightColumn: string } {
  const w = toNumeric(table, [column], rowOffset).data;
  const name = table.columns[column]!;
  w.forEach((v, r) => {
    if (v < 0) {
      const line = table.lines[r];
      throw new InvalidDataError(
        `${table.source}: row ${rowOffset + r + 1}${line !== undefined ? ` (line ${line})` : ''}, column '${name}': weight ${v} is negative; --weights must be >= 0`,
        { file: table.source, row: rowOffset + r + 1, column: name, value: String(v) },
      );
    }
  });
  if (requirePositive && !w.some((v) => v > 0))
    throw new InvalidDataError(`${table.source}: --weights column '${name}' is zero in every row`, {
      file: table.source,
      column: name,
    });
  return { sampleWeight: w, weightColumn: name };
}

export type Decimal = '.' | ',';

/** How delimited text is read: --delimiter, --decimal, --header/--no-header, --comment. */
export interface TextOptions {
  /** Field delimiter (one character); default: tab, ';' or ',' sniffed from the first line. */
  delimiter?: string | undefined;
  /** Decimal separator; ',' reads "1,5" as 1.5 (the delimiter then defaults to ';'). */
  decimal?: Decimal | undefined;
  /** true: the first record is a header; false: it is data; undefined: detected. */
  header?: boolean | undefined;
  /** Lines starting with this character are skipped. */
  comment?: string | undefined;
}

/** Longest line (record) accepted, in characters: a file without line breaks is not a table. */
export const MAX_LINE_CHARS = 1 << 24;
/** Largest JSON document read whole. */
export const MAX_JSON_CHARS = 1 << 28;

/** Format from the file extension (a .gz suffix looked through); undefined means "look at the contents". */
export function formatFromName(file: string): TableFormat | undefined {
  const name = file.toLowerCase().replace(/\.gz$/, '');
  const base = name.slice(Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\')) + 1);
  const dot = base.lastIndexOf('.');
  switch (dot > 0 ? base.slice(dot) : '') {
    case '.csv':
      return 'csv';
    case '.tsv':
    case '.tab':
      return 'tsv';
    case '.json':
      return 'json';
    case '.ndjson':
    case '.jsonl':
      return 'ndjson';
    default:
      return undefined;
  }
}

/** Guesses the format from the text: '[' JSON, '{' NDJSON, tabs TSV, else CSV. */
export function sniffFormat(text: string): TableFormat {
  const body = text.replace(/^\uFEFF/, '').trimStart();
  if (body.startsWith('[')) return 'json';
  if (body.startsWith('{')) return 'ndjson';
  const firstLine = body.split(/\r?\n/, 1)[0] ?? '';
  const tabs = count(firstLine, '\t');
  const commas = count(firstLine, ',');
  return tabs > 0 && tabs >= commas ? 'tsv' : 'csv';
}

/**
 * The delimiter of a CSV/TSV: --delimiter, else tab for TSV, else ';' when
 * the first line has more semicolons than commas (as Excel writes where the
 * decimal separator is a comma) or the decimal separator is ',', else ','.
 */
export function sniffDelimiter(firstText: string, format: 'csv' | 'tsv', opts: TextOptions): string {
  if (opts.delimiter !== undefined) return opts.delimiter;
  if (format === 'tsv') return '\t';
  // The first data line decides; looked for in the first 64 KiB before the whole text is split into lines.
  const firstDataLine = (text: string) =>
    text
      .replace(/^\uFEFF/, '')
      .split(/\r?\n/)
      .find((l) => l.trim() !== '' && (opts.comment === undefined || !l.startsWith(opts.comment)));
  const firstLine = firstDataLine(firstText.slice(0, 1 << 16)) ?? firstDataLine(firstText) ?? '';
  if (opts.decimal === ',') return count(firstLine, '\t') > 0 ? '\t' : ';';
  return count(firstLine, ';') > count(firstLine, ',') ? ';' : ',';
}

function count(s: string, c: string): number {
  return s.split(c).length - 1;
}

/** Parses a whole text (tests, and the JSON path). */
export function parseTable(
  text: string,
  opts: TextOptions & { source: string; format?: TableFormat | undefined },
): RawTable {
  const body = text.replace(/^\uFEFF/, '');
  const format = opts.format ?? sniffFormat(body);
  switch (format) {
    case 'csv':
    case 'tsv': {
      return checked(delimitedTable(body, sniffDelimiter(body, format, opts), format, opts.source, opts));
    }
    case 'json':
      return checked(parseJsonTable(body, opts.source));
    case 'ndjson':
      return checked(parseNdjson(body.split(/\r?\n/), opts.source));
    default:
      throw new UsageError(`${opts.source}: ${format} is a binary format, not text`);
  }
}

/** Parses text as it arrives: CSV/TSV record by record, NDJSON line by line, JSON whole (bounded). */
export async function parseTextChunks(
  chunks: AsyncIterable<string>,
  opts: TextOptions & {
    source: string;
    format?: TableFormat | undefined;
    /** The fast path's scan of a whole body (Node's reader passes scanPlainNumbersInParallel); default scanPlainNumbers. */
    scan?: PlainScan | undefined;
  },
): Promise<RawTable> {
  const source = opts.source;
  let format = opts.format;
  // CSV/TSV text is collected whole for delimitedTable, its line length
  // bounded on the way; past the bound it goes to the record parser, which
  // names the long line (or, for text broken by bare CRs, reads on).
  let delimiter: string | undefined;
  const parts: string[] = [];
  let sinceBreak = 0;
  let parser: DelimitedParser | undefined;
  const records: DelimitedRecord[] = [];
  let text = '';
  const lines = new LineSplitter(source);
  const jsonLines: string[] = [];
  for await (let chunk of chunks) {
    if (format === undefined) format = sniffFormat(chunk);
    if (format === 'csv' || format === 'tsv') {
      delimiter ??= sniffDelimiter(chunk, format, opts);
      if (parser === undefined) {
        parts.push(chunk);
        const lastBreak = chunk.lastIndexOf('\n');
        sinceBreak = lastBreak < 0 ? sinceBreak + chunk.length : chunk.length - lastBreak - 1;
        if (sinceBreak <= MAX_LINE_CHARS) continue;
        parser = new DelimitedParser(delimiter, source, opts.comment);
        chunk = parts.splice(0).join('');
      }
      for (const r of parser.push(chunk)) records.push(r);
    } else if (format === 'ndjson') {
      for (const l of lines.push(chunk)) jsonLines.push(l);
    } else {
      text += chunk;
      if (text.length > MAX_JSON_CHARS)
        throw new InvalidDataError(
          `${source}: JSON larger than ${MAX_JSON_CHARS >> 20} MiB is not read whole: write it as NDJSON (one row per line) or CSV`,
          { file: source },
        );
    }
  }
  if (format === undefined) throw new InvalidDataError(`${source}: empty input`, { file: source });
  if (format === 'csv' || format === 'tsv') {
    if (parser === undefined) {
      const whole = parts.splice(0).join('');
      const sep = delimiter ?? sniffDelimiter(whole, format, opts);
      return checked(opts.scan === undefined ? delimitedTable(whole, sep, format, source, opts) : await delimitedTableScanned(whole, sep, format, source, opts, opts.scan));
    }
    for (const r of parser.end()) records.push(r);
    return checked(tableFromRecords(records, format, source, opts));
  }
  if (format === 'ndjson') {
    jsonLines.push(...lines.end());
    return checked(parseNdjson(jsonLines, source));
  }
  return checked(parseJsonTable(text, source));
}

function checked(table: RawTable): RawTable {
  if ((table.numeric?.rows ?? table.rows.length) === 0)
    throw new InvalidDataError(`${table.source}: no data rows`, { file: table.source });
  if (table.columns.length === 0)
    throw new InvalidDataError(`${table.source}: no columns`, { file: table.source });
  return table;
}

function lineTooLong(source: string, line: number): InvalidDataError {
  return new InvalidDataError(
    `${source}: line ${line} is longer than ${MAX_LINE_CHARS >> 20} MiB (no line break): not a table of rows`,
    { file: source },
  );
}

/** Lines of a text fed in pieces, each bounded by MAX_LINE_CHARS. */
export class LineSplitter {
  private rest = '';
  private line = 1;
  constructor(private readonly source: string) {}

  push(text: string): string[] {
    const parts = (this.rest + text).split('\n');
    this.rest = parts.pop()!;
    if (this.rest.length > MAX_LINE_CHARS) throw lineTooLong(this.source, this.line + parts.length);
    for (const p of parts) if (p.length > MAX_LINE_CHARS) throw lineTooLong(this.source, this.line);
    this.line += parts.length;
    return parts.map((p) => p.replace(/\r$/, ''));
  }

  end(): string[] {
    const last = this.rest.replace(/\r$/, '');
    this.rest = '';
    return last === '' ? [] : [last];
  }
}

// ---------------------------------------------------------------- CSV / TSV

export interface DelimitedRecord {
  fields: string[];
  /** Whether each field was quoted (a quoted number in a header row reads as a name). */
  quoted: boolean[];
  line: number;
}

/** RFC 4180 records: quoted fields may hold delimiters, doubled quotes and newlines; CRLF or LF. */
export function splitDelimited(
  text: string,
  delimiter: string,
  source: string,
  comment?: string,
): DelimitedRecord[] {
  const parser = new DelimitedParser(delimiter, source, comment);
  return [...parser.push(text), ...parser.end()];
}

const enum State {
  /** In an unquoted field (or between fields). */
  Field,
  /** Inside a quoted field. */
  Quoted,
  /** Saw '"' inside a quoted field: a doubled quote or the closing one, decided by the next character. */
  QuoteInQuoted,
  /** After a closing quote: spaces, then a delimiter or the end of the record. */
  AfterQuote,
  /** Just ended a record on '\r': a following '\n' belongs to it. */
  AfterCr,
  /** In a comment line (it started with the comment character). */
  Comment,
}

/**
 * The RFC 4180 reader as a state machine fed text in pieces, so a file can
 * be parsed chunk by chunk (gmm fit --stream) with quotes, doubled quotes and
 * CRLF split anywhere across chunk boundaries. `push` returns the records
 * completed so far, `end` the last one. A record (line) longer than
 * MAX_LINE_CHARS is an error naming its line.
 */
export class DelimitedParser {
  private fields: string[] = [];
  private quoted: boolean[] = [];
  private field = '';
  private fieldQuoted = false;
  private line = 1;
  private recordLine = 1;
  private recordChars = 0;
  private quoteStartLine = 1;
  private state = State.Field;
  private out: DelimitedRecord[] = [];

  constructor(
    private readonly delimiter: string,
    private readonly source: string,
    private readonly comment?: string,
  ) {
    if (delimiter.length !== 1 || delimiter === '"' || delimiter === '\n' || delimiter === '\r')
      throw new UsageError(`--delimiter must be one character other than a quote or a line break, got ${JSON.stringify(delimiter)}`);
  }

  push(text: string): DelimitedRecord[] {
    const n = text.length;
    for (let i = 0; i < n; i++) this.step(text[i]!);
    const done = this.out;
    this.out = [];
    return done;
  }

  end(): DelimitedRecord[] {
    if (this.state === State.Quoted)
      throw new InvalidDataError(`${this.source}: line ${this.quoteStartLine}: unterminated quoted field`, {
        file: this.source,
        row: this.quoteStartLine,
      });
    if (this.state === State.QuoteInQuoted) this.state = State.AfterQuote;
    if (
      this.state !== State.AfterCr &&
      this.state !== State.Comment &&
      (this.field !== '' || this.fieldQuoted || this.fields.length > 0)
    )
      this.endRecord();
    this.state = State.Field;
    const done = this.out;
    this.out = [];
    return done;
  }

  private step(c: string): void {
    if (++this.recordChars > MAX_LINE_CHARS) throw lineTooLong(this.source, this.recordLine);
    switch (this.state) {
      case State.Comment:
        if (c === '\n' || c === '\r') {
          this.line++;
          this.recordLine = this.line;
          this.recordChars = 0;
          this.state = c === '\r' ? State.AfterCr : State.Field;
        }
        return;
      case State.Quoted:
        if (c === '"') this.state = State.QuoteInQuoted;
        else {
          if (c === '\n') this.line++;
          this.field += c;
        }
        return;
      case State.QuoteInQuoted:
        if (c === '"') {
          this.field += '"';
          this.state = State.Quoted;
          return;
        }
        this.state = State.AfterQuote;
        break;
      case State.AfterCr:
        this.state = State.Field;
        if (c === '\n') {
          this.recordChars = 0;
          return;
        }
        break;
      default:
        break;
    }
    if (this.state === State.AfterQuote) {
      // Tolerate spaces between the closing quote and the delimiter.
      if ((c === ' ' || c === '\t') && c !== this.delimiter) return;
      if (c !== this.delimiter && c !== '\n' && c !== '\r') {
        throw new InvalidDataError(
          `${this.source}: line ${this.line}: unexpected text after a closing quote`,
          {
            file: this.source,
            row: this.line,
          },
        );
      }
      this.state = State.Field;
    }
    if (
      c === this.comment &&
      this.fields.length === 0 &&
      this.field === '' &&
      !this.fieldQuoted
    ) {
      this.state = State.Comment;
      return;
    }
    if (c === '"' && !this.fieldQuoted && this.field.trim() === '') {
      this.quoteStartLine = this.line;
      this.fieldQuoted = true;
      this.field = '';
      this.state = State.Quoted;
      return;
    }
    if (c === this.delimiter) {
      this.endField();
      return;
    }
    if (c === '\r' || c === '\n') {
      this.endRecord();
      this.line++;
      this.recordLine = this.line;
      this.recordChars = 0;
      if (c === '\r') this.state = State.AfterCr;
      return;
    }
    this.field += c;
  }

  private endField(): void {
    this.fields.push(this.field);
    this.quoted.push(this.fieldQuoted);
    this.field = '';
    this.fieldQuoted = false;
  }

  private endRecord(): void {
    this.endField();
    // Blank lines (a lone empty field) are not records.
    if (!(this.fields.length === 1 && this.fields[0]!.trim() === '' && !this.quoted[0]))
      this.out.push({ fields: this.fields, quoted: this.quoted, line: this.recordLine });
    this.fields = [];
    this.quoted = [];
  }
}

/** A scan of a whole body from `start`: scanPlainNumbers, or one in parts on worker threads. */
export type PlainScan = (text: string, start: number, opts: PlainNumbersOptions) => Promise<PlainNumbers | undefined>;

/** A whole CSV/TSV text as a table: by the fast path when its body is unquoted, else record by record. */
function delimitedTable(text: string, delimiter: string, format: 'csv' | 'tsv', source: string, opts: TextOptions): RawTable {
  const plain = plainBody(text, delimiter, source, opts);
  return plainOrRecords(text, delimiter, format, source, opts, plain, plain && scanPlainNumbers(text, plain.start, plain.scan));
}

/** delimitedTable with the fast path's body scanned by `scan` (in parts on worker threads): the same table. */
async function delimitedTableScanned(text: string, delimiter: string, format: 'csv' | 'tsv', source: string, opts: TextOptions, scan: PlainScan): Promise<RawTable> {
  const plain = plainBody(text, delimiter, source, opts);
  return plainOrRecords(text, delimiter, format, source, opts, plain, plain && (await scan(text, plain.start, plain.scan)));
}

/** The fast path's table when the body scanned plain, else the record parser's. */
function plainOrRecords(
  text: string,
  delimiter: string,
  format: 'csv' | 'tsv',
  source: string,
  opts: TextOptions,
  plain: { head: DelimitedHead } | undefined,
  numeric: PlainNumbers | undefined,
): RawTable {
  return (
    (plain && plainTable(text, delimiter, format, source, opts, plain.head, numeric)) ??
    tableFromRecords(splitDelimited(text, delimiter, source, opts.comment), format, source, opts)
  );
}

type DelimitedHead = ReturnType<typeof delimitedHeader>;

/**
 * Where the fast path (plain-numbers.ts) applies: a text whose lines end in
 * LF or CRLF and with no quote after its first line. The header is decided
 * on the first records exactly as the general reader decides it; returns it,
 * where the body starts and the scan's options, or undefined for another text.
 */
function plainBody(
  text: string,
  delimiter: string,
  source: string,
  opts: TextOptions,
): { head: DelimitedHead; start: number; scan: PlainNumbersOptions } | undefined {
  const firstBreak = text.indexOf('\n');
  if (firstBreak < 0 || text.indexOf('"', firstBreak) >= 0) return undefined;
  // Enough leading records for delimitedHeader (it looks at HEADER_SAMPLE + 1).
  let records: DelimitedRecord[] = [];
  for (let lines = HEADER_SAMPLE + 2; ; lines *= 2) {
    const end = afterLine(text, lines);
    const prefix = text.slice(0, end);
    if (/\r(?!\n)/.test(prefix)) return undefined;
    records = splitDelimited(prefix, delimiter, source, opts.comment);
    if (records.length > HEADER_SAMPLE || end === text.length) break;
  }
  if (records.length === 0) return undefined;
  const head = delimitedHeader(records, source, opts);
  // The header record is its whole line: no quote (so no quoted line break) follows the first line.
  const start = head.hasHeader ? afterLine(text, records[0]!.line) : 0;
  return { head, start, scan: { delimiter, decimal: head.decimal, width: head.width, comment: opts.comment } };
}

/**
 * The fast path's table from its scanned body; the records are parsed only
 * if something asks for `rows`. Undefined when the body is not plain numbers.
 */
function plainTable(
  text: string,
  delimiter: string,
  format: 'csv' | 'tsv',
  source: string,
  opts: TextOptions,
  head: DelimitedHead,
  numeric: PlainNumbers | undefined,
): RawTable | undefined {
  if (numeric === undefined || !numeric.plain.some((p) => p)) return undefined;
  let general: RawTable | undefined;
  const generalTable = () => (general ??= tableFromRecords(splitDelimited(text, delimiter, source, opts.comment), format, source, opts));
  return {
    source,
    format,
    ...head,
    numeric,
    get rows() {
      return generalTable().rows;
    },
    get lines() {
      return generalTable().lines;
    },
  };
}

/** Index just after the line break that ends 1-based line `line` (LF-terminated lines), or the text's length. */
function afterLine(text: string, line: number): number {
  let i = -1;
  for (let l = 0; l < line; l++) {
    i = text.indexOf('\n', i + 1);
    if (i < 0) return text.length;
  }
  return i + 1;
}

export function tableFromRecords(
  records: readonly DelimitedRecord[],
  format: 'csv' | 'tsv',
  source: string,
  opts: TextOptions,
): RawTable {
  const head = delimitedHeader(records, source, opts);
  const body = head.hasHeader ? records.slice(1) : records;
  const rows: Cell[][] = [];
  const lines: number[] = [];
  body.forEach((rec, r) => {
    checkWidth(rec, r, head.width, source);
    rows.push(rec.fields);
    lines.push(rec.line);
  });
  return { source, format, ...head, rows, lines };
}

/** Records examined to decide whether a numeric first row may be a header. */
export const HEADER_SAMPLE = 100;

/**
 * Header, column names and index columns of a CSV/TSV from its first
 * records (the first HEADER_SAMPLE suffice), and a warning when a numeric
 * first row may be a header after all.
 */
export function delimitedHeader(
  records: readonly DelimitedRecord[],
  source: string,
  opts: TextOptions = {},
): {
  hasHeader: boolean;
  width: number;
  columns: string[];
  indexColumns: number[];
  decimal: Decimal;
  warnings: string[];
} {
  if (records.length === 0) throw new InvalidDataError(`${source}: empty input`, { file: source });
  const decimal = opts.decimal ?? '.';
  const hasHeader = opts.header ?? detectHeader(records, decimal);
  const warnings: string[] = [];
  if (opts.header === undefined && !hasHeader && numericHeaderLikely(records, decimal)) {
    const first = records[0]!.fields.join(records[0]!.fields.length > 1 ? ',' : '');
    warnings.push(
      `${source}: the first row (${cut(first, 60)}) is all whole numbers over columns of fractions: it is read as data; if it is a header, pass --header (--no-header to keep it as data without this warning)`,
    );
  }
  const width = records[0]!.fields.length;
  const columns = hasHeader
    ? records[0]!.fields.map((name) => name.trim())
    : range(width).map((j) => String(j + 1));
  // R's write.csv puts row names in a first column headed ""; pandas writes
  // its index the same way. Such a column is not a feature.
  const indexColumns = hasHeader && columns[0] === '' && width > 1 ? [0] : [];
  // Unnamed columns other than an index get their 1-based number as a name.
  const named = columns.map((c, j) => (c === '' ? String(j + 1) : c));
  return { hasHeader, width, columns: named, indexColumns, decimal, warnings };
}

/** Throws unless data record `r` (0-based) has `width` fields. */
export function checkWidth(rec: DelimitedRecord, r: number, width: number, source: string): void {
  if (rec.fields.length !== width) {
    throw new InvalidDataError(
      `${source}: row ${r + 1} (line ${rec.line}) has ${rec.fields.length} field${rec.fields.length === 1 ? '' : 's'}, expected ${width}`,
      { file: source, row: r + 1 },
    );
  }
}

/**
 * The first record is a header when some column holds text there and a
 * number in the next record, or when every field of it is text (or quoted
 * where the next record is not, as R writes numeric-looking names).
 */
export function detectHeader(records: readonly DelimitedRecord[], decimal: Decimal = '.'): boolean {
  const first = records[0]!;
  const second = records[1];
  const isText = (s: string) => parseNumber(s, decimal) === undefined;
  if (first.fields.every((f) => isText(f))) return true;
  if (second === undefined) return false;
  return first.fields.some((f, j) => {
    const next = second.fields[j];
    if (next === undefined || isText(next)) return false;
    return isText(f) || (first.quoted[j] === true && second.quoted[j] !== true);
  });
}

/**
 * A numeric first row that is probably names (years such as 1990,2000):
 * every field a whole number while some column holds (almost) only
 * fractions in the following records.
 */
function numericHeaderLikely(records: readonly DelimitedRecord[], decimal: Decimal): boolean {
  const first = records[0]!.fields.map((f) => parseNumber(f, decimal));
  if (first.some((v) => v === undefined || !Number.isInteger(v))) return false;
  const rest = records.slice(1, HEADER_SAMPLE + 1);
  if (rest.length < 2) return false;
  // Columns where at least 90% of the following values are fractions.
  return first.some(
    (_, j) =>
      rest.filter((r) => {
        const v = parseNumber(r.fields[j] ?? '', decimal);
        return v !== undefined && !Number.isInteger(v);
      }).length >= 0.9 * rest.length,
  );
}

/** A long text cut to `max` characters with an ellipsis. */
export function cut(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

// ---------------------------------------------------------------- JSON

function parseJsonTable(text: string, source: string): RawTable {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new InvalidDataError(`${source}: not valid JSON (${(err as Error).message})`, { file: source });
  }
  if (!Array.isArray(value)) {
    throw new InvalidDataError(
      `${source}: expected a JSON array of rows (arrays or objects), got ${jsonKind(value)}`,
      { file: source },
    );
  }
  return rowsFromJsonValues(value, source, undefined);
}

function parseNdjson(textLines: readonly string[], source: string): RawTable {
  const values: unknown[] = [];
  const lines: number[] = [];
  textLines.forEach((lineText, idx) => {
    if (lineText.trim() === '') return;
    try {
      values.push(JSON.parse(lineText));
    } catch (err) {
      throw new InvalidDataError(`${source}: line ${idx + 1}: not valid JSON (${(err as Error).message})`, {
        file: source,
        row: values.length + 1,
      });
    }
    lines.push(idx + 1);
  });
  return rowsFromJsonValues(values, source, lines);
}

function rowsFromJsonValues(values: unknown[], source: string, lines: number[] | undefined): RawTable {
  const format: TableFormat = lines === undefined ? 'json' : 'ndjson';
  const where = (r: number) => (lines === undefined ? `row ${r + 1}` : `row ${r + 1} (line ${lines[r]})`);
  const lineList = lines ?? values.map(() => undefined);
  if (values.length === 0)
    return { source, format, hasHeader: false, columns: [], rows: [], lines: [], indexColumns: [] };
  const first = values[0];
  // A flat array of numbers is one column.
  if (
    lines === undefined &&
    values.every((v) => !Array.isArray(v) && (v === null || typeof v !== 'object'))
  ) {
    return {
      source,
      format,
      hasHeader: false,
      columns: ['1'],
      rows: values.map((v) => [v as Cell]),
      lines: lineList,
      indexColumns: [],
    };
  }
  if (Array.isArray(first)) {
    const width = first.length;
    const rows = values.map((v, r) => {
      if (!Array.isArray(v))
        throw new InvalidDataError(`${source}: ${where(r)} is ${jsonKind(v)}, expected an array like row 1`, {
          file: source,
          row: r + 1,
        });
      if (v.length !== width) {
        throw new InvalidDataError(`${source}: ${where(r)} has ${v.length} values, expected ${width}`, {
          file: source,
          row: r + 1,
        });
      }
      return v as Cell[];
    });
    return {
      source,
      format,
      hasHeader: false,
      columns: range(width).map((j) => String(j + 1)),
      rows,
      lines: lineList,
      indexColumns: [],
    };
  }
  if (first !== null && typeof first === 'object') {
    const columns = Object.keys(first);
    const rows = values.map((v, r) => {
      if (v === null || typeof v !== 'object' || Array.isArray(v)) {
        throw new InvalidDataError(
          `${source}: ${where(r)} is ${jsonKind(v)}, expected an object like row 1`,
          { file: source, row: r + 1 },
        );
      }
      const obj = v as Record<string, unknown>;
      const keys = Object.keys(obj);
      for (const c of columns) {
        if (!(c in obj))
          throw new InvalidDataError(`${source}: ${where(r)} has no key '${c}'`, {
            file: source,
            row: r + 1,
            column: c,
          });
      }
      if (keys.length !== columns.length) {
        const extra = keys.find((k) => !columns.includes(k))!;
        throw new InvalidDataError(`${source}: ${where(r)} has key '${extra}' that row 1 lacks`, {
          file: source,
          row: r + 1,
          column: extra,
        });
      }
      return columns.map((c) => obj[c] as Cell);
    });
    return { source, format, hasHeader: true, columns, rows, lines: lineList, indexColumns: [] };
  }
  throw new InvalidDataError(`${source}: ${where(0)} is ${jsonKind(first)}, expected an array or an object`, {
    file: source,
    row: 1,
  });
}

function jsonKind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

// ---------------------------------------------------------------- columns

/**
 * Resolves --columns to 0-based indices. Each occurrence of the flag is a
 * comma-separated list (an occurrence equal to a column name is that name,
 * commas and all); a token may be double-quoted to hold commas
 * ('"a,b",c'). A token equal to a column name selects it by name, otherwise
 * N selects the N-th column (1-based, like cut -f) and N-M a range.
 */
export function selectColumns(table: RawTable, spec: string | readonly string[] | undefined): number[] {
  if (spec === undefined || (Array.isArray(spec) && spec.length === 0)) {
    return range(table.columns.length).filter((j) => !table.indexColumns.includes(j));
  }
  const specs: readonly string[] = typeof spec === 'string' ? [spec] : spec;
  const out: number[] = [];
  const width = table.columns.length;
  const describe = () =>
    table.hasHeader
      ? `columns: ${cut(table.columns.map((c) => JSON.stringify(c)).join(', '), 200)}`
      : `${width} columns, no header`;
  const tokens: string[] = [];
  for (const s of specs) {
    if (table.hasHeader && table.columns.includes(s.trim())) tokens.push(s.trim());
    else tokens.push(...splitColumnList(s));
  }
  for (const token of tokens) {
    const byName = table.hasHeader ? table.columns.indexOf(token) : -1;
    if (byName >= 0) {
      if (table.columns.indexOf(token, byName + 1) >= 0)
        throw new UsageError(`--columns: column name '${token}' is ambiguous in ${table.source}`);
      out.push(byName);
      continue;
    }
    const m = /^(\d+)(?:-(\d+))?$/.exec(token);
    if (m === null)
      throw new UsageError(`--columns: no column named '${cut(token, 80)}' in ${table.source} (${describe()})`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (lo < 1 || hi < lo)
      throw new UsageError(`--columns: '${token}' is not a valid 1-based column index or range`);
    if (hi > width)
      throw new UsageError(
        `--columns: column ${hi} is out of range: ${table.source} has ${width} column${width === 1 ? '' : 's'} (${describe()})`,
      );
    for (let j = lo; j <= hi; j++) out.push(j - 1);
  }
  const dup = out.find((j, i) => out.indexOf(j) !== i);
  if (dup !== undefined) throw new UsageError(`--columns: column '${table.columns[dup]}' is selected twice`);
  return out;
}

/** 'a,"b,c", d' -> ['a', 'b,c', 'd']: CSV quoting, so names with commas can be given. */
export function splitColumnList(spec: string): string[] {
  let records: DelimitedRecord[];
  try {
    records = splitDelimited(spec.trim(), ',', '--columns');
  } catch {
    throw new UsageError(`--columns '${spec}': unbalanced quotes`);
  }
  if (records.length !== 1) throw new UsageError(`--columns '${spec}': empty or multi-line list`);
  const tokens = records[0]!.fields.map((t, i) => (records[0]!.quoted[i] === true ? t : t.trim()));
  if (tokens.some((t) => t === '')) throw new UsageError(`--columns '${spec}': empty entry`);
  return tokens;
}

// ---------------------------------------------------------------- numbers

const NOT_FINITE_RE = /^[+-]?(?:nan|inf|infinity)$/i;
const MISSING = new Set(['', 'NA', 'N/A', 'null', 'NULL', 'None']);
/** What --missing marginalize reads as a missing cell: empty, NA, NaN (any case), and JSON null. */
const MISSING_CELL = /^(?:|NA|N\/A|nan|NaN|NAN|null|NULL|None)$/;


/**
 * Converts the selected columns to a float64 matrix, naming the first bad
 * cell (rows of a chunk are numbered from rowOffset + 1). With `missing`,
 * empty cells, NA, NaN and null are NaN (missing values) instead of errors.
 */
export function toNumeric(
  table: RawTable,
  columnIndices: readonly number[],
  rowOffset = 0,
  missing = false,
): NumericTable {
  const d = columnIndices.length;
  if (d === 0) throw new UsageError(`no columns selected from ${table.source}`);
  const fast = table.numeric;
  if (fast !== undefined && columnIndices.every((j) => fast.plain[j] === true)) {
    return {
      source: table.source,
      columns: columnIndices.map((j) => table.columns[j]!),
      columnIndices: [...columnIndices],
      n: fast.rows,
      d,
      data: pickColumns(fast, table.columns.length, columnIndices),
      warnings: table.warnings ?? [],
    };
  }
  const n = table.rows.length;
  const data = new Float64Array(n * d);
  const decimal = table.decimal ?? '.';
  for (let r = 0; r < n; r++) {
    const row = table.rows[r]!;
    for (let c = 0; c < d; c++) {
      const j = columnIndices[c]!;
      const cell = row[j];
      let v =
        typeof cell === 'number'
          ? Number.isFinite(cell)
            ? cell
            : undefined
          : typeof cell === 'string'
            ? parseNumber(cell, decimal)
            : undefined;
      if (v === undefined && missing && (cell === null || cell === undefined || (typeof cell === 'string' && MISSING_CELL.test(cell.trim()))))
        v = Number.NaN;
      if (v === undefined) throw cellError(table, r, j, cell, columnIndices, rowOffset);
      data[r * d + c] = v;
    }
  }
  return {
    source: table.source,
    columns: columnIndices.map((j) => table.columns[j]!),
    columnIndices: [...columnIndices],
    n,
    d,
    data,
    warnings: table.warnings ?? [],
  };
}

/** Columns `indices` of a row-major [rows, width] matrix (the matrix itself when that is all of it, in order). */
function pickColumns(m: PlainNumbers, width: number, indices: readonly number[]): Float64Array {
  if (indices.length === width && indices.every((j, c) => j === c)) return m.data;
  const d = indices.length;
  const out = new Float64Array(m.rows * d);
  for (let r = 0; r < m.rows; r++) for (let c = 0; c < d; c++) out[r * d + c] = m.data[r * width + indices[c]!]!;
  return out;
}

function cellError(
  table: RawTable,
  r: number,
  j: number,
  cell: Cell | undefined,
  selected: readonly number[],
  rowOffset: number,
): InvalidDataError {
  const name = table.columns[j]!;
  const line = table.lines[r];
  const at = `${table.source}: row ${rowOffset + r + 1}${line !== undefined ? ` (line ${line})` : ''}, column '${name}'${table.hasHeader ? '' : ` (${j + 1})`}`;
  // JSON turns a literal such as 1e999 into Infinity (and JSON.stringify that into 'null').
  if (typeof cell === 'number') {
    return new InvalidDataError(
      `${at}: value ${cell > 0 ? 'overflows to +Infinity' : cell < 0 ? 'overflows to -Infinity' : 'is NaN'}: not a finite float64 number (a literal beyond ±1.8e308?)`,
      { file: table.source, row: rowOffset + r + 1, column: name, value: String(cell) },
    );
  }
  const shown =
    cell === undefined || cell === null ? '' : typeof cell === 'string' ? cell : JSON.stringify(cell);
  const text = shown.trim();
  const location = { file: table.source, row: rowOffset + r + 1, column: name, value: cut(shown, 80) };
  if (cell === null || MISSING.has(text))
    return new InvalidDataError(
      `${at}: empty or missing value${text === '' ? '' : ` '${text}'`} (to fit with missing values, pass --missing marginalize)`,
      location,
    );
  if (NOT_FINITE_RE.test(text) || (typeof cell === 'number' && !Number.isFinite(cell))) {
    return new InvalidDataError(`${at}: value '${text}' is not a finite number`, location);
  }
  if (typeof cell === 'string' && NUMBER_RE.test(text.replace(',', '.')) && parseNumber(text, '.') === undefined) {
    if (/,/.test(text) && (table.decimal ?? '.') === '.')
      return new InvalidDataError(`${at}: value '${cut(text, 80)}' is not a number; for a decimal comma pass --decimal ,`, location);
    if (NUMBER_RE.test(text))
      return new InvalidDataError(`${at}: value '${cut(text, 80)}' overflows: not a finite float64 number`, location);
  }
  // A column that is text all the way down (iris's Species) gets a hint
  // listing the numeric columns to pass to --columns.
  const numericCols = table.columns
    .map((_, k) => k)
    .filter((k) => selected.includes(k) && columnIsNumeric(table, k));
  const hint = columnIsText(table, j)
    ? `; column '${name}' is not numeric: choose columns with --columns${numericCols.length > 0 ? ` (e.g. --columns ${compactIndexList(numericCols)})` : ''}`
    : '';
  return new InvalidDataError(`${at}: value '${cut(text, 80)}' is not a number${hint}`, location);
}

function cellNumeric(cell: Cell | undefined, decimal: Decimal): boolean {
  return typeof cell === 'number'
    ? Number.isFinite(cell)
    : typeof cell === 'string' && parseNumber(cell, decimal) !== undefined;
}

function columnIsNumeric(table: RawTable, j: number): boolean {
  return table.rows.every((row) => cellNumeric(row[j], table.decimal ?? '.'));
}

function columnIsText(table: RawTable, j: number): boolean {
  return table.rows.every((row) => !cellNumeric(row[j], table.decimal ?? '.'));
}

/** 0-based indices -> "1-4,6" (1-based, ranges collapsed). */
export function compactIndexList(indices: readonly number[]): string {
  const sorted = [...indices].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let k = i;
    while (k + 1 < sorted.length && sorted[k + 1] === sorted[k]! + 1) k++;
    parts.push(k > i ? `${sorted[i]! + 1}-${sorted[k]! + 1}` : `${sorted[i]! + 1}`);
    i = k + 1;
  }
  return parts.join(',');
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
