import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { UNCERTAIN_BELOW, adjustedRandIndex, run } from '../src/main.js';

const exec = promisify(execFile);
const exampleDir = fileURLToPath(new URL('..', import.meta.url));
const dirs: string[] = [];
const tempDir = async () => {
  const d = await mkdtemp(path.join(tmpdir(), 'gmmkit-iris-2d-'));
  dirs.push(d);
  return d;
};
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('adjustedRandIndex', () => {
  it('is 1 for the same partition under any renaming, and matches known values', () => {
    expect(adjustedRandIndex([0, 0, 1, 1, 2], ['b', 'b', 'a', 'a', 'c'])).toBeCloseTo(1, 12);
    // scikit-learn: adjusted_rand_score([0, 0, 1, 1], [0, 0, 1, 2]) = 0.5714285714285715
    expect(adjustedRandIndex([0, 0, 1, 1], [0, 0, 1, 2])).toBeCloseTo(0.5714285714285715, 12);
    // worse than chance: adjusted_rand_score([0, 0, 1, 1], [0, 1, 0, 1]) = -0.5
    expect(adjustedRandIndex([0, 0, 1, 1], [0, 1, 0, 1])).toBeCloseTo(-0.5, 12);
  });
});

describe('examples/iris-2d', () => {
  it('recovers the species, and shows where hard labels hide doubt', async () => {
    const lines: string[] = [];
    const out = await tempDir();
    const r = await run({ outDir: out, print: (l) => lines.push(l) });
    expect(r.n).toBe(150);
    expect(r.ari).toBeGreaterThan(0.8);
    expect(r.ari).toBeCloseTo(adjustedRandIndex(r.labels, r.species), 12);
    expect(lines.join('\n')).toContain(`adjusted Rand index (hard labels vs species): ${r.ari.toFixed(3)}`);
    // setosa is a cluster of its own, with no doubt about any of its flowers
    const setosa = r.species.flatMap((s, i) => (s === 'setosa' ? [i] : []));
    expect(new Set(setosa.map((i) => r.labels[i])).size).toBe(1);
    expect(setosa.every((i) => Math.max(...r.proba[i]!) > 0.99)).toBe(true);
    // soft assignment: rows are distributions, soft counts add to n like hard counts
    for (const p of r.proba) expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
    expect(r.softCounts.reduce((a, b) => a + b, 0)).toBeCloseTo(150, 6);
    expect(r.hardCounts.reduce((a, b) => a + b, 0)).toBe(150);
    // the hard label is the most probable component
    r.proba.forEach((p, i) => expect(p[r.labels[i]!]).toBe(Math.max(...p)));
    // uncertain points exist, sit between versicolor and virginica, and are exactly those below the threshold
    expect(r.uncertain.length).toBeGreaterThan(0);
    expect(r.uncertain.length).toBeLessThan(30);
    r.proba.forEach((p, i) => expect(r.uncertain.includes(i)).toBe(Math.max(...p) < UNCERTAIN_BELOW));
    expect(r.uncertain.every((i) => r.species[i] !== 'setosa')).toBe(true);
    // components ordered by petal length
    expect(r.means[0]![0]).toBeLessThan(r.means[1]![0]);
    expect(r.means[1]![0]).toBeLessThan(r.means[2]![0]);

    const svg = await readFile(r.svgPath, 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect((svg.match(/<path/g) ?? []).length).toBeGreaterThan(150); // points, ellipses, rings
    expect(svg).toContain('petal length (cm)');
  });

  it('runs as `node dist/main.js --out DIR` (the start script)', async () => {
    const out = await tempDir();
    const { stdout } = await exec(process.execPath, ['dist/main.js', '--out', out], { cwd: exampleDir });
    expect(stdout).toMatch(/adjusted Rand index \(hard labels vs species\): 0\.\d{3}/);
    expect(stdout).toContain(`wrote ${path.join(out, 'iris-2d.svg')}`);
  });
});
