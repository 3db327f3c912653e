// Browser implementation of the Platform (see types.ts): pages and Web
// Workers, no Node built-ins. A leaf module, like node.ts.
import type { Platform, WorkerEndpoint } from './types.js';
import { WEB_WORKER_INIT } from './worker-handle.js';

interface BrowserGlobals {
  location?: { href: string };
  navigator?: { hardwareConcurrency?: number };
  document?: unknown;
  postMessage?: (message: unknown, transfer?: unknown[]) => void;
  addEventListener?: (type: 'message', handler: (event: { data: unknown }) => void) => void;
  removeEventListener?: (type: 'message', handler: (event: { data: unknown }) => void) => void;
}
const g = globalThis as unknown as BrowserGlobals;

export const platform: Platform = {
  name: 'browser',
  defaultBaseDir: () => g.location?.href ?? '/',
  resolvePluginUrl(specifier, baseDir) {
    // No file system and no package resolution at run time: a URL, absolute
    // or relative to baseDir (default the page's address).
    try {
      return new URL(specifier, baseDir).href;
    } catch {
      throw new Error(`cannot resolve '${specifier}' against ${baseDir}: in a browser, plugins are URLs`);
    }
  },
  hardwareConcurrency: () => Math.max(1, g.navigator?.hardwareConcurrency ?? 1),
  isMainThread: () => g.document !== undefined,
  env: () => undefined,
  yieldToEventLoop,
  workerEndpoint(): Promise<WorkerEndpoint> {
    const add = g.addEventListener;
    const post = g.postMessage;
    if (g.document !== undefined || !add || !post) {
      return Promise.reject(new Error('workerEndpoint() called outside a Web Worker'));
    }
    return new Promise((resolve) => {
      const handlers: ((message: unknown) => void)[] = [];
      let init: unknown;
      let started = false;
      add.call(globalThis, 'message', (event) => {
        const data = event.data as { type?: unknown; init?: unknown } | null;
        if (!started && data !== null && typeof data === 'object' && data.type === WEB_WORKER_INIT) {
          started = true;
          init = data.init;
          resolve({
            init,
            post: (message, transfer) => post.call(globalThis, message, transfer ? [...transfer] : []),
            onMessage: (handler) => void handlers.push(handler),
          });
          return;
        }
        for (const handler of handlers) handler(event.data);
      });
    });
  },
};

/** A macrotask tick: lets queued messages (a cancel, say) be handled between chunks of work. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    const port = channel.port1 as unknown as { onmessage: (() => void) | null; close(): void };
    port.onmessage = () => {
      port.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}
