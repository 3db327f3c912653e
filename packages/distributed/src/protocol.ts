// The messages between the coordinator and the workers. Jobs and results are
// JSON (BullMQ stores them in Redis); float64 arrays travel as base64 of
// their little-endian bytes, so every value arrives bit for bit. Every message
// carries the fit id and the protocol version, and both sides check them.
import type { MixtureParameters, SufficientStatistics } from '@gmmkit/core';

/** Version of the job and result formats below; a worker rejects any other. */
export const PROTOCOL_VERSION = 1;

/** Key prefix of everything gmmkit keeps in Redis. */
export const KEY_PREFIX = 'gmmkit';

/** The queue every worker takes shard jobs from (the version is in its name: workers of another version never see them). */
export const SHARD_QUEUE = `shards-v${PROTOCOL_VERSION}`;

/** The coordinator's own queue for one fit: the parent job of each iteration's flow. */
export function mergeQueueName(fitId: string): string {
  return `merge-${fitId}`;
}

/** Redis key that exists while fit `fitId` runs (workers skip the jobs of fits that ended). */
export function fitKey(fitId: string): string {
  return `${KEY_PREFIX}:fit:${fitId}`;
}

/** Hash of the connected workers' descriptions (field: worker id). */
export const WORKERS_KEY = `${KEY_PREFIX}:workers`;

/** Key that exists while worker `id` is alive (refreshed by its heartbeat). */
export function workerAliveKey(id: string): string {
  return `${KEY_PREFIX}:worker:${id}`;
}

/** What a worker says about itself (`gmm worker` prints it; the coordinator lists it). */
export interface WorkerInfo {
  id: string;
  host: string;
  pid: number;
  /** tfjs backend the worker's engine runs on. */
  backend: string;
  /** Jobs it runs at once. */
  concurrency: number;
  /** Bytes of parsed shards it keeps in memory. */
  memoryBudget: number;
  /** Plugin module specifiers from its command line. */
  plugins: string[];
  version: number;
  startedAt: string;
}

// ---- float64 arrays as base64 ----

export function encodeF64(a: Float64Array): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
}

export function decodeF64(s: string): Float64Array {
  const bytes = Buffer.from(s, 'base64');
  if (bytes.byteLength % 8 !== 0)
    throw new ProtocolError(`a float64 array has ${bytes.byteLength} bytes, not a multiple of 8`);
  const out = new Float64Array(bytes.byteLength / 8);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

export interface EncodedParams {
  weights: string;
  means: string;
  covariances: string;
}

export function encodeParams(p: MixtureParameters): EncodedParams {
  return { weights: encodeF64(p.weights), means: encodeF64(p.means), covariances: encodeF64(p.covariances) };
}

export function decodeParams(p: EncodedParams): MixtureParameters {
  return { weights: decodeF64(p.weights), means: decodeF64(p.means), covariances: decodeF64(p.covariances) };
}

export interface EncodedStats {
  n: number;
  nk: string;
  sumX: string;
  second: string;
  reference?: string;
}

export function encodeStats(s: SufficientStatistics): EncodedStats {
  const out: EncodedStats = {
    n: s.n,
    nk: encodeF64(s.nk),
    sumX: encodeF64(s.sumX),
    second: encodeF64(s.second),
  };
  if (s.reference !== undefined) out.reference = encodeF64(s.reference);
  return out;
}

export function decodeStats(s: EncodedStats): SufficientStatistics {
  const out: SufficientStatistics = {
    n: s.n,
    nk: decodeF64(s.nk),
    sumX: decodeF64(s.sumX),
    second: decodeF64(s.second),
  };
  if (s.reference !== undefined) out.reference = decodeF64(s.reference);
  return out;
}

// ---- jobs ----

/** Fields of every shard job. */
export interface JobHeader {
  v: number;
  fitId: string;
  /** Which flow of the fit (0, 1, ...): results must answer the flow they were asked for. */
  seq: number;
  /** Position of the shard in the fit's fixed shard order. */
  shard: number;
  /** The shard: a file path or URL every worker can read. */
  source: string;
  /** Column selection handed to the worker's reader (the CLI's --columns). */
  columns?: string | undefined;
}

/** What the statistics ops need to rebuild the engine's view of the shard. */
export interface FitSetup {
  /** Covariance family name, resolved in the worker's own container (built-ins + its plugins). */
  family: string;
  k: number;
  d: number;
  /** The training mean [d]: workers center their rows on it, as the single-machine engine does. */
  center: string;
  chunkSize: number;
}

export type ShardJob =
  /** Read the shard: rows, column sums, a seeded reservoir sample (the distributed initialization). */
  | (JobHeader & { op: 'scan'; sampleSize: number; seed: number })
  /**
   * E-step under params and the statistics of the responsibilities (one EM
   * pass); second moments about `reference` when given. With a reference
   * (the M-step fallback) the result also holds the engine's float64
   * exactPass of the shard, for the fallback's last resort.
   */
  | (JobHeader & { op: 'pass'; setup: FitSetup; params: EncodedParams; reference?: string })
  /** Statistics of given responsibilities [rows, k] of this shard about `reference` [k, d]. */
  | (JobHeader & { op: 'resp'; setup: FitSetup; resp: string; reference: string })
  /** Statistics of the hard assignment of every row to its nearest of `means` [k, d], second moments about them. */
  | (JobHeader & { op: 'assign'; setup: FitSetup; means: string })
  /** Σ log p(x_i) and the responsibilities' entropy Σ -r ln r under a fitted model (gmmkit model JSON, original units). */
  | (JobHeader & { op: 'score'; model: unknown });

export type ShardOp = ShardJob['op'];

// ---- results ----

export interface ResultHeader {
  v: number;
  fitId: string;
  seq: number;
  shard: number;
  op: ShardOp;
  /** Worker id and backend that computed it. */
  worker: string;
  backend: string;
}

export interface ScanPayload {
  rows: number;
  cols: number;
  columns: string[];
  /** Column sums [cols], float64. */
  colSum: string;
  /** Reservoir sample [sampleRows, cols] of the raw rows; all rows in order when rows <= sampleSize. */
  sample: string;
  sampleRows: number;
  /** The shard's dataMoments covariance [cols, cols] (about its own mean, divided by rows), float64. */
  covariance: string;
  /** The shard's first row [cols] (constant features are those equal to it on every shard). */
  first: string;
}

export interface StatsPayload {
  stats: EncodedStats;
  totalLogLikelihood: number;
  /** A 'pass' with a reference: the same pass in float64 (engine exactPass), when the family has accumulateHost. */
  exact?: { stats: EncodedStats; totalLogLikelihood: number } | undefined;
}

export interface ScorePayload {
  logLikelihood: number;
  entropy: number;
  rows: number;
}

export interface ShardError {
  code?: string | undefined;
  name: string;
  message: string;
}

export type ShardResult = ResultHeader &
  (
    | { ok: true; scan?: ScanPayload; stats?: StatsPayload; score?: ScorePayload }
    | { ok: false; error: ShardError }
  );

export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
}

