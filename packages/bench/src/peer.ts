/**
 * The npm package `gaussian-mixture-model` (full covariance only, plain JS,
 * probability space, one row at a time) timed per EM iteration.
 *
 * It is loaded through its CommonJS build: version 1.1.5 requires
 * `cholesky-tools` without declaring it, so under pnpm it resolves only when
 * `cholesky-tools` is installed (a `packageExtensions` entry) or found on
 * NODE_PATH. When it cannot load, the report says why.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Dataset, InitParameters } from './data.js';
import { toRows } from './data.js';
import { median } from './stats.js';

interface PeerModel {
  addPoint(point: number[]): void;
  runEM(iterations?: number): unknown;
  weights: number[];
}
type PeerCtor = new (opts: {
  weights: number[];
  means: number[][];
  covariances: number[][][];
  bufferSize: number;
}) => PeerModel;

export type PeerLoad =
  { ok: true; ctor: PeerCtor; version: string; choleskyTools: string } | { ok: false; reason: string };

export function loadPeer(): PeerLoad {
  const require = createRequire(import.meta.url);
  try {
    const mod = require('gaussian-mixture-model') as { default?: PeerCtor } | PeerCtor;
    const ctor = typeof mod === 'function' ? mod : mod.default;
    if (typeof ctor !== 'function')
      return { ok: false, reason: 'gaussian-mixture-model has no default export' };
    // package.json is not in its "exports": read it next to the resolved entry (script/index.js).
    const pkgPath = join(dirname(require.resolve('gaussian-mixture-model')), '..', 'package.json');
    const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { version: string };
    // Where its undeclared dependency came from (a packageExtensions install, or NODE_PATH).
    const fromPeer = createRequire(require.resolve('gaussian-mixture-model'));
    const cholPath = fromPeer.resolve('cholesky-tools/package.json');
    const chol = JSON.parse(readFileSync(cholPath, 'utf8')) as { version: string };
    return {
      ok: true,
      ctor,
      version: pkg.version,
      choleskyTools: `cholesky-tools ${chol.version} from ${dirname(cholPath)}`,
    };
  } catch (err) {
    const msg = err instanceof Error ? err.message.split('\n')[0]! : String(err);
    if (msg.includes('cholesky-tools')) {
      return {
        ok: false,
        reason:
          'gaussian-mixture-model 1.1.5 requires the undeclared package cholesky-tools, which is not installed ' +
          '(add it with a pnpm packageExtensions entry, or put it on NODE_PATH)',
      };
    }
    return { ok: false, reason: `gaussian-mixture-model failed to load: ${msg}` };
  }
}

/** Covariances [k][d][d] from full precisions [k][d][d] that are diagonal (as initialParameters makes them). */
function covariancesFromDiagonalPrecisions(init: InitParameters, d: number): number[][][] {
  const prec = init.precisions as number[][][];
  return prec.map((p) =>
    Array.from({ length: d }, (_, i) => Array.from({ length: d }, (_, j) => (i === j ? 1 / p[i]![i]! : 0))),
  );
}

export interface PeerTiming {
  msPerIter: number;
  runs: number[];
  iters: number;
}

/** Median ms of `runEM(1)` over `iters` iterations (the first skipped), median over `repeats` runs. */
export function timePeer(
  ctor: PeerCtor,
  ds: Dataset,
  init: InitParameters,
  iters: number,
  repeats: number,
): PeerTiming {
  const rows = toRows(ds);
  const runs: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const model = new ctor({
      weights: init.weights.slice(),
      means: init.means.map((m) => m.slice()),
      covariances: covariancesFromDiagonalPrecisions(init, ds.d),
      bufferSize: ds.n,
    });
    for (const row of rows) model.addPoint(row);
    const times: number[] = [];
    for (let i = 0; i < iters; i++) {
      const t0 = performance.now();
      const singular = model.runEM(1);
      times.push(performance.now() - t0);
      if (singular) throw new Error('gaussian-mixture-model hit a singular covariance');
    }
    if (!model.weights.every(Number.isFinite))
      throw new Error('gaussian-mixture-model produced non-finite weights (underflow)');
    runs.push(median(times.length > 1 ? times.slice(1) : times));
  }
  return { msPerIter: median(runs), runs, iters };
}
