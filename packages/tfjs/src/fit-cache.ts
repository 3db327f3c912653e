import { InvalidArgumentError, type InitialGuess } from '@gmmkit/core';
import type { DataSummaries } from './covariance/degeneracy.js';

/** Cells of the rows compared to tell a cache's data set from another (evenly spaced, first and last included). */
const FINGERPRINT_CELLS = 257;

/**
 * Work a fit does that depends only on its rows (and sample weights), kept
 * for the next fit of the same rows (FitOptions.cache): the column means and the centered rows,
 * the data's moments and resolution (the degeneracy rules' scale) and the guesses of reusable
 * initializers (Initializer.reusable: 'kmeans'), per k and restart seed.
 * A sweep passes one to every cell, so the families at one k share one
 * k-means per restart, as a scikit-learn BIC loop with one random_state gets
 * the same k-means for every covariance type.
 *
 * Guesses are kept for one k at a time (a new k drops the others): run the
 * fits of one k one after another. One-hot responsibilities are kept as
 * labels (n int32, not n·k float64).
 */
export class FitCache {
  /** The degeneracy context's data moments and resolution. */
  readonly summaries: DataSummaries = {};
  private readonly guesses = new Map<string, Int32Array | Float64Array>();
  private rows: { center: Float64Array; shared: boolean; centered: Float64Array } | undefined;
  private columnMeans: Float64Array | undefined;
  private guessK = -1;
  private fingerprint: string | undefined;

  /**
   * Checks that `data` [n, d] (and `weights`) are the rows this cache holds
   * work for (the first call binds it) and throws InvalidArgumentError if not.
   */
  bind(data: Float64Array, n: number, d: number, weights?: Float64Array): void {
    const cells: number[] = [n, d];
    const sample = (values: Float64Array): void => {
      const last = values.length - 1;
      for (let j = 0; j < FINGERPRINT_CELLS && last >= 0; j++) cells.push(values[Math.round((j * last) / (FINGERPRINT_CELLS - 1))]!);
    };
    sample(data);
    if (weights !== undefined) sample(weights);
    const print = cells.join(',');
    this.fingerprint ??= print;
    if (print !== this.fingerprint)
      throw new InvalidArgumentError('a FitCache holds the work of one data set: these rows (or sample weights) differ from its first fit\'s; use a new FitCache');
  }

  /** The rows' (weighted) column means: make's result, kept (a fresh copy each time). */
  center(make: () => Float64Array): Float64Array {
    this.columnMeans ??= make();
    return Float64Array.from(this.columnMeans);
  }

  /**
   * The rows minus `center` (make's result, kept: one [n, d] copy for every
   * fit of these rows, not one per fit); `shared`: on shared memory (make
   * gives such a copy then), which serves unshared requests too. Made again
   * for another center, or when shared memory is asked for and the copy kept
   * is not. Fits only read it. A sweep seeds every lane's cache with one
   * shared copy this way.
   */
  centered(center: Float64Array, shared: boolean, make: () => Float64Array): Float64Array {
    const kept = this.rows;
    if (kept !== undefined && (kept.shared || !shared) && kept.center.every((c, j) => c === center[j])) return kept.centered;
    this.rows = { center: Float64Array.from(center), shared, centered: make() };
    return this.rows.centered;
  }

  /** The guess kept under (initializer, k, seed), or the one `make` returns, kept. A fresh copy either way. */
  async guess(initializer: string, k: number, seed: number, n: number, make: () => Promise<InitialGuess>): Promise<InitialGuess> {
    const key = `${initializer}\u0000${seed}`;
    if (k !== this.guessK) {
      this.guesses.clear();
      this.guessK = k;
    }
    let kept = this.guesses.get(key);
    if (kept === undefined) {
      const made = await make();
      if (made.kind === 'means') return made; // means are cheap: not worth keeping
      kept = made.kind === 'labels' ? Int32Array.from(made.labels) : (oneHotLabels(made.resp, n, k) ?? Float64Array.from(made.resp));
      this.guesses.set(key, kept);
      return made;
    }
    if (kept instanceof Float64Array) return { kind: 'responsibilities', resp: Float64Array.from(kept) };
    return { kind: 'labels', labels: Int32Array.from(kept) };
  }
}

/** Each row's label when resp [n, k] is one-hot (one 1, the rest exact 0), else undefined. */
function oneHotLabels(resp: Float64Array, n: number, k: number): Int32Array | undefined {
  if (resp.length !== n * k) return undefined;
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let label = -1;
    for (let j = 0; j < k; j++) {
      const r = resp[i * k + j]!;
      if (r === 0) continue;
      if (r !== 1 || label !== -1) return undefined;
      label = j;
    }
    if (label === -1) return undefined;
    labels[i] = label;
  }
  return labels;
}
