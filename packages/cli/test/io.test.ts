import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UsageError } from '../src/errors.js';
import { formatNumber, formatTable, toCsv } from '../src/io/format.js';
import { progressMode } from '../src/io/process-io.js';
import { checkDistinct, checkWritable, writeFileAtomic } from '../src/io/write-atomic.js';
import { labelLines } from '../src/commands/predict.js';

describe('writeFileAtomic', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gmm-cli-io-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes a new file and leaves no temporary behind', async () => {
    const f = path.join(dir, 'a.json');
    await writeFileAtomic(f, '{"x":1}');
    expect(readFileSync(f, 'utf8')).toBe('{"x":1}');
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('refuses to overwrite without force, overwrites with force', async () => {
    const f = path.join(dir, 'b.txt');
    writeFileSync(f, 'mine');
    await expect(writeFileAtomic(f, 'new')).rejects.toThrow(/file exists \(use --force to overwrite it\)/);
    expect(readFileSync(f, 'utf8')).toBe('mine');
    await writeFileAtomic(f, 'new', { force: true });
    expect(readFileSync(f, 'utf8')).toBe('new');
  });

  it('never overwrites an input, even with force', () => {
    const f = path.join(dir, 'in.csv');
    writeFileSync(f, 'a\n1\n');
    expect(() => checkWritable(f, { force: true, inputs: [f] })).toThrow(
      /refusing to overwrite the input file/,
    );
  });

  it('rejects a missing directory and clashing outputs up front', () => {
    expect(() => checkWritable(path.join(dir, 'nope', 'x.json'))).toThrow(UsageError);
    expect(() =>
      checkDistinct([
        ['-o', 'a.svg'],
        ['--plot', './a.svg'],
      ]),
    ).toThrow(/-o and --plot both name/);
  });
});

describe('labelLines (gmm predict without --proba)', () => {
  it('is the label column as the general path writes it, one- and several-digit labels alike', () => {
    const labels = Int32Array.from([0, 12, 3, 9, 10, 105]);
    const text = Buffer.from(labelLines(labels)).toString('latin1');
    expect(text).toBe(['label', ...Array.from(labels, String)].join('\n') + '\n');
    expect(Buffer.from(labelLines(new Int32Array(0))).toString('latin1')).toBe('label\n');
  });
});

describe('progressMode ($GMM_PROGRESS)', () => {
  it('shows progress in place only on a terminal by default; lines forces it on a pipe; off hides it', () => {
    expect(progressMode(undefined, true)).toBe('tty');
    expect(progressMode(undefined, false)).toBe('off');
    expect(progressMode('', true)).toBe('tty');
    expect(progressMode('lines', false)).toBe('lines');
    expect(progressMode(' LINES ', true)).toBe('lines');
    expect(progressMode('off', true)).toBe('off');
    expect(progressMode('something else', false)).toBe('off');
  });
});

describe('format', () => {
  it('aligns columns: numbers right, text left', () => {
    const t = formatTable(
      ['name', 'v'],
      [
        ['a', '1.5'],
        ['long', '10'],
      ],
    );
    expect(t.split('\n')).toEqual(['name    v', '----  ---', 'a     1.5', 'long   10']);
  });
  it('formats numbers compactly', () => {
    expect(formatNumber(1234.56789)).toBe('1234.57');
    expect(formatNumber(0.000012345)).toBe('1.2345e-5');
    expect(formatNumber(-2)).toBe('-2');
  });
  it('writes RFC 4180 CSV', () => {
    expect(toCsv(['a', 'b,c'], [[1.5, 'x"y']])).toBe('a,"b,c"\n1.5,"x""y"\n');
  });
});
