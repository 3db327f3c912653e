// Shared by the Bayesian mixture tests: the scikit-learn fixture and an
// initializer plugin that starts from given labels (scikit-learn's k-means labels).
import { readFileSync } from 'node:fs';
import { pluginModule, type Initializer } from '@gmmkit/core';
import { createGmmContainer } from '../src/index.js';

export interface BayesianCase {
  covarianceType: 'full' | 'tied' | 'diag' | 'spherical';
  weightConcentrationPriorType: 'dirichlet-process' | 'dirichlet-distribution';
  initLabels: number[];
  result: {
    weights: number[];
    means: number[][];
    covariances: number | number[] | number[][] | number[][][];
    weightConcentration: number[] | number[][];
    meanPrecision: number[];
    degreesOfFreedom: number[];
    lowerBound: number;
    lowerBoundHistory: number[];
    nIter: number;
    converged: boolean;
    score: number;
    predictProbaHead: number[][];
    effectiveComponents: number;
  };
  priors: {
    weightConcentrationPrior: number;
    meanPrecisionPrior: number;
    meanPrior: number[];
    degreesOfFreedomPrior: number;
    covariancePrior: number | number[] | number[][];
  };
}

export interface BayesianDataset {
  dataset: string;
  n: number;
  d: number;
  X: number[][];
  cases: BayesianCase[];
}

export interface BayesianFixture {
  provenance: { nComponents: number; options: { tol: number; regCovar: number; maxIter: number } };
  datasets: BayesianDataset[];
}

export const bayesianFixture = JSON.parse(
  readFileSync(new URL('../../../fixtures/sklearn/bayesian.json', import.meta.url), 'utf8'),
) as BayesianFixture;

export const flat = (a: unknown): number[] => (Array.isArray(a) ? (a as unknown[]).flat(3) : [a]) as number[];

/** A container whose 'given-labels' initializer returns one-hot responsibilities of `labels` (k components). */
export function labelsContainer(labels: readonly number[], k: number) {
  const init: Initializer = {
    name: 'given-labels',
    description: 'one-hot responsibilities of fixed labels (test only)',
    initialize({ n }) {
      if (n !== labels.length) throw new Error(`given-labels: ${labels.length} labels for ${n} rows`);
      const resp = new Float64Array(n * k);
      labels.forEach((l, i) => (resp[i * k + l] = 1));
      return { kind: 'responsibilities', resp };
    },
  };
  return createGmmContainer(pluginModule({ initializers: [init] }));
}
