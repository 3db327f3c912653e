// Data-parallel EM: rows sharded across worker threads. Each worker keeps its
// shard as float32 blocks and returns float64 sufficient statistics for the
// parameters it is sent; the main thread merges them in shard order (so the
// result does not depend on timing) and runs the M-step.
// Workers are worker_threads in Node and Web Workers in browsers (#tfjs-platform).
import {
  AbortedError,
  GmmError,
  InvalidArgumentError,
  SingularCovarianceError,
  platform,
  type WorkerHandle,
  type CovarianceFamily,
  type GmmErrorCode,
  type Responsibilities,
  type SufficientStatistics,
} from '@gmmkit/core';
import { shardWorkerAvailable, spawnShardWorker } from '#tfjs-platform';
import { BLOCK_CACHE_BYTES } from './covariance/common.js';
import { uploadCentered, type EStepParameters, type PassResult, type ScoreResult } from './engine.js';
import { tf } from './runtime/index.js';
import { Shard } from './shard.js';
import { getWasmPaths, type WasmPaths } from './runtime/backends.js';

/** workerData of a shard worker. */
export interface ShardInit {
  /** gmmkit backend name active on the main thread. */
  backend: string;
  /** Covariance family name, resolved in the worker's container. */
  family: string;
  /** Plugin module specifiers the worker loads (core's loadPluginModules) before resolving the family and backend. */
  plugins: string[];
  baseDir: string;
  /** Where the wasm binaries are served from (browsers; setWasmPaths on the main thread). */
  wasmPaths?: WasmPaths;
  /** All centered rows, float64 row-major [n, d]: shared where the runtime allows (else copied). */
  data: SharedArrayBuffer | ArrayBuffer;
  /** All rows' sample weights, float64 [n], shared like `data`; undefined when unweighted. */
  sampleWeight?: SharedArrayBuffer | ArrayBuffer | undefined;
  /** This shard's first weight in `sampleWeight`. */
  weightStart: number;
  /** This shard: rows [start, start + rows). */
  start: number;
  rows: number;
  d: number;
  k: number;
  chunkSize: number;
}

export type ToShard =
  | { type: 'pass'; params: EStepParameters; reference?: Float64Array }
  /** Statistics of given responsibilities or labels (this shard's rows) about `reference` (the initial M-step). */
  | { type: 'resp'; assigned: Responsibilities; reference: Float64Array }
  /** This shard's blocks scored (scorePass) under `params`. */
  | { type: 'score'; params: EStepParameters };

export type FromShard =
  | { type: 'ready' }
  | { type: 'result'; stats: SufficientStatistics; totalLogLikelihood: number; sumRespLogResp?: number }
  | ({ type: 'score' } & ScoreResult)
  | { type: 'error'; code: string | undefined; name: string; message: string };

/** Shard workers alive right now (diagnostics: tests check an abort leaves none behind). */
const live = new Set<WorkerHandle>();
export function activeShardWorkerCount(): number {
  return live.size;
}

/** Whether shard workers can start here (in Node: the package is built; in browsers: Web Workers exist). */
export function shardWorkersAvailable(): boolean {
  return shardWorkerAvailable();
}

/** Rows below which 'auto' stays on one thread: worker start-up (backend + upload) would not pay back. */
export const AUTO_MIN_ROWS = 50_000;
/** n·d·k below which 'auto' stays on one thread. */
export const AUTO_MIN_WORK = 4_000_000;

/**
 * How many shard workers a fit uses (0 = the single-thread engine).
 * 'auto': never inside a worker thread (a sweep cell already runs in one),
 * never on one core, and only when n >= AUTO_MIN_ROWS and n·d·k >= AUTO_MIN_WORK;
 * then one worker per core, at most 4. An explicit number is capped so every
 * worker gets at least one block.
 */
