/**
 * What the rest of gmmkit needs from its JavaScript runtime, in one place.
 * Two implementations: `node.ts` (Node: worker_threads, process, file paths)
 * and `browser.ts` (browsers and Web Workers), picked by the package's
 * `imports` map (`#platform`, conditions `browser` / `default`), so a browser
 * bundle never sees a Node built-in. Both must satisfy this interface.
 */
export interface Platform {
  /** 'node' or 'browser'. */
  readonly name: 'node' | 'browser';
  /** Directory (Node) or URL (browser) relative plugin specifiers resolve against by default. */
  defaultBaseDir(): string;
  /** The URL to import() for a plugin module specifier; throws an Error saying why it cannot be found. */
  resolvePluginUrl(specifier: string, baseDir: string): string;
  /** Logical cores available to this process or page. */
  hardwareConcurrency(): number;
  /** False inside a worker (worker thread or Web Worker). */
  isMainThread(): boolean;
  /** An environment variable (Node), or undefined (browsers have none). */
  env(name: string): string | undefined;
  /** Resolves after pending I/O and messages have had a turn (setImmediate in Node, a MessageChannel tick in browsers). */
  yieldToEventLoop(): Promise<void>;
  /** Inside a worker script: its start-up data and its channel to the parent. */
  workerEndpoint(): Promise<WorkerEndpoint>;
}

/** The worker's side of a channel opened by `openWorker`. */
export interface WorkerEndpoint {
  /** What the parent passed as `init`. */
  init: unknown;
  post(message: unknown, transfer?: readonly ArrayBuffer[]): void;
  onMessage(handler: (message: unknown) => void): void;
}
