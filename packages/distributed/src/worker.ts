// A gmm worker: takes shard jobs from the BullMQ queue and answers them with
// the single-machine engine's own code (emPass, accumulateResponsibilities,
// GaussianMixture's scoring), on its own tfjs backend, with the covariance
// families of its own container (built-ins + the plugin modules named on its
// command line; never code from a job).
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir, totalmem } from 'node:os';
import { basename, join } from 'node:path';
import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  GmmError,
  InvalidDataError,
  PluginRegistry,
  compensatedSum,
  createRng,
  loadPluginModules,
  pluginModule,
  type Container,
  type PluginContext,
} from '@gmmkit/core';
import { responsibilityEntropy } from '@gmmkit/model-selection';
import {
  GaussianMixture,
  accumulateResponsibilities,
  createGmmContainer,
  dataMoments,
  emPass,
  exactPass,
  initBackend,
  nearestMeanResponsibilities,
  tf,
} from '@gmmkit/tfjs';
import { bounded, connectRedis, parseRedisUrl } from './connection.js';
import {
  KEY_PREFIX,
  PROTOCOL_VERSION,
  SHARD_QUEUE,
  WORKERS_KEY,
  decodeF64,
  decodeParams,
  encodeF64,
  encodeStats,
  fitKey,
  rejectJob,
  workerAliveKey,
  type FitSetup,
  type ResultHeader,
  type ShardJob,
  type ShardResult,
  type WorkerInfo,
} from './protocol.js';
import { ShardCache, type ShardReader, type ShardTable } from './shard-cache.js';

export interface StartWorkerOptions {
  /** redis://[user:password@]host[:port][/db] or rediss://... */
  redis: string;
  /** Reads a shard (see ShardReader); the CLI passes gmm's table reader. */
  readShard: ShardReader;
  /** Jobs at once (default 1). Statistics are synchronous tfjs work; more than 1 overlaps reading shards with computing. */
  concurrency?: number;
  /** Bytes of parsed shards kept in memory (default a quarter of the machine's memory, at most 4 GiB). */
  memoryBudget?: number;
  /** Plugin module specifiers (paths or package names) loaded at start: their families serve the jobs that name them. */
  plugins?: readonly string[];
  pluginBaseDir?: string;
  /** tfjs backend (default: GMM_BACKEND, else auto). */
  backend?: string;
  /** How long a job's lock lasts without renewal before other workers take the job over (ms, default 30000). */
  lockDuration?: number;
  /** Times a job may be taken over after its worker vanished before it fails (default 2). */
  maxStalledCount?: number;
  /** A name shown in logs and results (default host-pid-random). */
  name?: string;
  onEvent?: (event: WorkerEvent) => void;
}

export type WorkerEvent =
  | { type: 'ready'; info: WorkerInfo }
  /** The worker took a job (printed by `gmm worker`; tests wait for it). */
  | { type: 'job'; jobId: string; fitId: string; op: string; shard: number; source: string }
  | {
      type: 'done';
      jobId: string;
      fitId: string;
      op: string;
      shard: number;
      ok: boolean;
      ms: number;
      error?: string;
    }
  /** A connection problem BullMQ recovers from (Redis restarting). */
  | { type: 'warning'; message: string };

export interface WorkerHandle {
  readonly info: WorkerInfo;
  /** Shards held in memory now, and their bytes. */
  cache(): { shards: number; bytes: number };
  /** Stops taking jobs, waits for the running ones, frees every tensor and unregisters. */
  close(): Promise<void>;
}

const DEFAULT_BUDGET = Math.min(4 * 2 ** 30, Math.floor(totalmem() / 4));
const HEARTBEAT_MS = 5_000;

