// Node side of @gmmkit/tfjs's #tfjs-platform: shard workers are worker_threads.
// A leaf module (nothing from this package), like browser.ts.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { fromNodeWorker, type WorkerHandle } from '@gmmkit/core';

// dist/platform/ -> dist/shard-worker.js (tests running src/ use the built dist too).
const url = new URL('../shard-worker.js', import.meta.url);

/** Whether the compiled shard worker script exists (it does once the package is built). */
export function shardWorkerAvailable(): boolean {
  return existsSync(fileURLToPath(url));
}

/** Starts one shard worker with `init` as its workerData. */
export function spawnShardWorker(init: unknown): WorkerHandle {
  return fromNodeWorker(new Worker(url, { workerData: init }));
}
