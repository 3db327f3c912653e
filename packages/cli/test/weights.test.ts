/**
 * --weights COLUMN on gmm fit, fit --stream and sweep, in-process through
 * main(): a column of frequency weights gives the figures of the rows
 * replicated that many times, and bad weights are one-line errors.
 */
import { writeFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { run, tempWorkingDir } from './helpers/in-process.js';

tempWorkingDir('gmm-weights-');
// Two separated groups; weights 1..3 (the weight column sits between the features).
const rows = Array.from({ length: 40 }, (_, i) => [(i % 2) * 8 + Math.sin(i), (i % 2) * 4 + Math.cos(2 * i)]);
const w = rows.map((_, i) => 1 + (i % 3));
const replicated = rows.flatMap((r, i) => Array.from({ length: w[i]! }, () => r));

beforeAll(() => {
  writeFileSync('weighted.csv', 'x,count,y\n' + rows.map((r, i) => `${r[0]},${w[i]},${r[1]}`).join('\n') + '\n');
  writeFileSync('replicated.csv', 'x,y\n' + replicated.map((r) => r.join(',')).join('\n') + '\n');
  const bad = (cell: (i: number) => string) =>
    'x,count,y\n' + rows.map((r, i) => `${r[0]},${cell(i)},${r[1]}`).join('\n') + '\n';
  writeFileSync('negative.csv', bad((i) => (i === 4 ? '-1' : '1')));
  writeFileSync('empty.csv', bad((i) => (i === 2 ? '' : '1')));
  writeFileSync('zeros.csv', bad(() => '0'));
});

const json = (r: { stdout: string }) => JSON.parse(r.stdout) as Record<string, unknown>;

describe('--weights', () => {
  it('gmm fit --weights count: the figures of the replicated rows, the weight column is not a feature', async () => {
    const weighted = await run('fit', 'weighted.csv', '-k', '2', '--weights', 'count', '--tol', '1e-8', '--json');
    expect(weighted.code, weighted.stderr).toBe(0);
    const copies = await run('fit', 'replicated.csv', '-k', '2', '--tol', '1e-8', '--json');
    expect(copies.code, copies.stderr).toBe(0);
    const a = json(weighted);
    const b = json(copies);
    expect(a['columns']).toEqual(['x', 'y']);
    expect(a['weightColumn']).toBe('count');
    expect(a['rows']).toBe(40);
    expect(a['n']).toBe(replicated.length);
    for (const key of ['logLikelihood', 'bic', 'aic'])
      expect(Math.abs((a[key] as number) - (b[key] as number)) / Math.abs(b[key] as number)).toBeLessThan(1e-5);
    // By 1-based index too, and the text output says so.
    const byIndex = await run('fit', 'weighted.csv', '-k', '2', '--weights', '2');
    expect(byIndex.code, byIndex.stderr).toBe(0);
    expect(byIndex.stdout).toContain(`40 rows (weighted by 'count', total weight ${replicated.length}) x 2 columns`);
  });

  it('gmm fit --stream --weights agrees with the in-memory weighted fit', async () => {
    const mem = json(await run('fit', 'weighted.csv', '-k', '2', '--weights', 'count', '--tol', '1e-8', '--json'));
    const streamed = await run('fit', 'weighted.csv', '-k', '2', '--weights', 'count', '--tol', '1e-8', '--stream', '--chunk-rows', '7', '--json');
    expect(streamed.code, streamed.stderr).toBe(0);
    const s = json(streamed);
    expect(s['n']).toBe(replicated.length);
    expect(Math.abs((s['logLikelihood'] as number) - (mem['logLikelihood'] as number))).toBeLessThan(1e-3);
  });

  it('gmm sweep --weights: n = Σ w in BIC, as the replicated rows', async () => {
    const a = await run('sweep', 'weighted.csv', '--k', '1..2', '--covariance', 'full,diag', '--weights', 'count', '--tol', '1e-8', '--json');
    expect(a.code, a.stderr).toBe(0);
    const b = await run('sweep', 'replicated.csv', '--k', '1..2', '--covariance', 'full,diag', '--tol', '1e-8', '--json');
    const ra = json(a)['results'] as { bic: number }[];
    const rb = json(b)['results'] as { bic: number }[];
    expect(json(a)['n']).toBe(replicated.length);
    ra.forEach((r, i) => expect(Math.abs(r.bic - rb[i]!.bic) / Math.abs(rb[i]!.bic)).toBeLessThan(1e-5));
  });

  it('bad weights and bad --weights flags are one-line errors', async () => {
    const cases: [string[], RegExp][] = [
      [['fit', 'negative.csv', '-k', '2', '--weights', 'count'], /row 5 \(line 6\), column 'count': weight -1 is negative/],
      [['fit', 'empty.csv', '-k', '2', '--weights', 'count'], /row 3 \(line 4\), column 'count': empty or missing value/],
      [['fit', 'zeros.csv', '-k', '2', '--weights', 'count'], /--weights column 'count' is zero in every row/],
      [['fit', 'weighted.csv', '-k', '2', '--weights', 'nope'], /no column named 'nope'/],
      [['fit', 'weighted.csv', '-k', '2', '--weights', 'count', '--columns', 'x,count'], /--weights column 'count' is also selected by --columns/],
      [['sweep', 'negative.csv', '--k', '1..2', '--weights', 'count'], /weight -1 is negative/],
      [['fit', 'negative.csv', '-k', '2', '--weights', 'count', '--stream'], /row 5 \(line 6\), column 'count': weight -1 is negative/],
    ];
    for (const [argv, message] of cases) {
      const r = await run(...argv);
      expect(r.code, argv.join(' ')).not.toBe(0);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });
});
