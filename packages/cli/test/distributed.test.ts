/**
 * `gmm worker` and `gmm fit/sweep --distributed` as processes against a real
 * redis-server (Debian's, started here on a free port of 127.0.0.1): three
 * workers and six shards give the fit of the concatenated file, a worker
 * killed in the middle of a job is replaced, errors are one line, Ctrl-C
 * cleans up. Every wait is for an event (a line printed, a process exit),
 * never a fixed delay.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, keysMatching, startRedisServer, type RedisServer } from '@gmmkit/distributed/testing';
import { all } from './helpers/gmm-process.js';

const BIN = fileURLToPath(new URL('../bin/gmm.js', import.meta.url));
const HOLD = fileURLToPath(new URL('./fixtures/hold-full.mjs', import.meta.url));
const dir = mkdtempSync(path.join(tmpdir(), 'gmm-dist-'));
const f = (name: string) => path.join(dir, name);
/** Each test starts gmm processes (tfjs loads in each) on a shared 2-core machine. */
const SLOW_TEST = 240_000;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function gmm(args: string[], onSpawn?: (child: ChildProcessWithoutNullStreams) => void): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end();
    onSpawn?.(child);
  });
}

/** A running `gmm worker` whose stdout lines are kept and can be waited for. */
class WorkerProcess {
  readonly child: ChildProcessWithoutNullStreams;
  lines: string[] = [];
  private waiters: { test: (line: string) => boolean; resolve: (line: string) => void }[] = [];
  readonly exited: Promise<number | null>;

  constructor(url: string, extra: string[] = []) {
    this.child = spawn(
      process.execPath,
      [
        BIN,
        'worker',
        '--redis',
        url,
        '--backend',
        'wasm',
        '--lock-duration',
        '3000',
        '--plugin',
        HOLD,
        ...extra,
      ],
      { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] },
    );
    let buffer = '';
    this.child.stdout.on('data', (d: Buffer) => {
      buffer += d.toString();
      const parts = buffer.split('\n');
      buffer = parts.pop()!;
      for (const line of parts) {
        this.lines.push(line);
        this.waiters = this.waiters.filter((w) => {
          if (!w.test(line)) return true;
          w.resolve(line);
          return false;
        });
      }
    });
    this.child.stderr.resume();
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }

  /** Resolves with the first line (already printed or to come) that passes `test`. */
  waitFor(test: (line: string) => boolean): Promise<string> {
    const seen = this.lines.find(test);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve) => this.waiters.push({ test, resolve }));
  }

  /** The worker's id (from its ready line). */
  id(): string {
    return /^gmm worker (\S+):/.exec(this.lines.find((l) => l.startsWith('gmm worker ')) ?? '')?.[1] ?? '';
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    await this.exited;
  }
}

/**
 * Arms the hold-full plugin (fixtures/hold-full.mjs) with `token`: the next
 * accumulate on a worker holds its job until releaseHold(token). Resolves
 * with the holding worker and the 'took job' line of the job it holds
 * (concurrency 1: the job in hand).
 */
function armHold(token: string): Promise<{ w: WorkerProcess; took: string }> {
  const holding = `hold-full: holding a job (${token})`;
  writeFileSync(f('hold-armed'), token);
  return Promise.race(
    workers.map((w) =>
      w
        .waitFor((l) => l === holding)
        .then((line) => {
          rmSync(f('hold-armed'), { force: true });
          const took = w.lines
            .slice(0, w.lines.indexOf(line))
            .reverse()
            .find((l) => l.startsWith('took job '));
          return { w, took: took ?? '' };
        }),
    ),
  );
}

function releaseHold(token: string): void {
  rmSync(f('hold-armed'), { force: true });
  writeFileSync(f(`hold-release-${token}`), '');
}

/** n rows of three 3-D clusters, rounded to 3 decimals, with exact duplicate rows. */
function rows(n: number): number[][] {
  let s = 2024;
  const u = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) + 0.5) / 2 ** 32;
  const normal = () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  const out: number[][] = [];
  for (let i = 0; i < n; i++) {
    if (i % 40 === 39) {
      out.push([...out[i - 1]!]);
      continue;
    }
    const c = i % 3;
    out.push(
      [c * 4 + normal(), -2 * c + 1.5 * normal(), c + 0.5 * normal()].map((v) => Math.round(v * 1000) / 1000),
    );
  }
  return out;
}

const data = rows(1200);
const csv = (r: number[][]) => 'a,b,c\n' + r.map((x) => x.join(',')).join('\n') + '\n';

let redis: RedisServer;
let secured: RedisServer;
let workers: WorkerProcess[] = [];

beforeAll(async () => {
  [redis, secured] = await Promise.all([startRedisServer(), startRedisServer({ password: 'right' })]);
  writeFileSync(f('all.csv'), csv(data));
  for (let p = 0; p < 6; p++) writeFileSync(f(`part-${p + 1}.csv`), csv(data.slice(p * 200, (p + 1) * 200)));
  writeFileSync(f('bad.csv'), 'a,b,c\n1,2,3\n4,oops,6\n');
  workers = [0, 1, 2].map(() => new WorkerProcess(redis.url));
  await Promise.all(workers.map((w) => w.waitFor((l) => l.includes('ready for jobs'))));
}, SLOW_TEST);

afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop()));
  await Promise.all([redis?.dispose(), secured?.dispose()]);
  rmSync(dir, { recursive: true, force: true });
}, SLOW_TEST);

interface FitOut {
  means: number[][];
  weights: number[];
  covariances: number[][][];
  logLikelihood: number;
  iterations: number;
  converged: boolean;
  n: number;
  backend: string;
}

function expectSameFit(a: FitOut, b: FitOut): void {
  expect(a.n).toBe(b.n);
  expect(a.iterations).toBe(b.iterations);
  expect(a.converged).toBe(b.converged);
  a.weights.forEach((w, j) => expect(w).toBeCloseTo(b.weights[j]!, 5));
  a.means.flat().forEach((m, i) => expect(m).toBeCloseTo(b.means.flat()[i]!, 4));
  a.covariances.flat(2).forEach((c, i) => expect(c).toBeCloseTo(b.covariances.flat(2)[i]!, 4));
  expect(Math.abs(a.logLikelihood - b.logLikelihood)).toBeLessThan(1e-6 * Math.abs(b.logLikelihood));
}

const shardsArg = ['--shards', f('part-*.csv')];

describe('gmm fit --distributed', () => {
  it(
    '3 workers and 6 shards give the fit of the concatenated file',
    async () => {
      const [dist, local] = await Promise.all([
        gmm([
          'fit',
          '--distributed',
          redis.url,
          ...shardsArg,
          '-k',
          '3',
          '--seed',
          '2',
          '--backend',
          'wasm',
          '--json',
          '-o',
          'dist.json',
        ]),
        gmm(['fit', 'all.csv', '-k', '3', '--seed', '2', '--backend', 'wasm', '--workers', '0', '--json']),
      ]);
      expect(dist.stderr).toContain('wrote dist.json');
      expect(dist.code).toBe(0);
      expect(local.code).toBe(0);
      const a = JSON.parse(dist.stdout) as FitOut & { shards: { rows: number }[] };
      expect(a.shards.map((s) => s.rows)).toEqual([200, 200, 200, 200, 200, 200]);
      expect(a.backend).toBe('wasm');
      expectSameFit(a, JSON.parse(local.stdout) as FitOut);
      // The saved model predicts like any other.
      const predicted = await gmm(['predict', 'dist.json', 'all.csv']);
      expect(predicted.code).toBe(0);
      expect(predicted.stdout.trim().split('\n')).toHaveLength(data.length + 1);
    },
    SLOW_TEST,
  );

  it(
    'names an unreadable shard, a bad URL, an unreachable server and a wrong password in one line each',
    async () => {
      const port = await freePort();
      const host = secured.url.replace(/^redis:\/\/[^@]*@/, '');
      const runs = await all(
        [
          () =>
            gmm([
              'fit',
              '--distributed',
              redis.url,
              '--shards',
              f('part-1.csv'),
              '--shards',
              f('bad.csv'),
              '-k',
              '2',
            ]),
          () =>
            gmm([
              'fit',
              '--distributed',
              redis.url,
              '--shards',
              f('part-1.csv'),
              '--shards',
              f('missing.csv'),
              '-k',
              '2',
            ]),
          () => gmm(['fit', '--distributed', 'http://127.0.0.1:6379', ...shardsArg, '-k', '2']),
          () => gmm(['fit', '--distributed', `redis://127.0.0.1:${port}`, ...shardsArg, '-k', '2']),
          () => gmm(['fit', '--distributed', `redis://:wrong@${host}`, ...shardsArg, '-k', '2']),
          () => gmm(['fit', '--distributed', `redis://${host}`, ...shardsArg, '-k', '2']),
          () => gmm(['worker', '--redis', `redis://:wrong@${host}`]),
        ],
        3,
      );
      const [badShard, missing, badUrl, refused, wrongPassword, noPassword, worker] = runs;
      for (const r of runs) {
        expect(r.code).not.toBe(0);
        expect(r.stdout).toBe('');
        expect(r.stderr.trim().split('\n')).toHaveLength(1);
        expect(r.stderr).not.toMatch(/\n\s+at /);
      }
      expect(badShard!.code).toBe(2);
      expect(badShard!.stderr).toContain(`cannot read shard ${f('bad.csv')}`);
      expect(badShard!.stderr).toContain('oops');
      expect(missing!.stderr).toContain(`cannot read shard ${f('missing.csv')}`);
      expect(badUrl!.code).toBe(2);
      expect(badUrl!.stderr).toMatch(
        /invalid Redis URL 'http:\/\/127\.0\.0\.1:6379': the scheme must be redis:\/\/ or rediss:\/\//,
      );
      expect(refused!.stderr).toContain(
        `cannot connect to Redis at redis://127.0.0.1:${port}: connection refused`,
      );
      expect(wrongPassword!.stderr).toMatch(/rejected the user name or password/);
      expect(wrongPassword!.stderr).toContain(`Redis at redis://${host}`); // the password is not printed
      expect(noPassword!.stderr).toMatch(/requires a password/);
      expect(worker!.stderr).toMatch(/rejected the user name or password/);
    },
    SLOW_TEST,
  );

  it(
    'a sweep runs its cells across the workers and matches the in-process sweep',
    async () => {
      const before = workers.map((w) => w.lines.length);
      const args = ['--k', '1..3', '--covariance', 'full,diag', '--backend', 'wasm', '--json'];
      const [dist, local] = await Promise.all([
        gmm(['sweep', '--distributed', redis.url, ...shardsArg, ...args]),
        gmm(['sweep', 'all.csv', ...args, '--workers', '0']),
      ]);
      expect(dist.code).toBe(0);
      expect(local.code).toBe(0);
      type SweepOut = {
        best: { k: number; covarianceType: string };
        results: { k: number; covarianceType: string; bic: number }[];
      };
      const a = JSON.parse(dist.stdout) as SweepOut;
      const b = JSON.parse(local.stdout) as SweepOut;
      expect(a.best).toMatchObject({ k: b.best.k, covarianceType: b.best.covarianceType });
      expect(a.results.map((r) => [r.k, r.covarianceType])).toEqual(
        b.results.map((r) => [r.k, r.covarianceType]),
      );
      a.results.forEach((r, i) =>
        expect(Math.abs(r.bic - b.results[i]!.bic)).toBeLessThan(1e-5 * Math.abs(b.results[i]!.bic)),
      );
      const busy = workers.filter((w, i) => w.lines.slice(before[i]).some((l) => / pass shard /.test(l)));
      expect(busy.length).toBeGreaterThanOrEqual(2);
    },
    SLOW_TEST,
  );

  it(
    'Ctrl-C cancels the fit: exit 130, no model written, no key of the fit left in Redis',
    async () => {
      // Ctrl-C while a worker holds a job (the fit cannot finish first); the hold is released once the
      // coordinator says it is stopping, so the job in hand finishes and the clean-up waits for it.
      const held = armHold('ctrl-c');
      const run = await gmm(
        [
          'fit',
          '--distributed',
          redis.url,
          ...shardsArg,
          '-k',
          '3',
          '--covariance',
          'hold-full',
          '--plugin',
          HOLD,
          '--tol',
          '0',
          '--max-iter',
          '50',
          '-o',
          'cancelled.json',
        ],
        (child) => {
          void held.then(() => child.kill('SIGINT'));
          let err = '';
          child.stderr.on('data', (d: Buffer) => {
            err += d.toString();
            if (err.includes('interrupted')) releaseHold('ctrl-c');
          });
        },
      );
      releaseHold('ctrl-c');
      expect(run.code).toBe(130);
      expect(run.stderr).toContain('interrupted');
      const fitId = /: fit (\w+) /.exec((await held).took)![1]!;
      expect(await keysMatching(redis.url, `*${fitId}*`)).toEqual([]);
      const check = await gmm(['inspect', 'cancelled.json']);
      expect(check.code).not.toBe(0); // never written
    },
    SLOW_TEST,
  );

  it(
    'a worker killed in the middle of a job: the job is retried on another worker and the fit is the same',
    async () => {
      const options = [
        '-k',
        '3',
        '--covariance',
        'hold-full',
        '--plugin',
        HOLD,
        '--seed',
        '5',
        '--tol',
        '0',
        '--max-iter',
        '4',
        '--backend',
        'wasm',
        '--json',
      ];
      // The victim: the worker holding a job of this fit (it cannot finish it: killed while it holds).
      const held = armHold('kill');
      let killed: { w: WorkerProcess; took: string } | undefined;
      const [dist, local] = await Promise.all([
        gmm(
          ['fit', '--distributed', redis.url, ...shardsArg, ...options],
          () =>
            void held.then((v) => {
              killed = v;
              v.w.child.kill('SIGKILL');
            }),
        ),
        gmm(['fit', 'all.csv', ...options, '--workers', '0']),
      ]);
      releaseHold('kill');
      expect(dist.code, dist.stderr).toBe(0);
      expect(local.code, local.stderr).toBe(0);
      expect(killed).toBeDefined();
      expect(await killed!.w.exited).toBeNull(); // killed by the signal
      const jobId = /^took job (\S+):/.exec(killed!.took)![1]!;
      expect(killed!.w.lines.some((l) => l.startsWith(`done job ${jobId}:`))).toBe(false);
      const others = workers.filter((w) => w !== killed!.w);
      expect(others.some((w) => w.lines.some((l) => l.startsWith(`took job ${jobId}:`)))).toBe(true);
      expectSameFit(JSON.parse(dist.stdout) as FitOut, JSON.parse(local.stdout) as FitOut);
    },
    SLOW_TEST,
  );
});
