import type { TestProject } from 'vitest/node';
import { startRedisServer, type RedisServer } from '../src/testing.js';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
    redisPasswordUrl: string;
  }
}

let servers: RedisServer[] = [];

/** Starts the suite's redis-servers (one open, one with a password) and stops them afterwards. */
export async function setup(project: TestProject): Promise<void> {
  servers = await Promise.all([startRedisServer(), startRedisServer({ password: 's3cret pass' })]);
  project.provide('redisUrl', servers[0]!.url);
  project.provide('redisPasswordUrl', servers[1]!.url);
}

export async function teardown(): Promise<void> {
  await Promise.all(servers.map((s) => s.dispose()));
}