/** Starts a worker and resolves once it is connected, its backend loaded and registered in Redis. */
export async function startWorker(options: StartWorkerOptions): Promise<WorkerHandle> {
  const target = parseRedisUrl(options.redis);
  const concurrency = options.concurrency ?? 1;
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new GmmError('INVALID_ARGUMENT', `concurrency must be an integer >= 1, got ${concurrency}`);
  const budget = options.memoryBudget ?? DEFAULT_BUDGET;
  if (!(budget > 0)) throw new GmmError('INVALID_ARGUMENT', `memoryBudget must be > 0 bytes, got ${budget}`);
  const plugins = [...(options.plugins ?? [])];
  const sets = await loadPluginModules(plugins, options.pluginBaseDir);
  const container: Container = createGmmContainer(...sets.map((s) => pluginModule(s)));
  const backend = (await initBackend(options.backend, container)).name;
  const registry = new PluginRegistry(container);

  const redis = await connectRedis(target);
  const id = options.name ?? `${hostname()}-${process.pid}-${randomUUID().slice(0, 6)}`;
  const info: WorkerInfo = {
    id,
    host: hostname(),
    pid: process.pid,
    backend,
    concurrency,
    memoryBudget: budget,
    plugins,
    version: PROTOCOL_VERSION,
    startedAt: new Date().toISOString(),
  };
  const emit = options.onEvent ?? (() => undefined);
  const shards = new ShardCache(budget, (source, o) => readSource(options.readShard, source, o));

  const processJob = async (job: Job): Promise<ShardResult> => {
    const data = job.data as ShardJob;
    const header: ResultHeader = {
      v: PROTOCOL_VERSION,
      fitId: String(data.fitId),
      seq: Number(data.seq),
      shard: Number(data.shard),
      op: data.op,
      worker: id,
      backend,
    };
    const refused = rejectJob(data);
    if (refused !== undefined)
      return { ...header, ok: false, error: { name: 'ProtocolError', message: refused } };
    // A fit that ended (finished, cancelled, its coordinator gone) leaves no key: skip its leftovers.
    if ((await redis.exists(fitKey(data.fitId))) === 0)
      return {
        ...header,
        ok: false,
        error: { name: 'StaleJob', message: `fit ${data.fitId} is not running` },
      };
    emit({
      type: 'job',
      jobId: job.id ?? '',
      fitId: data.fitId,
      op: data.op,
      shard: data.shard,
      source: data.source,
    });
    const started = performance.now();
    let result: ShardResult;
    try {
      result = { ...header, ok: true, ...(await run(data)) };
    } catch (err) {
      result = { ...header, ok: false, error: describe(err) };
    }
    emit({
      type: 'done',
      jobId: job.id ?? '',
      fitId: data.fitId,
      op: data.op,
      shard: data.shard,
      ok: result.ok,
      ms: performance.now() - started,
      ...(result.ok ? {} : { error: result.error.message }),
    });
    return result;
  };

  const run = async (
    job: ShardJob,
  ): Promise<Omit<Extract<ShardResult, { ok: true }>, keyof ResultHeader | 'ok'>> => {
    const table = await shards.table(job.source, job.columns);
    if (job.op === 'scan') return { scan: scan(table, job.sampleSize, job.seed) };
    if (job.op === 'score') {
      const model = await GaussianMixture.fromJSON(job.model, { container, backend });
      const { scores, proba } = model.scoreSamplesAndProba({
        data: table.data,
        shape: [table.rows, table.cols],
      });
      return {
        score: {
          logLikelihood: compensatedSum(scores),
          entropy: responsibilityEntropy(proba.data),
          rows: table.rows,
        },
      };
    }
    // No await from here on: the blocks are used synchronously (see ShardCache.blocks).
    const { blocks, owned } = shardBlocks(table, job.source, job.columns, job.setup);
    try {
      const family = registry.covarianceFamily(job.setup.family);
      const ctx: PluginContext = { tf, k: job.setup.k, d: job.setup.d };
      if (job.op === 'pass') {
        const params = decodeParams(job.params);
        const reference = job.reference === undefined ? undefined : decodeF64(job.reference);
        const out = emPass(tf, family, params, blocks, ctx, reference);
        // The M-step fallback asks for the reference pass; its last resort, the float64 pass, comes along.
        const exact = reference === undefined ? undefined : exactPass(tf, family, params, blocks, ctx);
        return {
          stats: {
            stats: encodeStats(out.stats),
            totalLogLikelihood: out.totalLogLikelihood,
            ...(exact === undefined
              ? {}
              : { exact: { stats: encodeStats(exact.stats), totalLogLikelihood: exact.totalLogLikelihood } }),
          },
        };
      }
      const { k, d } = job.setup;
      const reference = job.op === 'resp' ? decodeF64(job.reference) : decodeF64(job.means);
      const resp =
        job.op === 'resp'
          ? decodeF64(job.resp)
          : nearestMeanResponsibilities(blocks.hostData, blocks.n, d, k, reference);
      if (resp.length !== blocks.n * k)
        throw new GmmError(
          'INVALID_ARGUMENT',
          `the job sent ${resp.length / k} rows of responsibilities for a shard of ${blocks.n} rows`,
        );
      const stats = accumulateResponsibilities(tf, family, blocks, { kind: 'responsibilities', resp }, reference, ctx);
      return { stats: { stats: encodeStats(stats), totalLogLikelihood: 0 } };
    } finally {
      if (owned) blocks.dispose();
    }
  };

  const shardBlocks = (table: ShardTable, source: string, columns: string | undefined, setup: FitSetup) => {
    if (table.cols !== setup.d)
      throw new InvalidDataError(`the shard has ${table.cols} columns but the fit has ${setup.d}`);
    return shards.blocks(table, source, columns, setup.center, decodeF64(setup.center), setup.chunkSize);
  };

  const lockDuration = options.lockDuration ?? 30_000;
  const worker = new Worker(SHARD_QUEUE, processJob, {
    connection: target.options,
    prefix: KEY_PREFIX,
    concurrency,
    lockDuration,
    stalledInterval: Math.min(30_000, lockDuration),
    maxStalledCount: options.maxStalledCount ?? 2,
    name: id,
    autorun: false,
  });
  worker.on('error', (err) => emit({ type: 'warning', message: err.message }));

  const beat = async (): Promise<void> => {
    await redis
      .multi()
      .set(workerAliveKey(id), '1', 'PX', HEARTBEAT_MS * 3)
      .hset(WORKERS_KEY, id, JSON.stringify(info))
      .exec();
  };
  await beat();
  // A restarted Redis has forgotten the worker: register again as soon as it is back.
  redis.on('ready', () => void beat().catch(() => undefined));
  const heartbeat = setInterval(() => void beat().catch(() => undefined), HEARTBEAT_MS);
  heartbeat.unref();
  void worker
    .run()
    .catch((err: unknown) =>
      emit({ type: 'warning', message: err instanceof Error ? err.message : String(err) }),
    );
  await worker.waitUntilReady();
  emit({ type: 'ready', info });

  let closing: Promise<void> | undefined;
  return {
    info,
    cache: () => ({ shards: shards.size, bytes: shards.bytes }),
    close() {
      closing ??= (async () => {
        clearInterval(heartbeat);
        // Bounded: with Redis gone, BullMQ cannot say goodbye; drop the connections instead.
        // A job whose result could not be delivered (Redis restarted under it) can keep BullMQ's
        // graceful close waiting: after 10 s close without waiting (other workers retake such jobs).
        if (
          (await bounded(
            worker.close().then(() => true),
            10_000,
          )) !== true
        ) {
          await bounded(worker.close(true), 2_000);
          await bounded(worker.disconnect(), 1_000);
        }
        shards.clear();
        if (redis.status === 'ready')
          await bounded(
            redis
              .multi()
              .del(workerAliveKey(id))
              .hdel(WORKERS_KEY, id)
              .exec()
              .catch(() => undefined),
            2_000,
          );
        redis.disconnect();
      })();
      return closing;
    },
  };
}

