import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from '../src/main.js';

const exec = promisify(execFile);
const exampleDir = fileURLToPath(new URL('..', import.meta.url));
const dirs: string[] = [];
const tempDir = async () => {
  const d = await mkdtemp(path.join(tmpdir(), 'gmmkit-select-k-'));
  dirs.push(d);
  return d;
};
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('examples/select-k', () => {
  it('sweeps k = 1..6 over four families on faithful and picks by BIC', async () => {
    const lines: string[] = [];
    const out = await tempDir();
    const r = await run({ outDir: out, print: (l) => lines.push(l) });
    expect(r.rows).toHaveLength(24);
    // The lowest-BIC k of every family, and the overall choice, are scikit-learn's
    // (fixtures/sklearn/model-selection.json, n_init = 10): full k = 2, tied k = 3
    // (best overall, as mclust's EEE 3), diag k = 3, spherical k = 6.
    const reference = JSON.parse(
      await readFile(path.join(exampleDir, '../../fixtures/sklearn/model-selection.json'), 'utf8'),
    ) as {
      tables: {
        dataset: string;
        best: {
          bic: { perCovarianceType: Record<string, number>; overall: { covarianceType: string; k: number } };
        };
      }[];
    };
    const faithful = reference.tables.find((t) => t.dataset === 'faithful')!.best.bic;
    expect(r.bestKByFamily).toEqual(faithful.perCovarianceType);
    expect({ covarianceType: r.best.covarianceType, k: r.best.k }).toEqual(faithful.overall);
    // the overall choice is the lowest BIC of the table, as the sweep reports it
    const ok = r.rows.filter((row) => row.error === undefined);
    const lowest = Math.min(...ok.map((row) => row.bic));
    expect(r.best.bic).toBe(lowest);
    expect(lines.join('\n')).toContain(
      `best: ${r.best.covarianceType}, k = ${r.best.k} (bic = ${r.best.bic.toFixed(2)}`,
    );
    // one marked cell in the table
    expect(r.table.match(/\*/g)).toHaveLength(1);
    // BIC = -2 ln L + p ln n for every cell
    for (const row of ok)
      expect(row.bic).toBeCloseTo(-2 * row.logLikelihood + row.nParameters * Math.log(272), 6);
    // a single Gaussian is clearly worse than two
    const full = (k: number) => r.rows.find((row) => row.covarianceType === 'full' && row.k === k)!.bic;
    expect(full(1) - full(2)).toBeGreaterThan(100);

    for (const file of [r.sweepSvgPath, r.fitSvgPath]) {
      const svg = await readFile(file, 'utf8');
      expect(svg.startsWith('<svg')).toBe(true);
      expect(svg).toContain('<path');
    }
    expect(await readFile(r.sweepSvgPath, 'utf8')).toContain(`best: k=${r.best.k}, ${r.best.covarianceType}`);
  });

  it('runs as `node dist/main.js --out DIR` (the start script)', async () => {
    const out = await tempDir();
    const { stdout } = await exec(process.execPath, ['dist/main.js', '--out', out], { cwd: exampleDir });
    expect(stdout).toMatch(/^best: \w+, k = \d+ \(bic = \d+\.\d\d/m);
    expect(stdout).toContain('lowest BIC per family: full k = 2, tied k = 3');
    expect(stdout).toContain(`wrote ${path.join(out, 'faithful-bic.svg')}`);
  });
});