export function resolveWorkerCount(
  workers: number | 'auto',
  n: number,
  d: number,
  k: number,
  chunkSize: number,
): number {
  const blocks = Math.ceil(n / chunkSize);
  if (workers === 'auto') {
    if (!platform.isMainThread() || n < AUTO_MIN_ROWS || n * d * k < AUTO_MIN_WORK) return 0;
    const cores = platform.hardwareConcurrency();
    if (cores < 2) return 0;
    return Math.min(cores, 4, blocks);
  }
  return workers <= 1 ? (workers === 1 ? 1 : 0) : Math.min(workers, blocks);
}

/**
 * Contiguous shards aligned to block boundaries, so every worker's blocks are
 * exactly the single-thread engine's blocks: [start, rows] per worker. With
 * `firstShare` < 1 the first shard gets that fraction of an equal share of
 * the blocks (the calling thread's: CALLING_THREAD_SHARE) and the others
 * split the rest.
 */
export function shardRanges(n: number, chunkSize: number, workers: number, firstShare = 1): [number, number][] {
  const blocks = Math.ceil(n / chunkSize);
  const first = firstShare === 1 || workers < 2 ? undefined : Math.max(1, Math.round((blocks * firstShare) / (workers - 1 + firstShare)));
  const out: [number, number][] = [];
  let block = 0;
  const take = (count: number): void => {
    const start = block * chunkSize;
    const end = Math.min(n, (block + count) * chunkSize);
    out.push([start, end - start]);
    block += count;
  };
  if (first !== undefined) take(first);
  const rest = first === undefined ? workers : workers - 1;
  const left = blocks - block;
  for (let w = 0; w < rest; w++) take(Math.floor(left / rest) + (w < left % rest ? 1 : 0));
  return out.filter(([, rows]) => rows > 0);
}

/**
 * The calling thread's shard as a fraction of a worker's
 * (ShardPoolOptions.callingThread): it also merges the replies and runs the
 * M-step. In profiles of the 1M x 8, k = 5 fit with 32768-row blocks its
 * passes took 1.07x to 1.12x a worker's time a row at an equal share (at 3/4
 * of a share, measured before the larger blocks, it sat idle ~0.1 s of the
 * EM's 0.7 s waiting for the worker), so it takes 0.9 of a share.
 */
export const CALLING_THREAD_SHARE = 0.9;

const ERRORS: Partial<Record<string, new (message: string) => GmmError>> = {
  SINGULAR_COVARIANCE: SingularCovarianceError,
  INVALID_ARGUMENT: InvalidArgumentError,
};

function rebuildError(msg: { code: string | undefined; name: string; message: string }): Error {
  const Ctor = msg.code === undefined ? undefined : ERRORS[msg.code];
  if (Ctor) return new Ctor(msg.message);
  if (msg.code !== undefined)
    return new GmmError(msg.code as GmmErrorCode, `shard worker: ${msg.name}: ${msg.message}`);
  return new Error(`shard worker: ${msg.name}: ${msg.message}`);
}

export interface ShardPoolOptions {
  data: Float64Array;
  /** Sample weights [n] in a SharedArrayBuffer (undefined: unweighted). */
  sampleWeight?: Float64Array | undefined;
  n: number;
  d: number;
  k: number;
  chunkSize: number;
  workers: number;
  backend: string;
  family: CovarianceFamily;
  plugins: readonly string[];
  baseDir?: string;
  signal?: AbortSignal | undefined;
  /**
   * This thread takes the first shard (`workers` + 1 shards): it uploads
   * those rows and answers for them between posting each request to the
   * workers and collecting their replies, where it would otherwise wait.
   */
  callingThread?: boolean;
}

interface Slot {
  resolve(msg: FromShard): void;
  reject(err: Error): void;
}

/** Worker threads holding one shard each. Always `close()` it (in a finally). */
export class ShardPool {
  private readonly workers: WorkerHandle[] = [];
  private readonly ranges: [number, number][] = [];
  private readonly slots = new Map<WorkerHandle, Slot>();
  /** The calling thread's shard (ShardPoolOptions.callingThread): shard 0. */
  private local: Shard | undefined;

