// Node side of @gmmkit/model-selection's #selection-platform: sweep workers
// are worker_threads. A leaf module (nothing from this package), like browser.ts.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { fromNodeWorker, type WorkerHandle } from '@gmmkit/core';

// dist/platform/ -> dist/worker.js (tests running src/ use the built dist too).
const url = new URL('../worker.js', import.meta.url);

/**
 * By default a sweep's calling thread fits cells too, beside its workers (SweepOptions.callingThread):
 * in Node it would otherwise only wait, and a worker fewer saves that worker's tfjs and working memory.
 */
export const CALLING_THREAD_FITS = true;

/** undefined when the sweep worker script exists, else why it cannot start. */
export function sweepWorkerProblem(): string | undefined {
  if (existsSync(fileURLToPath(url))) return undefined;
  return (
    `sweep worker script not found (${fileURLToPath(url)}); build @gmmkit/model-selection ` +
    '(pnpm --filter @gmmkit/model-selection build) or pass workers: 0 to sweep in-process'
  );
}

/** Starts one sweep worker with `init` as its workerData. */
export function spawnSweepWorker(init: unknown): WorkerHandle {
  // A small young generation: a sweep worker's own objects are few (its rows are typed arrays), and
  // V8's default of up to 3 x 16 MiB grows under a fit's churn and stays (measured: -10 MiB a sweep).
  return fromNodeWorker(new Worker(url, { workerData: init, resourceLimits: { maxYoungGenerationSizeMb: 4 } }));
}
