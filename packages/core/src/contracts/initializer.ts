import type { Rng } from '../rng.js';
import type { Tensor2D, Tf } from './tensor.js';

/** What an initializer sees. */
export interface InitializerInput {
  tf: Tf;
  /** Centered training rows as a tensor, [n, d]. */
  x: Tensor2D;
  /** The same rows on the host, float64 row-major [n, d]. */
  data: Float64Array;
  n: number;
  d: number;
  k: number;
  /** This restart's random stream. */
  rng: Rng;
  /**
   * Sample (frequency) weights [n], >= 0, not all zero: a row of weight w
   * counts as w copies of it. undefined: every row counts once. An
   * initializer should weight its choices by them (the built-ins do) and
   * never seed a component on a row of weight 0.
   */
  weights?: Float64Array | undefined;
  /**
   * Runs up to `maxIter` iterations of this fit's own EM loop (all rows, the
   * fit's options) from `guess` and resolves to the lower bound reached, or
   * -Infinity when the run failed (a covariance singular even in float64, or
   * a degenerate state under degenerate: 'reject'). For initializers that
   * choose among several starts by a short EM run (emEM). When the
   * initializer returns a guess it passed here, the engine continues EM from
   * where that short run stopped instead of starting over. undefined where
   * the driver offers no EM (an initializer must then choose without it).
   */
  shortEm?: ((guess: InitialGuess, maxIter: number) => Promise<number>) | undefined;
}

/**
 * Initial guess: responsibilities (the engine runs an M-step on them, as
 * scikit-learn does) or means (optionally weights) directly.
 */
export type InitialGuess =
  | { kind: 'responsibilities'; /** [n, k], rows summing to 1, float64 row-major. */ resp: Float64Array }
  | { kind: 'means'; /** [k, d], centered coordinates. */ means: Float64Array; /** [k]. */ weights?: Float64Array };

/**
 * An initializer: kmeans, k-means++, random and random-from-data are built
 * in; bind another and name it in `initParams`.
 */
export interface Initializer {
  readonly name: string;
  readonly description: string;
  /** May be async (an initializer awaiting `input.shortEm`). */
  initialize(input: InitializerInput): InitialGuess | Promise<InitialGuess>;
}

/** An initializer that answers at once (the built-ins but emEM): callers may use its guess without awaiting. */
export interface SyncInitializer extends Initializer {
  initialize(input: InitializerInput): InitialGuess;
}
