// A throw-away redis-server for tests and benchmarks: Debian's redis-server
// on a free port of 127.0.0.1, in its own temporary directory, no
// persistence; stopped (and restartable on the same port) on demand.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

export interface RedisServer {
  port: number;
  /** redis://[:password@]127.0.0.1:port */
  url: string;
  /** Stops the server (data lost: no persistence). */
  stop(): Promise<void>;
  /** Starts it again on the same port. */
  start(): Promise<void>;
  /** stop() and remove its directory. */
  dispose(): Promise<void>;
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** The redis-server binary ($REDIS_SERVER, else redis-server on PATH). */
export function redisServerBinary(): string {
  return process.env['REDIS_SERVER'] ?? 'redis-server';
}

/** Starts redis-server; resolves once it accepts connections. */
export async function startRedisServer(options: { password?: string } = {}): Promise<RedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'gmm-redis-'));
  let child: ChildProcess | undefined;
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    'no',
    '--protected-mode',
    'yes',
  ];
  if (options.password !== undefined) args.push('--requirepass', options.password);
  const start = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const c = spawn(redisServerBinary(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
      child = c;
      let out = '';
      const onData = (b: Buffer): void => {
        out += b.toString();
        if (/Ready to accept connections/i.test(out)) {
          c.stdout!.off('data', onData);
          c.stdout!.resume();
          resolve();
        }
      };
      c.stdout!.on('data', onData);
      c.stderr!.resume();
      c.once('error', (err) => reject(new Error(`cannot start ${redisServerBinary()}: ${err.message}`)));
      c.once('exit', (code) =>
        reject(
          new Error(
            `redis-server exited (code ${code}) before it was ready: ${out.trim().split('\n').pop() ?? ''}`,
          ),
        ),
      );
    });
  const stop = (): Promise<void> =>
    new Promise((resolve) => {
      const c = child;
      child = undefined;
      if (c === undefined || c.exitCode !== null) return resolve();
      c.once('exit', () => resolve());
      c.kill('SIGKILL');
    });
  await start();
  const auth = options.password === undefined ? '' : `:${encodeURIComponent(options.password)}@`;
  return {
    port,
    url: `redis://${auth}127.0.0.1:${port}`,
    stop,
    start,
    async dispose() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Names of the keys matching a glob pattern (SCAN), for tests that check what a fit left behind. */
export async function keysMatching(url: string, pattern: string): Promise<string[]> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await client.connect();
    const out: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      out.push(...keys);
      cursor = next;
    } while (cursor !== '0');
    return out.sort();
  } finally {
    client.disconnect();
  }
}
