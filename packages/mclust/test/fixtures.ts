// Reads the mclust fixtures written by fixtures/generate-mclust.R.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Initializer } from '@gmmkit/core';

export interface MclustFit {
  loglik: number;
  iterations: number;
  pro: number[];
  mean: number[][];
  sigma: number[][][];
}

export interface MclustFixture {
  dataset: string;
  n: number;
  d: number;
  columns: string[];
  k: number[];
  /** mclust's sign (2 LL - p ln n, higher is better); null = NA. */
  bic: Record<string, (number | null)[]>;
  /** mclustBIC's return codes: 0 fitted, -1 singular covariance, -2/-3 a mixing proportion fell below threshold. */
  returnCodes: Record<string, number[]>;
  top: { model: string; k: number; bic: number };
  /** [k - 1][i]: mclust's starting partitions, 1-based labels. */
  hclass: number[][];
  fitK: number;
  fits: Record<string, MclustFit | null>;
  X: number[][];
}

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const FIXTURE_DIR = path.join(ROOT, 'fixtures', 'mclust');
export const DATASETS = ['iris', 'faithful', 'diabetes', 'banknote', 'thyroid', 'acidity'] as const;

export function loadFixture(name: string): MclustFixture {
  return JSON.parse(readFileSync(path.join(FIXTURE_DIR, `${name}.json`), 'utf8')) as MclustFixture;
}

/** An initializer returning a fixed partition as one-hot responsibilities (mclust's unmap). */
export function partitionInitializer(name: string, labels: readonly number[]): Initializer {
  return {
    name,
    description: 'a fixed starting partition (test)',
    initialize({ n, k }) {
      const resp = new Float64Array(n * k);
      for (let i = 0; i < n; i++) resp[i * k + labels[i]! - 1] = 1;
      return { kind: 'responsibilities', resp };
    },
  };
}
