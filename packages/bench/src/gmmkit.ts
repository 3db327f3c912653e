/**
 * gmmkit's side: per-iteration EM time from the onIteration timestamps of a
 * fit with tol = 0, a fixed maxIter and fixed initial parameters; the k x
 * family sweep through @gmmkit/model-selection.
 *
 * The engine packages are imported dynamically and used through the small
 * interfaces below, so the harness builds and reports a clear reason even
 * when they are not built (or their API moved).
 */
import type { Dataset, Family, InitParameters } from './data.js';
import type { MatMulTf } from './roofline.js';
import { median } from './stats.js';

interface FitInput {
  data: Float64Array;
  shape: [number, number];
}
interface GaussianMixtureLike {
  fit(x: FitInput): Promise<unknown>;
  dispose(): void;
  readonly state?: { nIter?: number; lowerBound?: number } | undefined;
}
interface TfjsModule {
  GaussianMixture: new (options: Record<string, unknown>) => GaussianMixtureLike;
  initBackend(name?: string): Promise<{ name: string; tfBackend: string } | string | undefined>;
  tf?: { memory(): { numTensors: number; numBytes: number } } & MatMulTf;
}
interface SweepResultLike {
  best: { k: number; covarianceType: string; score: number };
  rows: { k: number; covarianceType: string; iterations: number; error?: string }[];
  model?: { dispose(): void };
  workers: number;
  backend: string;
}
interface ModelSelectionModule {
  sweep(options: Record<string, unknown>): Promise<SweepResultLike>;
}

export type Loaded<T> = { ok: true; mod: T } | { ok: false; reason: string };

async function load<T>(specifier: string): Promise<Loaded<T>> {
  try {
    return { ok: true, mod: (await import(specifier)) as T };
  } catch (err) {
    const msg = err instanceof Error ? err.message.split('\n')[0]! : String(err);
    return { ok: false, reason: `${specifier} could not be loaded (${msg}); build it with \`pnpm build\`` };
  }
}

export const loadTfjs = (): Promise<Loaded<TfjsModule>> => load<TfjsModule>('@gmmkit/tfjs');
export const loadModelSelection = (): Promise<Loaded<ModelSelectionModule>> =>
  load<ModelSelectionModule>('@gmmkit/model-selection');

/** Activates `backend`; returns the tfjs backend name that is active. */
export async function useBackend(tfjs: TfjsModule, backend: string): Promise<string> {
  const info = await tfjs.initBackend(backend);
  if (typeof info === 'string') return info;
  return info?.tfBackend ?? backend;
}

export interface GmmkitTiming {
  msPerIter: number;
  runs: number[];
  iters: number;
  /** EM iterations the last fit reported. */
  nIter: number | null;
  lowerBound: number | null;
}

/**
 * `repeats` fits of `iters` EM iterations (tol 0) from `init`; per fit the
 * median of the gaps between consecutive onIteration calls (so the first
 * iteration, which includes setup and warm-up, is skipped); median over fits.
 */
export async function timeGmmkitPerIter(
  tfjs: TfjsModule,
  backend: string,
  ds: Dataset,
  k: number,
  family: Family,
  init: InitParameters,
  iters: number,
  repeats: number,
  /** Passed as the `workers` option when set (0 = single thread); else the engine's default. */
  workers?: number,
  /** More GaussianMixture options (e.g. { missing: 'marginalize' }). */
  extra: Record<string, unknown> = {},
): Promise<GmmkitTiming> {
  const runs: number[] = [];
  let nIter: number | null = null;
  let lowerBound: number | null = null;
  for (let r = 0; r < repeats; r++) {
    const stamps: number[] = [];
    const gm = new tfjs.GaussianMixture({
      nComponents: k,
      covarianceType: family,
      tol: 0,
      maxIter: iters,
      nInit: 1,
      weightsInit: init.weights,
      meansInit: init.means,
      precisionsInit: init.precisions,
      seed: 0,
      backend,
      convergenceWarning: false, // tol 0: a fixed number of iterations, by design
      ...(workers === undefined ? {} : { workers }),
      ...extra,
      onIteration: () => {
        stamps.push(performance.now());
      },
    });
    try {
      await gm.fit({ data: ds.data, shape: [ds.n, ds.d] });
      nIter = gm.state?.nIter ?? null;
      lowerBound = gm.state?.lowerBound ?? null;
    } finally {
      gm.dispose();
    }
    const gaps: number[] = [];
    for (let i = 1; i < stamps.length; i++) gaps.push(stamps[i]! - stamps[i - 1]!);
    if (gaps.length === 0)
      throw new Error(`only ${stamps.length} onIteration call(s): cannot time an iteration`);
    runs.push(median(gaps));
  }
  return { msPerIter: median(runs), runs, iters, nIter, lowerBound };
}

export interface GmmkitSweepTiming {
  ms: number;
  runs: number[];
  workers: number;
  backend: string;
  best: { k: number; covarianceType: string; bic: number };
  failedCells: number;
}

/** Wall time of sweep({ k, covarianceTypes, criterion: 'bic', nInit: 1, seed, workers }), median over `repeats`. */
export async function timeGmmkitSweep(
  ms: ModelSelectionModule,
  backend: string,
  ds: Dataset,
  ks: number[],
  families: readonly Family[],
  seed: number,
  workers: number | undefined,
  repeats: number,
): Promise<GmmkitSweepTiming> {
  const runs: number[] = [];
  let last: SweepResultLike | undefined;
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    const res = await ms.sweep({
      data: { data: ds.data, shape: [ds.n, ds.d] },
      k: ks,
      covarianceTypes: families,
      criterion: 'bic',
      nInit: 1,
      seed,
      backend,
      ...(workers === undefined ? {} : { workers }),
    });
    runs.push(performance.now() - t0);
    res.model?.dispose();
    last = res;
  }
  const res = last!;
  return {
    ms: median(runs),
    runs,
    workers: res.workers,
    backend: res.backend,
    best: { k: res.best.k, covarianceType: res.best.covarianceType, bic: res.best.score },
    failedCells: res.rows.filter((row) => row.error !== undefined).length,
  };
}
