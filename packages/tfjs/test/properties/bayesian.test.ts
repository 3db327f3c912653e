// Properties of BayesianGaussianMixture (variational inference on the engine's
// EM loop), for every covariance type x both weight prior types:
//  B1: the ELBO never decreases across iterations (+ teeth: a variational
//      M-step on covariances inflated x3 must fail it);
//  B2: the weights are >= 0 and sum to 1;
//  B3: on well-separated data, surplus components are switched off: with an
//      upper bound of clusters + 3 components, exactly `clusters` keep a weight > 1e-2.
import { InvalidArgumentError, createContainer, createRng, pluginModule, PluginRegistry, type Container } from '@gmmkit/core';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { BayesianGaussianMixture, builtinPlugins, createGmmContainer, initBackend, type WeightConcentrationPriorType } from '../../src/index.js';
import { caseArb, type Dataset, type FitChoice } from './arbitraries.js';
import { EPS32, MAX_ITER, check, conditioning, isSingular, regularizationLoss, runs } from './helpers.js';
import { inflatedFamily } from './plugins.js';
import { labelsContainer } from '../bayesian-helpers.js';

const FAMILIES = ['full', 'tied', 'diag', 'spherical'] as const;
const PRIORS: WeightConcentrationPriorType[] = ['dirichlet-process', 'dirichlet-distribution'];

/**
 * Tolerance on one step of the ELBO, derived from float32 as property 1's
 * stepSlack (monotone.test.ts), which bounds the float32 error of each row's
 * terms by EPS32 * M_row with M_row = |ℓ_i| + d + Σ_k w_k κ_k (κ_k the
 * conditioning term of `conditioning`). The ELBO is a sum over rows, not a
 * mean, and its Wishart terms weigh component k's covariance by ν_k = ν₀ + n_k
 * (Σ_k ν_k = n + K ν₀); its weight terms are ln Γ / ln B of float32 counts n_k,
 * whose error u n_k moves them by at most ψ(n + 1) u n_k <= ln(n + 2) u n. So
 *   slack = 4 EPS32 (|ELBO| + (n + K ν₀)(d + Σ_k w_k κ_k) + n ln(n + 2))
 * plus, for regCovar > 0, n times property 1's regularization loss (the M-step
 * adds εI to S_k before forming the posterior, so it is not the exact
 * coordinate ascent step).
 */
function elboSlack(m: BayesianGaussianMixture, ds: Dataset, regCovar: number): number {
  const s = m.state;
  const kappa = conditioning(m, ds.rows);
  const weighted = kappa.reduce((acc, v, c) => acc + s.weights[c]! * v, 0);
  const n = ds.n;
  const float32 = 4 * EPS32 * (Math.abs(s.lowerBound) + (n + s.k * s.degreesOfFreedomPrior) * (s.d + weighted) + n * Math.log(n + 2));
  return float32 + n * regularizationLoss(m, regCovar);
}

async function elboNeverDecreases(
  container: Container,
  family: string,
  prior: WeightConcentrationPriorType,
  { ds, fit }: { ds: Dataset; fit: FitChoice },
): Promise<void> {
  const regCovar = fit.regCovarRelative * ds.scale * ds.scale;
  const m = new BayesianGaussianMixture({
    nComponents: fit.nComponents,
    covarianceType: family,
    weightConcentrationPriorType: prior,
    regCovar,
    nInit: fit.nInit,
    seed: fit.seed,
    maxIter: MAX_ITER,
    tol: 1e-5,
    workers: 0,
    container,
  });
  try {
    await m.fit(ds.rows);
  } catch (error) {
    // Typed refusals, not violations: a singular covariance (as property 1), or a
    // singular default covariancePrior (a constant column: the prior would be improper).
    if (isSingular(error) || (error instanceof InvalidArgumentError && /default covariancePrior/.test(error.message))) fc.pre(false);
    throw error;
  }
  const { weights, lowerBoundHistory: history } = m.state;
  // B2
  expect(weights.every((w) => w >= 0)).toBe(true);
  expect(Math.abs(weights.reduce((a, b) => a + b, 0) - 1)).toBeLessThanOrEqual(1e-12);
  // B1
  const slack = elboSlack(m, ds, regCovar);
  for (let t = 1; t < history.length; t++) {
    const step = history[t]! - history[t - 1]!;
    if (!(step >= -slack)) {
      throw new Error(`ELBO decreased at iteration ${t + 1}: ${history[t - 1]} -> ${history[t]} (step ${step}, slack ${slack}); history [${history.join(', ')}]`);
    }
  }
}

