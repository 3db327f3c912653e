import { InvalidDataError } from '@gmmkit/core';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/errors.js';
import {
  compactIndexList,
  parseNumber,
  parseTable,
  selectColumns,
  sniffFormat,
  toNumeric,
} from '../src/io/read-table.js';
import { readTable } from '../src/io/read-file.js';

function numeric(text: string, columns?: string, format?: 'csv' | 'tsv' | 'json' | 'ndjson') {
  const raw = parseTable(text, { source: 'x.csv', format });
  return toNumeric(raw, selectColumns(raw, columns));
}

function dataError(fn: () => unknown): InvalidDataError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidDataError);
    return err as InvalidDataError;
  }
  throw new Error('expected an InvalidDataError');
}

describe('CSV/TSV', () => {
  it('reads R-style quoted headers and detects the header', () => {
    const t = numeric('"a","b"\n1,2\n3,4\n');
    expect(t.columns).toEqual(['a', 'b']);
    expect([...t.data]).toEqual([1, 2, 3, 4]);
    expect(t.n).toBe(2);
  });

  it('takes an all-numeric first row as data', () => {
    const t = numeric('1,2\n3,4');
    expect(t.columns).toEqual(['1', '2']);
    expect(t.n).toBe(2);
  });

  it('treats quoted numeric names over unquoted numbers as a header', () => {
    const t = numeric('"1999","2000"\n1,2\n');
    expect(t.columns).toEqual(['1999', '2000']);
    expect(t.n).toBe(1);
  });

  it('handles RFC 4180 quoting: delimiters, doubled quotes, newlines, CRLF', () => {
    const raw = parseTable('"x, y","say ""hi""","multi\nline"\r\n1,2,3\r\n', { source: 'q.csv' });
    expect(raw.columns).toEqual(['x, y', 'say "hi"', 'multi\nline']);
    expect(raw.rows).toEqual([['1', '2', '3']]);
    expect(raw.lines).toEqual([3]);
  });

  it('skips an R/pandas row-name column unless selected', () => {
    const text = '"","a","b"\n"1",5,6\n"2",7,8\n';
    expect(numeric(text).columns).toEqual(['a', 'b']);
    expect(numeric(text, '1,2').columns).toEqual(['1', 'a']);
  });

  it('reads a pandas index column as an index, and headerless rows with a text column as data', () => {
    expect(numeric(',a,b\n0,1.5,2\n1,3,4\n').columns).toEqual(['a', 'b']);
    const raw = parseTable('5.1,3.5,setosa\n4.9,3,setosa\n', { source: 'iris.csv' });
    expect(raw.hasHeader).toBe(false);
    expect(raw.rows).toHaveLength(2);
  });

  it('sniffs TSV and reads it', () => {
    expect(sniffFormat('a\tb\n1\t2')).toBe('tsv');
    const t = numeric('a\tb\n1\t2\n', undefined, undefined);
    expect(t.columns).toEqual(['a', 'b']);
  });

  it('names file, row, line and columns for ragged rows', () => {
    const e = dataError(() => numeric('a,b\n1,2\n3\n'));
    expect(e.message).toBe('x.csv: row 2 (line 3) has 1 field, expected 2');
    expect(e.location.row).toBe(2);
  });

  it('names NaN, Inf, empty and text cells with their location', () => {
    expect(dataError(() => numeric('a,b\n1,2\n3,NaN\n')).message).toBe(
      "x.csv: row 2 (line 3), column 'b': value 'NaN' is not a finite number",
    );
    expect(dataError(() => numeric('a,b\n1,-Inf\n')).message).toMatch(/value '-Inf' is not a finite number/);
    const empty = dataError(() => numeric('a,b\n1,2\n,4\n'));
    expect(empty.message).toBe("x.csv: row 2 (line 3), column 'a': empty or missing value (to fit with missing values, pass --missing marginalize)");
    expect(empty.location).toMatchObject({ file: 'x.csv', row: 2, column: 'a' });
    expect(dataError(() => numeric('a,b\n1,2\n3,x\n')).message).toBe(
      "x.csv: row 2 (line 3), column 'b': value 'x' is not a number",
    );
  });

  it('suggests --columns for a text column like iris Species', () => {
    const e = dataError(() => numeric('"s","w","Species"\n1,2,"setosa"\n3,4,"virginica"\n'));
    expect(e.message).toMatch(
      /column 'Species': value 'setosa' is not a number; column 'Species' is not numeric: choose columns with --columns \(e\.g\. --columns 1-2\)/,
    );
  });

  it('reports empty input and header-only input', () => {
    expect(dataError(() => parseTable('', { source: 'e.csv' })).message).toBe('e.csv: empty input');
    expect(dataError(() => parseTable('\n\n', { source: 'e.csv' })).message).toBe('e.csv: empty input');
    expect(dataError(() => parseTable('"a","b"\n', { source: 'e.csv' })).message).toBe('e.csv: no data rows');
  });

  it('reports an unterminated quote', () => {
    expect(dataError(() => parseTable('a,b\n1,"2\n', { source: 'u.csv' })).message).toMatch(
      /line 2: unterminated quoted field/,
    );
  });
});

