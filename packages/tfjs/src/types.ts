import type { FitCache } from './fit-cache.js';
import type { Container, Tensor2D } from '@gmmkit/core';
import type { Matrix } from './data.js';
import type { PriorOption } from './prior.js';

/**
 * Rows as nested arrays, a flat float array with its shape, a Matrix
 * `{ rows, cols, data }` (what `sample(n).X` and `predictProba` return), or a
 * tfjs tensor [n, d]. Under missing: 'marginalize', null (nested arrays) and
 * NaN (anywhere) are missing cells.
 */
export type DataInput =
  | readonly (readonly (number | null)[])[]
  | { data: Float64Array | Float32Array | readonly number[]; shape: readonly [number, number] }
  | Matrix
  | Tensor2D;

/** Built-in covariance families; any registered family name is accepted too. */
export type CovarianceType = 'full' | 'tied' | 'diag' | 'spherical' | (string & {});
/** Built-in initializers; any registered initializer name is accepted too. */
export type InitParams = 'kmeans' | 'k-means++' | 'random' | 'random-from-data' | 'emem' | (string & {});
/** 'auto' tries tensorflow (tfjs-node), then wasm, then cpu. */
export type BackendName = 'auto' | 'tensorflow' | 'wasm' | 'cpu' | (string & {});

/** Options of GaussianMixture, named and defaulted as in scikit-learn's GaussianMixture. */
export interface GaussianMixtureOptions {
  /** Number of components k (default 1). */
  nComponents?: number;
  /** Covariance family (default 'full'). */
  covarianceType?: CovarianceType;
  /** Convergence threshold on the change of the mean log-likelihood lower bound (default 1e-3). */
  tol?: number;
  /** Added to the diagonal of every covariance (default 1e-6). */
  regCovar?: number;
  /** EM iterations per initialization (default 100); 0 returns the initialization itself (nIter 0, not converged). */
  maxIter?: number;
  /** Initializations; the best lower bound is kept (default 1). */
  nInit?: number;
  /** Initializer (default 'kmeans'). */
  initParams?: InitParams;
  /** User-provided initial weights, shape [k]. */
  weightsInit?: readonly number[];
  /** User-provided initial means, shape [k, d], original units. */
  meansInit?: readonly (readonly number[])[];
  /**
   * User-provided initial precisions, nested in exactly the family's layout
   * (covarianceShape(k, d), as scikit-learn's precisions_init): full [k, d, d],
   * tied [d, d], diag [k, d], spherical [k]. Any other shape is rejected.
   */
  precisionsInit?: readonly number[] | readonly (readonly number[])[] | readonly (readonly (readonly number[])[])[];
  /** Seed driving every random choice (default 0). */
  seed?: number;
  /**
   * Reuse the last fit's parameters as the initialization of the next fit
   * (nInit is then 1), and its lower bound as the start of the convergence
   * test, as scikit-learn: repeated `maxIter: 1` fits stop once converged.
   */
  warmStart?: boolean;
  /**
   * When the kept initialization did not converge within maxIter, fit() emits
   * a Node warning of type 'ConvergenceWarning' (scikit-learn's) through
   * process.emitWarning; false silences it. warnings() lists it either way.
   * Default true.
   */
  convergenceWarning?: boolean;
  /** Called after every EM iteration with the iteration number (1-based) and the mean log-likelihood lower bound. */
  onIteration?: (iteration: number, lowerBound: number) => void;
  /** Plugin container (default: `createGmmContainer()`, the built-ins). */
  container?: Container;
  /** Rows per block in the E-step and accumulation (default: for a fit, as many as keep the density kernel's [rows, k·d] intermediate near 1.3M cells, 1024 to 32768 rows; for scoring 8192). */
  chunkSize?: number;
  /**
   * Data-parallel EM: the rows are sharded across this many worker threads,
   * each running the E-step and accumulation on its shard; the main thread
   * merges the statistics (in a fixed shard order: deterministic) and runs the
   * M-step. Results equal the single-thread fit up to the float64 summation
   * order of float32 block statistics. Default 'auto':
   * workers only when it pays (n >= 50,000 rows and n·d·k >= 4e6, at least
   * 2 cores; one per core, at most 4) and never inside a worker thread (a
   * sweep cell already runs in one). 0 = single thread. A custom covariance
   * family or backend that is not built in runs single-thread unless `plugins`
   * names the modules that register it.
   */
  workers?: number | 'auto';
  /**
   * With workers, the calling thread is one of them: it takes the first
   * shard and answers for it while the worker threads run theirs (one worker
   * thread fewer: `workers` counts the shards, so 2 is this thread and one
   * worker, 1 still one worker thread, and 'auto' starts one worker fewer
   * than the cores it uses), and
   * its event loop then runs only between requests. Default: true in Node,
   * false in browsers (a page's thread stays free).
   */
  callingThread?: boolean;
  /**
   * Plugin module specifiers (as core's loadPluginModules: paths resolve
   * against the current directory, or package names) that shard workers load
   * so families and backends registered by plugins work in workers.
   */
  plugins?: readonly string[];
  /**
   * MAP EM under mclust's conjugate prior (priorControl()): 'default' is
   * mclust's defaultPrior; an object overrides any of its fields. The M-step
   * becomes the posterior mode, the lower bound the penalized log-likelihood
   * per row; bic() and aic() use the log-likelihood at the MAP estimate, as
   * mclustBIC(..., prior = priorControl()). Families: full, tied, diag, spherical
   * (mclust's VVV, EEE, VVI, VII). Default: none (maximum likelihood).
   */
  prior?: PriorOption;
  /**
   * What to do with degenerate solutions, where a component sits on too few
   * points or has a variance pinned at regCovar (each family's rule:
   * CovarianceFamily.degeneracy, docs/degenerate-solutions.md). 'reject'
   * (default): at a degenerate M-step the restart re-seeds the component
   * (see `reseeds`) or, when it cannot, ends, and the best healthy restart
   * wins; when none is healthy the best is kept and flagged.
   * 'warn': restarts compete on likelihood alone (scikit-learn), a degenerate
   * result is flagged. 'allow': no checks. Flagged: `state.degeneracy` and `warnings()`.
   */
  degenerate?: 'reject' | 'warn' | 'allow';
  /**
   * Under degenerate: 'reject', how many times one restart re-seeds a
   * degenerate component before it ends: the heaviest other component is
   * split in two along its main axis and EM goes on, within the restart's
   * maxIter. 0 ends the restart at its first degenerate M-step. Default 3
   * (measured against ending: docs/degenerate-solutions.md).
   */
  reseeds?: number;
  /** Aborts the fit: checked between EM iterations and restarts; fit() then rejects with core's AbortedError and its workers are terminated. */
  signal?: AbortSignal;
  /**
   * Missing values (default 'error': a NaN or null cell is an error).
   * 'marginalize': NaN (and null in nested arrays) are missing cells, taken
   * as missing at random. fit runs the exact EM for them (each row's
   * likelihood is the marginal over its observed coordinates; the M-step
   * uses the conditional expectations of the missing cells), and predict,
   * predictProba, scoreSamples, score, bic, aic and impute accept them.
   * Every row needs one observed value. Needs a family with `secondFromFull`
   * (the built-ins have it).
   */
  missing?: 'error' | 'marginalize';
}

