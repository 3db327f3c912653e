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
  initialize(input: InitializerInput): InitialGuess;
}
