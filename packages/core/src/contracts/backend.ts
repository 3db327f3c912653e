/**
 * A tfjs backend gmmkit can run on. 'auto' tries providers by descending
 * priority and takes the first that loads.
 */
export interface BackendProvider {
  /** Name used in options, GMM_BACKEND and --backend: 'tensorflow', 'wasm', 'cpu', ... */
  readonly name: string;
  /** The tfjs backend name it registers (e.g. 'tensorflow' for tfjs-node). */
  readonly tfBackendName: string;
  /** Higher is tried first by 'auto'. */
  readonly priority: number;
  /** One line telling how to install what this backend needs. */
  readonly installHint: string;
  /** Imports and registers the backend; rejects when it cannot load. */
  load(): Promise<void>;
}
