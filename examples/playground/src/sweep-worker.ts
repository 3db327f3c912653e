/// <reference types="vite/client" />
// The sweep runs here, off the page's thread, so the page stays responsive
// and the Cancel button is heard. gmmkit's own sweep pool (more Web Workers)
// takes over for sweeps large enough to repay starting them.
import { AbortedError } from '@gmmkit/core';
import { sweep } from '@gmmkit/model-selection';
import './wasm.js';
import type { FromSweepWorker, ToSweepWorker } from './protocol.js';

interface WorkerScope {
  postMessage(message: FromSweepWorker, transfer?: ArrayBuffer[]): void;
  addEventListener(type: 'message', handler: (event: { data: ToSweepWorker }) => void): void;
}
const scope = self as unknown as WorkerScope;

let controller: AbortController | undefined;

scope.addEventListener('message', (event) => {
  const msg = event.data;
  if (msg.type === 'cancel') controller?.abort();
  else void run(msg);
});

async function run(msg: Extract<ToSweepWorker, { type: 'run' }>): Promise<void> {
  controller = new AbortController();
  const started = performance.now();
  const X = { rows: msg.n, cols: msg.d, data: msg.data };
  try {
    const result = await sweep({
      data: X,
      k: { min: msg.kMin, max: msg.kMax },
      covarianceTypes: msg.families,
      criterion: msg.criterion,
      nInit: msg.nInit,
      seed: msg.seed,
      backend: msg.backend,
      ...(msg.workers === undefined ? {} : { workers: msg.workers }),
      signal: controller.signal,
      onProgress: ({ done, total }) => scope.postMessage({ type: 'progress', done, total }),
    });
    const gm = result.model;
    try {
      const labels = gm.predict(X);
      const proba = gm.predictProba(X);
      const k = proba.cols;
      const maxProba = new Float64Array(msg.n);
      for (let i = 0; i < msg.n; i++) {
        let m = 0;
        for (let j = 0; j < k; j++) m = Math.max(m, proba.data[i * k + j]!);
        maxProba[i] = m;
      }
      const full = gm.fullCovariances();
      const d = msg.d;
      const covariances = Array.from({ length: k }, (_, j) =>
        Array.from({ length: d }, (_, a) =>
          Array.from({ length: d }, (_, b) => full[j * d * d + a * d + b]!),
        ),
      );
      scope.postMessage({
        type: 'done',
        backend: result.backend,
        workers: result.workers,
        criterion: result.criterion,
        degenerate: result.degenerate,
        rows: result.rows,
        best: result.best,
        model: gm.toJSON(),
        labels,
        maxProba,
        covariances,
        seconds: (performance.now() - started) / 1000,
      });
    } finally {
      gm.dispose();
    }
  } catch (err) {
    if (err instanceof AbortedError) scope.postMessage({ type: 'cancelled' });
    else scope.postMessage({ type: 'error', message: err instanceof Error ? err.message : String(err) });
  } finally {
    controller = undefined;
  }
}
