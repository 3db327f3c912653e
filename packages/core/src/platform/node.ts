// Node implementation of the Platform (see types.ts). A leaf module: it
// imports nothing from this package, so its two builds never disagree.
import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isMainThread as mainThread, parentPort, workerData } from 'node:worker_threads';
import type { Platform, WorkerEndpoint } from './types.js';

export const platform: Platform = {
  name: 'node',
  defaultBaseDir: () => process.cwd(),
  resolvePluginUrl,
  hardwareConcurrency: () => availableParallelism(),
  isMainThread: () => mainThread,
  env: (name) => process.env[name],
  yieldToEventLoop: () => new Promise((resolve) => setImmediate(resolve)),
  async workerEndpoint(): Promise<WorkerEndpoint> {
    const port = parentPort;
    if (!port) throw new Error('workerEndpoint() called outside a worker thread');
    return {
      init: workerData,
      post: (message, transfer) => port.postMessage(message, transfer as ArrayBuffer[] | undefined),
      onMessage: (handler) => void port.on('message', handler),
    };
  },
};

/**
 * A relative path (`./my-plugins.js`, or `dist/plugins.js` when that file
 * exists) or absolute path resolves against `baseDir`; a `file:` URL is used
 * as is; any other bare name resolves as a package from `baseDir`, then from
 * gmmkit's own install.
 */
function resolvePluginUrl(specifier: string, baseDir: string): string {
  if (specifier.startsWith('file:')) {
    const file = fileURLToPath(specifier);
    if (!existsSync(file)) throw new Error(`not found: no file ${file}`);
    return specifier;
  }
  // A bare specifier naming an existing file (`dist/plugins.js`) is taken as
  // that file, as a person typing a CLI flag means; otherwise it is a package.
  const isPath =
    specifier.startsWith('.') || path.isAbsolute(specifier) || isFile(path.resolve(baseDir, specifier));
  if (isPath) {
    const file = path.resolve(baseDir, specifier);
    if (!existsSync(file)) throw new Error(`not found: no file ${file} (paths resolve against ${baseDir})`);
    return pathToFileURL(file).href;
  }
  // Bare name: a package. Resolve from the user's directory first (where
  // they installed it), then from gmmkit's own location.
  const errors: string[] = [];
  for (const from of [
    path.join(path.resolve(baseDir), '__gmmkit_plugin_resolve__.js'),
    fileURLToPath(import.meta.url),
  ]) {
    try {
      return pathToFileURL(createRequire(from).resolve(specifier)).href;
    } catch (err) {
      errors.push((err instanceof Error ? err.message : String(err)).split('\n')[0]!);
    }
  }
  // An ESM-only package (exports with only an "import" condition) is invisible
  // to require.resolve; let the ESM resolver try before giving up.
  try {
    return import.meta.resolve(specifier);
  } catch {
    throw new Error(
      `not found: no package of that name from ${baseDir} (${errors[0] ?? 'unresolved'}); ` +
        `install it, or pass a path such as ./${/\.[cm]?js$/.test(specifier) ? specifier : `${specifier}.js`}`,
    );
  }
}

function isFile(file: string): boolean {
  return statSync(file, { throwIfNoEntry: false })?.isFile() ?? false;
}
