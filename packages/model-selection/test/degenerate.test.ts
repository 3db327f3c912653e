// Sweeps on data with ties and duplicated rows: under the default
// degenerate: 'reject' the sweep picks the number of clusters the data were
// generated with; components collapsed on tied values are flagged, never chosen.
import { createRng } from '@gmmkit/core';
import { initBackend } from '@gmmkit/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { formatSweepTable, sweep } from '../src/index.js';
import { readCsv } from './helpers.js';

beforeAll(async () => {
  await initBackend('wasm');
});

/** k clusters of `size` rows (scale 1) around centres in [lo, hi]^d, rounded to integers, with a fraction of rows duplicated. */
function tied(seed: number, k: number, d: number, size: number, lo: number, hi: number, duplicate: number, clamp?: [number, number]): number[][] {
  const rng = createRng(seed);
  const centres = Array.from({ length: k }, () => Array.from({ length: d }, () => lo + (hi - lo) * rng.next()));
  const rows: number[][] = [];
  for (const c of centres)
    for (let i = 0; i < size; i++)
      rows.push(c.map((m) => {
        const v = Math.round(m + rng.normal());
        return clamp === undefined ? v : Math.min(clamp[1], Math.max(clamp[0], v));
      }));
  const extra = Math.round(duplicate * rows.length);
  for (let t = 0; t < extra; t++) rows.push([...rows[rng.int(rows.length)]!]);
  return rows;
}

const cases = [
  { name: 'rounded counts, 3 clusters in 3-D, 10% duplicated rows', data: tied(11, 3, 3, 80, 0, 12, 0.1), k: 3 },
  { name: 'a 1..7 survey, 2 groups of answers to 4 questions', data: tied(12, 2, 4, 120, 2, 6, 0.05, [1, 7]), k: 2 },
];

describe.each(cases)('sweep on $name', ({ data, k }) => {
  it('picks the generating k, and degenerate cells are never chosen', async () => {
    const result = await sweep({ data, k: { min: 1, max: 7 }, nInit: 3, workers: 0, seed: 0 });
    expect(result.degenerate).toBe('reject');
    expect(result.best.k).toBe(k);
    expect(result.best.degenerate).toBe(false);
    for (const row of result.rows) if (row.degenerate) expect(row.degeneracy).toMatch(/effective points|pinned/);
    result.model.dispose();
  });
});

describe('degenerate cells in the table', () => {
  it("read 'degenerate' under 'reject' with their reasons, and are ranked but marked under 'warn'", async () => {
    const thyroid = readCsv('thyroid.csv', ['RT3U', 'T4', 'T3', 'TSH', 'DTSH']);
    const options = { data: thyroid, k: [3, 5, 7], covarianceTypes: ['diag'], nInit: 3, workers: 0, seed: 0 };
    const rejected = await sweep(options);
    const warned = await sweep({ ...options, degenerate: 'warn' });
    const flagged = warned.rows.filter((r) => r.degenerate);
    expect(flagged.length).toBeGreaterThan(0); // thyroid's T3 ties give diag a pinned variance at k = 7
    const table = formatSweepTable(rejected);
    for (const r of rejected.rows.filter((row) => row.degenerate)) {
      expect(table).toContain(`degenerate: diag, k = ${r.k}: `);
      expect(rejected.best).not.toBe(r);
    }
    expect(formatSweepTable(warned)).toMatch(/!/);
    rejected.model.dispose();
    warned.model.dispose();
  });
});
