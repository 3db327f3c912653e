// The coordinator: drives the single-machine EM loop (runEmAsync) over a pass
// that runs on the workers. Every pass is one BullMQ flow: one child job per
// shard (E-step + sufficient statistics under the current parameters) and a
// parent job, processed here, that collects the children's results; they are
// merged in the fixed shard order and the engine's loop runs the M-step.
import { randomBytes } from 'node:crypto';
import {
  AbortedError,
  GmmError,
  InvalidArgumentError,
  InvalidDataError,
  SingularCovarianceError,
  type GmmErrorCode,
  type DegeneracyContext,
  type PluginContext,
  type Responsibilities,
  type SufficientStatistics,
} from '@gmmkit/core';
import {
  CompensatedSum,
  DEFAULT_CHUNK_SIZE,
  DEFAULT_SAMPLE_SIZE,
  GaussianMixture,
  covariancesFromPrecisions,
  createGmmContainer,
  currentBackend,
  initBackend,
  resolveOptions,
  responsibilityMeans,
  responsibilitiesOf,
  tf,
  uploadCentered,
  type FitData,
  type GaussianMixtureConfig,
  type PassFn,
  type PassResult,
  type EStepParameters,
} from '@gmmkit/tfjs';
import { FlowProducer, Job, Queue, QueueEvents, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  RedisConnectionError,
  bounded,
  connectRedis,
  parseRedisUrl,
  type RedisTarget,
} from './connection.js';
import {
  KEY_PREFIX,
  PROTOCOL_VERSION,
  ProtocolError,
  SHARD_QUEUE,
  checkResult,
  decodeF64,
  decodeStats,
  encodeF64,
  encodeParams,
  fitKey,
  mergeQueueName,
  type FitSetup,
  type ScanPayload,
  type ShardJob,
  type ShardOp,
  type ShardResult,
  type WorkerInfo,
  type EncodedStats,
} from './protocol.js';
import { listWorkers } from './worker.js';

/** How to reach the workers and the data. */
export interface ClusterOptions {
  /** redis://[user:password@]host[:port][/db] or rediss://... (TLS). */
  redis: string;
  /** The shards, in the order their statistics are merged: paths (on storage every worker can read) or http(s) URLs. */
  shards: readonly string[];
  /** Column selection every worker's reader applies (the CLI's --columns). */
  columns?: string;
  /** Rows gathered from the shards for the initialization (default 10000); with n <= sampleSize every row, in shard order. */
  sampleSize?: number;
  /** Milliseconds to wait for a first worker to be connected (default 10000). */
  workerTimeout?: number;
  /** Milliseconds without Redis before the fit gives up (default 30000); a Redis restarted within it is resumed. */
  reconnectTimeout?: number;
  /** Cancels: the current flow's jobs are removed and the fit's keys deleted before the promise rejects with AbortedError. */
  signal?: AbortSignal;
  onEvent?: (event: CoordinatorEvent) => void;
}

export type CoordinatorEvent =
  | { type: 'workers'; workers: WorkerInfo[] }
  | { type: 'scanned'; n: number; d: number; shards: { source: string; rows: number }[] }
  | { type: 'flow'; op: ShardOp; seq: number; attempt: number }
  /** Redis came back without the flow (restarted without persistence): it is submitted again. */
  | { type: 'resubmit'; op: ShardOp; seq: number; attempt: number; reason: string }
  | { type: 'redis-lost' }
  | { type: 'redis-back' };

export interface DistributedFitOptions extends ClusterOptions, GaussianMixtureConfig {}

export interface DistributedFitResult {
  /** The fitted model (a normal GaussianMixture: predict, score, toJSON). */
  model: GaussianMixture;
  fitId: string;
  n: number;
  columns: string[];
  shards: { source: string; rows: number }[];
  /** tfjs backends of the workers that answered, sorted. */
  backends: string[];
  /** Workers connected when the fit started. */
  workers: WorkerInfo[];
  /** Σ_i log p(x_i) over every row under the fitted model (one more pass after EM, as GaussianMixture.score). */
  logLikelihood: number;
  /** Column means [d] and variances [d] of all rows (from the scan). */
  center: Float64Array;
  dataVariance: Float64Array;
}

