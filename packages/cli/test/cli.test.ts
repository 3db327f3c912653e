/**
 * The built `gmm` binary, run as a subprocess: exit codes, stdout JSON
 * against the output contract, files written, and the error cases. Each
 * run loads tfjs (~1 s), so checks are grouped and data kept tiny.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { all, expectOneLineError, gmm as run, type Run, type RunOptions } from './helpers/gmm-process.js';

const dir = mkdtempSync(path.join(tmpdir(), 'gmm-cli-'));
const f = (name: string) => path.join(dir, name);

/** The built binary in `dir`; `interrupt` sends `signal` once stderr matches `when` (GMM_PROGRESS=lines makes the progress lines appear on a pipe). */
function gmm(
  args: string[],
  { interrupt, ...opts }: Omit<RunOptions, 'cwd' | 'onStderr'> & { interrupt?: { when: RegExp; signal: NodeJS.Signals } } = {},
): Promise<Run> {
  const onStderr = interrupt && { pattern: interrupt.when, then: (child: ChildProcess) => child.kill(interrupt.signal) };
  return run(args, { ...opts, cwd: dir, ...(onStderr && { onStderr }) });
}

/** Two well separated 2-D clusters of 20 rows each, deterministic. */
function clusters(): { rows: [number, number][]; truth: number[] } {
  let s = 12345;
  const u = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) + 0.5) / 2 ** 32;
  const normal = () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  const rows: [number, number][] = [];
  const truth: number[] = [];
  for (let i = 0; i < 40; i++) {
    const c = i % 2;
    rows.push(c === 0 ? [normal(), 0.5 * normal()] : [10 + normal(), 50 + 3 * normal()]);
    truth.push(c);
  }
  return { rows, truth };
}

const { rows, truth } = clusters();
const csv = '"x","y"\n' + rows.map((r) => r.join(',')).join('\n') + '\n';

const FIT_KEYS = [
  'k',
  'covarianceType',
  'weights',
  'means',
  'covariances',
  'logLikelihood',
  'meanLogLikelihood',
  'bic',
  'aic',
  'converged',
  'iterations',
  'backend',
];

