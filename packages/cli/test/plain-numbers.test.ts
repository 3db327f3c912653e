import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { scanPlainNumbers } from '../src/io/plain-numbers.js';
import { parseNumber, parseTable, selectColumns, toNumeric } from '../src/io/read-table.js';

/** The general reader's matrix for a CSV text, or undefined when it refuses the text. */
function generalReader(text: string, columns?: string): Float64Array | undefined {
  try {
    const raw = parseTable(text, { source: 't.csv', format: 'csv' });
    return toNumeric(raw, selectColumns(raw, columns)).data;
  } catch {
    return undefined;
  }
}

/** The fast path on a header-less CSV body, all columns kept. */
function fast(text: string, width: number, columns = Array.from({ length: width }, (_, j) => j)) {
  return scanPlainNumbers(text, 0, { delimiter: ',', decimal: '.', width, columns }, (c) => parseNumber(c))?.data;
}

const number = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((v) => String(v)),
  fc.double({ min: -1e6, max: 1e6, noNaN: true }).map((v) => v.toFixed(4)),
  fc.double({ min: -1e6, max: 1e6, noNaN: true }).map((v) => v.toExponential(6)),
  fc.integer({ min: -1000, max: 1000 }).map((v) => String(v)),
  fc.constantFrom('0', '-0', '+1', '1.', '.5', '007', '0.000', '1e22', '1e-22', '1E+5', '123456789012345678901234567890', '4.9e-324', '1.7976931348623157e308'),
);
const padded = fc.tuple(fc.constantFrom('', ' ', '  ', '\t'), number, fc.constantFrom('', ' ', '\t')).map((p) => p.join(''));

describe('scanPlainNumbers (the delimited reader fast path)', () => {
  it('reads every plain number exactly as the general reader does (bit for bit)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }).chain((w) =>
          fc.tuple(fc.constant(w), fc.array(fc.array(padded, { minLength: w, maxLength: w }), { minLength: 2, maxLength: 30 })),
        ),
        fc.constantFrom('\n', '\r\n', '\r'),
        fc.boolean(),
        ([w, rows], eol, trailingBreak) => {
          const text = rows.map((r) => r.join(',')).join(eol) + (trailingBreak ? eol : '');
          const general = generalReader(text);
          const mine = fast(text, w);
          // The general reader may take a first row of numbers as data or refuse a cell: compare only where it read all rows.
          if (general !== undefined && general.length === rows.length * w) expect(mine).toEqual(general);
          if (mine !== undefined) {
            expect(mine.length).toBe(rows.length * w);
            rows.flat().forEach((cell, i) => expect(Object.is(mine[i], parseNumber(cell))).toBe(true));
          }
        },
      ),
      { seed: 20261202, numRuns: 300 },
    );
  });

  it('keeps only the selected columns, in the order asked, skipping text in the others', () => {
    const text = '1.5,setosa,2\n3,versicolor,4.25\n';
    expect([...fast(text, 3, [2, 0])!]).toEqual([2, 1.5, 4.25, 3]);
  });

  it('skips blank lines and comment lines like the general reader', () => {
    const text = '1,2\n\n   \n3,4\r\n\r\n5,6';
    expect([...fast(text, 2)!]).toEqual([1, 2, 3, 4, 5, 6]);
    const commented = scanPlainNumbers('# note\n1,2\n#x,y\n3,4\n', 0, { delimiter: ',', decimal: '.', width: 2, columns: [0, 1], comment: '#' }, (c) => parseNumber(c));
    expect([...commented!.data]).toEqual([1, 2, 3, 4]);
  });

  it('reads decimal commas with a semicolon delimiter', () => {
    const out = scanPlainNumbers('1,5;-2,25\n3;4,0\n', 0, { delimiter: ';', decimal: ',', width: 2, columns: [0, 1] }, () => undefined);
    expect([...out!.data]).toEqual([1.5, -2.25, 3, 4]);
  });

  it('gives up (undefined) on anything it does not read exactly, so the general reader reports it', () => {
    for (const text of [
      '1,2\n3\n', // short record
      '1,2\n3,4,5\n', // long record
      '1,"2"\n', // a quote
      '1,\n', // empty cell
      '1,NA\n', // missing marker
      '1,abc\n', // text in a selected column
      '1,1e400\n', // not finite
      '1,0x10\n', // hex
      '1,1e\n', // bad exponent
      '1,.\n', // no digits
      '1,1.2.3\n',
      '\t\t\n', // (tab-delimited below) a line of empty fields
    ]) {
      const delimiter = text === '\t\t\n' ? '\t' : ',';
      const width = delimiter === '\t' ? 3 : 2;
      const out = scanPlainNumbers(text, 0, { delimiter, decimal: '.', width, columns: [0, 1] }, (c) => parseNumber(c));
      expect(out, JSON.stringify(text)).toBeUndefined();
    }
  });

  it('starts at the given offset (after a header) and sizes the matrix to the rows read', () => {
    const text = 'a,b\r\n1,2\r\n3,4\r\n';
    const out = scanPlainNumbers(text, text.indexOf('\n') + 1, { delimiter: ',', decimal: '.', width: 2, columns: [0, 1] }, (c) => parseNumber(c));
    expect(out!.rows).toBe(2);
    expect(out!.data.length).toBe(4);
  });
});
