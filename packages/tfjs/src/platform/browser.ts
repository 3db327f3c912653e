// Browser side of @gmmkit/tfjs's #tfjs-platform: shard workers are module Web
// Workers. The literal `new Worker(new URL(...), { type: 'module' })` is what
// lets Vite/webpack/esbuild-based bundlers emit the worker script.
import { fromWebWorker, type WebWorkerLike, type WorkerHandle } from '@gmmkit/core';
import * as tf from '@tensorflow/tfjs-core';

/** The tfjs-core namespace (the bundler resolves its ESM build). */
export { tf };

/** Loads a tfjs backend package through the bundler's static dynamic import. */
export function loadBackendPackage<T>(_name: string, browserImport: () => Promise<T>): Promise<T> {
  return browserImport();
}

/** Native TensorFlow is Node-only. */
export function loadTfjsNode(): void {
  throw new Error('@tensorflow/tfjs-node runs only in Node');
}

declare const Worker: (new (url: URL, options: { type: 'module' }) => WebWorkerLike) | undefined;

export function shardWorkerAvailable(): boolean {
  return typeof Worker !== 'undefined';
}

export function spawnShardWorker(init: unknown): WorkerHandle {
  if (typeof Worker === 'undefined') throw new Error('this runtime has no Web Workers');
  return fromWebWorker(new Worker(new URL('../shard-worker.js', import.meta.url), { type: 'module' }), init);
}

/** GaussianMixtureOptions.callingThread's default: a page's thread stays free (workers take every shard). */
export const CALLING_THREAD_SHARD = false;
