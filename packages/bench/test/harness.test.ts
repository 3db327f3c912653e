import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FAMILIES, createTempDir, generateDataset, initialParameters } from '../src/data.js';
import { MCLUST_SKIP, pythonEnv, sklearnAvailable } from '../src/external.js';
import { parseArgs } from '../src/options.js';
import type { BenchResults } from '../src/report.js';
import { SKLEARN, buildTables, renderMarkdown, renderStdout, renderText } from '../src/report.js';
import { emIterationFlops, rooflineMs } from '../src/roofline.js';
import { median, ratio } from '../src/stats.js';

describe('data generator', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    const a = generateDataset(500, 4, 3, 7);
    const b = generateDataset(500, 4, 3, 7);
    const c = generateDataset(500, 4, 3, 8);
    expect(a.data).toEqual(b.data);
    expect(a.data).not.toEqual(c.data);
    expect(a.data.length).toBe(2000);
    expect(a.data.every(Number.isFinite)).toBe(true);
  });

  it('makes initial parameters in scikit-learn layouts', () => {
    const ds = generateDataset(300, 3, 2, 1);
    const shapes = Object.fromEntries(
      FAMILIES.map((f) => {
        const p = initialParameters(ds, 4, f, 11).precisions;
        return [f, JSON.stringify(shapeOf(p))];
      }),
    );
    expect(shapes).toEqual({ full: '[4,3,3]', tied: '[3,3]', diag: '[4,3]', spherical: '[4]' });
    const init = initialParameters(ds, 4, 'full', 11);
    expect(init.weights.reduce((s, w) => s + w, 0)).toBeCloseTo(1, 12);
    expect(init.means).toEqual(initialParameters(ds, 4, 'diag', 11).means);
  });

  it('writes float64 rows to a temp file and removes it', () => {
    const ds = generateDataset(10, 2, 1, 3);
    const tmp = createTempDir();
    const file = tmp.writeDataset('x.f64', ds);
    const buf = readFileSync(file);
    expect(new Float64Array(buf.buffer, buf.byteOffset, buf.byteLength / 8)).toEqual(ds.data);
    tmp.cleanup();
    expect(existsSync(tmp.path)).toBe(false);
  });
});

function shapeOf(x: unknown): number[] {
  return Array.isArray(x) ? [x.length, ...shapeOf(x[0])] : [];
}

describe('probes and options', () => {
  it('the sklearn probe is true exactly when `python -c "import sklearn"` exits 0', () => {
    // Stand-in interpreters (shell scripts): the probe's logic without a real,
    // slow Python import. The script succeeds only when called as the probe
    // calls it, so a probe that ran anything else would read false.
    const tmp = createTempDir();
    try {
      const script = (name: string, body: string) => {
        const file = path.join(tmp.path, name);
        writeFileSync(file, `#!/bin/sh\n${body}\n`);
        chmodSync(file, 0o755);
        return file;
      };
      const withSklearn = script('has-sklearn', '[ "$1" = "-c" ] && [ "$2" = "import sklearn" ] && exit 0; exit 3');
      const withoutSklearn = script('no-sklearn', 'echo "ModuleNotFoundError: No module named sklearn" >&2; exit 1');
      expect(sklearnAvailable(withSklearn)).toBe(true);
      expect(sklearnAvailable(withoutSklearn)).toBe(false);
      expect(sklearnAvailable(path.join(tmp.path, 'missing-python3'))).toBe(false);
    } finally {
      tmp.cleanup();
    }
  });

  it('unsets both OpenBLAS pins together for python only', () => {
    const base = { OPENBLAS_CORETYPE: 'Haswell', OPENBLAS_L2_SIZE: '1048576', KEEP: '1' };
    const { env, unset } = pythonEnv(base);
    expect(env).toEqual({ KEEP: '1' });
    expect(unset).toHaveLength(2);
    expect(base.OPENBLAS_CORETYPE).toBe('Haswell');
  });

  it('parses flags', () => {
    const q = parseArgs(['--quick', '--only', 'per-iter,sweep', '--backends=wasm', '--repeats', '2']);
    expect(q).toMatchObject({
      quick: true,
      sections: ['per-iter', 'sweep'],
      backends: ['wasm'],
      repeats: 2,
      docs: false,
    });
    expect(parseArgs([]).sections).toEqual(['per-iter', 'sweep', 'peer']);
    expect(parseArgs(['--large']).sections).toContain('large');
    expect(() => parseArgs(['--only', 'nope'])).toThrow(/unknown section/);
    expect(() => parseArgs(['--bogus'])).toThrow(/unknown option/);
  });

  it('median and ratio', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    expect(ratio(2, 4)).toBe(0.5);
    expect(ratio(2, undefined)).toBeNull();
  });
});

