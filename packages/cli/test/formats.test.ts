/**
 * The data formats people have, and no silent garbage, through the built
 * binary: gzip by magic number, CSV options (--delimiter, --decimal,
 * --header/--no-header, --comment), UTF-16, Parquet and Arrow (fixtures
 * from fixtures/cli-formats/generate.mjs, beside a CSV of the same rows),
 * column names with commas, predict's outputs, warnings and errors in CLI
 * words, short errors, and non-finite results refused.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { all, expectOneLineError, gmm as run, stderrLines, type RunOptions } from './helpers/gmm-process.js';

const dir = mkdtempSync(path.join(tmpdir(), 'gmm-formats-'));
const f = (name: string) => path.join(dir, name);
const gmm = (args: string[], opts: Omit<RunOptions, 'cwd'> = {}) => run(args, { cwd: dir, ...opts });
const fixture = (name: string) => fileURLToPath(new URL(`../../../fixtures/cli-formats/${name}`, import.meta.url));

// 24 rows, two clusters; values with 3 decimals so every text form is exact.
const rows: [number, number][] = [];
for (let i = 0; i < 24; i++) {
  const c = i % 2;
  rows.push([Number((c * 6 + Math.sin(i)).toFixed(3)), Number((c * 3 + Math.cos(3 * i)).toFixed(3))]);
}
const csv = 'x,y\n' + rows.map((r) => r.join(',')).join('\n') + '\n';
const ll = (stdout: string) => (JSON.parse(stdout) as { logLikelihood: number }).logLikelihood;

beforeAll(() => {
  writeFileSync(f('data.csv'), csv);
  writeFileSync(f('data.csv.gz'), gzipSync(csv));
  writeFileSync(f('data.tsv.gz'), gzipSync(csv.replace(/,/g, '\t')));
  writeFileSync(f('data.ndjson.gz'), gzipSync(rows.map(([x, y]) => JSON.stringify({ x, y })).join('\n') + '\n'));
  writeFileSync(f('compressed.bin'), gzipSync(csv));
  writeFileSync(f('excel.csv'), '# exported\n' + csv.replace(/,/g, ';').replace(/\./g, ','));
  writeFileSync(f('utf16le.csv'), Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(csv, 'utf16le')]));
  writeFileSync(f('utf16le-nobom.csv'), Buffer.from(csv, 'utf16le'));
  writeFileSync(f('utf16be.csv'), Buffer.from(Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(csv, 'utf16le').swap16()])));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('text formats', () => {
  it('gzip by magic number (any name, also --stream), --delimiter/--decimal/--comment, UTF-16: the same fit as the plain CSV', async () => {
    const fit = (file: string, ...extra: string[]) => () => gmm(['fit', file, '-k', '2', '--json', ...extra]);
    const runs = await all([
      fit('data.csv'),
      fit('data.csv.gz'),
      fit('data.tsv.gz'),
      fit('data.ndjson.gz'),
      fit('compressed.bin'),
      fit('data.csv.gz', '--stream'),
      fit('excel.csv', '--decimal', ',', '--comment', '#'),
      fit('excel.csv', '--delimiter', ';', '--decimal', ',', '--comment', '#'),
      fit('utf16le.csv'),
      fit('utf16le-nobom.csv'),
      fit('utf16be.csv'),
    ]);
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    const base = ll(runs[0]!.stdout);
    runs.forEach((r, i) => {
      expect(Math.abs(ll(r.stdout) - base), `run ${i}`).toBeLessThan(1e-6 * Math.abs(base));
      expect((JSON.parse(r.stdout) as { columns: string[] }).columns, `run ${i}`).toEqual(['x', 'y']);
    });
  });

  it('a numeric header is read as data with a warning, or as a header with --header; --no-header silences it', async () => {
    writeFileSync(f('years.csv'), '1990,2000\n' + rows.map((r) => r.join(',')).join('\n') + '\n');
    const [guess, header, noHeader] = await all([
      () => gmm(['fit', 'years.csv', '-k', '1', '--json']),
      () => gmm(['fit', 'years.csv', '-k', '1', '--json', '--header']),
      () => gmm(['fit', 'years.csv', '-k', '1', '--json', '--no-header']),
    ]);
    expect(guess.code, guess.stderr).toBe(0);
    // (A second warning follows: the year row is an outlier that stretches a covariance.)
    expect(stderrLines(guess)[0]).toMatch(
      /^warning: years\.csv: the first row \(1990,2000\) is all whole numbers .* pass --header/,
    );
    expect((JSON.parse(guess.stdout) as { n: number }).n).toBe(25);
    expect(JSON.parse(header.stdout)).toMatchObject({ n: 24, columns: ['1990', '2000'] });
    expect(noHeader.stderr).not.toMatch(/first row/);
    expect((JSON.parse(noHeader.stdout) as { n: number }).n).toBe(25);
  });
});

describe('Parquet and Arrow', () => {
  const cols = ['-c', '"height, cm",weight'];
  it('read Parquet (snappy, 3 row groups, INT64, pandas index) and Arrow file/stream as the CSV of the same rows, also with --stream', async () => {
    const fit = (file: string, ...extra: string[]) => () =>
      gmm(['fit', fixture(file), '-k', '2', '--json', ...cols, ...extra]);
    const runs = await all([
      fit('people.csv'),
      fit('people.parquet'),
      fit('people.arrow'),
      fit('people.arrows'),
      fit('people.parquet', '--stream', '--chunk-rows', '7'),
      fit('people.arrow', '--stream', '--chunk-rows', '7'),
      () => gmm(['fit', fixture('people.parquet'), '-k', '2', '--json', '-c', 'height, cm', '-c', 'weight']),
    ]);
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    const base = ll(runs[0]!.stdout);
    runs.forEach((r, i) => {
      expect(Math.abs(ll(r.stdout) - base), `run ${i}`).toBeLessThan(1e-6 * Math.abs(base));
      expect((JSON.parse(r.stdout) as { n: number; columns: string[] }).columns).toEqual(['height, cm', 'weight']);
    });
  });

  it('name a missing cell and a text column (the pandas index column is not offered as a feature)', async () => {
    const [nullCell, text] = await all([
      () => gmm(['fit', fixture('null-cell.parquet'), '-k', '1']),
      () => gmm(['fit', fixture('people.parquet'), '-k', '1']),
    ]);
    expectOneLineError(nullCell, 2, /null-cell\.parquet: row 3, column 'x': empty or missing value/);
    expectOneLineError(text, 2, /people\.parquet: row 1, column 'species': value 'a' is not a number.*--columns 2-4\)/);
  });
});

describe('gmm predict outputs', () => {
  it('labels with probabilities, the uncertainty column, an --id-column carried through, and --json', async () => {
    const fit = await gmm(['fit', fixture('people.csv'), '-k', '2', '-c', '"height, cm",weight', '-o', 'people.json']);
    expect(fit.code, fit.stderr).toBe(0);
    const args = ['predict', 'people.json', fixture('people.csv'), '--id-column', 'id', '--proba', '--uncertainty'];
    const [csvOut, jsonOut] = await all([() => gmm(args), () => gmm([...args, '--json'])]);
    expect(csvOut.code, csvOut.stderr).toBe(0);
    const lines = csvOut.stdout.trim().split('\n');
    expect(lines[0]).toBe('id,label,p0,p1,uncertainty');
    expect(lines).toHaveLength(61);
    const json = JSON.parse(jsonOut.stdout) as { id: string; label: number; proba: number[]; uncertainty: number }[];
    expect(json).toHaveLength(60);
    lines.slice(1).forEach((line, i) => {
      const [id, label, p0, p1, u] = line.split(',');
      expect(id).toBe(String(1000 + i));
      expect(json[i]).toEqual({ id: id, label: Number(label), proba: [Number(p0), Number(p1)], uncertainty: Number(u) });
      const p = [Number(p0), Number(p1)];
      expect(p[Number(label)]).toBe(Math.max(...p));
      expect(Number(u)).toBeCloseTo(1 - Math.max(...p), 12);
    });
  });
});

describe('no silent garbage, messages in CLI words, short errors', () => {
  it('values near 1e300: a one-line error (exit 1) and no model file, with or without --standardize', async () => {
    writeFileSync(f('huge.csv'), 'a,b\n1e300,2e300\n-1e300,1.5e300\n3e299,-1e300\n5e299,1e300\n-7e299,3e299\n');
    const [std, plain, sweep] = await all([
      () => gmm(['fit', 'huge.csv', '-k', '1', '--standardize', '-o', 'huge-std.json']),
      () => gmm(['fit', 'huge.csv', '-k', '1', '-o', 'huge.json']),
      () => gmm(['sweep', 'huge.csv', '--k', '1..2', '--standardize', '-o', 'huge-sweep.json']),
    ]);
    expectOneLineError(std, 1, /non-finite results .* in original units/);
    expect(plain.code).not.toBe(0);
    expect(stderrLines(plain)).toHaveLength(1);
    expect(plain.stderr).not.toMatch(/regCovar|nComponents/);
    expect(sweep.code).not.toBe(0);
    expect(stderrLines(sweep)).toHaveLength(1);
    for (const m of ['huge-std.json', 'huge.json', 'huge-sweep.json']) expect(existsSync(f(m))).toBe(false);
  });

  it('warns of a component with less than one row of weight, of a --reg-covar larger than the data, and names a 1e999 in JSON', async () => {
    writeFileSync(f('same.csv'), 'a,b\n' + '1,2\n'.repeat(8));
    writeFileSync(f('inf.json'), '[[1, 2], [1e999, 2], [3, 4]]');
    const [same, reg, inf] = await all([
      () => gmm(['fit', 'same.csv', '-k', '2', '--json']),
      () => gmm(['fit', 'data.csv', '-k', '1', '--reg-covar', '1e308', '--json']),
      () => gmm(['fit', 'inf.json', '-k', '1']),
    ]);
    expect(same.code, same.stderr).toBe(0);
    const sameWarnings = (JSON.parse(same.stdout) as { warnings: string[] }).warnings;
    expect(sameWarnings.some((w) => /has weight .* less than one row of 8.*try a smaller -k/.test(w))).toBe(true);
    expect(stderrLines(same).some((l) => /^warning: component \d has weight/.test(l))).toBe(true);
    expect(same.stderr).not.toMatch(/--reg-covar/);
    expect(stderrLines(reg)).toContainEqual(
      expect.stringMatching(/^warning: --reg-covar 1e\+308 exceeds the largest column variance of the data/),
    );
    expectOneLineError(inf, 2, /inf\.json: row 2, column '1' \(1\): value overflows to \+Infinity/);
  });

  it('warns of a constant column in fit and sweep (missing cells aside), and not of a varying one', async () => {
    writeFileSync(f('const-col.csv'), 'a,id,b\n' + rows.map(([x, y], i) => `${x},${i === 3 ? '' : 7},${y}`).join('\n') + '\n');
    const [fit, sweep] = await all([
      () => gmm(['fit', 'const-col.csv', '-k', '2', '--missing', 'marginalize']),
      () => gmm(['sweep', 'const-col.csv', '--k', '1..2', '--missing', 'marginalize']),
    ]);
    for (const r of [fit, sweep]) {
      expect(r.code, r.stderr).toBe(0);
      const warned = stderrLines(r).filter((l) => /has the same value .* in every row/.test(l));
      expect(warned).toEqual([
        expect.stringMatching(/^warning: column 'id' has the same value \(7\) in every row: .*leave it out with --columns$/),
      ]);
    }
  });

  it('cuts long lists: --k 1..100000 on 24 rows is one short line', async () => {
    const r = await gmm(['sweep', 'data.csv', '--k', '1..100000']);
    expectOneLineError(r, 2, /k = 25\.\.100000 \(99976 values\) exceed the number of rows \(24\)/);
    expect(r.stderr.length).toBeLessThan(300);
  });
});
