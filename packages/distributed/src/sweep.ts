// A k x covariance-family sweep whose cells run on the workers: every cell is
// a distributed fit (its passes spread over all workers), several cells are in
// flight at once, and the table, criteria and choice of the best are
// model-selection's own (toRow), so the rows match an in-process sweep.
import {
  AbortedError,
  InvalidArgumentError,
  InvalidDataError,
  PluginRegistry,
  type Criterion,
} from '@gmmkit/core';
import {
  BUILTIN_COVARIANCE_TYPES,
  cellSeed,
  createSelectionContainer,
  parseKSpec,
  resolveCriterion,
  toRow,
  type CellResult,
  type KSpec,
  type SweepProgress,
  type SweepResult,
  type SweepRow,
} from '@gmmkit/model-selection';
import type { Container } from '@gmmkit/core';
import type { GaussianMixture } from '@gmmkit/tfjs';
import { Cluster, type ClusterOptions } from './coordinator.js';

export interface DistributedSweepOptions extends ClusterOptions {
  /** Values of k (default 1..9, capped at the number of rows). */
  k?: KSpec;
  /** Covariance family names (default the four built-ins); the workers must have them too. */
  covarianceTypes?: readonly string[];
  /** 'bic' (default), 'aic', 'icl', a registered criterion or a Criterion object. Lower is better. */
  criterion?: string | Criterion;
  nInit?: number;
  seed?: number;
  tol?: number;
  regCovar?: number;
  maxIter?: number;
  initParams?: string;
  /** Degenerate cells (see the in-process sweep's option): 'reject' (default, never chosen), 'warn' (flagged), 'allow' (not checked). */
  degenerate?: 'reject' | 'warn' | 'allow';
  /** Under 'reject', re-seeds of a degenerate component per restart (GaussianMixture's `reseeds`, default 3). */
  reseeds?: number;
  /** Families, initializers and criteria for the coordinator (default the built-ins and criteria). */
  container?: Container;
  /** Backend of the coordinator's own small work (initializer on the sample, the returned model). */
  backend?: string;
  /** Cells fitted at once (default: the number of workers, at least 2). */
  parallel?: number;
  onProgress?: (progress: SweepProgress) => void;
}

export interface DistributedSweepResult extends SweepResult {
  n: number;
  d: number;
  columns: string[];
  fitId: string;
  /** Backends of the workers that answered. */
  backends: string[];
}

