import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { InvalidDataError } from '@gmmkit/core';
import { afterAll, describe, expect, it } from 'vitest';
import { UsageError } from '../src/errors.js';
import { readTable } from '../src/io/read-file.js';
import { DelimitedParser, splitDelimited } from '../src/io/read-table.js';
import { openStreamTable } from '../src/io/stream-table.js';

const dir = mkdtempSync(path.join(tmpdir(), 'gmm-stream-'));
const f = (name: string) => path.join(dir, name);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Parses `pieces` one push at a time. */
function chunked(pieces: string[], delimiter = ','): unknown {
  const p = new DelimitedParser(delimiter, 'x.csv');
  try {
    const out = pieces.flatMap((t) => p.push(t));
    return [...out, ...p.end()];
  } catch (err) {
    return (err as Error).message;
  }
}

function whole(text: string, delimiter = ','): unknown {
  try {
    return splitDelimited(text, delimiter, 'x.csv');
  } catch (err) {
    return (err as Error).message;
  }
}

const TRICKY = [
  '"a","b"\r\n1,2\r\n3,4\r\n',
  'a,b\n"x, ""quoted""\nacross lines",2\n\n3,  "4"  \n',
  '"a"\r"b"\r1\r',
  'a,b\n1,"unterminated\n2,3\n',
  'a,b\n"1"x,2\n',
  ' "lead",2\n1,2',
  '\uFEFFa\tb\n"1\t2"\t3\n',
  'a,b\r\n\r\n1,2',
];

describe('DelimitedParser (chunk boundaries)', () => {
  it.each(TRICKY.map((t) => [JSON.stringify(t), t]))(
    '%s: any split into two pieces, or one character at a time, parses as the whole text',
    (_name, text) => {
      const delimiter = text.includes('\t') ? '\t' : ',';
      const expected = whole(text, delimiter);
      for (let cut = 0; cut <= text.length; cut++) {
        expect(chunked([text.slice(0, cut), text.slice(cut)], delimiter), `cut at ${cut}`).toEqual(expected);
      }
      expect(chunked([...text], delimiter)).toEqual(expected);
    },
  );

  it('the splits are not all trivially equal: records and errors come out', () => {
    expect(whole(TRICKY[1]!)).toEqual([
      { fields: ['a', 'b'], quoted: [false, false], line: 1 },
      { fields: ['x, "quoted"\nacross lines', '2'], quoted: [true, false], line: 2 },
      { fields: ['3', '4'], quoted: [false, true], line: 5 },
    ]);
    expect(whole(TRICKY[3]!)).toMatch(/line 2: unterminated quoted field/);
    expect(whole(TRICKY[4]!)).toMatch(/line 2: unexpected text after a closing quote/);
  });
});

describe('openStreamTable', () => {
  // > 64 KiB so the file itself arrives in several reads, with quoted cells and CRLF.
  const rows = Array.from({ length: 4000 }, (_, i) => [i, (i * 7919) % 1000, -i / 3]);
  const text =
    'id,"a, quoted",b\r\n' +
    rows.map((r, i) => (i % 3 === 0 ? `${r[0]},"${r[1]}",${r[2]}` : r.join(','))).join('\r\n');
  writeFileSync(f('big.csv'), text);

  it('yields the rows readTable reads, in blocks of chunkRows, on every pass', async () => {
    expect(text.length).toBeGreaterThan(1 << 16);
    const t = await openStreamTable(f('big.csv'), { columns: '2,b', chunkRows: 300 });
    expect(t.columns).toEqual(['a, quoted', 'b']);
    expect(t.d).toBe(2);
    const expected = await readTable(f('big.csv'), { columns: '2,b' });
    for (let pass = 0; pass < 2; pass++) {
      const sizes: number[] = [];
      const got: number[] = [];
      for await (const b of t.blocks()) {
        sizes.push(b.length / 2);
        got.push(...b);
      }
      expect(sizes).toEqual([...Array(13).fill(300), 100]);
      expect(Float64Array.from(got)).toEqual(expected.data);
    }
  });

  it('names the row, line, column and value of a bad cell or a ragged row in a late chunk', async () => {
    const lines = ['x,y', ...Array.from({ length: 120 }, (_, i) => `${i},${i * 2}`)];
    lines[101] = '100,oops'; // data row 101, text line 102
    writeFileSync(f('bad.csv'), lines.join('\n'));
    const t = await openStreamTable(f('bad.csv'), { chunkRows: 25 });
    const drain = async () => {
      for await (const _ of t.blocks());
    };
    const err = await drain().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidDataError);
    expect((err as Error).message).toBe(
      "bad.csv: row 101 (line 102), column 'y': value 'oops' is not a number".replace(
        'bad.csv',
        f('bad.csv'),
      ),
    );
    expect((err as InvalidDataError).location).toMatchObject({ row: 101, column: 'y', value: 'oops' });
    lines[101] = '100,200,300';
    writeFileSync(f('bad.csv'), lines.join('\n'));
    await expect(drain()).rejects.toThrow(/row 101 \(line 102\) has 3 fields, expected 2/);
  });

  it('rejects stdin, JSON and files without data rows', async () => {
    await expect(openStreamTable('-', { chunkRows: 10 })).rejects.toThrow(UsageError);
    writeFileSync(f('rows.json'), '[[1,2],[3,4]]');
    await expect(openStreamTable(f('rows.json'), { chunkRows: 10 })).rejects.toThrow(
      /--stream reads CSV, TSV, Parquet or Arrow.*JSON/,
    );
    writeFileSync(f('head.csv'), 'x,y\n');
    await expect(openStreamTable(f('head.csv'), { chunkRows: 10 })).rejects.toThrow(/no data rows/);
    await expect(openStreamTable(f('missing.csv'), { chunkRows: 10 })).rejects.toThrow(
      /cannot read .*missing.csv: no such file/,
    );
  });
});