/** Per-call options of fit (and of score, bic, aic). */
export interface FitOptions {
  /**
   * Frequency weights, one finite number >= 0 per row, not all zero: a row
   * of weight w counts as w copies of it (integer weights give the fit on
   * the replicated rows). n in the lower bound and in BIC is Σ_i w_i.
   */
  sampleWeight?: ArrayLike<number>;
  /**
   * fit only: after fitting, one more E-step over the training rows under the
   * fitted model (as scikit-learn's final E-step), on the rows the fit already
   * holds (its blocks or its shard workers), kept as `trainingScore`: what
   * score/bic/scoreSamples on the same rows would give, without uploading
   * them again. Default false.
   */
  score?: boolean;
  /**
   * fit only: work kept for other fits of the same rows and weights (the data
   * moments, reusable initializers' guesses; see FitCache). A sweep passes one
   * to all its cells; a cache given rows other than its first fit's throws.
   */
  cache?: FitCache;
}

/** A fit's training rows scored under the fitted model (FitOptions.score). */
export interface TrainingScore {
  /** Σ_i w_i ln p(x_i) (w_i = 1 without sample weights); per-row values in float32, summed in float64. */
  logLikelihood: number;
  /** Σ_i w_i Σ_k -r_ik ln r_ik of the responsibilities (ICL's entropy term). */
  entropy: number;
}

/** The fitted state, in original units, float64, as scikit-learn's attributes. */
export interface FittedState {
  k: number;
  d: number;
  covarianceType: string;
  /** [k] */
  weights: Float64Array;
  /** [k, d] row-major */
  means: Float64Array;
  /** The family's layout (see CovarianceFamily.covarianceShape). */
  covariances: Float64Array;
  /** Same layout as covariances (scikit-learn's precisions_cholesky_). */
  precisionsCholesky: Float64Array;
  converged: boolean;
  /** EM iterations of the best initialization. */
  nIter: number;
  /** Mean log-likelihood lower bound of the best initialization (scikit-learn's lower_bound_). */
  lowerBound: number;
  /** Lower bound after each iteration of the best initialization. */
  lowerBoundHistory: number[];
  /** Number of training rows. */
  nSamples: number;
  /** Restarts dropped because a covariance stayed singular even in float64, one sentence each (see warnings()). */
  droppedRestarts?: string[] | undefined;
  /** Why the kept solution is degenerate (see GaussianMixtureOptions.degenerate); undefined when healthy or unchecked. */
  degeneracy?: string | undefined;
}

/** Versioned JSON form of a fitted model. */
export interface GaussianMixtureJSON {
  format: 'gmmkit.gaussian-mixture';
  version: 1;
  covarianceType: string;
  k: number;
  d: number;
  weights: number[];
  means: number[][];
  /** Flat, in the family's layout, with its shape. */
  covariances: { shape: number[]; values: number[] };
  converged: boolean;
  nIter: number;
  lowerBound: number;
  lowerBoundHistory: number[];
  nSamples: number;
  /** FittedState.degeneracy, when the model is flagged degenerate. */
  degeneracy?: string;
  /** Options the model was fitted with (JSON-safe subset); `missing` absent means 'error'. */
  options: {
    tol: number;
    regCovar: number;
    maxIter: number;
    nInit: number;
    initParams: string;
    seed: number;
    prior?: PriorOption;
    missing?: 'error' | 'marginalize';
  };
}