/** A shard job failed for good on the workers (its worker vanished too often). */
export class WorkerFailureError extends Error {
  override readonly name = 'WorkerFailureError';
}

interface Pending {
  resolve(values: Record<string, unknown>): void;
  reject(err: Error): void;
  lost(reason: string): void;
}

const LOST = Symbol('lost');
const FIT_KEY_TTL_MS = 60_000;

/**
 * A connection to the workers and the scanned shards (row counts, the
 * training mean, the initialization sample), shared by the fits of a sweep.
 * Always close() it.
 */
export class Cluster {
  n = 0;
  d = 0;
  columns: string[] = [];
  shardRows: number[] = [];
  /** Training mean [d] (the engine's centering). */
  center = new Float64Array(0);
  /** The training rows' dataMoments (variances, covariance [d, d]): what the degeneracy rules compare against. */
  moments: { dataVariance: Float64Array; dataCovariance: Float64Array } = { dataVariance: new Float64Array(0), dataCovariance: new Float64Array(0) };
  /** Initialization rows [sampleN, d] (raw units) and whether they are every row in shard order. */
  sample = new Float64Array(0);
  sampleN = 0;
  sampleIsAll = false;
  readonly backends = new Set<string>();
  workers: WorkerInfo[] = [];

  private readonly pending = new Map<string, Pending>();
  private readonly outstanding = new Map<string, string[]>(); // parent id -> child ids
  private seq = 0;
  private failure: Error | undefined;
  private lostTimer: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly onAbort = (): void => this.fail(new AbortedError('fit aborted'));

  private constructor(
    /** Carried by every job and result of this cluster's fits; part of every key it creates. */
    readonly fitId: string,
    readonly options: ClusterOptions,
    private readonly target: RedisTarget,
    private readonly redis: Redis,
    private readonly flows: FlowProducer,
    private readonly merger: Worker,
    private readonly events: QueueEvents,
    private readonly shardQueue: Queue,
  ) {}

  /** Connects, checks workers are there, and scans the shards. */
  static async open(options: ClusterOptions): Promise<Cluster> {
    const shards = [...options.shards];
    if (shards.length === 0) throw new InvalidArgumentError('no shards: give at least one shard file or URL');
    if (new Set(shards).size !== shards.length)
      throw new InvalidArgumentError('the same shard is listed twice');
    const sampleSize = options.sampleSize ?? DEFAULT_SAMPLE_SIZE;
    if (!Number.isInteger(sampleSize) || sampleSize < 1)
      throw new InvalidArgumentError(`sampleSize must be an integer >= 1, got ${sampleSize}`);
    if (options.signal?.aborted) throw new AbortedError('fit aborted');
    const target = parseRedisUrl(options.redis);
    const redis = await connectRedis(target);
    let workers: WorkerInfo[];
    try {
      workers = await waitForWorkers(redis, options.workerTimeout ?? 10_000, options.signal);
    } catch (err) {
      redis.disconnect();
      throw err;
    }
    if (workers.length === 0) {
      redis.disconnect();
      throw new RedisConnectionError(
        `no gmm worker is connected to ${target.display} (waited ${Math.round((options.workerTimeout ?? 10_000) / 1000)} s): start some with \`gmm worker --redis ${target.display}\``,
      );
    }
    const connection = target.options;
    const flows = new FlowProducer({ connection, prefix: KEY_PREFIX });
    const fitId = randomBytes(8).toString('hex');
    const queueName = mergeQueueName(fitId);
    // The merge queue's processor (autorun: false) first runs once the cluster exists.
    const box: { cluster?: Cluster } = {};
    const merger = new Worker(queueName, (job: Job) => box.cluster!.collect(job), {
      connection,
      prefix: KEY_PREFIX,
      concurrency: 64,
      autorun: false,
    });
    const events = new QueueEvents(queueName, { connection, prefix: KEY_PREFIX });
    const shardQueue = new Queue(SHARD_QUEUE, { connection, prefix: KEY_PREFIX });
    const cluster = new Cluster(fitId, options, target, redis, flows, merger, events, shardQueue);
    box.cluster = cluster;
    cluster.workers = workers;
    try {
      await cluster.start();
      options.onEvent?.({ type: 'workers', workers });
      await cluster.scan(shards, sampleSize);
    } catch (err) {
      await cluster.close();
      throw err;
    }
    return cluster;
  }

