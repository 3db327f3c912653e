export {
  fitDistributed,
  Cluster,
  WorkerFailureError,
  proportionalQuotas,
  mergeMoments,
  type ClusterOptions,
  type CoordinatorEvent,
  type DistributedFitOptions,
  type DistributedFitResult,
} from './coordinator.js';
export {
  startWorker,
  listWorkers,
  type StartWorkerOptions,
  type WorkerEvent,
  type WorkerHandle,
} from './worker.js';
export { ShardCache, type ShardReader, type ShardTable } from './shard-cache.js';
export {
  parseRedisUrl,
  connectRedis,
  describeRedisError,
  RedisConnectionError,
  type RedisTarget,
} from './connection.js';
export { expandShards } from './shards.js';
export * from './protocol.js';
export { sweepDistributed, type DistributedSweepOptions, type DistributedSweepResult } from './sweep.js';
