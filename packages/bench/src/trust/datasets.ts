// Datasets of the "fits you can trust" measurements (issue 11): the
// repository's CSV files (numeric columns only) and seeded synthetic sets
// with ties, duplicated rows and overlapping or many components.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createRng } from '@gmmkit/core';

export interface Dataset {
  name: string;
  n: number;
  d: number;
  data: Float64Array;
  /** The number of clusters the data were generated with (synthetic sets). */
  trueK?: number;
}

const root = fileURLToPath(new URL('../../../../', import.meta.url));

/** A CSV of the repository's data/ directory (or a path from the repository's root, with a '/'), keeping the numeric columns. */
export function csvDataset(file: string, name = file.replace(/^.*\//, '').replace(/\.csv$/, '')): Dataset {
  const lines = readFileSync(`${root}${file.includes('/') ? '' : 'data/'}${file}`, 'utf8').trim().split(/\r?\n/);
  const rows = lines.slice(1).map((l) => l.split(','));
  const numeric = rows[0]!.map((_, c) => rows.every((r) => r[c] !== undefined && r[c]!.trim() !== '' && Number.isFinite(Number(r[c]))));
  const cols = numeric.flatMap((ok, c) => (ok ? [c] : []));
  const data = new Float64Array(rows.length * cols.length);
  rows.forEach((r, i) => cols.forEach((c, j) => (data[i * cols.length + j] = Number(r[c]))));
  return { name, n: rows.length, d: cols.length, data };
}

/**
 * A mixture of `k` Gaussian clusters in d dimensions: centres drawn in a box
 * of half-width `spread` (cluster scale 1), `size` rows each, then rounded
 * to multiples of `grid` (ties) and with a `duplicate` fraction of rows repeated.
 */
export function syntheticDataset(opts: {
  name: string;
  k: number;
  d: number;
  size: number;
  spread: number;
  seed: number;
  grid?: number;
  duplicate?: number;
  clamp?: [number, number];
}): Dataset {
  const rng = createRng(opts.seed);
  const { k, d, size } = opts;
  const centres = Array.from({ length: k }, () => Array.from({ length: d }, () => (2 * rng.next() - 1) * opts.spread));
  const rows: number[][] = [];
  for (let j = 0; j < k; j++)
    for (let i = 0; i < size; i++) {
      rows.push(
        centres[j]!.map((c) => {
          let v = c + rng.normal();
          if (opts.grid !== undefined) v = Math.round(v / opts.grid) * opts.grid;
          if (opts.clamp !== undefined) v = Math.min(opts.clamp[1], Math.max(opts.clamp[0], v));
          return v;
        }),
      );
    }
  const extra = Math.round((opts.duplicate ?? 0) * rows.length);
  for (let t = 0; t < extra; t++) rows.push([...rows[rng.int(rows.length)]!]);
  return { name: opts.name, n: rows.length, d, data: Float64Array.from(rows.flat()), trueK: k };
}

/** Seeded sets with ties (integer grids, answers on a 1..7 scale) and duplicated rows, with their generating k. */
export function tiedDatasets(): Dataset[] {
  return [
    syntheticDataset({ name: 'counts', k: 3, d: 3, size: 120, spread: 4, seed: 1, grid: 1 }),
    syntheticDataset({ name: 'counts-dup', k: 3, d: 3, size: 80, spread: 6, seed: 11, grid: 1, duplicate: 0.1 }),
    syntheticDataset({ name: 'survey', k: 3, d: 5, size: 100, spread: 2, seed: 2, grid: 1, clamp: [1, 7] }),
    syntheticDataset({ name: 'survey-dup', k: 2, d: 4, size: 120, spread: 2, seed: 12, grid: 1, clamp: [1, 7], duplicate: 0.05 }),
    syntheticDataset({ name: 'continuous-dup', k: 3, d: 3, size: 100, spread: 4, seed: 3, duplicate: 0.1 }),
  ];
}