beforeAll(async () => {
  await initBackend();
});

const container = createGmmContainer();

describe('property B1/B2: the ELBO never decreases; weights sum to 1', () => {
  for (const family of FAMILIES)
    for (const prior of PRIORS) {
      const name = `bayesian monotone ${family} x ${prior}`;
      it(name, async () => {
        await check(name, fc.asyncProperty(caseArb({ maxN: 120 }, { maxK: 5 }), (c) => elboNeverDecreases(container, family, prior, c)), runs(25));
      });
    }
});

describe('property B1 has teeth', () => {
  // 'full' replaced by a family whose M-step inflates S_k x3: the posterior is then not the coordinate-ascent optimum.
  const full = new PluginRegistry(createGmmContainer()).covarianceFamily('full');
  const broken = createContainer(
    pluginModule({ ...builtinPlugins, covarianceFamilies: [{ ...inflatedFamily(full, 3), name: 'full' }] }),
  );
  it('fast-check finds a decreasing ELBO', async () => {
    const name = 'bayesian teeth full-inflated';
    const run = check(name, fc.asyncProperty(caseArb({ maxN: 120 }, { maxK: 5 }), (c) => elboNeverDecreases(broken, 'full', 'dirichlet-process', c)), runs(25));
    await expect(run).rejects.toThrow(/ELBO decreased[\s\S]*Replay: FC_REPLAY=/);
  });
});

describe('property B3: surplus components are switched off on well-separated data', () => {
  // c = 1..3 round unit-sd clusters of 100 rows, centres 12 sd apart along a
  // random direction, d = 1..3, fitted with c + 3 components. The variational
  // objective switches the surplus off: started from the true clusters (the 3
  // surplus components empty) the fit keeps exactly c weights > 1e-2, and its
  // ELBO is at least that of a k-means start. A k-means start alone does not
  // always get there: it splits clusters, and variational EM keeps some splits
  // as local optima with lower ELBOs (so does scikit-learn 1.2: measured on one
  // 100-row 2-D cluster, K = 4, 3 of 4 random states kept 3 or 4 components at
  // ELBOs -126..-136 against -111 for the switched-off fit); the restarts
  // (nInit, best ELBO kept) are how a user gets there.
  const separatedArb = fc.record({ clusters: fc.integer({ min: 1, max: 3 }), d: fc.integer({ min: 1, max: 3 }), seed: fc.integer({ min: 0, max: 0x7fffffff }) });
  for (const prior of PRIORS) {
    for (const family of FAMILIES) {
      const name = `bayesian switch-off ${family} x ${prior}`;
      it(name, async () => {
        await check(
          name,
          fc.asyncProperty(separatedArb, async ({ clusters, d, seed }) => {
            const { rows, labels } = separated(clusters, d, 100, seed);
            const k = clusters + 3;
            const options = { nComponents: k, covarianceType: family, weightConcentrationPriorType: prior, maxIter: 500, seed, workers: 0 };
            const fromTruth = await new BayesianGaussianMixture({ ...options, initParams: 'given-labels', container: labelsContainer(labels, k) }).fit(rows);
            expect(fromTruth.effectiveComponents(1e-2)).toBe(clusters);
            const fromKmeans = await new BayesianGaussianMixture({ ...options, container }).fit(rows);
            const slack = elboSlack(fromKmeans, { n: rows.length, rows } as Dataset, 1e-6);
            expect(fromTruth.state.lowerBound).toBeGreaterThanOrEqual(fromKmeans.state.lowerBound - slack);
          }),
          runs(6),
        );
      });
    }
  }
});

/** `clusters` unit-sd round Gaussian clusters of `perCluster` rows, centres 12 apart along a random unit direction, and their labels. */
function separated(clusters: number, d: number, perCluster: number, seed: number): { rows: number[][]; labels: number[] } {
  const rng = createRng(seed);
  const u = Array.from({ length: d }, () => rng.normal());
  const norm = Math.hypot(...u);
  const rows: number[][] = [];
  const labels: number[] = [];
  for (let c = 0; c < clusters; c++)
    for (let i = 0; i < perCluster; i++) {
      rows.push(u.map((v) => (12 * c * v) / norm + rng.normal()));
      labels.push(c);
    }
  return { rows, labels };
}
