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
    }
  | { type: 'cancel' };

/** What the sweep worker reports back. */
export type FromSweepWorker =
  | { type: 'progress'; done: number; total: number }
  | {
      type: 'done';
      backend: string;
      criterion: string;
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