/** Fits every (k, family) cell on the workers and picks the best by the criterion. */
export async function sweepDistributed(options: DistributedSweepOptions): Promise<DistributedSweepResult> {
  const container = options.container ?? createSelectionContainer();
  const registry = new PluginRegistry(container);
  const families = [...(options.covarianceTypes ?? BUILTIN_COVARIANCE_TYPES)];
  if (families.length === 0)
    throw new InvalidArgumentError('covarianceTypes is empty: name at least one covariance family');
  if (new Set(families).size !== families.length)
    throw new InvalidArgumentError(`covarianceTypes has duplicates: ${families.join(', ')}`);
  for (const f of families) registry.covarianceFamily(f);
  const initParams = options.initParams ?? 'kmeans';
  registry.initializer(initParams);
  const criterion = resolveCriterion(options.criterion ?? 'bic', container);
  const requested = options.k === undefined ? undefined : parseKSpec(options.k);
  const seed = options.seed ?? 0;
  const degenerate = options.degenerate ?? 'reject';
  if (degenerate !== 'reject' && degenerate !== 'warn' && degenerate !== 'allow')
    throw new InvalidArgumentError(`degenerate must be 'reject', 'warn' or 'allow', got ${String(degenerate)}`);
  // Under 'reject' a degenerate cell is never chosen, as in the in-process sweep.
  const eligible = (row: SweepRow): boolean => Number.isFinite(row.score) && !(degenerate === 'reject' && row.degenerate);

  const cluster = await Cluster.open(options);
  try {
    const ks = requested ?? Array.from({ length: Math.min(9, cluster.n) }, (_, i) => i + 1);
    const tooBig = ks.filter((k) => k > cluster.n);
    if (tooBig.length > 0)
      throw new InvalidArgumentError(`k = ${tooBig.join(', ')} exceeds the number of rows (${cluster.n})`);
    const cells = ks.flatMap((k) => families.map((covarianceType) => ({ k, covarianceType })));
    const rows: SweepRow[] = new Array<SweepRow>(cells.length);
    const models: (GaussianMixture | undefined)[] = new Array<GaussianMixture | undefined>(cells.length);
    // Largest k first balances the load, as the in-process sweep does.
    const queue = cells.map((_, i) => i).sort((a, b) => cells[b]!.k - cells[a]!.k || a - b);
    let done = 0;
    const runCell = async (id: number): Promise<void> => {
      const { k, covarianceType } = cells[id]!;
      const started = performance.now();
      let result: CellResult;
      try {
        const model = await cluster.fit({
          nComponents: k,
          covarianceType,
          initParams,
          seed: cellSeed(seed, k),
          degenerate,
          container,
          // Non-convergence is a column of the sweep's table, not a warning per cell.
          convergenceWarning: false,
          ...(options.nInit === undefined ? {} : { nInit: options.nInit }),
          ...(options.tol === undefined ? {} : { tol: options.tol }),
          ...(options.regCovar === undefined ? {} : { regCovar: options.regCovar }),
          ...(options.maxIter === undefined ? {} : { maxIter: options.maxIter }),
          ...(options.reseeds === undefined ? {} : { reseeds: options.reseeds }),
          ...(options.backend === undefined ? {} : { backend: options.backend }),
        });
        models[id] = model;
        const { logLikelihood, entropy } = await cluster.score(model);
        const s = model.state;
        result = {
          id,
          k,
          covarianceType,
          logLikelihood,
          nParameters: model.nParameters(),
          entropy,
          n: cluster.n,
          converged: s.converged,
          iterations: s.nIter,
          seconds: (performance.now() - started) / 1000,
          ...(s.degeneracy === undefined ? {} : { degeneracy: s.degeneracy }),
        };
      } catch (err) {
        // Infrastructure failures end the sweep; a cell's own numerical failure is a row.
        if (err instanceof AbortedError || options.signal?.aborted || !isCellFailure(err)) throw err;
        result = {
          id,
          k,
          covarianceType,
          logLikelihood: Number.NaN,
          nParameters: Number.NaN,
          entropy: Number.NaN,
          n: cluster.n,
          converged: false,
          iterations: 0,
          seconds: (performance.now() - started) / 1000,
          error: `${(err as Error).name}: ${(err as Error).message}`,
        };
      }
      rows[id] = toRow(result, criterion);
      done++;
      options.onProgress?.({ done, total: cells.length, row: rows[id] });
    };
    const lanes = Math.max(1, options.parallel ?? Math.max(2, cluster.workers.length));
    let failure: unknown;
    await Promise.all(
      Array.from({ length: Math.min(lanes, cells.length) }, async () => {
        for (let id = queue.shift(); id !== undefined && failure === undefined; id = queue.shift()) {
          try {
            await runCell(id);
          } catch (err) {
            failure ??= err;
          }
        }
      }),
    );
    if (failure !== undefined) throw failure;
    let bestId = -1;
    rows.forEach((row, id) => {
      if (eligible(row) && (bestId < 0 || row.score < rows[bestId]!.score)) bestId = id;
    });
    if (bestId < 0) {
      const reasons = [
        ...new Set(rows.map((r) => r.error ?? (r.degenerate ? `degenerate: ${r.degeneracy}` : 'non-finite score'))),
      ];
      throw new InvalidDataError(`every cell of the sweep failed: ${reasons.slice(0, 3).join('; ')}`);
    }
    models.forEach((m, id) => id !== bestId && m?.dispose());
    return {
      criterion: criterion.name,
      degenerate,
      rows,
      best: rows[bestId]!,
      model: models[bestId]!,
      workers: cluster.workers.length,
      backend: [...cluster.backends].sort().join(','),
      backends: [...cluster.backends].sort(),
      n: cluster.n,
      d: cluster.d,
      columns: cluster.columns,
      fitId: cluster.fitId,
    };
  } finally {
    await cluster.close();
  }
}

/** Errors that belong to one cell (singular covariances, non-finite likelihoods) rather than to the cluster. */
function isCellFailure(err: unknown): boolean {
  return err instanceof Error && 'code' in err && (err as { code: unknown }).code === 'SINGULAR_COVARIANCE';
}
