// Faults against real redis-servers: Redis restarted in the middle of a fit
// (resumed, same result) or gone for good (a clear failure), jobs of another
// protocol version or of a fit that is not running (refused by the worker),
// cancellation (no key of the fit left).
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { AbortedError } from '@gmmkit/core';
import { Queue, QueueEvents } from 'bullmq';
import {
  KEY_PREFIX,
  PROTOCOL_VERSION,
  RedisConnectionError,
  SHARD_QUEUE,
  fitDistributed,
  parseRedisUrl,
  startWorker,
  type CoordinatorEvent,
  type WorkerEvent,
  type WorkerHandle,
} from '../src/index.js';
import { keysMatching, startRedisServer, type RedisServer } from '../src/testing.js';
import { csvReader, mixtureRows, writeShards } from './helpers.js';

const rows = mixtureRows(1200, 2, 11);
const shards = writeShards(rows, 4);
const options = {
  nComponents: 3,
  covarianceType: 'full',
  seed: 4,
  backend: 'cpu' as const,
  tol: 0,
  maxIter: 8,
};

describe('Redis restarted in the middle of a fit', () => {
  let server: RedisServer;
  let workers: WorkerHandle[] = [];
  let onWorkerEvent: (e: WorkerEvent) => void = () => undefined;
  beforeAll(async () => {
    server = await startRedisServer();
    workers = await Promise.all(
      [0, 1].map(() =>
        startWorker({
          redis: server.url,
          readShard: csvReader,
          backend: 'cpu',
          lockDuration: 2000,
          onEvent: (e) => onWorkerEvent(e),
        }),
      ),
    );
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.close()));
    await server.dispose();
  });

  it('resumes the iteration it lost and gives the same model', async () => {
    const reference = (await fitDistributed({ redis: server.url, shards, ...options })).model.state;
    const events: CoordinatorEvent['type'][] = [];
    let restarted: Promise<void> | undefined;
    // Redis loses everything (no persistence) once a worker holds a job of the 4th EM pass.
    onWorkerEvent = (e) => {
      if (
        e.type === 'job' &&
        e.op === 'pass' &&
        restarted === undefined &&
        events.filter((t) => t === 'flow').length >= 5
      )
        restarted = server.stop().then(() => server.start());
    };
    const { model } = await fitDistributed({
      redis: server.url,
      shards,
      ...options,
      onEvent: (e) => events.push(e.type),
    });
    onWorkerEvent = () => undefined;
    await restarted;
    expect(events).toContain('redis-lost');
    expect(events).toContain('redis-back');
    expect(events).toContain('resubmit');
    const s = model.state;
    expect(s.nIter).toBe(reference.nIter);
    expect(Array.from(s.means)).toEqual(Array.from(reference.means));
    expect(Array.from(s.covariances)).toEqual(Array.from(reference.covariances));
    expect(s.lowerBoundHistory).toEqual(reference.lowerBoundHistory);
  });

  it('fails with one clear error when Redis does not come back', async () => {
    const fit = fitDistributed({
      redis: server.url,
      shards,
      ...options,
      reconnectTimeout: 1000,
      onEvent: (e) => {
        if (e.type === 'flow' && e.op === 'pass' && e.seq === 3) void server.stop();
      },
    });
    await expect(fit).rejects.toThrow(RedisConnectionError);
    await expect(fit).rejects.toThrow(
      /lost the connection to Redis at redis:\/\/127\.0\.0\.1:\d+ for 1 s; the fit stopped and no model was written/,
    );
    await server.start();
  });
});

describe('jobs the workers refuse', () => {
  const url = inject('redisUrl');
  let worker: WorkerHandle;
  let queue: Queue;
  let events: QueueEvents;
  beforeAll(async () => {
    worker = await startWorker({ redis: url, readShard: csvReader, backend: 'cpu' });
    const connection = parseRedisUrl(url).options;
    queue = new Queue(SHARD_QUEUE, { connection, prefix: KEY_PREFIX });
    events = new QueueEvents(SHARD_QUEUE, { connection, prefix: KEY_PREFIX });
    await events.waitUntilReady();
  });
  afterAll(async () => {
    await Promise.all([queue.close(), events.close()]);
    await worker.close();
  });

  const submit = async (data: Record<string, unknown>) => {
    const job = await queue.add('scan', data, { removeOnComplete: true });
    return (await job.waitUntilFinished(events)) as {
      ok: boolean;
      error?: { name: string; message: string };
    };
  };

  it('a job of another protocol version', async () => {
    const r = await submit({
      v: PROTOCOL_VERSION + 1,
      fitId: 'f',
      seq: 0,
      shard: 0,
      source: shards[0],
      op: 'scan',
      sampleSize: 10,
      seed: 1,
    });
    expect(r.ok).toBe(false);
    expect(r.error).toMatchObject({
      name: 'ProtocolError',
      message: `job of protocol version ${PROTOCOL_VERSION + 1}; this worker speaks version ${PROTOCOL_VERSION}`,
    });
  });

  it("a job of a fit that is not running (finished, cancelled, or another cluster's leftovers)", async () => {
    const r = await submit({
      v: PROTOCOL_VERSION,
      fitId: 'no-such-fit',
      seq: 0,
      shard: 0,
      source: shards[0],
      op: 'scan',
      sampleSize: 10,
      seed: 1,
    });
    expect(r).toMatchObject({
      ok: false,
      error: { name: 'StaleJob', message: 'fit no-such-fit is not running' },
    });
  });
});

describe('cancelling', () => {
  const url = inject('redisUrl');
  it('an aborted fit rejects with AbortedError and leaves no key of the fit in Redis', async () => {
    const worker = await startWorker({ redis: url, readShard: csvReader, backend: 'cpu' });
    try {
      const controller = new AbortController();
      let fitId = '';
      const fit = fitDistributed({
        redis: url,
        shards,
        ...options,
        signal: controller.signal,
        onIteration: (it) => {
          if (it === 2) controller.abort();
        },
        onEvent: (e) => {
          if (e.type === 'flow' && fitId === '') fitId = 'seen';
        },
      });
      await expect(fit).rejects.toThrow(AbortedError);
      expect(fitId).toBe('seen');
      expect(await keysMatching(url, `${KEY_PREFIX}:merge-*`)).toEqual([]);
      expect(await keysMatching(url, `${KEY_PREFIX}:fit:*`)).toEqual([]);
      expect(
        (await keysMatching(url, `${KEY_PREFIX}:${SHARD_QUEUE}:*`)).filter((k) => /:[0-9a-f]{16}\./.test(k)),
      ).toEqual([]);
    } finally {
      await worker.close();
    }
  });
});