/**
 * Checks a result answers the job it claims to (same protocol version, fit,
 * flow, shard and operation); anything else is rejected with a ProtocolError.
 */
export function checkResult(
  value: unknown,
  expected: { fitId: string; seq: number; shard: number; op: ShardOp },
): ShardResult {
  if (typeof value !== 'object' || value === null)
    throw new ProtocolError(`shard ${expected.shard}: the result is not an object`);
  const r = value as Partial<ShardResult>;
  if (r.v !== PROTOCOL_VERSION)
    throw new ProtocolError(
      `shard ${expected.shard}: rejected a result of protocol version ${String(r.v)} (this coordinator speaks ${PROTOCOL_VERSION})`,
    );
  if (r.fitId !== expected.fitId)
    throw new ProtocolError(
      `shard ${expected.shard}: rejected a result of another fit (${String(r.fitId)}, expected ${expected.fitId})`,
    );
  if (r.seq !== expected.seq || r.shard !== expected.shard || r.op !== expected.op)
    throw new ProtocolError(
      `rejected a result for ${String(r.op)} #${String(r.seq)} of shard ${String(r.shard)}, expected ${expected.op} #${expected.seq} of shard ${expected.shard}`,
    );
  if (typeof r.ok !== 'boolean')
    throw new ProtocolError(`shard ${expected.shard}: the result has no 'ok' flag`);
  return r as ShardResult;
}

/** Why a worker refuses a job before running it (undefined: it may run). */
export function rejectJob(data: unknown): string | undefined {
  if (typeof data !== 'object' || data === null) return 'the job data is not an object';
  const j = data as Partial<JobHeader> & { op?: unknown };
  if (j.v !== PROTOCOL_VERSION)
    return `job of protocol version ${String(j.v)}; this worker speaks version ${PROTOCOL_VERSION}`;
  if (typeof j.fitId !== 'string' || j.fitId === '') return 'the job has no fit id';
  if (typeof j.source !== 'string' || j.source === '') return 'the job names no shard';
  if (!['scan', 'pass', 'resp', 'assign', 'score'].includes(String(j.op)))
    return `unknown operation '${String(j.op)}'`;
  return undefined;
}
