// The float64 fallback of the M-step: a component of a few rows in large
// units loses its covariance to float32 rounding even about its mean; the
// engine then recomputes its statistics in float64 from the host rows.
import { readFileSync } from 'node:fs';
import { SingularCovarianceError, createRng, registerPlugins, type CovarianceFamily } from '@gmmkit/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { GaussianMixture, createGmmContainer, fullCovariance, initBackend, tf } from '../src/index.js';

beforeAll(async () => {
  await initBackend('wasm');
});

const d = 4;
// 200 rows around the origin and 4 rows (fewer than d + 1: their scatter is singular) around 1000, spread 100
// (seed 2: one where float32 statistics fail even about the means, see the second test).
const rng = createRng(2);
const big = Array.from({ length: 200 }, () => Array.from({ length: d }, () => 30 * rng.normal()));
const small = Array.from({ length: 4 }, () => Array.from({ length: d }, () => 1000 + 100 * rng.normal()));
const X = [...big, ...small];

/** Mean and covariance (divided by n, + reg I) of rows in float64. */
function exactCovariance(rows: number[][], reg: number): { mean: number[]; cov: number[] } {
  const mean = Array.from({ length: d }, (_, a) => rows.reduce((s, r) => s + r[a]!, 0) / rows.length);
  const cov = new Array<number>(d * d).fill(0);
  for (const r of rows) for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) cov[a * d + b] += ((r[a]! - mean[a]!) * (r[b]! - mean[b]!)) / rows.length;
  for (let a = 0; a < d; a++) cov[a * d + a] += reg;
  return { mean, cov };
}

/** The two groups as the starting point (weights, means, precisions), so no initializer is involved. */
function start(): Pick<ConstructorParameters<typeof GaussianMixture>[0] & object, 'weightsInit' | 'meansInit' | 'precisionsInit'> {
  const eye = (v: number) => Array.from({ length: d }, (_, a) => Array.from({ length: d }, (_, b) => (a === b ? v : 0)));
  return {
    weightsInit: [200 / 204, 4 / 204],
    meansInit: [new Array<number>(d).fill(0), new Array<number>(d).fill(1000)],
    precisionsInit: [eye(1 / 900), eye(1 / 900)],
  };
}

describe('float64 fallback of the M-step', () => {
  it('fits a tiny component in large units that float32 statistics cannot, with its exact covariance', async () => {
    const before = tf.memory().numTensors;
    const g = await new GaussianMixture({ nComponents: 2, ...start(), maxIter: 5, degenerate: 'allow', seed: 0 }).fit(X);
    expect(tf.memory().numTensors).toBe(before);
    const s = g.state;
    const j = s.means[d]! > 500 ? 1 : 0;
    const { mean, cov } = exactCovariance(small, 1e-6);
    // means from float32 sums over rows near 1000: ~1e-5
    for (let a = 0; a < d; a++) expect(Math.abs(s.means[j * d + a]! - mean[a]!)).toBeLessThan(1e-3);
    const got = s.covariances.subarray(j * d * d, (j + 1) * d * d);
    // entries of size ~1e4: the same matrix to float32-mean accuracy, and positive definite (it factored)
    for (let i = 0; i < d * d; i++) expect(Math.abs(got[i]! - cov[i]!)).toBeLessThan(1e-6 * 1e4);
    expect(s.droppedRestarts).toBeUndefined();
  });

  it('without accumulateHost the same fit fails (the test has teeth), and the error says why', async () => {
    const { accumulateHost: _, ...noHost } = fullCovariance as CovarianceFamily & { accumulateHost: unknown };
    const family: CovarianceFamily = { ...noHost, name: 'full-no-host' };
    const container = createGmmContainer();
    registerPlugins(container, { covarianceFamilies: [family] });
    const g = new GaussianMixture({ nComponents: 2, covarianceType: 'full-no-host', container, ...start(), maxIter: 5, degenerate: 'allow' });
    await expect(g.fit(X)).rejects.toThrow(SingularCovarianceError);
  });
});

function csv(file: string): number[][] {
  const lines = readFileSync(new URL(`../../../data/${file}`, import.meta.url), 'utf8').trim().split('\n').slice(1);
  return lines.map((l) => l.split(',').slice(1).map(Number)); // the first column is the class label
}

describe('fits scikit-learn completes (fixtures/sklearn/trust.json) do not fail', () => {
  const fixture = JSON.parse(readFileSync(new URL('../../../fixtures/sklearn/trust.json', import.meta.url), 'utf8')) as {
    cases: { dataset: string; covarianceType: string; k: number; nInit: number; lowerBound: number; converged: boolean }[];
  };
  const data = new Map<string, number[][]>();
  it.each(fixture.cases.map((c) => [`${c.dataset} ${c.covarianceType} k=${c.k}`, c] as const))('%s', async (_name, c) => {
    if (!data.has(c.dataset)) data.set(c.dataset, csv(`${c.dataset}.csv`));
    const X = data.get(c.dataset)!;
    const g = await new GaussianMixture({ nComponents: c.k, covarianceType: c.covarianceType, nInit: c.nInit, seed: 0, degenerate: 'allow' }).fit(X);
    expect(Number.isFinite(g.state.lowerBound)).toBe(true);
    expect(g.state.droppedRestarts).toBeUndefined();
    // a comparable optimum: within 1 nat per row of scikit-learn's best of the same number of restarts
    expect(g.state.lowerBound).toBeGreaterThan(c.lowerBound - 1);
  });
});
