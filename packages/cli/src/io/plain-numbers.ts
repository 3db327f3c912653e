/**
 * The fast path of the delimited reader: a body of unquoted records parsed
 * straight from the text into a float64 matrix, with no per-cell strings.
 *
 * Every cell is read exactly as the general reader's `parseNumber` reads it.
 * A column with any cell that is not a finite number (a label, a gap) is
 * marked not plain; the caller uses only plain columns from here. At a
 * quote anywhere or a record of the wrong width it gives up (undefined) and
 * the caller runs the general reader, which also names any problem. So this
 * path changes speed and memory, never results.
 */

export interface PlainNumbersOptions {
  /** One-character field delimiter. */
  delimiter: string;
  /** Decimal separator of the cells. */
  decimal: '.' | ',';
  /** Fields per record. */
  width: number;
  /** Lines starting with this character are skipped. */
  comment?: string | undefined;
}

export interface PlainNumbers {
  rows: number;
  /** Row-major [rows, width]; NaN where a cell is not a number. */
  data: Float64Array;
  /** Per column: every cell of it is a finite number. */
  plain: boolean[];
}

const NL = 10;
const CR = 13;
const SPACE = 32;
const TAB = 9;
const QUOTE = 34;
const PLUS = 43;
const MINUS = 45;
const ZERO = 48;
const NINE = 57;
const LOWER_E = 101;
const UPPER_E = 69;

/** Powers of ten that are exact doubles (10^0..10^22). */
const POW10 = Array.from({ length: 23 }, (_, i) => Number(`1e${i}`));

/**
 * Parses the records of `text` from index `start` (the first data record) up
 * to `end` (the text's end, or just after a line break). Blank lines are
 * skipped, as by the general reader; CRLF, LF or CR end a record. Returns
 * undefined when the text is not plain (see the module doc). With `into`
 * (plainRowCapacity rows of width, e.g. a piece's place in a shared matrix)
 * the rows are written there and `data` is a view of it, unless bare-CR
 * records outgrow it (then `data` is an array of its own).
 */
export function scanPlainNumbers(
  text: string,
  start: number,
  opts: PlainNumbersOptions,
  end = text.length,
  into?: Float64Array,
): PlainNumbers | undefined {
  const { width } = opts;
  const delimiter = opts.delimiter.charCodeAt(0);
  const decimal = opts.decimal.charCodeAt(0);
  const comment = opts.comment === undefined ? -1 : opts.comment.charCodeAt(0);
  const d = width;
  const plain = new Array<boolean>(width).fill(true);
  // Spaces and tabs around a line make it blank, unless they are the delimiter (then they hold empty fields).
  const blank = (c: number) => (c === SPACE || c === TAB) && c !== delimiter;
  const capacity = plainRowCapacity(text, start, end) * d;
  let data = into !== undefined && into.length === capacity ? into : new Float64Array(capacity);
  const n = end;
  let rows = 0;
  let i = start;
  while (i < n) {
    // A blank line (spaces only) or a comment line is not a record.
    let p = i;
    while (p < n && blank(text.charCodeAt(p))) p++;
    const first = p < n ? text.charCodeAt(p) : NL;
    if (first === NL || first === CR || (i === p && first === comment)) {
      if (first !== NL && first !== CR) p = skipLine(text, p);
      i = lineBreakEnd(text, p);
      continue;
    }
    const base = rows * d;
    if (base === data.length) {
      const grown = new Float64Array(2 * data.length);
      grown.set(data);
      data = grown;
    }
    let field = 0;
    let a = i;
    for (;;) {
      if (field >= width) return undefined;
      // Parse while scanning; a cell the exact parse does not end cleanly goes to parseNumber.
      let value = parseNumberAt(text, a, decimal, delimiter);
      let b = stoppedAt;
      let c = b < n ? text.charCodeAt(b) : NL;
      if (Number.isNaN(value) || (c !== delimiter && c !== NL && c !== CR)) {
        for (b = a; b < n; b++) {
          c = text.charCodeAt(b);
          if (c === delimiter || c === NL || c === CR) break;
          if (c === QUOTE) return undefined;
        }
        if (b >= n) c = NL;
        // The cells the exact fast parse leaves (long mantissas, large exponents): the general reader's parse.
        const parsed = parseNumber(text.slice(a, b), opts.decimal);
        if (parsed === undefined) plain[field] = false;
        value = parsed ?? NaN;
      }
      data[base + field] = value;
      field++;
      if (c === delimiter) {
        a = b + 1;
        continue;
      }
      i = lineBreakEnd(text, b);
      break;
    }
    if (field !== width) return undefined;
    rows++;
  }
  return { rows, data: rows * d === data.length ? data : data === into ? data.subarray(0, rows * d) : data.slice(0, rows * d), plain };
}

