/**
 * Deterministic synthetic data and fixed initial parameters.
 *
 * Every implementation in a benchmark run (gmmkit, scikit-learn, mclust, the
 * JS peer) gets the very same rows and the very same starting parameters, so
 * the per-iteration times compare the same work.
 */
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRng } from '@gmmkit/core';

/** Rows [n, d] row-major, float64. */
export interface Dataset {
  n: number;
  d: number;
  data: Float64Array;
  /** Components the data was drawn from. */
  kTrue: number;
  seed: number;
}

export type Family = 'full' | 'tied' | 'diag' | 'spherical';
export const FAMILIES: readonly Family[] = ['full', 'tied', 'diag', 'spherical'];
/** mclust's model names for the four families. */
export const MCLUST_MODEL: Record<Family, string> = {
  full: 'VVV',
  tied: 'EEE',
  diag: 'VVI',
  spherical: 'VII',
};

/**
 * Draw n rows in d dimensions from a mixture of kTrue Gaussians with random
 * means (spread 4 per coordinate) and random correlated covariances
 * (x = mu + A z with A = I + 0.3 * noise), equal weights.
 */
export function generateDataset(n: number, d: number, kTrue: number, seed: number): Dataset {
  const rng = createRng(seed);
  const means: Float64Array[] = [];
  const factors: Float64Array[] = [];
  for (let c = 0; c < kTrue; c++) {
    const mu = new Float64Array(d);
    for (let j = 0; j < d; j++) mu[j] = 4 * rng.normal();
    means.push(mu);
    const a = new Float64Array(d * d);
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) a[i * d + j] = (i === j ? 1 : 0) + 0.3 * rng.normal();
    }
    factors.push(a);
  }
  const data = new Float64Array(n * d);
  const z = new Float64Array(d);
  for (let r = 0; r < n; r++) {
    const c = rng.int(kTrue);
    const mu = means[c]!;
    const a = factors[c]!;
    for (let j = 0; j < d; j++) z[j] = rng.normal();
    const off = r * d;
    for (let i = 0; i < d; i++) {
      let s = mu[i]!;
      for (let j = 0; j < d; j++) s += a[i * d + j]! * z[j]!;
      data[off + i] = s;
    }
  }
  return { n, d, data, kTrue, seed };
}

/** Fixed initial parameters in scikit-learn's layout (weights_init, means_init, precisions_init). */
export interface InitParameters {
  weights: number[];
  /** [k][d] */
  means: number[][];
  /** full: [k][d][d]; tied: [d][d]; diag: [k][d]; spherical: [k]. */
  precisions: number[] | number[][] | number[][][];
}

/**
 * Uniform weights, k distinct rows of the data (chosen by `seed`) as means,
 * and precisions = 1 / per-dimension variance of the data (spherical: 1 / mean variance).
 */
export function initialParameters(ds: Dataset, k: number, family: Family, seed: number): InitParameters {
  const { n, d, data } = ds;
  const rng = createRng(seed);
  const chosen = new Set<number>();
  while (chosen.size < Math.min(k, n)) chosen.add(rng.int(n));
  const means = [...chosen].map((r) => Array.from(data.subarray(r * d, r * d + d)));
  const variance = columnVariances(ds);
  const inv = variance.map((v) => 1 / v);
  const weights = new Array<number>(k).fill(1 / k);
  const diagMatrix = (): number[][] =>
    Array.from({ length: d }, (_, i) => Array.from({ length: d }, (_, j) => (i === j ? inv[i]! : 0)));
  let precisions: InitParameters['precisions'];
  switch (family) {
    case 'full':
      precisions = Array.from({ length: k }, diagMatrix);
      break;
    case 'tied':
      precisions = diagMatrix();
      break;
    case 'diag':
      precisions = Array.from({ length: k }, () => inv.slice());
      break;
    case 'spherical': {
      const meanVar = variance.reduce((a, b) => a + b, 0) / d;
      precisions = new Array<number>(k).fill(1 / meanVar);
      break;
    }
  }
  return { weights, means, precisions };
}

export function columnVariances(ds: Dataset): number[] {
  const { n, d, data } = ds;
  const mean = new Float64Array(d);
  for (let r = 0; r < n; r++) for (let j = 0; j < d; j++) mean[j]! += data[r * d + j]!;
  for (let j = 0; j < d; j++) mean[j]! /= n;
  const v = new Float64Array(d);
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < d; j++) {
      const x = data[r * d + j]! - mean[j]!;
      v[j]! += x * x;
    }
  }
  return Array.from(v, (s) => s / n);
}

/** Rows as nested arrays (for the JS peer). */
export function toRows(ds: Dataset): number[][] {
  const rows: number[][] = [];
  for (let r = 0; r < ds.n; r++) rows.push(Array.from(ds.data.subarray(r * ds.d, r * ds.d + ds.d)));
  return rows;
}

/** A temporary directory for data handed to python / R; `cleanup()` removes it. */
export interface TempDir {
  path: string;
  /** Write the rows as raw little-endian float64 (row-major) and return the file path. */
  writeDataset(name: string, ds: Dataset): string;
  writeJson(name: string, value: unknown): string;
  cleanup(): void;
}

export function createTempDir(prefix = 'gmmkit-bench-'): TempDir {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return {
    path,
    writeDataset(name, ds) {
      const file = join(path, name);
      const bytes = new Uint8Array(ds.data.buffer, ds.data.byteOffset, ds.data.byteLength);
      // Float64Array is host-endian; x86-64 and arm64 are little-endian.
      writeFileSync(file, bytes);
      return file;
    },
    writeJson(name, value) {
      const file = join(path, name);
      writeFileSync(file, JSON.stringify(value));
      return file;
    },
    cleanup() {
      rmSync(path, { recursive: true, force: true });
    },
  };
}