function fakeResults(): BenchResults {
  const fam = (family: string, model: string, wasm: number, sk: number) => ({
    family,
    mclustModel: model,
    entries: [
      { implementation: 'gmmkit (wasm)', msPerIter: wasm, runs: [wasm] },
      { implementation: 'gmmkit (tensorflow)', skipped: 'not installed' },
      { implementation: SKLEARN, msPerIter: sk, runs: [sk] },
      { implementation: 'mclust', skipped: MCLUST_SKIP },
    ],
  });
  return {
    format: 'gmmkit.bench',
    version: 1,
    generatedAt: '2025-01-02T03:04:05.000Z',
    argv: [],
    quick: false,
    repeats: 3,
    machine: {
      cpu: 'Test CPU',
      cores: 2,
      memoryBytes: 8 * 2 ** 30,
      os: 'Linux',
      node: 'v20',
      loadAverage: { start: 0.1, end: 0.2 },
    },
    references: {
      sklearn: {
        available: true,
        sklearn: '1.2.1',
        numpy: '1.24.2',
        python: '3.11',
        blas: [{ library: 'openblas', kernel: 'Haswell' }],
      },
      mclust: { available: false, reason: MCLUST_SKIP },
      peer: { available: true, version: '1.1.5' },
    },
    perIter: {
      n: 100_000,
      d: 16,
      k: 8,
      iters: { 'gmmkit (wasm)': 10, [SKLEARN]: 10 },
      families: [
        fam('full', 'VVV', 230, 115),
        fam('tied', 'EEE', 75, 75),
        fam('diag', 'VVI', 15.5, 31),
        fam('spherical', 'VII', 33, 33),
      ],
    },
    sweep: {
      n: 20_000,
      d: 8,
      ks: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
      families: ['full', 'tied', 'diag', 'spherical'],
      entries: [
        { implementation: 'gmmkit (wasm, default workers)', ms: 5000 },
        { implementation: SKLEARN, ms: 4000 },
      ],
    },
    notes: ['a note'],
  };
}

describe('report renderer', () => {
  it('builds one row per family and one column per implementation, with ratios vs scikit-learn', () => {
    const [perIter, sweep] = buildTables(fakeResults());
    expect(perIter!.headers).toEqual(['family', 'gmmkit (wasm)', 'gmmkit (tensorflow)', SKLEARN, 'mclust']);
    expect(perIter!.rows.map((r) => r[0])).toEqual([
      'full (VVV)',
      'tied (EEE)',
      'diag (VVI)',
      'spherical (VII)',
    ]);
    expect(perIter!.rows[0]).toEqual(['full (VVV)', '230 (2.00x)', 'skipped', '115', 'skipped']);
    expect(perIter!.rows[2]![1]).toBe('15.5 (0.50x)');
    expect(sweep!.rows[0]).toEqual(['gmmkit (wasm, default workers)', '5000', '1.25x', '']);
  });

  it('adds a roofline column when the matMul throughput was measured: the flops at that rate', () => {
    const res = fakeResults();
    res.perIter!.roofline = { backend: 'wasm', gflops: 20, size: 1024 };
    const [perIter] = buildTables(res);
    expect(perIter!.headers.at(-1)).toBe('roofline, 1 thread');
    const { n, d, k } = res.perIter!;
    // full: the [x, 1] @ [U; -μU] product and the (respᵀ ⊗ xᵀ) @ x statistics dominate, 4 n k d² flops
    expect(emIterationFlops('full', n, d, k) / (4 * n * k * d * d)).toBeGreaterThan(1);
    expect(emIterationFlops('full', n, d, k) / (4 * n * k * d * d)).toBeLessThan(1.5);
    expect(emIterationFlops('diag', 2 * n, d, k)).toBe(2 * emIterationFlops('diag', n, d, k));
    expect(perIter!.rows[0]!.at(-1)).toBe(String(Number(rooflineMs('full', n, d, k, 20).toPrecision(3))));
    expect(rooflineMs('tied', n, d, k, 20)).toBeCloseTo(emIterationFlops('tied', n, d, k) / 20e6, 9);
  });

  it('renders markdown with the generated-by header, machine, method and tables', () => {
    const md = renderMarkdown(fakeResults());
    expect(md).toMatch(/^# Benchmarks/);
    expect(md).toContain('Generated by `pnpm bench` on 2025-01-02');
    expect(md).toContain('## Machine');
    expect(md).toContain('## Method');
    expect(md).toContain('| full (VVV) | 230 (2.00x) | skipped | 115 | skipped |');
    expect(md).toContain(MCLUST_SKIP);
    expect(md).toContain('openblas');
    expect(md).toContain('## Targets');
    expect(md).toContain('Per-iteration within 2x of scikit-learn (gmmkit (wasm)): 4 of 4 families');
    expect(md).toContain(
      'Sweep at most 1.0x of scikit-learn: not met (best: gmmkit (wasm, default workers), 1.25x)',
    );
    const tableLines = md.split('\n').filter((l) => l.startsWith('| family'));
    expect(tableLines).toHaveLength(1);
  });

  it('renders aligned text tables for stdout', () => {
    const text = renderStdout(fakeResults());
    expect(text).toContain('Per-iteration EM time');
    const t = renderText({ title: 'T', headers: ['a', 'bb'], rows: [['xxx', 'y']] });
    expect(t.split('\n')).toEqual(['T', 'a    bb', '---  --', 'xxx  y']);
  });
});

describe('same-work check', () => {
  it('reports the largest lower-bound gap per gmmkit backend and carries entry notes', async () => {
    const { sameWorkNotes } = await import('../src/run.js');
    const notes = sameWorkNotes(
      [
        {
          family: 'full',
          entries: [
            { implementation: 'gmmkit (wasm)', lowerBound: -10.001 },
            { implementation: SKLEARN, lowerBound: -10 },
            { implementation: 'mclust', note: 'converged exactly after 4 iterations' },
          ],
        },
        {
          family: 'diag',
          entries: [
            { implementation: 'gmmkit (wasm)', lowerBound: -9.5 },
            { implementation: SKLEARN, lowerBound: -9.5 },
          ],
        },
      ],
      { 'gmmkit (wasm)': 10, [SKLEARN]: 10 },
    );
    expect(notes).toHaveLength(2);
    expect(notes[0]).toContain('mclust, full: converged exactly after 4 iterations');
    expect(notes[1]).toContain('gmmkit (wasm)');
    expect(notes[1]).toContain('1.00e-3');
  });
});
