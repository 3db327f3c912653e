import type { SweepRow } from '@gmmkit/model-selection';
import type { GaussianMixtureJSON } from '@gmmkit/tfjs';

/** What the page asks the sweep worker to do. */
export type ToSweepWorker =
  | {
      type: 'run';
      /** Rows, row-major [n, d]. */
      data: Float64Array;
      n: number;
      d: number;
      kMin: number;
      kMax: number;
      families: string[];
      criterion: string;
      nInit: number;
      seed: number;
      backend: string;
      /** Sweep pool size (Web Workers started by the sweep), or undefined for its own choice. */
      workers: number | undefined;
    }
  | { type: 'cancel' };

/** What the sweep worker reports back. */
export type FromSweepWorker =
  | { type: 'progress'; done: number; total: number }
  | {
      type: 'done';
      backend: string;
      /** Web Workers the sweep ran its fits on (0: in the sweep worker itself). */
      workers: number;
      criterion: string;
      /** How degenerate cells were treated (SweepResult.degenerate). */
      degenerate: 'reject' | 'warn' | 'allow';
      rows: SweepRow[];
      best: SweepRow;
      model: GaussianMixtureJSON;
      /** Component of each row (0-based, as `gmm predict`). */
      labels: Int32Array;
      /** Largest responsibility of each row. */
      maxProba: Float64Array;
      /** Full covariance of each component, [k][d][d]. */
      covariances: number[][][];
      seconds: number;
    }
  | { type: 'cancelled' }
  | { type: 'error'; message: string };
