import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { scanPlainNumbers } from '../src/io/plain-numbers.js';
import type { ScanWorkers, scanPlainNumbersInParallel } from '../src/io/plain-numbers-parallel.js';
import { parseNumber, parseTable, selectColumns, splitDelimited, tableFromRecords, toNumeric, type TextOptions } from '../src/io/read-table.js';

/** The record parser's matrix for a header-less CSV text, or undefined when it refuses the text. */
function generalReader(text: string): Float64Array | undefined {
  try {
    const raw = tableFromRecords(splitDelimited(text, ',', 't.csv'), 'csv', 't.csv', { header: false });
    return toNumeric(raw, selectColumns(raw, undefined)).data;
  } catch {
    return undefined;
  }
}

/** The fast path on a header-less CSV body: its matrix when every column is plain. */
function fast(text: string, width: number) {
  const out = scanPlainNumbers(text, 0, { delimiter: ',', decimal: '.', width });
  return out?.plain.every((p) => p) === true ? out.data : undefined;
}

const number = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((v) => String(v)),
  fc.double({ min: -1e6, max: 1e6, noNaN: true }).map((v) => v.toFixed(4)),
  fc.double({ min: -1e6, max: 1e6, noNaN: true }).map((v) => v.toExponential(6)),
  fc.integer({ min: -1000, max: 1000 }).map((v) => String(v)),
  fc.constantFrom('0', '-0', '+1', '1.', '.5', '007', '0.000', '1e22', '1e-22', '1E+5', '123456789012345678901234567890', '4.9e-324', '1.7976931348623157e308',
    // the exact mantissa's edge (2^53 - 1, 2^53 + 1) and 16-17 significant digits
    '9007199254740991', '9007199254740993', '0.9007199254740993', '900719925474099.1', '1.234567890123456e-7', '0.00000000000000000000001'),
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

  it('marks a column with text or gaps as not plain and reads the others', () => {
    const text = '1.5,setosa,2,\n3,versicolor,4.25,7\n';
    const out = scanPlainNumbers(text, 0, { delimiter: ',', decimal: '.', width: 4 })!;
    expect(out.plain).toEqual([true, false, true, false]);
    expect([out.data[0], out.data[2], out.data[4], out.data[6], out.data[7]]).toEqual([1.5, 2, 3, 4.25, 7]);
  });

  it('skips blank lines and comment lines like the general reader', () => {
    const text = '1,2\n\n   \n3,4\r\n\r\n5,6';
    expect([...fast(text, 2)!]).toEqual([1, 2, 3, 4, 5, 6]);
    const commented = scanPlainNumbers('# note\n1,2\n#x,y\n3,4\n', 0, { delimiter: ',', decimal: '.', width: 2, comment: '#' });
    expect([...commented!.data]).toEqual([1, 2, 3, 4]);
  });

  it('reads decimal commas with a semicolon delimiter', () => {
    const out = scanPlainNumbers('1,5;-2,25\n3;4,0\n', 0, { delimiter: ';', decimal: ',', width: 2 });
    expect([...out!.data]).toEqual([1.5, -2.25, 3, 4]);
  });

  it('gives up (undefined) on quotes and ragged records, and marks a column with any non-number cell not plain', () => {
    for (const text of ['1,2\n3\n', '1,2\n3,4,5\n', '1,"2"\n', '"1",2\n']) {
      const out = scanPlainNumbers(text, 0, { delimiter: ',', decimal: '.', width: 2 });
      expect(out, JSON.stringify(text)).toBeUndefined();
    }
    for (const text of [
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
      const out = scanPlainNumbers(text, 0, { delimiter, decimal: '.', width });
      expect(out?.plain[1], JSON.stringify(text)).toBe(false);
    }
  });

  it('starts at the given offset (after a header) and sizes the matrix to the rows read', () => {
    const text = 'a,b\r\n1,2\r\n3,4\r\n';
    const out = scanPlainNumbers(text, text.indexOf('\n') + 1, { delimiter: ',', decimal: '.', width: 2 });
    expect(out!.rows).toBe(2);
    expect(out!.data.length).toBe(4);
  });
});

