import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRng } from '@gmmkit/core';
import type { ShardReader } from '../src/index.js';

/** A minimal CSV reader for these tests (header row, numeric cells); the CLI's worker uses gmm's full reader. */
export const csvReader: ShardReader = async (source) => {
  const lines = readFileSync(source, 'utf8').trim().split('\n');
  const columns = lines[0]!.split(',');
  const rows = lines.length - 1;
  const data = new Float64Array(rows * columns.length);
  lines.slice(1).forEach((line, i) => {
    const cells = line.split(',');
    if (cells.length !== columns.length) throw new Error(`${source}: row ${i + 1} has ${cells.length} cells`);
    cells.forEach((c, j) => (data[i * columns.length + j] = Number(c)));
  });
  return { rows, cols: columns.length, data, columns };
};

/** Rows of a 3-component mixture in d dimensions (seeded), with duplicated rows and rounding like real data. */
export function mixtureRows(n: number, d: number, seed: number): number[][] {
  const rng = createRng(seed);
  const centers = [0, 1, 2].map((c) => Array.from({ length: d }, (_, j) => (c - 1) * 4 + j * 0.5));
  const out: number[][] = [];
  for (let i = 0; i < n; i++) {
    if (i % 50 === 49) {
      out.push([...out[i - 1]!]); // an exact duplicate
      continue;
    }
    const c = centers[i % 3]!;
    out.push(c.map((m, j) => Math.round((m + rng.normal() * (1 + 0.3 * j)) * 1000) / 1000));
  }
  return out;
}

/** Writes rows as `parts` CSV shards (header x1..xd) in a new directory; returns their paths in order. */
export function writeShards(
  rows: number[][],
  parts: number,
  dir = mkdtempSync(join(tmpdir(), 'gmm-shards-')),
): string[] {
  const d = rows[0]!.length;
  const header = Array.from({ length: d }, (_, j) => `x${j + 1}`).join(',');
  const per = Math.ceil(rows.length / parts);
  const files: string[] = [];
  for (let p = 0; p < parts; p++) {
    const file = join(dir, `part-${p + 1}.csv`);
    const body = rows.slice(p * per, (p + 1) * per).map((r) => r.join(','));
    writeFileSync(file, [header, ...body].join('\n') + '\n');
    files.push(file);
  }
  return files;
}
