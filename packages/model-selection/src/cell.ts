import { AbortedError, compensatedSum, type Container } from '@gmmkit/core';
import { GaussianMixture, type FitCache, type GaussianMixtureJSON, type PriorOption } from '@gmmkit/tfjs';

/**
 * One cell of a sweep: a (k, covariance family) fit. The same function runs
 * in-process and inside workers, so both paths produce the same numbers.
 */

/** EM settings shared by every cell (GaussianMixture's options). */
export interface FitSettings {
  tol?: number;
  regCovar?: number;
  maxIter?: number;
  nInit?: number;
  initParams?: string;
  /** MAP EM under mclust's conjugate prior (GaussianMixture's prior option); BIC is then at the MAP log-likelihood, as mclustBIC(..., prior = priorControl()). */
  prior?: PriorOption;
  /** GaussianMixture's `degenerate` option (default 'reject'). */
  degenerate?: 'reject' | 'warn' | 'allow';
  /** GaussianMixture's `reseeds` option: re-seeds of a degenerate component per restart under 'reject' (default 3). */
  reseeds?: number;
  /** Missing values: 'marginalize' fits and scores rows with NaN cells (GaussianMixture's option). */
  missing?: 'error' | 'marginalize';
  /** Backend name; cells pass it explicitly so GMM_BACKEND cannot switch it under the sweep. */
  backend?: string;
  /** GaussianMixture's shard workers (default 'auto'); 0 for a cell fitted beside the sweep's workers. */
  workers?: number;
}

export interface CellSpec {
  /** Index of the cell in the sweep's canonical (k, family) grid. */
  id: number;
  k: number;
  covarianceType: string;
  /** cellSeed(master, k): independent of scheduling and of the family. */
  seed: number;
}

export interface CellResult {
  id: number;
  k: number;
  covarianceType: string;
  /** Total log-likelihood of the training rows, Σ_i ln p(x_i). NaN when the cell failed. */
  logLikelihood: number;
  nParameters: number;
  /** Σ_i Σ_k -r_ik ln r_ik. */
  entropy: number;
  n: number;
  converged: boolean;
  iterations: number;
  seconds: number;
  /** Why the fit failed ("SingularCovarianceError: ..."). */
  error?: string;
  /** Why the kept solution is degenerate (GaussianMixture state.degeneracy): under 'reject' no restart was healthy. */
  degeneracy?: string;
  /** The family whose converged partition started the kept fit (SweepOptions.startFrom); absent: the cell's own start. */
  startedFrom?: string;
  /** The fitted model, for rebuilding the best one on the main thread. */
  model?: GaussianMixtureJSON;
}

/** Rows as the engine's flat input, with optional sample (frequency) weights [rows]. */
export interface MatrixData {
  rows: number;
  cols: number;
  data: Float64Array;
  sampleWeight?: Float64Array | undefined;
  /** Work kept across the fits of these rows (GaussianMixture's FitOptions.cache): one per sweep, or per sweep worker. */
  cache?: FitCache | undefined;
}

export async function fitCell(
  x: MatrixData,
  spec: CellSpec,
  settings: FitSettings,
  container: Container,
  signal?: AbortSignal,
): Promise<CellResult> {
  const started = performance.now();
  const w = x.sampleWeight;
  // n of BIC: Σ_i w_i with frequency weights (the data with row i repeated w_i times).
  const base = { id: spec.id, k: spec.k, covarianceType: spec.covarianceType, n: w === undefined ? x.rows : compensatedSum(w) };
  let gm: GaussianMixture | undefined;
  try {
    if (signal?.aborted) throw new AbortedError('sweep aborted');
    gm = new GaussianMixture({
      ...settings,
      nComponents: spec.k,
      covarianceType: spec.covarianceType,
      seed: spec.seed,
      container,
      // The fit stops within an iteration of an abort.
      ...(signal === undefined ? {} : { signal }),
      // Non-convergence is a column of the sweep's table, not a warning per cell.
      convergenceWarning: false,
    });
    const input = { data: x.data, shape: [x.rows, x.cols] as const };
    // sklearn's bic/aic use score(X) after the final E-step, not lower_bound_: the fit's
    // own final E-step (score: true) on the rows it uploaded gives Σ w ln p and the entropy.
    await gm.fit(input, { score: true, ...(w === undefined ? {} : { sampleWeight: w }), ...(x.cache === undefined ? {} : { cache: x.cache }) });
    const { logLikelihood, entropy } = gm.trainingScore!;
    const state = gm.state;
    return {
      ...base,
      logLikelihood,
      nParameters: gm.nParameters(),
      entropy,
      converged: state.converged,
      iterations: state.nIter,
      seconds: (performance.now() - started) / 1000,
      model: gm.toJSON(),
      ...(state.degeneracy === undefined ? {} : { degeneracy: state.degeneracy }),
    };
  } catch (err) {
    if (err instanceof AbortedError || signal?.aborted)
      throw err instanceof AbortedError ? err : new AbortedError('sweep aborted');
    return {
      ...base,
      logLikelihood: Number.NaN,
      nParameters: Number.NaN,
      entropy: Number.NaN,
      converged: false,
      iterations: 0,
      seconds: (performance.now() - started) / 1000,
      error: describeError(err),
    };
  } finally {
    gm?.dispose();
  }
}

function describeError(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}
