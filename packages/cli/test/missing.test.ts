/**
 * --missing marginalize on gmm fit, fit --stream, sweep, predict, score and
 * gmm impute, in-process through main().
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { run, tempWorkingDir } from './helpers/in-process.js';

tempWorkingDir('gmm-missing-');
// Two groups in 3 columns, with an id column of text; every spelling of a missing cell.
const rows = Array.from({ length: 60 }, (_, i) => [(i % 2) * 8 + Math.sin(i), (i % 2) * 4 + Math.cos(2 * i), (i % 2) * -3 + Math.sin(3 * i)]);
const SPELLINGS = ['', 'NA', 'NaN', 'nan', 'null'];
const cell = (i: number, j: number): string => ((i * 3 + j) % 7 === 3 ? SPELLINGS[(i + j) % SPELLINGS.length]! : String(rows[i]![j]));

beforeAll(() => {
  writeFileSync('holes.csv', 'id,a,b,c\n' + rows.map((r, i) => `r${i},${cell(i, 0)},${cell(i, 1)},${cell(i, 2)}`).join('\n') + '\n');
  writeFileSync('empty-row.csv', 'a,b,c\n1,2,3\n4,5,6\n,,\n7,8,9\n');
});

const json = (r: { stdout: string }) => JSON.parse(r.stdout) as Record<string, unknown>;

describe('--missing marginalize', () => {
  it('fit refuses missing cells by default, naming the flag; fits them with --missing marginalize', async () => {
    const plain = await run('fit', 'holes.csv', '-k', '2', '--columns', 'a,b,c');
    expect(plain.code).toBe(2);
    expect(plain.stderr).toMatch(/empty or missing value.*pass --missing marginalize/);
    const fit = await run('fit', 'holes.csv', '-k', '2', '--columns', 'a,b,c', '--missing', 'marginalize', '-o', 'model.json', '--json');
    expect(fit.code, fit.stderr).toBe(0);
    expect(json(fit)['n']).toBe(60);
    // Standardizing does not change the original-unit log-likelihood (each row's Jacobian covers its observed columns).
    const std = await run('fit', 'holes.csv', '-k', '2', '--columns', 'a,b,c', '--missing', 'marginalize', '--standardize', '--json');
    expect(std.code, std.stderr).toBe(0);
    expect(Math.abs((json(std)['logLikelihood'] as number) - (json(fit)['logLikelihood'] as number))).toBeLessThan(1e-2);
  });

  it('predict and score accept rows with missing cells', async () => {
    const p = await run('predict', 'model.json', 'holes.csv', '--missing', 'marginalize');
    expect(p.code, p.stderr).toBe(0);
    expect(p.stdout.trim().split('\n')).toHaveLength(61);
    const s = await run('score', 'model.json', 'holes.csv', '--missing', 'marginalize', '--json');
    expect(s.code, s.stderr).toBe(0);
    const fit = json(await run('fit', 'holes.csv', '-k', '2', '--columns', 'a,b,c', '--missing', 'marginalize', '--json'));
    expect(Math.abs((json(s)['logLikelihood'] as number) - (fit['logLikelihood'] as number))).toBeLessThan(1e-6);
  });

  it('gmm impute fills the model columns, keeps every column and cell otherwise, in order', async () => {
    const r = await run('impute', 'model.json', 'holes.csv', '-o', 'filled.csv');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/wrote filled.csv \(60 rows, \d+ cells imputed\)/);
    const lines = readFileSync('filled.csv', 'utf8').trim().split('\n');
    expect(lines[0]).toBe('id,a,b,c');
    expect(lines).toHaveLength(61);
    lines.slice(1).forEach((line, i) => {
      const f = line.split(',');
      expect(f[0]).toBe(`r${i}`);
      for (let j = 0; j < 3; j++) {
        const v = Number(f[j + 1]);
        expect(Number.isFinite(v)).toBe(true);
        if (cell(i, j) === String(rows[i]![j])) expect(f[j + 1]).toBe(String(rows[i]![j]));
      }
    });
    // An existing output is never replaced without --force.
    const again = await run('impute', 'model.json', 'holes.csv', '-o', 'filled.csv');
    expect(again.code).not.toBe(0);
    expect(existsSync('filled.csv')).toBe(true);
  });

  it('sweep and fit --stream take --missing marginalize', async () => {
    const s = await run('sweep', 'holes.csv', '--columns', 'a,b,c', '--k', '1..2', '--covariance', 'full,diag', '--missing', 'marginalize', '--json');
    expect(s.code, s.stderr).toBe(0);
    expect((json(s)['best'] as { k: number }).k).toBe(2);
    const mem = json(await run('fit', 'holes.csv', '-k', '2', '--columns', 'a,b,c', '--missing', 'marginalize', '--tol', '1e-8', '--json'));
    const st = await run('fit', 'holes.csv', '-k', '2', '--columns', 'a,b,c', '--missing', 'marginalize', '--tol', '1e-8', '--stream', '--chunk-rows', '16', '--json');
    expect(st.code, st.stderr).toBe(0);
    expect(Math.abs((json(st)['logLikelihood'] as number) - (mem['logLikelihood'] as number))).toBeLessThan(1e-3);
  });

  it('a row with no observed value is a one-line error', async () => {
    const r = await run('fit', 'empty-row.csv', '-k', '1', '--missing', 'marginalize');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/row 3 has no observed value/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