/** Records ending in LF or CRLF in text[start, end) are at most its line feeds (+ 1 without a final one); bare-CR records may be more. */
export function plainRowCapacity(text: string, start: number, end: number): number {
  const finalLineFeed = end > start && text.charCodeAt(end - 1) === NL;
  return lineFeeds(text, start, end) + (finalLineFeed ? 0 : 1);
}

/** Where parseNumberAt stopped: after the number and the spaces after it (module state, so the hot loop allocates nothing). */
let stoppedAt = 0;

/** The largest integer below which every integer is an exact double (2^53 - 1). */
const MAX_EXACT = Number.MAX_SAFE_INTEGER;

/**
 * The decimal number at text[i..] (spaces around it allowed) when its exact
 * value one IEEE operation rounds correctly: an integer mantissa below 2^53
 * and a power of ten up to 22 (Clinger's fast path). NaN for anything else,
 * which the caller hands to the general parser. Sets stoppedAt. Past the
 * text's end charCodeAt gives NaN, which no test below accepts; a piece's
 * end is just after a line break, where every number stops.
 */
function parseNumberAt(text: string, i: number, decimal: number, delimiter: number): number {
  let c = text.charCodeAt(i);
  while ((c === SPACE || c === TAB) && c !== delimiter) c = text.charCodeAt(++i);
  let negative = false;
  if (c === MINUS || c === PLUS) {
    negative = c === MINUS;
    c = text.charCodeAt(++i);
  }
  let mantissa = 0;
  let exponent = 0;
  const integer = i;
  while (c >= ZERO && c <= NINE) {
    mantissa = mantissa * 10 + (c - ZERO);
    c = text.charCodeAt(++i);
  }
  let digits = i - integer;
  if (c === decimal) {
    c = text.charCodeAt(++i);
    const fraction = i;
    while (c >= ZERO && c <= NINE) {
      mantissa = mantissa * 10 + (c - ZERO);
      c = text.charCodeAt(++i);
    }
    exponent = fraction - i;
    digits += i - fraction;
  }
  if (digits === 0) return NaN;
  // The mantissa only grows: below 2^53 at the end, it was exact all along.
  if (mantissa > MAX_EXACT) return NaN;
  if (c === LOWER_E || c === UPPER_E) {
    c = text.charCodeAt(++i);
    let expNegative = false;
    if (c === MINUS || c === PLUS) {
      expNegative = c === MINUS;
      c = text.charCodeAt(++i);
    }
    let e = 0;
    let expDigits = 0;
    while (c >= ZERO && c <= NINE) {
      if (++expDigits > 4) return NaN;
      e = e * 10 + (c - ZERO);
      c = text.charCodeAt(++i);
    }
    if (expDigits === 0) return NaN;
    exponent += expNegative ? -e : e;
  }
  while ((c === SPACE || c === TAB) && c !== delimiter) c = text.charCodeAt(++i);
  stoppedAt = i;
  let value: number;
  if (mantissa === 0) value = 0;
  else if (exponent >= 0 && exponent <= 22) value = mantissa * POW10[exponent]!;
  else if (exponent < 0 && exponent >= -22) value = mantissa / POW10[-exponent]!;
  else return NaN;
  return negative ? -value : value;
}

/** The general reader's cell parser: a finite decimal number, or undefined (no hex, no 'Infinity', no empty string); with decimal ',' "1,5" is 1.5. */
export function parseNumber(text: string, decimal: '.' | ',' = '.'): number | undefined {
  let t = text.trim();
  if (decimal === ',') {
    if (t.includes('.')) return undefined;
    t = t.replace(',', '.');
  }
  if (!NUMBER_RE.test(t)) return undefined;
  const v = Number(t);
  return Number.isFinite(v) ? v : undefined;
}

/** The text of a decimal number as the general reader accepts it (no hex, no Infinity). */
export const NUMBER_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** Line feeds in text[from, end), by indexOf (a fast search). */
function lineFeeds(text: string, from: number, end: number): number {
  let count = 0;
  for (let i = text.indexOf('\n', from); i >= 0 && i < end; i = text.indexOf('\n', i + 1)) count++;
  return count;
}

function skipLine(text: string, i: number): number {
  while (i < text.length && text.charCodeAt(i) !== NL && text.charCodeAt(i) !== CR) i++;
  return i;
}

/** Index after the line break at i (CRLF counts as one), or i at the text's end. */
function lineBreakEnd(text: string, i: number): number {
  if (i >= text.length) return i;
  if (text.charCodeAt(i) === CR && text.charCodeAt(i + 1) === NL) return i + 2;
  return i + 1;
}
