// Browser side of @gmmkit/model-selection's #selection-platform: sweep
// workers are module Web Workers. The literal `new Worker(new URL(...),
// { type: 'module' })` is what lets bundlers emit the worker script.
import { fromWebWorker, type WebWorkerLike, type WorkerHandle } from '@gmmkit/core';

declare const Worker: (new (url: URL, options: { type: 'module' }) => WebWorkerLike) | undefined;

/** By default a page's thread stays free for the page: every cell runs on a Web Worker (SweepOptions.callingThread). */
export const CALLING_THREAD_FITS = false;

export function sweepWorkerProblem(): string | undefined {
  return typeof Worker === 'undefined' ? 'this runtime has no Web Workers; pass workers: 0' : undefined;
}

export function spawnSweepWorker(init: unknown): WorkerHandle {
  if (typeof Worker === 'undefined') throw new Error('this runtime has no Web Workers');
  return fromWebWorker(new Worker(new URL('../worker.js', import.meta.url), { type: 'module' }), init);
}
