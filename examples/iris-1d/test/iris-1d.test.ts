import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { EM_SNAPSHOTS, normalPdf, run } from '../src/main.js';

const exec = promisify(execFile);
const exampleDir = fileURLToPath(new URL('..', import.meta.url));
const dirs: string[] = [];
const tempDir = async () => {
  const d = await mkdtemp(path.join(tmpdir(), 'gmmkit-iris-1d-'));
  dirs.push(d);
  return d;
};
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('examples/iris-1d', () => {
  it('finds the three petal-width groups and draws them', async () => {
    const lines: string[] = [];
    const out = await tempDir();
    const r = await run({ outDir: out, print: (l) => lines.push(l) });
    expect(r.n).toBe(150);
    expect(r.converged).toBe(true);
    // Species means of petal width are 0.246 (setosa), 1.326 (versicolor), 2.026 (virginica);
    // the mixture's components land near them. The tolerances are loose on purpose:
    // versicolor and virginica overlap, so their components share some points.
    const [a, b, c] = r.components;
    expect(a!.mean).toBeCloseTo(0.24, 1);
    expect(Math.abs(b!.mean - 1.33)).toBeLessThan(0.08);
    expect(Math.abs(c!.mean - 2.03)).toBeLessThan(0.08);
    // each component holds roughly a third of the flowers, and the weights sum to one
    for (const comp of r.components) {
      expect(comp.weight).toBeGreaterThan(0.25);
      expect(comp.weight).toBeLessThan(0.42);
    }
    expect(a!.weight + b!.weight + c!.weight).toBeCloseTo(1, 9);
    // setosa's petals are the least variable
    expect(a!.variance).toBeLessThan(b!.variance);
    expect(a!.variance).toBeGreaterThan(0);
    // three rows in the printed table, with the printed means
    const table = lines.filter((l) => /^[123]\s/.test(l));
    expect(table).toHaveLength(3);
    expect(table[1]).toContain(b!.mean.toFixed(3));

    const svg = await readFile(r.svgPath, 'utf8');
    expect(r.svgPath).toBe(path.join(out, 'iris-1d.svg'));
    expect(svg.startsWith('<svg')).toBe(true);
    expect((svg.match(/<path/g) ?? []).length).toBeGreaterThan(20); // bars and curves
    expect(svg).toContain('mixture p(x)');

    // EM never decreases the lower bound (up to float32 rounding in the E-step)
    expect(r.emTrace.length).toBe(Math.max(...EM_SNAPSHOTS));
    for (let i = 1; i < r.emTrace.length; i++)
      expect(r.emTrace[i]!).toBeGreaterThan(r.emTrace[i - 1]! - 1e-5);
    // and from the poor start it climbs to (at least) the level of the k-means-started fit
    expect(r.emTrace.at(-1)!).toBeGreaterThan(r.logLikelihood / r.n - 0.01);
    expect(r.emTrace[0]!).toBeLessThan(r.emTrace.at(-1)! - 1);
    const em = await readFile(r.emSvgPath, 'utf8');
    expect((em.match(/<path/g) ?? []).length).toBeGreaterThan(20);
    for (const t of EM_SNAPSHOTS) expect(em).toContain(`after ${t}`);
  });

  it('computes the normal density', () => {
    expect(normalPdf(0, 0, 1)).toBeCloseTo(1 / Math.sqrt(2 * Math.PI), 12);
    expect(normalPdf(3, 1, 4)).toBeCloseTo(Math.exp(-0.5) / Math.sqrt(8 * Math.PI), 12);
  });

  it('runs as `node dist/main.js --out DIR` (the start script)', async () => {
    const out = await tempDir();
    const { stdout } = await exec(process.execPath, ['dist/main.js', '--out', out], { cwd: exampleDir });
    expect(stdout).toMatch(/component\s+mean\s+variance/);
    expect(stdout).toContain(`wrote ${path.join(out, 'iris-1d.svg')}`);
    expect((await readFile(path.join(out, 'iris-1d.svg'), 'utf8')).length).toBeGreaterThan(1000);
  });
});