  private async start(): Promise<void> {
    const { signal } = this.options;
    signal?.addEventListener('abort', this.onAbort, { once: true });
    this.merger.on('error', () => undefined); // connection errors: handled through the control client
    this.events.on('error', () => undefined);
    this.flows.on('error', () => undefined);
    this.shardQueue.on('error', () => undefined);
    this.events.on('failed', ({ jobId, failedReason }) => void this.childFailed(jobId, failedReason));
    await this.setFitKey();
    this.heartbeat = setInterval(() => void this.setFitKey().catch(() => undefined), FIT_KEY_TTL_MS / 4);
    this.heartbeat.unref();
    // Redis restarted or unreachable: resume when it is back, give up after reconnectTimeout.
    this.redis.on('close', () => this.connectionLost());
    this.redis.on('ready', () => void this.connectionBack());
    void this.merger.run().catch(() => undefined);
    await Promise.all([this.merger.waitUntilReady(), this.events.waitUntilReady()]);
  }

  private setFitKey(): Promise<unknown> {
    return this.redis.set(
      fitKey(this.fitId),
      JSON.stringify({ v: PROTOCOL_VERSION, shards: this.options.shards.length }),
      'PX',
      FIT_KEY_TTL_MS,
    );
  }

  private connectionLost(): void {
    if (this.closed || this.lostTimer !== undefined) return;
    this.options.onEvent?.({ type: 'redis-lost' });
    const timeout = this.options.reconnectTimeout ?? 30_000;
    this.lostTimer = setTimeout(() => {
      this.fail(
        new RedisConnectionError(
          `lost the connection to Redis at ${this.target.display} for ${Math.round(timeout / 1000)} s; the fit stopped and no model was written`,
        ),
      );
    }, timeout);
  }

  private async connectionBack(): Promise<void> {
    if (this.lostTimer === undefined || this.closed) return;
    clearTimeout(this.lostTimer);
    this.lostTimer = undefined;
    this.options.onEvent?.({ type: 'redis-back' });
    try {
      await this.setFitKey();
      for (const [parentId, p] of this.pending) {
        const exists = await this.redis.exists(`${KEY_PREFIX}:${mergeQueueName(this.fitId)}:${parentId}`);
        if (exists === 0) p.lost('Redis came back without the flow');
      }
    } catch {
      // Lost again: the next 'ready' retries.
    }
  }

