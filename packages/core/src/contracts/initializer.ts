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
   * `tol`, when given and tighter than the fit's, is the run's stopping
   * tolerance instead (a final polish of the chosen state, as 'smem''s).
   */
  shortEm?: ((guess: InitialGuess, maxIter: number, tol?: number) => Promise<number>) | undefined;
}

/**
 * Initial guess: responsibilities (the engine runs an M-step on them, as
 * scikit-learn does), labels (hard responsibilities, as k-means gives: the
 * same M-step without the [n, k] matrix) or means (optionally weights) directly.
 */
export type InitialGuess =
  | { kind: 'responsibilities'; /** [n, k], rows summing to 1, float64 row-major. */ resp: Float64Array }
  | { kind: 'labels'; /** [n], each row's component, 0..k-1: responsibility 1 there, 0 elsewhere. */ labels: Int32Array }
  | { kind: 'means'; /** [k, d], centered coordinates. */ means: Float64Array; /** [k]. */ weights?: Float64Array };

/** The guesses the engine runs its first M-step on: soft or hard responsibilities. */
export type Responsibilities = Extract<InitialGuess, { kind: 'responsibilities' | 'labels' }>;

/**
 * An initializer: kmeans, k-means++, random and random-from-data are built
 * in; bind another and name it in `initParams`.
 */
export interface Initializer {
  readonly name: string;
  readonly description: string;
  /** May be async (an initializer awaiting `input.shortEm`). */
  initialize(input: InitializerInput): InitialGuess | Promise<InitialGuess>;
  /**
   * True when the guess depends only on the rows, k, the random stream and
   * the weights (not on `shortEm`, the covariance family or any state), so
   * fits of the same rows may reuse it (the sweep's FitCache shares one
   * k-means per k and restart across the families). Default false.
   */
  readonly reusable?: boolean;
  /**
   * Optional second stage: once the nInit restarts have run, the engine calls
   * it once with the best restart's converged state (`input.start`); it may
   * search for a better optimum from there (split-and-merge moves) with
   * `input.shortEm`, and resolves to `input.start` (keep it) or to a guess it
   * passed to shortEm, from which EM continues. The engine keeps the result
   * only when its lower bound beats the best restart's, so the fit's bound
   * never drops. `input.others` offers the other restarts' converged states
   * (distinct ones, best first) for a search that starts from them too; a
   * guess it resolves to may also be one of theirs or one passed to shortEm
   * from theirs. Not called for warm starts or preset parameters.
   */
  refine?(input: RefineInput): Promise<InitialGuess>;
}

/** What Initializer.refine sees: the initializer's input (its own random stream) plus the best restart. */
export interface RefineInput extends InitializerInput {
  shortEm: NonNullable<InitializerInput['shortEm']>;
  /** Stands for the best restart's converged state: pass it to `weightedLogProb`, or return it to keep that state. */
  start: InitialGuess;
  /** The best restart's lower bound. */
  lowerBound: number;
  /** The fit's stopping tolerance (EM stops once an iteration changes the lower bound by less). */
  tol: number;
  /**
   * log w_k + log N(x_i | θ_k) (the E-step's log-weights and log-densities),
   * [n, k] float64 row-major, under the state `start` stands for or the state
   * the last shortEm run from `guess` stopped at; undefined for a guess that
   * has no such state (never passed to shortEm, or its run failed).
   */
  weightedLogProb(guess: InitialGuess): Float64Array | undefined;
  /**
   * The other restarts' converged states, best first, distinct solutions
   * only: a restart whose lower bound is within `tol` of the best's or of a
   * restart already listed is left out (it most likely ended at the same
   * optimum), as are restarts 'reject' would not keep. Each `start()` stands
   * for that state as `start` does for the best (pass it to
   * `weightedLogProb` or shortEm, or return it); it is built on its first
   * call, which costs an E-step over all rows, so an initializer pays only
   * for the ones it looks at. [] when no other restart is distinct (one
   * restart); undefined where the driver offers none (an older engine).
   */
  others?: readonly OtherRestart[] | undefined;
}

/** Another restart's converged state, as RefineInput.others lists it. */
export interface OtherRestart {
  /** Its lower bound (below the best restart's). */
  lowerBound: number;
  /** Stands for its converged state (built, and then the same guess returned, on the first call). */
  start(): InitialGuess;
}

/** An initializer that answers at once (the built-ins but emEM): callers may use its guess without awaiting. */
export interface SyncInitializer extends Initializer {
  initialize(input: InitializerInput): InitialGuess;
}
