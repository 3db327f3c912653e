/**
 * `gmm fit --stream` as a subprocess against `gmm fit` on the same file and
 * seed, and its error cases.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { all, expectOneLineError, gmm as run } from './helpers/gmm-process.js';

const dir = mkdtempSync(path.join(tmpdir(), 'gmm-stream-cli-'));
const f = (name: string) => path.join(dir, name);
const gmm = (args: string[], input = '') => run(args, { cwd: dir, input });

/** 450 rows, three 2-D clusters of unequal spread, deterministic; the last rows of the file belong to every cluster. */
function clusters(): string[] {
  let s = 987;
  const u = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) + 0.5) / 2 ** 32;
  const normal = () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  const centers = [
    [0, 0, 1],
    [6, 2, 0.5],
    [2, 9, 1.5],
  ] as const;
  const lines: string[] = [];
  for (let i = 0; i < 450; i++) {
    const [cx, cy, sd] = centers[i % 3]!;
    lines.push(`${(cx + sd * normal()).toFixed(5)},${(cy + sd * normal()).toFixed(5)}`);
  }
  return lines;
}

const rows = clusters();

beforeAll(() => {
  writeFileSync(f('data.csv'), ['x,y', ...rows].join('\n') + '\n');
  const ragged = [...rows];
  ragged[399] = '1,2,3'; // data row 400, text line 401: in the 8th chunk of 50
  writeFileSync(f('ragged.csv'), ['x,y', ...ragged].join('\n') + '\n');
  const text = [...rows];
  text[420] = '1,abc';
  writeFileSync(f('text.csv'), ['x,y', ...text].join('\n') + '\n');
  writeFileSync(f('rows.json'), JSON.stringify(rows.map((r) => r.split(',').map(Number))));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type FitJson = Record<string, unknown> & { logLikelihood: number; iterations: number; converged: boolean };

const relative = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

// Each of these runs several gmm subprocesses (a tfjs load each, ~30 s in all on an idle
// 2-core machine): room for a loaded machine, so a slow run is not a failure.
const SUBPROCESS_TIMEOUT = 240_000;

describe('gmm fit --stream', () => {
  it('matches gmm fit on the same data and seed (whole-file sample, a smaller sample, --standardize) and writes a usable model', async () => {
    const common = ['-k', '3', '--seed', '4', '--json'];
    const [memory, streamed, sampled, memoryStd, streamedStd] = await all([
      () => gmm(['fit', 'data.csv', ...common]),
      () => gmm(['fit', 'data.csv', ...common, '--stream', '--chunk-rows', '50', '-o', 'model.json']),
      () =>
        gmm([
          'fit',
          'data.csv',
          ...common,
          '--stream',
          '--chunk-rows',
          '64',
          '--sample-size',
          '120',
          '--covariance',
          'full',
        ]),
      () => gmm(['fit', 'data.csv', ...common, '--standardize', '--covariance', 'diag']),
      () =>
        gmm([
          'fit',
          'data.csv',
          ...common,
          '--standardize',
          '--covariance',
          'diag',
          '--stream',
          '--chunk-rows',
          '50',
        ]),
    ]);
    for (const r of [memory, streamed, sampled, memoryStd, streamedStd]) expect(r.code, r.stderr).toBe(0);
    const m = JSON.parse(memory.stdout) as FitJson;
    const s = JSON.parse(streamed.stdout) as FitJson;
    const p = JSON.parse(sampled.stdout) as FitJson;
    // the same output contract
    expect(Object.keys(s).sort()).toEqual(Object.keys(m).sort());
    expect([s['k'], s['covarianceType'], s['n'], s['backend']]).toEqual([
      m['k'],
      m['covarianceType'],
      m['n'],
      m['backend'],
    ]);
    expect(s.converged).toBe(true);
    // All 450 rows fit in the default sample: the streaming EM starts from gmm fit's own result and only confirms it.
    expect(relative(s.logLikelihood, m.logLikelihood)).toBeLessThan(1e-3);
    expect(s.logLikelihood).toBeGreaterThan(m.logLikelihood - 1e-3);
    // Initialized on 120 sampled rows, then EM over all 450: the same optimum.
    expect(relative(p.logLikelihood, m.logLikelihood)).toBeLessThan(1e-3);
    expect(p.iterations).toBeGreaterThanOrEqual(2);
    const ms = JSON.parse(memoryStd.stdout) as FitJson;
    const ss = JSON.parse(streamedStd.stdout) as FitJson;
    expect(ss['standardized']).toBe(true);
    expect(relative(ss.logLikelihood, ms.logLikelihood)).toBeLessThan(1e-3);

    // -o wrote a model file that gmm score reads, with the same log-likelihood.
    expect(streamed.stderr.trim()).toBe('wrote model.json');
    const model = JSON.parse(readFileSync(f('model.json'), 'utf8')) as {
      columns: string[];
      gmm: { nSamples: number };
    };
    expect(model.columns).toEqual(['x', 'y']);
    expect(model.gmm.nSamples).toBe(450);
    const score = await gmm(['score', 'model.json', 'data.csv', '--json']);
    expect(score.code, score.stderr).toBe(0);
    expect((JSON.parse(score.stdout) as { logLikelihood: number }).logLikelihood).toBeCloseTo(
      s.logLikelihood,
      6,
    );
  }, SUBPROCESS_TIMEOUT);

  it('reports bad data in a late chunk with its row, and rejects what it cannot stream', async () => {
    const [ragged, text, stdin, json, plot, noStream, again, small] = await all([
      () => gmm(['fit', 'ragged.csv', '-k', '2', '--stream', '--chunk-rows', '50']),
      () => gmm(['fit', 'text.csv', '-k', '2', '--stream', '--chunk-rows', '50']),
      () => gmm(['fit', '-', '-k', '2', '--stream'], 'x,y\n1,2\n3,4\n'),
      () => gmm(['fit', 'rows.json', '-k', '2', '--stream']),
      () => gmm(['fit', 'data.csv', '-k', '2', '--stream', '--plot', 'fit.svg']),
      () => gmm(['fit', 'data.csv', '-k', '2', '--chunk-rows', '50']),
      () => gmm(['fit', 'data.csv', '-k', '2', '--stream', '-o', 'model.json']),
      () => gmm(['fit', 'data.csv', '-k', '5', '--stream', '--sample-size', '4']),
    ]);
    expectOneLineError(ragged, 2, /ragged\.csv: row 400 \(line 401\) has 3 fields, expected 2/);
    expectOneLineError(text, 2, /text\.csv: row 421 \(line 422\), column 'y': value 'abc' is not a number/);
    expectOneLineError(stdin, 2, /--stream .*stdin \('-'\) can be read only once/);
    expectOneLineError(json, 2, /--stream reads CSV, TSV, Parquet or Arrow, and rows\.json is JSON/);
    expectOneLineError(plot, 2, /--plot needs every row in memory/);
    expectOneLineError(noStream, 2, /--chunk-rows and --sample-size need --stream/);
    // an existing output is not replaced without --force, with or without --stream
    expectOneLineError(again, 2, /model\.json.*exists|exists.*model\.json/);
    expectOneLineError(small, 2, /-k 5 exceeds --sample-size 4/);
  }, SUBPROCESS_TIMEOUT);
});

describe('gmm fit --stream quality', () => {
  it('reaches the in-memory fit with the same flags on data whose sample is not every row (restarts on the sample)', async () => {
    // Four overlapping 4-D components of equal weight, 30,000 rows (the sample is 10,000):
    // with a single start on the sample, seed 0 merged two components (weights ~0.54/0.20/0.17/0.09).
    const comps = [
      { m: [0, 0, 0, 0], sd: [1, 1, 1, 1] },
      { m: [2.5, 0, 0, 0], sd: [0.5, 2, 1, 1] },
      { m: [0, 2.5, 0, 0], sd: [1, 0.5, 2, 1] },
      { m: [1, 1, 3, 0], sd: [2, 1, 0.5, 0.5] },
    ];
    let s = 7;
    const u = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) + 0.5) / 2 ** 32;
    const normal = () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
    const lines = ['a,b,c,d'];
    for (let i = 0; i < 30_000; i++) {
      const c = comps[Math.min(3, Math.floor(u() * 4))]!;
      lines.push(c.m.map((m, j) => (m + c.sd[j]! * normal()).toFixed(6)).join(','));
    }
    writeFileSync(f('overlap.csv'), lines.join('\n') + '\n');
    const [memory, streamed] = await all([
      () => gmm(['fit', 'overlap.csv', '-k', '4', '--seed', '0', '--json']),
      () => gmm(['fit', 'overlap.csv', '-k', '4', '--seed', '0', '--json', '--stream']),
    ]);
    expect(memory!.code, memory!.stderr).toBe(0);
    expect(streamed!.code, streamed!.stderr).toBe(0);
    const m = JSON.parse(memory!.stdout) as FitJson;
    const st = JSON.parse(streamed!.stdout) as FitJson & { weights: number[] };
    expect(st.logLikelihood).toBeGreaterThanOrEqual(m.logLikelihood - 1);
    for (const w of st.weights) expect(Math.abs(w - 0.25)).toBeLessThan(0.02);
  });
});