  /** Rejects everything waiting (and every later request) with `err`. */
  private fail(err: Error): void {
    if (this.failure !== undefined) return;
    this.failure = err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  /** The merge queue's processor: hands the children's results to the waiting pass. */
  private async collect(job: Job): Promise<null> {
    const p = this.pending.get(job.id ?? '');
    if (p === undefined) return null; // a flow this coordinator gave up on
    try {
      p.resolve(await job.getChildrenValues());
    } catch (err) {
      p.lost(`could not read the results: ${err instanceof Error ? err.message : String(err)}`);
    }
    return null;
  }

  /** A parent failed because a child failed for good (its worker died more than maxStalledCount times). */
  private async childFailed(parentId: string, reason: string): Promise<void> {
    const p = this.pending.get(parentId);
    if (p === undefined) return;
    let detail = reason;
    for (const id of this.outstanding.get(parentId) ?? []) {
      const child = await Job.fromId(this.shardQueue, id).catch(() => undefined);
      if (child?.failedReason) detail = `shard ${child.data?.source ?? id}: ${child.failedReason}`;
    }
    p.reject(new WorkerFailureError(`a shard job failed on the workers: ${detail}`));
  }

  /**
   * One flow: a job per shard (`job(s)` gives its op-specific fields) and the
   * parent that collects them. Resolves with the results in shard order;
   * a failed shard rejects with an error naming it. Resubmitted (a new
   * attempt id) when Redis lost the flow.
   */
  async flow<T extends ShardOp>(
    op: T,
    job: (
      shard: number,
    ) => Omit<Extract<ShardJob, { op: T }>, 'v' | 'fitId' | 'seq' | 'shard' | 'source' | 'columns' | 'op'>,
  ): Promise<Extract<ShardResult, { ok: true }>[]> {
    const seq = this.seq++;
    const shards = this.options.shards;
    const bodies = shards.map((_, s) => job(s));
    for (let attempt = 0; ; attempt++) {
      if (this.failure) throw this.failure;
      const parentId = `${this.fitId}.${seq}.${attempt}`;
      const childIds = shards.map((_, s) => `${parentId}.${s}`);
      let outcome: Record<string, unknown> | typeof LOST;
      let reason = '';
      const waiting = new Promise<Record<string, unknown> | typeof LOST>((resolve, reject) => {
        this.pending.set(parentId, {
          resolve,
          reject,
          lost: (why) => {
            reason = why;
            resolve(LOST);
          },
        });
      });
      this.outstanding.set(parentId, childIds);
      this.options.onEvent?.({ type: 'flow', op, seq, attempt });
      try {
        const added = this.flows.add({
          name: 'merge',
          queueName: mergeQueueName(this.fitId),
          data: { v: PROTOCOL_VERSION, fitId: this.fitId, seq, op },
          opts: { jobId: parentId, removeOnComplete: true, removeOnFail: true },
          children: shards.map((source, s) => ({
            name: op,
            queueName: SHARD_QUEUE,
            data: {
              v: PROTOCOL_VERSION,
              fitId: this.fitId,
              seq,
              shard: s,
              source,
              columns: this.options.columns,
              op,
              ...bodies[s],
            },
            opts: {
              jobId: childIds[s]!,
              removeOnComplete: true,
              removeOnFail: false,
              failParentOnFailure: true,
            },
          })),
        });
        added.catch((err: unknown) =>
          this.pending.get(parentId)?.reject(err instanceof Error ? err : new Error(String(err))),
        );
        outcome = await waiting;
      } finally {
        this.pending.delete(parentId);
      }
      if (outcome === LOST) {
        this.outstanding.delete(parentId);
        this.options.onEvent?.({ type: 'resubmit', op, seq, attempt: attempt + 1, reason });
        continue;
      }
      this.outstanding.delete(parentId);
      const results: Extract<ShardResult, { ok: true }>[] = [];
      let stale = false;
      for (let s = 0; s < shards.length; s++) {
        const value = outcome[`${KEY_PREFIX}:${SHARD_QUEUE}:${childIds[s]}`];
        if (value === undefined)
          throw new ProtocolError(`the flow finished without a result for shard ${shards[s]}`);
        const r = checkResult(value, { fitId: this.fitId, seq, shard: s, op });
        if (!r.ok) {
          // The fit key vanished under a worker (Redis restarted): run the flow again.
          if (r.error.name === 'StaleJob' && attempt < 3) stale = true;
          else throw shardError(r, shards[s]!, op);
        } else {
          this.backends.add(r.backend);
          results.push(r);
        }
      }
      if (stale) {
        await this.setFitKey();
        this.options.onEvent?.({
          type: 'resubmit',
          op,
          seq,
          attempt: attempt + 1,
          reason: 'a worker saw no running fit',
        });
        continue;
      }
      return results;
    }
  }

  /** Rows, columns, training mean and the initialization sample, from every shard. */
  private async scan(shards: string[], sampleSize: number): Promise<void> {
    const seed = 0x5eed;
    const results = await this.flow('scan', (s) => ({ sampleSize, seed: seed + s }));
    const scans = results.map((r) => r.scan as ScanPayload);
    const first = scans[0]!;
    scans.forEach((sc, s) => {
      if (sc.cols !== first.cols || sc.columns.join('\u0000') !== first.columns.join('\u0000'))
        throw new InvalidDataError(
          `shard ${shards[s]} has columns (${sc.columns.join(', ')}) but shard ${shards[0]} has (${first.columns.join(', ')}); every shard needs the same columns`,
          { file: shards[s]! },
        );
      if (sc.rows === 0) throw new InvalidDataError(`shard ${shards[s]} has no rows`, { file: shards[s]! });
    });
    const d = first.cols;
    const n = scans.reduce((a, sc) => a + sc.rows, 0);
    const colSum = new Float64Array(d);
    for (const sc of scans) decodeF64(sc.colSum).forEach((v, j) => (colSum[j] += v));
    this.n = n;
    this.d = d;
    this.columns = first.columns;
    this.shardRows = scans.map((sc) => sc.rows);
    this.center = colSum.map((v) => v / n);
    this.moments = mergeMoments(scans, this.center);
    // The initialization sample: every row in shard order when they fit, else a
    // share of each shard's (shuffled) reservoir proportional to its rows.
    this.sampleIsAll = n <= sampleSize;
    const quotas = this.sampleIsAll ? this.shardRows : proportionalQuotas(this.shardRows, sampleSize);
    this.sampleN = quotas.reduce((a, b) => a + b, 0);
    this.sample = new Float64Array(this.sampleN * d);
    let row = 0;
    scans.forEach((sc, s) => {
      const rows = decodeF64(sc.sample);
      const order = Array.from({ length: sc.sampleRows }, (_, i) => i);
      if (!this.sampleIsAll) shuffle(order, seed + 0x100 + s);
      for (let i = 0; i < quotas[s]!; i++, row++)
        this.sample.set(rows.subarray(order[i]! * d, (order[i]! + 1) * d), row * d);
    });
    this.options.onEvent?.({
      type: 'scanned',
      n,
      d,
      shards: shards.map((source, s) => ({ source, rows: this.shardRows[s]! })),
    });
  }

  /**
   * Fits a Gaussian mixture with GaussianMixture's options (validated the
   * same way) on the workers: nInit restarts, each initialized on the sample
   * with its M-step on statistics computed by the shards, then EM.
   */
  async fit(config: GaussianMixtureConfig): Promise<GaussianMixture> {
    refuseUnsupported(config);
    const container = config.container ?? createGmmContainer();
    const signal = config.signal ?? this.options.signal;
    const model = new GaussianMixture({ ...config, container, ...(signal === undefined ? {} : { signal }) });
    const o = resolveOptions(config);
    const { k } = o;
    const { n, d, center } = this;
    if (o.warmStart)
      throw new InvalidArgumentError(
        'warmStart is not supported by distributed fits: pass weightsInit, meansInit and precisionsInit',
      );
    if (k > n) throw new InvalidArgumentError(`nComponents=${k} must be <= the number of samples (${n})`);
    if (k > this.sampleN)
      throw new InvalidArgumentError(`nComponents=${k} must be <= sampleSize (${this.sampleN})`);
    if (o.meansInitD !== undefined && o.meansInitD !== d)
      throw new InvalidArgumentError(`meansInit has ${o.meansInitD} features but the data has ${d}`);
    const family = model.family;
    const presetCovariances =
      o.precisionsInit === undefined ? undefined : covariancesFromPrecisions(family, o.precisionsInit, o.precisionsInitShape!, k, d);
    await initBackend(config.backend ?? currentBackend(), container);
    const ctx: PluginContext = { tf, k, d };
    const setup: FitSetup = { family: family.name, k, d, center: encodeF64(center), chunkSize: o.chunkSize ?? DEFAULT_CHUNK_SIZE };

    const merge = (parts: readonly { stats: EncodedStats; totalLogLikelihood: number }[]): PassResult => {
      let stats: SufficientStatistics | undefined;
      const total = new CompensatedSum();
      for (const r of parts) {
        const s = decodeStats(r.stats);
        stats = stats === undefined ? s : family.merge(stats, s);
        total.add([r.totalLogLikelihood]);
      }
      return { stats: stats!, totalLogLikelihood: total.value };
    };
    const statsOf = (results: Extract<ShardResult, { ok: true }>[]) => results.map((r) => r.stats!);
    // The engine's M-step fallback: a reference pass, then (synchronously) EmSettings.exactPass under the
    // same parameters. The workers send the float64 pass with the reference pass; exactPass hands it over.
    let exact: { params: EStepParameters; result: PassResult | undefined } | undefined;
    const pass: PassFn = async (params, reference) => {
      const encoded = encodeParams(params);
      if (reference === undefined) return merge(statsOf(await this.flow('pass', () => ({ setup, params: encoded }))));
      const results = statsOf(
        await this.flow('pass', () => ({ setup, params: encoded, reference: encodeF64(reference) })),
      );
      const exacts = results.map((r) => r.exact);
      exact = { params, result: exacts.every((e) => e !== undefined) ? merge(exacts) : undefined };
      return merge(results);
    };
    const exactPass = (params: EStepParameters): PassResult | undefined =>
      exact?.params === params ? exact.result : undefined;

    const sampleCentered = new Float64Array(this.sampleN * d);
    for (let i = 0; i < this.sampleN; i++)
      for (let j = 0; j < d; j++) sampleCentered[i * d + j] = this.sample[i * d + j]! - center[j]!;
    const offsets: number[] = [];
    this.shardRows.reduce((a, r) => (offsets.push(a), a + r), 0);
    // The initializer's responsibilities are over the sample. When it is every
    // row, the shards accumulate exactly those (as the single-machine fit does);
    // otherwise each shard assigns its rows to the nearest of the sample's means.
    const respStats = async (r: Responsibilities): Promise<SufficientStatistics> => {
      const resp = responsibilitiesOf(r, this.sampleN, k);
      const means = encodeF64(responsibilityMeans(resp, sampleCentered, this.sampleN, d, k));
      if (this.sampleIsAll)
        return merge(
          statsOf(await this.flow('resp', (s) => ({
            setup,
            resp: encodeF64(resp.subarray(offsets[s]! * k, (offsets[s]! + this.shardRows[s]!) * k)),
            reference: means,
          }))),
        ).stats;
      return merge(statsOf(await this.flow('assign', () => ({ setup, means })))).stats;
    };

    // All n rows live on the workers: this FitData has no rows of its own (the
    // GaussianMixture steps use only n, d, k, the center, the presets and the
    // data's moments from the scan); the initializer sees the sample's. (The
    // initial M-step's float64 fallback, rare, then uses the sample's rows.)
    const degeneracyContext: DegeneracyContext = { ...ctx, n, regCovar: o.regCovar, ...this.moments };
    const all: FitData = {
      n,
      d,
      k,
      center,
      centered: new Float64Array(0),
      ctx,
      presetCovariances,
      degeneracyContext,
      sampleWeight: undefined,
      totalWeight: n,
    };
    const sample: FitData = { ...all, n: this.sampleN, centered: sampleCentered, totalWeight: this.sampleN };
    const blocks = uploadCentered(tf, sampleCentered, this.sampleN, d, o.chunkSize ?? DEFAULT_CHUNK_SIZE);
    try {
      await model.fitRestarts(all, { blocks, fit: sample }, () => pass, respStats, exactPass);
    } finally {
      blocks.dispose();
    }
    return model;
  }

  /** Σ log p(x_i) and Σ -r ln r over every row under `model`, summed in shard order. */
  async score(model: GaussianMixture): Promise<{ logLikelihood: number; entropy: number }> {
    const json = model.toJSON();
    const results = await this.flow('score', () => ({ model: json }));
    const ll = new CompensatedSum();
    const h = new CompensatedSum();
    for (const r of results) {
      ll.add([r.score!.logLikelihood]);
      h.add([r.score!.entropy]);
    }
    return { logLikelihood: ll.value, entropy: h.value };
  }

  /**
   * Removes this fit's jobs and keys from Redis and closes every connection.
   * With Redis unreachable there is nothing to remove: the connections are
   * dropped (bounded waits, never a hang), and the fit key expires by itself.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.options.signal?.removeEventListener('abort', this.onAbort);
    clearInterval(this.heartbeat);
    clearTimeout(this.lostTimer);
    this.fail(new AbortedError('closed'));
    const leftovers = [...this.outstanding.values()].flat();
    try {
      if (this.redis.status === 'ready') await bounded(this.cleanUp(leftovers), 60_000);
    } finally {
      const parts = [this.merger, this.events, this.flows, this.shardQueue];
      await bounded(Promise.all(parts.map((p) => p.close().catch(() => undefined))), 5_000);
      await Promise.all(
        parts.map((p) =>
          bounded(
            p.disconnect().catch(() => undefined),
            1_000,
          ),
        ),
      );
      this.redis.disconnect();
    }
  }

  private async cleanUp(leftovers: string[]): Promise<void> {
    // Without the fit key workers skip this fit's jobs that are still queued.
    await this.redis.del(fitKey(this.fitId));
    await this.merger.close(true);
    for (const id of leftovers) await this.shardQueue.remove(id).catch(() => 0);
    // Jobs a worker had already taken finish on their own (their parent is
    // gone, so nothing is recorded); wait for them so no key outlives the fit.
    for (const id of leftovers) await waitUntilGone(this.shardQueue, id);
    const mergeQueue = new Queue(mergeQueueName(this.fitId), {
      connection: this.target.options,
      prefix: KEY_PREFIX,
    });
    mergeQueue.on('error', () => undefined);
    await mergeQueue.obliterate({ force: true }).catch(() => undefined);
    await mergeQueue.close();
  }
}

/** The live workers, polling every 200 ms for up to `timeoutMs` until there is one. */
async function waitForWorkers(
  redis: Redis,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<WorkerInfo[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const workers = await listWorkers(redis);
    if (workers.length > 0 || Date.now() >= deadline) return workers;
    if (signal?.aborted) throw new AbortedError('fit aborted');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Waits (at most ~30 s) until a job is neither waiting nor running; failed leftovers are removed. */
async function waitUntilGone(queue: Queue, id: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const job = await Job.fromId(queue, id).catch(() => undefined);
    if (job === undefined) return;
    const state = await job.getState().catch(() => 'unknown');
    if (state !== 'active') {
      await job.remove().catch(() => undefined);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * dataMoments of all rows from each shard's (rows, column sums, covariance
 * about its own mean, first row): the pooled covariance Σ_s n_s (C_s + (m_s
 * - m)(m_s - m)ᵀ) / n, with the features that are constant over every shard
 * exactly 0, as dataMoments gives on the concatenated rows.
 */
export function mergeMoments(
  scans: readonly Pick<ScanPayload, 'rows' | 'cols' | 'colSum' | 'covariance' | 'first'>[],
  center: Float64Array,
): { dataVariance: Float64Array; dataCovariance: Float64Array } {
  const d = center.length;
  const n = scans.reduce((a, sc) => a + sc.rows, 0);
  const cov = new Float64Array(d * d);
  const constant = new Array<boolean>(d).fill(true);
  const first0 = decodeF64(scans[0]!.first);
  for (const sc of scans) {
    const c = decodeF64(sc.covariance);
    const first = decodeF64(sc.first);
    const delta = decodeF64(sc.colSum).map((v, a) => v / sc.rows - center[a]!);
    for (let a = 0; a < d; a++) {
      if (c[a * d + a] !== 0 || first[a] !== first0[a]) constant[a] = false;
      for (let b = 0; b < d; b++) cov[a * d + b] += (sc.rows * (c[a * d + b]! + delta[a]! * delta[b]!)) / n;
    }
  }
  for (let a = 0; a < d; a++)
    if (constant[a]) for (let b = 0; b < d; b++) cov[a * d + b] = cov[b * d + a] = 0;
  const variance = new Float64Array(d);
  for (let a = 0; a < d; a++) variance[a] = cov[a * d + a]!;
  return { dataVariance: variance, dataCovariance: cov };
}

/**
 * What a distributed fit does not do yet, refused in one line: sample weights
 * (every row counts once) and missing cells (the shards need complete rows).
 */
function refuseUnsupported(options: GaussianMixtureConfig | DistributedFitOptions): void {
  if ('sampleWeight' in options && options.sampleWeight !== undefined)
    throw new InvalidArgumentError('sampleWeight is not supported by distributed fits: every row counts once');
  if (options.missing === 'marginalize')
    throw new InvalidArgumentError("missing: 'marginalize' is not supported by distributed fits: the shards need complete rows");
}

/** Largest-remainder split of `total` rows over shards of these sizes (each at most its size). */
export function proportionalQuotas(sizes: readonly number[], total: number): number[] {
  const n = sizes.reduce((a, b) => a + b, 0);
  const exact = sizes.map((r) => (r * total) / n);
  const quotas = exact.map((q, s) => Math.min(sizes[s]!, Math.floor(q)));
  let left = total - quotas.reduce((a, b) => a + b, 0);
  const order = exact
    .map((q, s) => [q - Math.floor(q), s] as const)
    .sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (const [, s] of order) {
    if (left <= 0) break;
    if (quotas[s]! < sizes[s]!) {
      quotas[s]!++;
      left--;
    }
  }
  return quotas;
}

/** Seeded Fisher-Yates shuffle in place. */
function shuffle(a: number[], seed: number): void {
  let state = seed >>> 0 || 1;
  const next = (): number => {
    // xorshift32
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 2 ** 32;
  };
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
}

const ERRORS: Partial<Record<string, new (message: string) => GmmError>> = {
  SINGULAR_COVARIANCE: SingularCovarianceError,
  INVALID_ARGUMENT: InvalidArgumentError,
};

/** One clear error for a shard's failed job, naming the shard (and the worker). */
function shardError(r: Extract<ShardResult, { ok: false }>, source: string, op: ShardOp): Error {
  const { code, name, message } = r.error;
  if (op === 'scan' || code === 'INVALID_DATA')
    return new InvalidDataError(`cannot read shard ${source}: ${message}`, { file: source });
  if (code === 'UNKNOWN_PLUGIN')
    return new GmmError(
      'UNKNOWN_PLUGIN',
      `worker ${r.worker}: ${message}; start the workers with --plugin for it`,
    );
  if (name === 'ProtocolError')
    return new ProtocolError(`worker ${r.worker} rejected the job for shard ${source}: ${message}`);
  const Ctor = code === undefined ? undefined : ERRORS[code];
  if (Ctor) return new Ctor(`shard ${source}: ${message}`);
  if (code !== undefined)
    return new GmmError(code as GmmErrorCode, `shard ${source} (worker ${r.worker}): ${message}`);
  return new Error(`shard ${source} (worker ${r.worker}): ${name}: ${message}`);
}

/**
 * Fits a Gaussian mixture on shards spread over the workers: the same
 * options, initialization and EM loop as GaussianMixture.fit on the
 * concatenated shards, with the result equal to it up to float32 summation
 * order (when the initialization sample holds every row; larger data are
 * initialized on a sample).
 */
export async function fitDistributed(options: DistributedFitOptions): Promise<DistributedFitResult> {
  const { redis, shards, columns, sampleSize, reconnectTimeout, workerTimeout, onEvent, ...config } = options;
  // Validate the options before any connection.
  refuseUnsupported(options);
  new GaussianMixture({ ...config, container: config.container ?? createGmmContainer() });
  const cluster = await Cluster.open({
    redis,
    shards,
    ...(columns === undefined ? {} : { columns }),
    ...(sampleSize === undefined ? {} : { sampleSize }),
    ...(reconnectTimeout === undefined ? {} : { reconnectTimeout }),
    ...(workerTimeout === undefined ? {} : { workerTimeout }),
    ...(config.signal === undefined ? {} : { signal: config.signal }),
    ...(onEvent === undefined ? {} : { onEvent }),
  });
  try {
    const model = await cluster.fit(config);
    const { logLikelihood } = await cluster.score(model);
    return {
      model,
      logLikelihood,
      center: cluster.center,
      dataVariance: cluster.moments.dataVariance,
      fitId: cluster.fitId,
      n: cluster.n,
      columns: cluster.columns,
      shards: shards.map((source, s) => ({ source, rows: cluster.shardRows[s]! })),
      backends: [...cluster.backends].sort(),
      workers: cluster.workers,
    };
  } finally {
    await cluster.close();
  }
}