beforeAll(() => {
  writeFileSync(f('data.csv'), csv);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('gmm fit / score / predict / sample / inspect', () => {
  let fit: Record<string, unknown>;

  beforeAll(async () => {
    const r = await gmm(['fit', 'data.csv', '-k', '2', '--json', '-o', 'model.json', '--plot', 'fit.svg']);
    expect(r.code, r.stderr).toBe(0);
    fit = JSON.parse(r.stdout) as Record<string, unknown>;
    // Not a TTY: no progress on stderr, only the notes about written files.
    expect(r.stderr.trim().split('\n').sort()).toEqual(['wrote fit.svg', 'wrote model.json']);
  });

  it('fit --json follows the contract', () => {
    for (const key of FIT_KEYS) expect(fit).toHaveProperty(key);
    expect(fit['k']).toBe(2);
    expect(fit['covarianceType']).toBe('full');
    expect(['wasm', 'cpu', 'tensorflow']).toContain(fit['backend']);
    const weights = fit['weights'] as number[];
    expect(weights.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    const covs = fit['covariances'] as number[][][];
    expect(covs).toHaveLength(2);
    for (const c of covs) {
      expect(c).toHaveLength(2);
      expect(c[0]![1]).toBeCloseTo(c[1]![0]!, 12);
    }
    // The means sit at the clusters (order free).
    const means = (fit['means'] as number[][])
      .map((m) => m.map((v) => Math.round(v / 5) * 5))
      .sort((a, b) => a[0]! - b[0]!);
    expect(means).toEqual([
      [0, 0],
      [10, 50],
    ]);
    const ll = fit['logLikelihood'] as number;
    expect(fit['meanLogLikelihood']).toBeCloseTo(ll / 40, 10);
    // full, k=2, d=2: 1 weight + 4 means + 6 covariances = 11 parameters.
    expect(fit['bic']).toBeCloseTo(-2 * ll + 11 * Math.log(40), 8);
    expect(fit['aic']).toBeCloseTo(-2 * ll + 22, 8);
    expect(fit['converged']).toBe(true);
  });

  it('writes the model file and an SVG plot', () => {
    const model = JSON.parse(readFileSync(f('model.json'), 'utf8')) as Record<string, unknown>;
    expect(model).toMatchObject({
      format: 'gmmkit.cli-model',
      version: 1,
      columns: ['x', 'y'],
      standardize: null,
    });
    const svg = readFileSync(f('fit.svg'), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.match(/class="mark-line role-mark/g)).toHaveLength(4);
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('score, predict, sample and inspect use the saved model', async () => {
    const [score, predict, proba, sample1, inspect] = await Promise.all([
      gmm(['score', 'model.json', 'data.csv', '--json']),
      gmm(['predict', 'model.json', 'data.csv']),
      gmm(['predict', 'model.json', 'data.csv', '--proba', '-o', 'proba.csv']),
      gmm(['sample', 'model.json', '-n', '5', '--seed', '3']),
      gmm(['inspect', 'model.json']),
    ]);
    for (const r of [score, predict, proba, sample1, inspect]) expect(r.code, r.stderr).toBe(0);

    const s = JSON.parse(score.stdout) as Record<string, number>;
    expect(Object.keys(s).sort()).toEqual(['aic', 'bic', 'logLikelihood', 'meanLogLikelihood', 'n']);
    expect(s['n']).toBe(40);
    // The fit scores its own float32 blocks, score re-uploads the rows: equal to float32 precision.
    const relative = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);
    expect(relative(s['logLikelihood']!, fit['logLikelihood'] as number)).toBeLessThan(1e-6);
    expect(relative(s['bic']!, fit['bic'] as number)).toBeLessThan(1e-6);

    const labels = predict.stdout.trim().split('\n');
    expect(labels[0]).toBe('label');
    const got = labels.slice(1).map(Number);
    expect(got).toHaveLength(40);
    // Labels agree with the generating clusters up to renaming.
    const same = got.every((l, i) => (l === got[0]) === (truth[i] === truth[0]));
    expect(same).toBe(true);

    expect(proba.stdout).toBe('');
    const p = readFileSync(f('proba.csv'), 'utf8').trim().split('\n');
    expect(p[0]).toBe('label,p0,p1');
    p.slice(1).forEach((line, i) => {
      const [label, ...probs] = line.split(',').map(Number);
      expect(label).toBe(got[i]);
      expect(probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
      expect(probs[label!]).toBe(Math.max(...probs));
    });

    const s1 = sample1.stdout.trim().split('\n');
    expect(s1[0]).toBe('x,y');
    expect(s1).toHaveLength(6);
    expect(s1.slice(1).every((l) => l.split(',').map(Number).every(Number.isFinite))).toBe(true);

    expect(inspect.stdout).toMatch(/components:\s+2/);
    expect(inspect.stdout).toMatch(/columns:\s+2: x, y/);
    expect(inspect.stdout).toContain('Covariance of component 1');
  });

  it('--standardize reports the same likelihood in original units, and score applies the saved scaling', async () => {
    const r = await gmm(['fit', 'data.csv', '-k', '2', '--standardize', '--json', '-o', 'std.json']);
    expect(r.code, r.stderr).toBe(0);
    const std = JSON.parse(r.stdout) as Record<string, number>;
    // Well separated clusters: both fits find the same mixture, so the
    // likelihoods in original units agree (up to float32 EM differences).
    expect(Math.abs(std['logLikelihood']! - (fit['logLikelihood'] as number))).toBeLessThan(0.05);
    const saved = JSON.parse(readFileSync(f('std.json'), 'utf8')) as {
      standardize: { mean: number[]; scale: number[] };
    };
    expect(saved.standardize.mean[1]).toBeCloseTo(rows.reduce((a, r2) => a + r2[1], 0) / 40, 10);
    const score = await gmm(['score', 'std.json', 'data.csv', '--json']);
    expect(score.code, score.stderr).toBe(0);
    // Equal to float32 precision (the fit scores its own blocks).
    const scored = (JSON.parse(score.stdout) as Record<string, number>)['logLikelihood']!;
    expect(Math.abs(scored - std['logLikelihood']!)).toBeLessThan(1e-6 * Math.abs(std['logLikelihood']!));
  });
  it('--workers 2 (data-parallel EM on worker threads) gives the log-likelihood of --workers 0', async () => {
    const [one, two] = await all([
      () => gmm(['fit', 'data.csv', '-k', '2', '--workers', '0', '--json']),
      () => gmm(['fit', 'data.csv', '-k', '2', '--workers', '2', '--json']),
    ]);
    expect(one!.code, one!.stderr).toBe(0);
    expect(two!.code, two!.stderr).toBe(0);
    const ll0 = (JSON.parse(one!.stdout) as Record<string, number>)['logLikelihood']!;
    const ll2 = (JSON.parse(two!.stdout) as Record<string, number>)['logLikelihood']!;
    expect(Math.abs(ll2 - ll0)).toBeLessThanOrEqual(1e-6 * Math.abs(ll0));
  });

  it('Ctrl-C during a fit exits 130 with one line on stderr and no output file', async () => {
    // --tol 0 and a million iterations: EM runs until interrupted (each
    // iteration checks the signal). SIGINT goes out once the first iteration
    // is reported, so the handler is installed and EM is iterating, however
    // loaded the machine is.
    const r = await gmm(
      ['fit', 'data.csv', '-k', '2', '--max-iter', '1000000', '--tol', '0', '-o', 'never-fit.json'],
      { env: { GMM_PROGRESS: 'lines' }, interrupt: { when: /^fitting: iteration 1,/m, signal: 'SIGINT' } },
    );
    expect(r.code, r.stderr).toBe(130);
    expect(r.signal).toBeNull();
    expect(r.stdout).toBe('');
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^fitting: iteration 1, lower bound /);
    // Progress lines, then exactly one line about the interrupt (it is the last).
    expect(lines.filter((l) => !/^fitting: iteration \d+, lower bound /.test(l))).toEqual([
      'gmm: interrupted: stopping the fit (Ctrl-C again to quit at once)',
    ]);
    expect(lines.at(-1)).toBe('gmm: interrupted: stopping the fit (Ctrl-C again to quit at once)');
    expect(existsSync(f('never-fit.json'))).toBe(false);
    expect(readdirSync(dir).filter((name) => name.includes('never-fit'))).toEqual([]);
  });
});

describe('atomic writes', () => {
  it('a --force write that fails midway (file size limit) keeps the old file whole and leaves no temporary file', async () => {
    // Guards against writing in place: the old model would be truncated first.
    const old = JSON.stringify({ note: 'the model from yesterday', pad: 'x'.repeat(2000) });
    writeFileSync(f('keep.json'), old);
    const r = await gmm(['fit', 'data.csv', '-k', '2', '-o', 'keep.json', '--force'], { fileSizeLimit: 1 });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toEqual([expect.stringMatching(/^gmm: error: cannot write keep\.json: EFBIG/)]);
    // The results were printed before the write, so the failed write does not lose them.
    expect(r.stdout).toMatch(/^2-component 'full' Gaussian mixture fitted to/);
    expect(readFileSync(f('keep.json'), 'utf8')).toBe(old);
    expect(readdirSync(dir).filter((name) => name.includes('keep.json') && name !== 'keep.json')).toEqual([]);
  });
});

describe('gmm sweep', () => {
  it('--json follows the contract, writes the best model and the plot', async () => {
    const r = await gmm([
      'sweep',
      'data.csv',
      '--k',
      '1..3',
      '--covariance',
      'full,diag',
      '--workers',
      '0',
      '--json',
      '-o',
      'best.json',
      '--plot',
      'sweep.svg',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as {
      criterion: string;
      best: Record<string, unknown>;
      results: Record<string, unknown>[];
    };
    expect(out.criterion).toBe('bic');
    expect(Object.keys(out.best).sort()).toEqual(['aic', 'bic', 'covarianceType', 'k', 'logLikelihood']);
    expect(out.best['k']).toBe(2);
    expect(out.results).toHaveLength(6);
    for (const row of out.results) {
      for (const key of [
        'k',
        'covarianceType',
        'bic',
        'aic',
        'icl',
        'logLikelihood',
        'converged',
        'iterations',
        'seconds',
      ])
        expect(row).toHaveProperty(key);
    }
    const bics = out.results.map((row) => row['bic'] as number);
    expect(out.best['bic']).toBe(Math.min(...bics));
    expect(readFileSync(f('sweep.svg'), 'utf8')).toContain(
      `best: k=2, ${out.best['covarianceType'] as string}`,
    );
    const best = JSON.parse(readFileSync(f('best.json'), 'utf8')) as { gmm: { k: number } };
    expect(best.gmm.k).toBe(2);
  });

  it('Ctrl-C aborts with exit 130 and no output file', async () => {
    // --tol 0 and a million iterations per cell: no cell can finish, so the
    // sweep is running whenever the signal lands. SIGINT goes out once the
    // sweep reports it started (the handler is installed by then).
    const r = await gmm(
      [
        'sweep',
        'data.csv',
        '--k',
        '1..3',
        '--max-iter',
        '1000000',
        '--tol',
        '0',
        '--workers',
        '2',
        '-o',
        'never.json',
      ],
      { env: { GMM_PROGRESS: 'lines' }, interrupt: { when: /^sweep: started$/m, signal: 'SIGINT' } },
    );
    expect(r.code, r.stderr).toBe(130);
    expect(r.signal).toBeNull();
    expect(r.stdout).toBe('');
    expect(r.stderr.trimEnd().split('\n')).toEqual([
      'sweep: started',
      'gmm: interrupted: stopping the sweep (Ctrl-C again to quit at once)',
    ]);
    expect(existsSync(f('never.json'))).toBe(false);
    expect(readdirSync(dir).filter((name) => name.includes('never.json'))).toEqual([]);
  });
});

describe('data input', () => {
  it("reads JSON objects from stdin ('-'); GMM_BACKEND picks the backend", async () => {
    const json = JSON.stringify(rows.map(([x, y]) => ({ x, y })));
    const r = await gmm(['fit', '-', '-k', '1', '--json'], { input: json, env: { GMM_BACKEND: 'cpu' } });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { means: number[][]; columns: string[]; backend: string };
    expect(out.backend).toBe('cpu');
    expect(out.columns).toEqual(['x', 'y']);
    // k=1: the column means (EM runs in float32).
    expect(out.means[0]![0]).toBeCloseTo(rows.reduce((a, r2) => a + r2[0], 0) / 40, 5);
    expect(out.means[0]![1]).toBeCloseTo(rows.reduce((a, r2) => a + r2[1], 0) / 40, 5);
  });
});

describe('errors: one line, exit 2 for usage and data, no stack unless --debug', () => {
  it('exits 2 with one line naming the problem (a sample; main.test.ts covers every case in-process)', async () => {
    writeFileSync(f('nan.csv'), 'a,b\n1,2\n3,NaN\n');
    writeFileSync(f('corrupt.json'), '{"format": "gmmkit.cli-model", "vers');
    const cases: [string[], RegExp][] = [
      [['fit', 'missing.csv', '-k', '2'], /cannot read missing\.csv: no such file/],
      [
        ['fit', 'nan.csv', '-k', '1'],
        /nan\.csv: row 2 \(line 3\), column 'b': value 'NaN' is not a finite number/,
      ],
      [['predict', 'corrupt.json', 'data.csv'], /corrupt\.json: not a model file: invalid JSON/],
    ];
    const runs = await all(
      cases.map(
        ([args]) =>
          () =>
            gmm(args),
      ),
      3,
    );
    runs.forEach((r, i) => expectOneLineError(r, 2, cases[i]![1]));
  });

  it('never overwrites without --force, never overwrites an input', async () => {
    writeFileSync(f('keep.json'), 'precious');
    const [refused, input] = await Promise.all([
      gmm(['fit', 'data.csv', '-k', '2', '-o', 'keep.json']),
      gmm(['predict', 'model.json', 'data.csv', '-o', 'data.csv', '--force']),
    ]);
    expectOneLineError(refused, 2, /-o keep\.json: file exists \(use --force to overwrite it\)/);
    expect(readFileSync(f('keep.json'), 'utf8')).toBe('precious');
    expectOneLineError(input, 2, /refusing to overwrite the input file data\.csv/);
    expect(readFileSync(f('data.csv'), 'utf8')).toBe(csv);

    const forced = await gmm(['fit', 'data.csv', '-k', '1', '-o', 'keep.json', '--force']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(JSON.parse(readFileSync(f('keep.json'), 'utf8'))).toMatchObject({ format: 'gmmkit.cli-model' });
  });

  it('prints a stack trace only with --debug', async () => {
    const r = await gmm(['fit', 'nan.csv', '-k', '1', '--debug']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.split('\n')[0]).toMatch(/^gmm: error: nan\.csv/);
    expect(r.stderr).toMatch(/\n\s+at /);
  });
});

describe('help and version', () => {
  it('--help lists every command with examples; --version prints the version', async () => {
    const [help, fitHelp, version] = await Promise.all([
      gmm(['--help']),
      gmm(['fit', '--help']),
      gmm(['--version']),
    ]);
    expect(help.code).toBe(0);
    for (const c of ['fit', 'predict', 'score', 'sample', 'sweep', 'inspect'])
      expect(help.stdout).toContain(`gmm ${c}`);
    expect(fitHelp.code).toBe(0);
    expect(fitHelp.stdout).toContain('Examples:');
    expect(fitHelp.stdout).toContain('--standardize');
    const pkg = JSON.parse(
      readFileSync(fileURLToPath(new URL('../package.json', import.meta.url)), 'utf8'),
    ) as { version: string };
    expect(version.stdout.trim()).toBe(pkg.version);
  });
});
