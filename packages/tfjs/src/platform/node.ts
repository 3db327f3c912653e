// Node side of @gmmkit/tfjs's #tfjs-platform: shard workers are worker_threads.
// A leaf module (nothing from this package), like browser.ts.
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { fromNodeWorker, type WorkerHandle } from '@gmmkit/core';
import type * as TfCore from '@tensorflow/tfjs-core';


// tfjs's packages are CommonJS bundles of several megabytes. Imported from
// ESM, Node's loader first lexes each one for its export names; require()
// skips that (tfjs-core + wasm + cpu: 224 ms -> 48 ms per process, and per
// shard worker, measured on this project's 2-core machine). One module
// instance either way: ESM imports of CJS share require's cache.
const requireCjs = createRequire(import.meta.url);

/** The tfjs-core namespace. */
export const tf = requireCjs('@tensorflow/tfjs-core') as typeof TfCore;

/** Loads a tfjs backend package for its side effect (registering the backend) and returns it. */
export function loadBackendPackage<T>(name: string, _browserImport: () => Promise<T>): Promise<T> {
  return Promise.resolve(requireCjs(name) as T);
}

/**
 * Loads @tensorflow/tfjs-node (the 'tensorflow' backend). Where its install
 * script could not download libtensorflow the package is there without its
 * native binding (lib/napi-v<N>/tfjs_binding.node); loading it then pulls in the
 * whole tfjs union and node-pre-gyp before failing, a large part of a
 * command's start-up, so that case fails first, with the reason.
 */
export function loadTfjsNode(): void {
  const lib = join(dirname(requireCjs.resolve('@tensorflow/tfjs-node/package.json')), 'lib');
  const bound = existsSync(lib) && readdirSync(lib).some((dir) => existsSync(join(lib, dir, 'tfjs_binding.node')));
  if (!bound) {
    throw new Error(`@tensorflow/tfjs-node has no native binding in ${lib} (its install script did not download libtensorflow)`);
  }
  requireCjs('@tensorflow/tfjs-node');
}

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

/** GaussianMixtureOptions.callingThread's default: in Node the calling thread takes a shard of a sharded fit. */
export const CALLING_THREAD_SHARD = true;
