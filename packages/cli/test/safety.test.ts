/**
 * Nothing lost, nothing destroyed, no hang (the built binary as a
 * subprocess): output paths are checked before any work, results reach
 * stdout even when a file write fails, --force replaces only regular
 * files, sample streams in bounded memory and stops on a closed pipe, the
 * reader bounds its line length, Ctrl-C works while waiting on a FIFO, and
 * a plugin that never finishes loading is named. Every wait is on an event
 * (a line of output), never on a delay.
 */
import { spawnSync } from 'node:child_process';
import {
  lstatSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { all, expectOneLineError, gmm as run, stderrLines, type RunOptions } from './helpers/gmm-process.js';

const dir = mkdtempSync(path.join(tmpdir(), 'gmm-safety-'));
const f = (name: string) => path.join(dir, name);
const gmm = (args: string[], opts: Omit<RunOptions, 'cwd'> = {}) => run(args, { cwd: dir, ...opts });

const rows: string[] = [];
for (let i = 0; i < 30; i++) rows.push(`${(i % 2) * 8 + Math.sin(i)},${(i % 2) * 4 + Math.cos(2 * i)}`);
const csv = 'x,y\n' + rows.join('\n') + '\n';

beforeAll(async () => {
  writeFileSync(f('data.csv'), csv);
  const r = await gmm(['fit', 'data.csv', '-k', '2', '-o', 'model.json']);
  expect(r.code, r.stderr).toBe(0);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const mkfifo = (name: string) => {
  const r = spawnSync('mkfifo', [f(name)]);
  expect(r.status, String(r.stderr)).toBe(0);
};

describe('output paths', () => {
  it('are checked before any work: an uncreatable or empty path fails at once, with no progress shown', async () => {
    const cases: [string[], RegExp][] = [
      [['fit', 'data.csv', '-k', '2', '-o', '/proc/gmm-no/model.json'], /-o \/proc\/gmm-no\/model\.json: directory/],
      [['fit', 'data.csv', '-k', '2', '-o', '/proc/gmm-model.json'], /-o \/proc\/gmm-model\.json: cannot create a file in \/proc/],
      [['sweep', 'data.csv', '--k', '1..3', '--plot', '/proc/gmm.svg'], /--plot \/proc\/gmm\.svg: cannot create a file in \/proc/],
      [['sweep', 'data.csv', '--k', '1..3', '-o', ''], /-o needs a file name, got an empty one/],
      [['sample', 'model.json', '-n', '5', '-o', '/proc/gmm.csv'], /cannot create a file in \/proc/],
    ];
    const runs = await all(cases.map(([args]) => () => gmm(args, { env: { GMM_PROGRESS: 'lines' } })));
    runs.forEach((r, i) => expectOneLineError(r, 2, cases[i]![1]));
  });

  it('a write that fails after the fit still leaves the results on stdout', async () => {
    const [fit, sweep] = await all([
      () => gmm(['fit', 'data.csv', '-k', '2', '-o', '/dev/full']),
      () => gmm(['sweep', 'data.csv', '--k', '1..2', '--covariance', 'full', '--plot', '/dev/full', '--json']),
    ]);
    expect(fit.code).not.toBe(0);
    expect(fit.stdout).toMatch(/^2-component 'full' Gaussian mixture fitted to 30 rows/);
    expect(stderrLines(fit)).toEqual(['gmm: error: cannot write /dev/full: no space left on the device']);
    expect(sweep.code).not.toBe(0);
    expect((JSON.parse(sweep.stdout) as { best: { k: number } }).best.k).toBe(2);
    expect(stderrLines(sweep)).toEqual(['gmm: error: cannot write /dev/full: no space left on the device']);
  });

  it('--force replaces only regular files: a device and a FIFO are written into, a symlink is written through', async () => {
    const mknod = spawnSync('mknod', [f('null-device'), 'c', '1', '3']);
    expect(mknod.status, String(mknod.stderr)).toBe(0);
    mkfifo('model.fifo');
    writeFileSync(f('target.json'), 'old');
    symlinkSync('target.json', f('link.json'));
    symlinkSync('missing.json', f('dangling.json'));
    // The FIFO's reader is this test; gmm's write waits for it.
    const fromFifo = readFile(f('model.fifo'), 'utf8');
    const [device, fifo, link, dangling, devnull] = await all(
      [
        ['-o', 'null-device', '--force'],
        ['-o', 'model.fifo', '--force'],
        ['-o', 'link.json', '--force'],
        ['-o', 'dangling.json', '--force'],
        ['-o', '/dev/null'],
      ].map((o) => () => gmm(['fit', 'data.csv', '-k', '2', ...o])),
      3,
    );
    for (const r of [device, fifo, link, devnull]) expect(r.code, r.stderr).toBe(0);
    expect(statSync(f('null-device')).isCharacterDevice()).toBe(true);
    expect(statSync(f('model.fifo')).isFIFO()).toBe(true);
    expect(JSON.parse(await fromFifo)).toMatchObject({ format: 'gmmkit.cli-model', columns: ['x', 'y'] });
    expect(lstatSync(f('link.json')).isSymbolicLink()).toBe(true);
    expect(JSON.parse(readFileSync(f('target.json'), 'utf8'))).toMatchObject({ format: 'gmmkit.cli-model' });
    expectOneLineError(dangling, 2, /-o dangling\.json: a symlink to a missing file; refusing/);
    expect(lstatSync(f('dangling.json')).isSymbolicLink()).toBe(true);
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp') || n.startsWith('.gmm-probe'))).toEqual([]);
    // Without --force an existing regular file behind a symlink is still safe.
    const refused = await gmm(['fit', 'data.csv', '-k', '2', '-o', 'link.json']);
    expectOneLineError(refused, 2, /-o link\.json: file exists \(use --force/);
  });

  it("'-' and /dev/stdout stream to stdout (fit's summary then goes to stderr)", async () => {
    const [fit, predict] = await all([
      () => gmm(['fit', 'data.csv', '-k', '2', '-o', '/dev/stdout']),
      () => gmm(['predict', 'model.json', 'data.csv', '-o', '/dev/stdout']),
    ]);
    expect(fit.code, fit.stderr).toBe(0);
    expect(JSON.parse(fit.stdout)).toMatchObject({ format: 'gmmkit.cli-model' });
    expect(fit.stderr).toMatch(/^2-component 'full' Gaussian mixture/);
    expect(predict.code, predict.stderr).toBe(0);
    expect(predict.stdout.split('\n')[0]).toBe('label');
    expect(predict.stdout.trim().split('\n')).toHaveLength(31);
  });
});

describe('gmm sample', () => {
  it('-n 1e9 streams rows in blocks with bounded memory and exits 0 when the reader closes the pipe', async () => {
    let rssKb = 0;
    let first = '';
    const big = await gmm(['sample', 'model.json', '-n', '1e9', '--seed', '4'], {
      onStdout: (out, child) => {
        // 300k rows are several blocks: measure, then close the pipe as `head` would.
        if (first === '' && out.split('\n').length > 300_000) {
          first = out;
          const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
          rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)![1]);
          child.stdout!.destroy();
        }
      },
    });
    expect(big.code, big.stderr).toBe(0);
    expect(big.stderr).toBe('');
    expect(rssKb).toBeGreaterThan(0);
    // 1e9 rows held in memory would be > 16 GB; a block is 65536 rows.
    expect(rssKb).toBeLessThan(400 * 1024);
    // The first block is the same draw as a sample of one block.
    const one = await gmm(['sample', 'model.json', '-n', '65536', '--seed', '4']);
    expect(one.code, one.stderr).toBe(0);
    expect(first.split('\n').slice(0, 65537)).toEqual(one.stdout.split('\n').slice(0, 65537));
  });

  it('shows its progress a block at a time (GMM_PROGRESS=lines, as on a terminal) and writes every row to -o', async () => {
    const r = await gmm(['sample', 'model.json', '-n', '150000', '--seed', '2', '-o', 'many.csv'], {
      env: { GMM_PROGRESS: 'lines' },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr.trimEnd().split('\n')).toEqual([
      'sample: 65536 of 150000 rows',
      'sample: 131072 of 150000 rows',
      'sample: 150000 of 150000 rows',
      'wrote many.csv (150000 rows)',
    ]);
    expect((await readFile(f('many.csv'), 'utf8')).trimEnd().split('\n')).toHaveLength(150_001);
  });
});

describe('reader bounds', () => {
  it('a 20 MB line without a line break is a one-line error naming the line, with and without --stream', async () => {
    writeFileSync(f('one-line.csv'), '7'.repeat(20_000_000));
    writeFileSync(f('late-line.csv'), 'x,y\n1,2\n3,4\n' + '5'.repeat(20_000_000) + ',6\n');
    const runs = await all([
      () => gmm(['fit', 'one-line.csv', '-k', '1']),
      () => gmm(['fit', 'late-line.csv', '-k', '1', '--stream']),
    ]);
    expectOneLineError(runs[0]!, 2, /one-line\.csv: line 1 is longer than 16 MiB \(no line break\)/);
    expectOneLineError(runs[1]!, 2, /late-line\.csv: line 4 is longer than 16 MiB/);
  });
});

describe('waiting states', () => {
  it('Ctrl-C stops a fit waiting on a FIFO without a writer (exit 130), and predict dies of it', async () => {
    mkfifo('empty.fifo');
    const waiting = /waiting for data/;
    const [fit, predict] = await all([
      () =>
        gmm(['fit', 'empty.fifo', '-k', '1'], {
          env: { GMM_PROGRESS: 'lines' },
          onStderr: { pattern: waiting, then: (child) => child.kill('SIGINT') },
        }),
      () =>
        gmm(['predict', 'model.json', 'empty.fifo'], {
          env: { GMM_PROGRESS: 'lines' },
          onStderr: { pattern: waiting, then: (child) => child.kill('SIGINT') },
        }),
    ]);
    expect(fit.code, fit.stderr).toBe(130);
    expect(stderrLines(fit)).toEqual(['gmm: interrupted: stopping the fit (Ctrl-C again to quit at once)']);
    expect(predict.signal ?? predict.code).toBe(predict.signal === null ? 130 : 'SIGINT');
  });

  it('a --plugin that never finishes loading is named: at once when nothing can settle, else after GMM_PLUGIN_TIMEOUT', async () => {
    writeFileSync(f('never.mjs'), 'await new Promise(() => {});\nexport default {};\n');
    // A timer keeps the process busy, so only the time limit can tell.
    writeFileSync(f('busy.mjs'), 'setInterval(() => {}, 1000);\nawait new Promise(() => {});\nexport default {};\n');
    const [never, busy] = await all([
      () => gmm(['fit', 'data.csv', '-k', '1', '--plugin', './never.mjs']),
      () => gmm(['fit', 'data.csv', '-k', '1', '--plugin', './busy.mjs'], { env: { GMM_PLUGIN_TIMEOUT: '1' } }),
    ]);
    expectOneLineError(never, 2, /--plugin \.\/never\.mjs: the module never finished loading/);
    expectOneLineError(busy, 2, /--plugin \.\/busy\.mjs: the module did not finish loading within 1 s/);
  });
});
