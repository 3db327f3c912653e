// Redis URLs (redis://, rediss:// with TLS, user and password, database) and
// a first connection that fails with one clear line instead of retrying forever.
import { InvalidArgumentError } from '@gmmkit/core';
import { Redis } from 'ioredis';

/** A failure talking to Redis (unreachable, wrong password, lost mid-fit). */
export class RedisConnectionError extends Error {
  override readonly name = 'RedisConnectionError';
}

/** Connection options BullMQ and ioredis both take. */
export interface RedisConnectionOptions {
  host: string;
  port: number;
  username?: string;
  password?: string;
  db?: number;
  tls?: { servername: string };
  maxRetriesPerRequest: null;
  /** Reconnect delay: 100 ms more per attempt, at most 2 s (ioredis's default backs off to 20 s; a restarted Redis should be found at once). */
  retryStrategy: (times: number) => number;
}

/** What a Redis URL says, as connection options, plus the URL with its password masked (for messages). */
export interface RedisTarget {
  options: RedisConnectionOptions;
  /** The URL without its password, safe to print. */
  display: string;
}

const URL_FORM = 'redis://[user:password@]host[:port][/db] or rediss://... (TLS)';

/** Parses redis://[user:password@]host[:port][/db] and rediss:// (TLS). */
export function parseRedisUrl(url: string): RedisTarget {
  if (typeof url !== 'string' || url.trim() === '')
    throw new InvalidArgumentError(`the Redis URL is empty: expected ${URL_FORM}`);
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new InvalidArgumentError(`invalid Redis URL '${mask(url)}': expected ${URL_FORM}`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:')
    throw new InvalidArgumentError(
      `invalid Redis URL '${mask(url)}': the scheme must be redis:// or rediss://, not ${u.protocol}//`,
    );
  if (u.hostname === '')
    throw new InvalidArgumentError(`invalid Redis URL '${mask(url)}': no host (expected ${URL_FORM})`);
  const port = u.port === '' ? 6379 : Number(u.port);
  const path = u.pathname.replace(/^\//, '');
  if (path !== '' && !/^\d+$/.test(path))
    throw new InvalidArgumentError(
      `invalid Redis URL '${mask(url)}': the path must be a database number, got '/${path}'`,
    );
  const options: RedisConnectionOptions = {
    host: u.hostname.replace(/^\[(.*)\]$/, '$1'),
    port,
    // BullMQ's blocking connections need it: a command waits for a reconnect instead of failing.
    maxRetriesPerRequest: null,
    retryStrategy: (times) => Math.min(100 * times, 2000),
  };
  if (u.username !== '') options.username = decodeURIComponent(u.username);
  if (u.password !== '') options.password = decodeURIComponent(u.password);
  if (path !== '') options.db = Number(path);
  if (u.protocol === 'rediss:') options.tls = { servername: options.host };
  const display = `${u.protocol}//${u.username === '' ? '' : `${decodeURIComponent(u.username)}@`}${u.host}${path === '' ? '' : `/${path}`}`;
  return { options, display };
}

/** The URL with any password replaced by ***. */
function mask(url: string): string {
  return url.replace(/^(\w+:\/\/[^:/@]*:)[^@]*@/, '$1***@');
}

/** One line for a connection failure of `target`. */
export function describeRedisError(target: RedisTarget, err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: string } | null)?.code;
  if (/WRONGPASS|invalid password|invalid username-password/i.test(msg))
    return `Redis at ${target.display} rejected the user name or password (${msg.split('\n')[0]})`;
  if (/NOAUTH/i.test(msg))
    return `Redis at ${target.display} requires a password: give it in the URL, redis://:PASSWORD@host:port`;
  if (code === 'ECONNREFUSED' || /ECONNREFUSED/.test(msg))
    return `cannot connect to Redis at ${target.display}: connection refused (is redis-server running there?)`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || /ENOTFOUND|EAI_AGAIN/.test(msg))
    return `cannot connect to Redis at ${target.display}: host not found`;
  return `cannot connect to Redis at ${target.display}: ${msg.split('\n')[0]}`;
}

/**
 * Connects a client and checks the server answers (and accepts the
 * credentials) within `timeoutMs`; rejects with a RedisConnectionError
 * naming the problem. After this first connection the client reconnects
 * on its own (a restarted server).
 */
export async function connectRedis(target: RedisTarget, timeoutMs = 10_000): Promise<Redis> {
  let lastError: unknown;
  const client = new Redis({
    ...target.options,
    lazyConnect: true,
    // First connection: give up at once on refusal; later, retry every 100 ms .. 2 s.
    retryStrategy: (times) => (ready ? Math.min(100 * times, 2000) : null),
  });
  let ready = false;
  client.on('error', (err) => {
    lastError = err;
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      client.connect().then(() => client.ping()),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    ready = true;
    return client;
  } catch (err) {
    client.disconnect();
    throw new RedisConnectionError(describeRedisError(target, lastError ?? err), { cause: err });
  } finally {
    clearTimeout(timer);
  }
}

/** `p`, or undefined after `ms` milliseconds (for clean-ups that must not hang when Redis is gone). */
export function bounded<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