describe('JSON and NDJSON', () => {
  it('reads arrays of arrays and arrays of objects', () => {
    expect(numeric('[[1,2],[3,4]]', undefined, 'json').columns).toEqual(['1', '2']);
    const t = numeric('[{"a":1,"b":2},{"b":4,"a":3}]', undefined, 'json');
    expect(t.columns).toEqual(['a', 'b']);
    expect([...t.data]).toEqual([1, 2, 3, 4]);
  });

  it('reads a flat array as one column', () => {
    expect(numeric('[1,2,3]', undefined, 'json').d).toBe(1);
  });

  it('reads NDJSON with line numbers in errors', () => {
    const t = numeric('{"a":1}\n\n{"a":2}\n', undefined, 'ndjson');
    expect([...t.data]).toEqual([1, 2]);
    expect(dataError(() => numeric('{"a":1}\n\n{"a":null}\n', undefined, 'ndjson')).message).toBe(
      "x.csv: row 2 (line 3), column 'a': empty or missing value (to fit with missing values, pass --missing marginalize)",
    );
  });

  it('rejects ragged JSON rows and missing keys', () => {
    expect(dataError(() => numeric('[[1,2],[3]]', undefined, 'json')).message).toBe(
      'x.csv: row 2 has 1 values, expected 2',
    );
    expect(dataError(() => numeric('[{"a":1,"b":2},{"a":3}]', undefined, 'json')).message).toBe(
      "x.csv: row 2 has no key 'b'",
    );
    expect(dataError(() => numeric('[{"a":1},{"a":3,"c":1}]', undefined, 'json')).message).toBe(
      "x.csv: row 2 has key 'c' that row 1 lacks",
    );
    expect(dataError(() => numeric('{"a":', undefined, 'json')).message).toMatch(/not valid JSON/);
    expect(dataError(() => numeric('[]', undefined, 'json')).message).toBe('x.csv: no data rows');
  });
});

describe('--columns', () => {
  const raw = parseTable('a,b,c,d\n1,2,3,4\n', { source: 'c.csv' });
  it('selects by name, 1-based index and range, in the given order', () => {
    expect(selectColumns(raw, 'c,1')).toEqual([2, 0]);
    expect(selectColumns(raw, '2-4')).toEqual([1, 2, 3]);
  });
  it('rejects unknown names, out-of-range indices and duplicates with usage errors', () => {
    expect(() => selectColumns(raw, 'z')).toThrow(UsageError);
    expect(() => selectColumns(raw, 'z')).toThrow(/no column named 'z' in c\.csv/);
    expect(() => selectColumns(raw, '5')).toThrow(/column 5 is out of range: c\.csv has 4 columns/);
    expect(() => selectColumns(raw, '0')).toThrow(/not a valid 1-based/);
    expect(() => selectColumns(raw, 'a,1')).toThrow(/selected twice/);
  });
});

describe('helpers', () => {
  it('parses only finite decimal numbers', () => {
    expect(parseNumber(' 1.5e3 ')).toBe(1500);
    expect(parseNumber('.5')).toBe(0.5);
    for (const bad of ['', 'NaN', 'Infinity', '0x10', '1,5', '1e999', 'abc'])
      expect(parseNumber(bad)).toBeUndefined();
  });
  it('compacts index lists', () => {
    expect(compactIndexList([0, 1, 2, 3, 5])).toBe('1-4,6');
  });
  it('reads a missing file as a usage error naming it', async () => {
    await expect(readTable('/nonexistent/data.csv')).rejects.toThrow(
      new UsageError('cannot read /nonexistent/data.csv: no such file'),
    );
  });
  it('reads stdin text for "-"', async () => {
    const t = await readTable('-', { stdinText: 'a,b\n1,2\n' });
    expect(t.source).toBe('<stdin>');
    expect(t.columns).toEqual(['a', 'b']);
  });
});

describe('files read whole', () => {
  it('a regular file gives the table of its text, as stdin does (UTF-8 BOM, multi-byte labels, CRLF), and a NUL past the first MiB is a cell error, not "not text"', async () => {
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'gmm-whole-'));
    try {
      // ~1.5 MiB: rows of numbers and a label column with two- and three-byte characters.
      const lines = ['\uFEFFx,y,name'];
      for (let i = 0; i < 40000; i++) lines.push(`${i / 7},${(i * 13) % 101},é€${i % 3}`);
      const text = lines.join('\r\n') + '\r\n';
      const file = join(dir, 't.csv');
      writeFileSync(file, text);
      const fromFile = await readTable(file, { columns: 'x,y' });
      const fromStdin = await readTable('-', { columns: 'x,y', stdinText: text });
      expect(fromFile.n).toBe(40000);
      expect(fromFile.columns).toEqual(['x', 'y']);
      expect(Array.from(fromFile.data)).toEqual(Array.from(fromStdin.data));
      const nul = join(dir, 'nul.csv');
      const body = ['a,b', ...Array.from({ length: 200000 }, (_, i) => `${i},${i % 9}`)];
      body[150000] = '1,\u00002';
      writeFileSync(nul, body.join('\n') + '\n');
      await expect(readTable(nul)).rejects.toThrow(/row 150000|line 150001/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