describe('parseTable: the fast path gives the record parser\'s table', () => {
  const cases: [string, string, TextOptions][] = [
    ['header, LF', 'a,b,c\n1,2,3\n4.5,-6,7e3\n', {}],
    ['R write.csv: quoted header, row names', '"","Sepal.Length","Species"\n"1",5.1,"setosa"\n', {}],
    ['quoted header, unquoted body', '"x","y"\r\n1,2\r\n3,4\r\n', {}],
    ['no header', '1,2\n3,4\n', {}],
    ['label column', 'x,label,y\n1,a,2\n3,b,4\n', {}],
    ['gaps', 'x,y\n1,\n3,4\n', {}],
    ['comments and blank lines', '# made by hand\nx,y\n\n1,2\n# mid\n3,4\n', { comment: '#' }],
    ['semicolons, decimal commas', 'x;y\n1,5;2\n3;4,25\n', { decimal: ',' }],
    ['numeric header warned', `1990,2000\n${Array.from({ length: 5 }, (_, i) => `${i}.5,${i}.25`).join('\n')}\n`, {}],
    ['forced header', '1,2\n3,4\n', { header: true }],
    ['leading blank lines', '\n\nx,y\n1,2\n', {}],
  ];
  for (const [name, text, opts] of cases) {
    it(name, () => {
      const delimiter = opts.decimal === ',' ? ';' : ',';
      const expected = tableFromRecords(splitDelimited(text, delimiter, 't.csv', opts.comment), 'csv', 't.csv', opts);
      const got = parseTable(text, { ...opts, source: 't.csv', format: 'csv' });
      expect({ ...got, numeric: undefined, rows: got.rows, lines: got.lines }).toEqual({ ...expected, numeric: undefined });
      const numericColumns = expected.columns
        .map((_, j) => j)
        .filter((j) => expected.rows.every((r) => parseNumber(String(r[j]), expected.decimal) !== undefined));
      if (numericColumns.length > 0) expect(toNumeric(got, numericColumns)).toEqual(toNumeric(expected, numericColumns));
    });
  }

  it('takes the fast path for a plain body (rows are built only when asked for)', () => {
    const got = parseTable('"x","y"\n1,2\n3,4\n', { source: 't.csv', format: 'csv' });
    expect(got.numeric?.rows).toBe(2);
    expect([...toNumeric(got, [1, 0]).data]).toEqual([2, 1, 4, 3]);
  });

  it('leaves quoted bodies and bare-CR line ends to the record parser', () => {
    expect(parseTable('x,y\n"1",2\n', { source: 't.csv', format: 'csv' }).numeric).toBeUndefined();
    expect(parseTable('x,y\r1,2\r3,4\r', { source: 't.csv', format: 'csv' }).numeric).toBeUndefined();
  });
});

describe('scanPlainNumbersInParallel (the fast path in parts on worker threads)', () => {
  // The built module, so its pieces run on the built worker (the sources have no .js worker to start);
  // a path in a variable, so type checking (which runs before the build) does not look for it.
  const builtPath = '../dist/io/plain-numbers-parallel.js';
  const built = import(/* @vite-ignore */ builtPath) as Promise<{ scanPlainNumbersInParallel: typeof scanPlainNumbersInParallel; ScanWorkers: typeof ScanWorkers }>;
  const lines = fc.array(
    fc.oneof(
      { weight: 8, arbitrary: fc.array(padded, { minLength: 3, maxLength: 3 }).map((cells) => cells.join(',')) },
      { weight: 1, arbitrary: fc.constantFrom('', '   ', '# a comment', '1,x,3', 'NA,2,3') },
    ),
    { minLength: 1, maxLength: 60 },
  );

  it('gives the one-thread scan, value for value, for any cut into pieces, on the workers (started ahead or not) or shared with this thread', async () => {
    const { scanPlainNumbersInParallel, ScanWorkers } = await built;
    await fc.assert(
      fc.asyncProperty(lines, fc.constantFrom('\n', '\r\n', '\r'), fc.boolean(), fc.integer({ min: 2, max: 3 }), fc.integer({ min: 8, max: 400 }), fc.boolean(), fc.integer({ min: 0, max: 3 }), async (rows, eol, finalEol, threads, pieceChars, scanHere, ahead) => {
        const text = rows.join(eol) + (finalEol ? eol : '');
        const opts = { delimiter: ',', decimal: '.' as const, width: 3, comment: '#' };
        const one = scanPlainNumbers(text, 0, opts);
        // 0 to 3 workers started before the scan: fewer than it takes (it starts the rest), or more (close() ends them).
        const prestarted = ahead === 0 ? undefined : new ScanWorkers(ahead);
        const split = await scanPlainNumbersInParallel(text, 0, opts, threads, pieceChars, scanHere, prestarted).finally(() => prestarted?.close());
        expect(split === undefined).toBe(one === undefined);
        if (one === undefined || split === undefined) return;
        expect(split.rows).toBe(one.rows);
        expect(split.plain).toEqual(one.plain);
        const cells = (data: Float64Array) => [...data.subarray(0, one.rows * 3)].map((v) => (Object.is(v, -0) ? '-0' : String(v)));
        expect(cells(split.data)).toEqual(cells(one.data));
        // Every line a record ending in a line feed: the pieces filled their rooms of one shared matrix, which is the result as it is.
        if (eol !== '\r' && rows.every((r) => r.trim() !== '' && !r.startsWith('#')))
          expect(split.data.buffer instanceof SharedArrayBuffer && split.data.buffer.byteLength === split.rows * 3 * 8).toBe(true);
      }),
      { seed: 19, numRuns: 40 },
    );
  });

  it('gives up (undefined) on a record of the wrong width in any piece, as the one-thread scan', async () => {
    const { scanPlainNumbersInParallel } = await built;
    const good = Array.from({ length: 400 }, (_, i) => `${i},${i / 2},${-i}`);
    for (const at of [0, 200, 399]) {
      const text = good.map((l, i) => (i === at ? '1,2' : l)).join('\n') + '\n';
      for (const scanHere of [true, false])
        expect(await scanPlainNumbersInParallel(text, 0, { delimiter: ',', decimal: '.', width: 3 }, 3, 500, scanHere)).toBeUndefined();
    }
  });

  it('scans a piece here when its worker cannot start (the sources have no built worker)', async () => {
    const { scanPlainNumbersInParallel } = await import('../src/io/plain-numbers-parallel.js');
    const text = Array.from({ length: 100 }, (_, i) => `${i},${i + 0.5}`).join('\n');
    const out = await scanPlainNumbersInParallel(text, 0, { delimiter: ',', decimal: '.', width: 2 }, 2, 64, false);
    expect(out?.rows).toBe(100);
    expect(out?.data[199]).toBe(99.5);
  });
});
