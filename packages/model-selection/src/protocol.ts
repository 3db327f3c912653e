import type { WasmPaths } from '@gmmkit/tfjs';
import type { CellResult, CellSpec, FitSettings } from './cell.js';

/** workerData of a sweep worker. */
export interface WorkerInit {
  /** gmmkit backend name active on the main thread ('wasm', 'cpu', ...). */
  backend: string;
  /** Plugin module specifiers, loaded with loadPluginModules(plugins, baseDir). */
  plugins: string[];
  baseDir: string;
  /** Where the wasm binaries are served from (browsers; setWasmPaths on the main thread). */
  wasmPaths?: WasmPaths;
  /** The training rows, float64 row-major [rows, cols]: shared where the runtime allows, else copied. */
  data: SharedArrayBuffer | ArrayBuffer;
  /** The column means the fits center `data` at, and `data` centered there ([rows, cols], shared like `data`): seeds the worker's FitCache. */
  center: Float64Array;
  centered: SharedArrayBuffer | ArrayBuffer;
  /** Sample weights [rows], float64, shared like `data`; undefined when unweighted. */
  sampleWeight?: SharedArrayBuffer | ArrayBuffer | undefined;
  rows: number;
  cols: number;
  settings: FitSettings;
}

export type ToWorker = { type: 'cell'; cell: CellSpec };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'result'; result: CellResult }
  /** The worker cannot go on (backend or plugins failed to load). */
  | { type: 'fatal'; message: string };
