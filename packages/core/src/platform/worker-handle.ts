/**
 * One shape for a worker seen from its parent, whether it is a Node
 * `worker_threads` Worker or a browser Web Worker, so the sweep pool and the
 * sharded EM drive both with the same code. The packages' own `#platform`
 * modules construct the worker (a bundler must see the literal
 * `new Worker(new URL('./x.js', import.meta.url))` to emit the worker file)
 * and wrap it here. No runtime imports: safe in every environment.
 */
export interface WorkerHandle {
  post(message: unknown, transfer?: readonly ArrayBuffer[]): void;
  onMessage(handler: (message: unknown) => void): void;
  /** The worker threw, or its script failed to load. */
  onError(handler: (error: Error) => void): void;
  /** The worker exited on its own (Node only; a Web Worker never exits unless terminated). */
  onExit(handler: (code: number) => void): void;
  /** Stops the worker; resolves once it is gone. */
  terminate(): Promise<void>;
}

/** The part of Node's worker_threads Worker used here. */
export interface NodeWorkerLike {
  postMessage(message: unknown, transfer?: readonly ArrayBuffer[]): void;
  on(event: 'message', handler: (message: unknown) => void): unknown;
  on(event: 'error', handler: (error: Error) => void): unknown;
  on(event: 'exit', handler: (code: number) => void): unknown;
  terminate(): Promise<number>;
}

/** The part of the browser's Worker used here. */
export interface WebWorkerLike {
  postMessage(message: unknown, transfer?: readonly ArrayBuffer[]): void;
  addEventListener(type: 'message', handler: (event: { data: unknown }) => void): void;
  addEventListener(
    type: 'error',
    handler: (event: { message?: string; preventDefault(): void }) => void,
  ): void;
  addEventListener(type: 'messageerror', handler: (event: { data: unknown }) => void): void;
  terminate(): void;
}

/** First message a Web Worker receives: Node's workerData, sent as a message. */
export const WEB_WORKER_INIT = 'gmmkit:init';

/** Wraps a Node worker started with `{ workerData: init }`. */
export function fromNodeWorker(worker: NodeWorkerLike): WorkerHandle {
  return {
    post: (message, transfer) => worker.postMessage(message, transfer as ArrayBuffer[] | undefined),
    onMessage: (handler) => void worker.on('message', handler),
    onError: (handler) => void worker.on('error', handler),
    onExit: (handler) => void worker.on('exit', handler),
    terminate: async () => {
      await worker.terminate().catch(() => 0);
    },
  };
}

/** Wraps a module Web Worker and sends it `init` (its workerEndpoint() resolves with it). */
export function fromWebWorker(worker: WebWorkerLike, init: unknown): WorkerHandle {
  worker.postMessage({ type: WEB_WORKER_INIT, init });
  return {
    post: (message, transfer) => worker.postMessage(message, transfer as ArrayBuffer[] | undefined),
    onMessage: (handler) => worker.addEventListener('message', (event) => handler(event.data)),
    onError: (handler) => {
      worker.addEventListener('error', (event) => {
        event.preventDefault();
        handler(new Error(event.message || 'worker script failed to load or threw'));
      });
      worker.addEventListener('messageerror', () =>
        handler(new Error('worker message could not be deserialized')),
      );
    },
    onExit: () => undefined,
    terminate: async () => worker.terminate(),
  };
}

/**
 * A Float64Array workers can read without a copy: on a SharedArrayBuffer
 * where the runtime allows one (Node; pages that are cross-origin isolated),
 * else on a plain ArrayBuffer, which postMessage copies to each worker.
 */
export function shareableFloat64Array(length: number): Float64Array {
  const g = globalThis as { SharedArrayBuffer?: typeof SharedArrayBuffer; crossOriginIsolated?: boolean };
  if (g.SharedArrayBuffer !== undefined && g.crossOriginIsolated !== false)
    return new Float64Array(new g.SharedArrayBuffer(length * 8));
  return new Float64Array(length);
}

/**
 * `values` as workers can read it without a copy: itself when it already
 * spans a whole SharedArrayBuffer (workers view it from offset 0), else a
 * copy in a shareableFloat64Array. Callers only read it.
 */
export function shareable(values: Float64Array): Float64Array {
  const g = globalThis as { SharedArrayBuffer?: typeof SharedArrayBuffer };
  const whole = values.byteOffset === 0 && values.byteLength === values.buffer.byteLength;
  if (g.SharedArrayBuffer !== undefined && values.buffer instanceof g.SharedArrayBuffer && whole) return values;
  const copy = shareableFloat64Array(values.length);
  copy.set(values);
  return copy;
}