  private failure: Error | undefined;
  private closed = false;
  private readonly onAbort = (): void => this.fail(new AbortedError('fit aborted'));

  private constructor(
    private readonly family: CovarianceFamily,
    private readonly signal: AbortSignal | undefined,
    private readonly k: number,
  ) {}

  /** Starts the workers and waits until each has its backend and its shard uploaded. */
  static async start(o: ShardPoolOptions): Promise<ShardPool> {
    if (!shardWorkerAvailable())
      throw new InvalidArgumentError('shard worker script not found: build @gmmkit/tfjs, or pass workers: 0');
    const pool = new ShardPool(o.family, o.signal, o.k);
    if (o.signal?.aborted) throw new AbortedError('fit aborted');
    o.signal?.addEventListener('abort', pool.onAbort, { once: true });
    try {
      const ranges = o.callingThread === true ? shardRanges(o.n, o.chunkSize, o.workers + 1, CALLING_THREAD_SHARE) : shardRanges(o.n, o.chunkSize, o.workers);
      const localRange = o.callingThread === true ? ranges.shift() : undefined;
      for (const [start, rows] of ranges) {
        const init: ShardInit = {
          backend: o.backend,
          family: o.family.name,
          plugins: [...o.plugins],
          baseDir: o.baseDir ?? platform.defaultBaseDir(),
          ...(getWasmPaths() === undefined ? {} : { wasmPaths: getWasmPaths()! }),
          data: o.data.buffer as SharedArrayBuffer | ArrayBuffer,
          sampleWeight: o.sampleWeight?.buffer as SharedArrayBuffer | ArrayBuffer | undefined,
          weightStart: start + (o.sampleWeight?.byteOffset ?? 0) / 8,
          start: start + o.data.byteOffset / 8 / o.d,
          rows,
          d: o.d,
          k: o.k,
          chunkSize: o.chunkSize,
        };
        const w = spawnShardWorker(init);
        live.add(w);
        pool.workers.push(w);
        pool.ranges.push([start, rows]);
        w.onMessage((msg) => pool.deliver(w, msg as FromShard));
        w.onError((err) =>
          pool.fail(new GmmError('INVALID_ARGUMENT', `shard worker crashed: ${err.message}`)),
        );
        w.onExit((code) => {
          live.delete(w);
          if (!pool.closed)
            pool.fail(
              new GmmError('INVALID_ARGUMENT', `shard worker exited unexpectedly (exit code ${code})`),
            );
        });
      }
      if (localRange !== undefined) {
        // Uploaded while the workers start; its rows first, as shard 0.
        const [start, rows] = localRange;
        const weights = o.sampleWeight?.subarray(start, start + rows);
        const blocks = uploadCentered(tf, o.data.subarray(start * o.d, (start + rows) * o.d), rows, o.d, o.chunkSize, BLOCK_CACHE_BYTES, weights);
        pool.local = new Shard(o.family, blocks, { tf, k: o.k, d: o.d });
        pool.ranges.unshift(localRange);
      }
      await Promise.all(pool.workers.map((w) => pool.await(w)));
    } catch (error) {
      await pool.close();
      throw error;
    }
    return pool;
  }

