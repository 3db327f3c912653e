/**
 * Sweep worker (a worker thread in Node, a module Web Worker in browsers).
 * Runs from the built dist only: Node cannot load .ts in a worker. It initializes the main thread's backend, loads the
 * plugin modules by specifier (a container cannot cross threads), then fits
 * the cells it is sent, one at a time, in order.
 */
import { loadPluginModules, platform, pluginModule } from '@gmmkit/core';
import { FitCache, initBackend, setWasmPaths } from '@gmmkit/tfjs';
import { fitCell } from './cell.js';
import { createSelectionContainer } from './criteria.js';
import type { ToWorker, WorkerInit, FromWorker } from './protocol.js';

async function main(): Promise<void> {
  const port = await platform.workerEndpoint();
  const init = port.init as WorkerInit;
  const post = (msg: FromWorker): void => port.post(msg);
  let container;
  try {
    if (init.wasmPaths !== undefined) setWasmPaths(init.wasmPaths);
    const sets = await loadPluginModules(init.plugins, init.baseDir);
    container = createSelectionContainer(...sets.map((s) => pluginModule(s)));
    // Plugins may bring the backend, so the container comes first.
    await initBackend(init.backend, container);
  } catch (err) {
    post({ type: 'fatal', message: err instanceof Error ? `${err.name}: ${err.message}` : String(err) });
    return;
  }
  const x = {
    rows: init.rows,
    cols: init.cols,
    data: new Float64Array(init.data),
    sampleWeight: init.sampleWeight === undefined ? undefined : new Float64Array(init.sampleWeight),
    // This worker's cells share the centered rows, the data's moments and, at one k, the k-means starts.
    cache: new FitCache(),
  };
  x.cache.centered(init.center, true, () => new Float64Array(init.centered));
  // The pool sends a cell ahead of time (pool.ts WORKER_QUEUE): cells are fitted one after another, in the order sent.
  let queue = Promise.resolve();
  port.onMessage((message) => {
    const msg = message as ToWorker;
    if (msg.type !== 'cell') return;
    queue = queue.then(() =>
      fitCell(x, msg.cell, init.settings, container).then(
        (result) => post({ type: 'result', result }),
        (err: unknown) =>
          post({ type: 'fatal', message: err instanceof Error ? `${err.name}: ${err.message}` : String(err) }),
      ),
    );
  });
  post({ type: 'ready' });
}

void main();