/** Rows, column sums and a seeded reservoir sample (Algorithm R: all rows in order when rows <= sampleSize). */
function scan(t: ShardTable, sampleSize: number, seed: number) {
  const { rows, cols, data } = t;
  const colSum = new Float64Array(cols);
  const keep = Math.min(rows, sampleSize);
  const sample = new Float64Array(keep * cols);
  const rng = createRng(seed);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const v = data[i * cols + j]!;
      if (!Number.isFinite(v))
        throw new InvalidDataError(
          Number.isNaN(v)
            ? `missing value at row ${i + 1}, column ${t.columns[j] ?? j + 1} (distributed fits need complete rows)`
            : `non-finite value ${v} at row ${i + 1}, column ${t.columns[j] ?? j + 1}`,
          { row: i + 1, column: t.columns[j] ?? j + 1 },
        );
      colSum[j] += v;
    }
    const slot = i < sampleSize ? i : rng.int(i + 1);
    if (slot < sampleSize) sample.set(data.subarray(i * cols, (i + 1) * cols), slot * cols);
  }
  return {
    rows,
    cols,
    columns: t.columns,
    colSum: encodeF64(colSum),
    sample: encodeF64(sample),
    sampleRows: keep,
    covariance: encodeF64(dataMoments(data, rows, cols).dataCovariance),
    first: encodeF64(data.slice(0, cols)),
  };
}

/** Reads a shard; an http(s) URL is downloaded to a temporary file first (same file name, so the reader sees its extension). */
async function readSource(
  read: ShardReader,
  source: string,
  o: { columns?: string | undefined },
): Promise<ShardTable> {
  if (!/^https?:\/\//i.test(source))
    return read(source.startsWith('file://') ? new URL(source).pathname : source, o);
  const response = await fetch(source);
  if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText}`);
  const dir = await mkdtemp(join(tmpdir(), 'gmm-shard-'));
  try {
    const file = join(dir, basename(new URL(source).pathname) || 'shard.csv');
    await writeFile(file, Buffer.from(await response.arrayBuffer()));
    return await read(file, o);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function describe(err: unknown): { code?: string; name: string; message: string } {
  if (err instanceof GmmError) return { code: err.code, name: err.name, message: err.message };
  if (err instanceof Error) return { name: err.name, message: err.message };
  return { name: 'Error', message: String(err) };
}

/** The workers registered in Redis whose heartbeat is alive. */
export async function listWorkers(redis: Redis): Promise<WorkerInfo[]> {
  const all = await redis.hgetall(WORKERS_KEY);
  const out: WorkerInfo[] = [];
  for (const [id, json] of Object.entries(all)) {
    if ((await redis.exists(workerAliveKey(id))) === 0) {
      await redis.hdel(WORKERS_KEY, id); // a worker that died without unregistering
      continue;
    }
    try {
      out.push(JSON.parse(json) as WorkerInfo);
    } catch {
      // not ours
    }
  }
  return out.sort((a, b) => a.id.localeCompare(b.id));
}