  private await(w: WorkerHandle): Promise<FromShard> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => this.slots.set(w, { resolve, reject }));
  }

  private deliver(w: WorkerHandle, msg: FromShard): void {
    const slot = this.slots.get(w);
    if (!slot) return;
    this.slots.delete(w);
    if (msg.type === 'error') {
      this.fail(rebuildError(msg));
      slot.reject(this.failure!);
    } else slot.resolve(msg);
  }

  /** Rejects every waiting request with `err`; later requests fail with it too. */
  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    for (const slot of this.slots.values()) slot.reject(err);
    this.slots.clear();
  }

  /** One pass over all shards; statistics merged in shard order, log-likelihoods summed in shard order. */
  pass(params: EStepParameters, reference?: Float64Array): Promise<PassResult> {
    const msg: ToShard = reference === undefined ? { type: 'pass', params } : { type: 'pass', params, reference };
    return this.request(() => msg);
  }

  /** Statistics of responsibilities [n, k] or labels [n] (all rows) about `reference` [k, d], each shard on its rows. */
  async statsFromResponsibilities(r: Responsibilities, reference: Float64Array): Promise<SufficientStatistics> {
    const { k } = this;
    const result = await this.request((i): ToShard => {
      const [start, rows] = this.ranges[i]!;
      const assigned: Responsibilities =
        r.kind === 'labels'
          ? { kind: 'labels', labels: r.labels.slice(start, start + rows) }
          : { kind: 'responsibilities', resp: r.resp.slice(start * k, (start + rows) * k) };
      return { type: 'resp', assigned, reference };
    });
    return result.stats;
  }

  /** scorePass over all shards, the sums added in shard order. */
  async score(params: EStepParameters): Promise<ScoreResult> {
    const results = await this.send(() => ({ type: 'score', params }));
    let totalLogLikelihood = 0;
    let sumRespLogResp = 0;
    for (const r of results) {
      if (r.type !== 'score') throw new GmmError('INVALID_ARGUMENT', `shard worker answered '${r.type}' to a score`);
      totalLogLikelihood += r.totalLogLikelihood;
      sumRespLogResp += r.sumRespLogResp;
    }
    return { totalLogLikelihood, sumRespLogResp };
  }

  /**
   * Posts one message to every worker's shard, answers the calling thread's
   * own meanwhile, and returns the replies in shard order.
   */
  private async send(message: (shard: number) => ToShard): Promise<FromShard[]> {
    if (this.failure) throw this.failure;
    const first = this.local === undefined ? 0 : 1;
    const replies = this.workers.map((w, i) => {
      const reply = this.await(w);
      const msg = message(first + i);
      const transfer = msg.type !== 'resp' ? [] : [(msg.assigned.kind === 'labels' ? msg.assigned.labels : msg.assigned.resp).buffer as ArrayBuffer];
      w.post(msg, transfer);
      return reply;
    });
    if (this.local === undefined) return Promise.all(replies);
    let own: FromShard;
    try {
      own = this.local.answer(message(0));
    } catch (error) {
      // As a worker's error: the pool fails, and the workers' replies are awaited before the error goes on.
      this.fail(error instanceof Error ? error : new Error(String(error)));
      await Promise.allSettled(replies);
      throw error;
    }
    return [own, ...(await Promise.all(replies))];
  }

  private async request(message: (shard: number) => ToShard): Promise<PassResult> {
    const results = await this.send(message);
    let stats: SufficientStatistics | undefined;
    let total = 0;
    let entropy: number | undefined;
    for (const r of results) {
      if (r.type !== 'result')
        throw new GmmError('INVALID_ARGUMENT', `shard worker answered '${r.type}' to a pass`);
      stats = stats === undefined ? r.stats : this.family.merge(stats, r.stats);
      total += r.totalLogLikelihood;
      if (r.sumRespLogResp !== undefined) entropy = (entropy ?? 0) + r.sumRespLogResp;
    }
    const out: PassResult = { stats: stats!, totalLogLikelihood: total };
    if (entropy !== undefined) out.sumRespLogResp = entropy;
    return out;
  }

  /** Terminates every worker; resolves once all have exited. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.signal?.removeEventListener('abort', this.onAbort);
    this.fail(new AbortedError('shard pool closed'));
    this.local?.dispose();
    this.local = undefined;
    await Promise.all(this.workers.map((w) => w.terminate()));
    for (const w of this.workers) live.delete(w);
  }
}
