/**
 * Shard worker (a worker thread in Node, a module Web Worker in browsers),
 * run from the built dist only: Node cannot load .ts in a worker. Loads the plugin modules by specifier (a container
 * cannot cross threads), initializes the main thread's backend, uploads its
 * rows of the shared centered data once, then answers passes.
 */
import {
  GmmError,
  PluginRegistry,
  loadPluginModules,
  platform,
  pluginModule,
  type CovarianceFamily,
  type PluginContext,
} from '@gmmkit/core';
import { createGmmContainer } from './container.js';
import { BLOCK_CACHE_BYTES } from './covariance/common.js';
import { uploadCentered, warmBlockCache, type RowBlocks } from './engine.js';
import { Shard } from './shard.js';
import { initBackend, setWasmPaths, tf } from './runtime/index.js';
import type { FromShard, ShardInit, ToShard } from './sharded.js';

function errorMessage(err: unknown): FromShard {
  if (err instanceof Error)
    return {
      type: 'error',
      code: err instanceof GmmError ? err.code : undefined,
      name: err.name,
      message: err.message,
    };
  return { type: 'error', code: undefined, name: 'Error', message: String(err) };
}

async function main(): Promise<void> {
  const port = await platform.workerEndpoint();
  const init = port.init as ShardInit;
  const post = (msg: FromShard): void => port.post(msg);
  let family: CovarianceFamily;
  let blocks: RowBlocks;
  let ctx: PluginContext;
  try {
    if (init.wasmPaths !== undefined) setWasmPaths(init.wasmPaths);
    const sets = await loadPluginModules(init.plugins, init.baseDir);
    const container = createGmmContainer(...sets.map((s) => pluginModule(s)));
    // Plugins may bring the backend, so the container comes first.
    await initBackend(init.backend, container);
    family = new PluginRegistry(container).covarianceFamily(init.family);
    const rows = new Float64Array(init.data, init.start * init.d * 8, init.rows * init.d);
    const weights = init.sampleWeight === undefined ? undefined : new Float64Array(init.sampleWeight, init.weightStart * 8, init.rows);
    blocks = uploadCentered(tf, rows, init.rows, init.d, init.chunkSize, BLOCK_CACHE_BYTES, weights);
    ctx = { tf, k: init.k, d: init.d };
  } catch (err) {
    post(errorMessage(err));
    return;
  }
  const shard = new Shard(family, blocks, ctx);
  let asked = false;
  port.onMessage((message) => {
    asked = true;
    try {
      post(shard.answer(message as ToShard));
    } catch (err) {
      post(errorMessage(err));
    }
  });
  post({ type: 'ready' });
  // Idle until the main thread's initializer is done: fill the block cache meanwhile.
  try {
    await warmBlockCache(tf, family, blocks, ctx, () => asked);
  } catch {
    // a pass makes the cache as it goes: nothing lost
  }
}

void main();
