// Properties of BayesianGaussianMixture (variational inference on the engine's
// EM loop), for every covariance type x both weight prior types:
//  B1: the ELBO never decreases across iterations (+ teeth: a variational
//      M-step on covariances inflated x3 must fail it);
//  B2: the weights are >= 0 and sum to 1;
//  B3: on well-separated data, surplus components are switched off: from the
//      ordinary initializers, with an upper bound of clusters + 3 components,
//      exactly `clusters` keep a weight > 1e-2 (conditions below; + teeth: a
//      weight update that ignores the counts must fail it).
import { InvalidArgumentError, createContainer, createRng, pluginModule, PluginRegistry, type Container } from '@gmmkit/core';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  BayesianGaussianMixture,
  builtinPlugins,
  createGmmContainer,
  initBackend,
  type EmStrategy,
  type FitData,
  type VariationalState,
  type WeightConcentrationPriorType,
} from '../../src/index.js';
import { caseArb, type Dataset, type FitChoice } from './arbitraries.js';
import { EPS32, MAX_ITER, check, conditioning, isSingular, regularizationLoss, runs } from './helpers.js';
import { inflatedFamily } from './plugins.js';

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
  // Conditions under which the claim holds from the ordinary initializers, as measured
  // (12 cases per family x prior x initializer, 2026-12-02, see the report of issue 14):
  // - c = 2..4 round unit-sd clusters of 100 rows, centres 12 sd apart along a random direction, d = 1..3;
  // - an upper bound of K = c + 3 components, a small weightConcentrationPrior (1e-3: the prior
  //   favours few components) for both weight priors, maxIter 1000 (the fits converge in tens of iterations);
  // - nInit 4 restarts (best ELBO kept): a single start keeps a split cluster in some cases
  //   (tied, from k-means: 2 of 12; scikit-learn 1.2 does the same on one 2-D cluster, K = 4:
  //   3 of 4 random states kept 3 or 4 components at ELBOs -126..-136 against -111);
  // - 'kmeans' (Lloyd's k-means) for c <= 4; the seeding-only initializers ('k-means++',
  //   'random-from-data') for c <= 3: with 4 clusters on a line they can seed one component on two
  //   clusters, and variational EM does not split it (2 of 12 kept 2 or 3 of 4). 'random'
  //   (random responsibilities) starts every component at the data mean and is left out.
  // A single cluster (c = 1) is not "separated" data: k-means then splits it and the splits often stay.
  // 'tied' is left out: its shared covariance keeps a split cluster as a local optimum even with
  // 4 restarts (from 'kmeans', 1 of 12 measured cases; fast-check found 2 clusters kept as 3 for
  // both weight priors, d = 2 and 3, e.g. weights [0.50, 0.23, 0, 0.27, 0]).
  const separatedArb = fc
    .record({
      init: fc.constantFrom('kmeans', 'k-means++', 'random-from-data'),
      extra: fc.integer({ min: 0, max: 2 }),
      d: fc.integer({ min: 1, max: 3 }),
      seed: fc.integer({ min: 0, max: 0x7fffffff }),
    })
    .map(({ init, extra, d, seed }) => ({ init, clusters: 2 + (init === 'kmeans' ? extra : Math.min(extra, 1)), d, seed }));
  const options = (family: string, prior: WeightConcentrationPriorType, clusters: number, init: string, seed: number) => ({
    nComponents: clusters + 3,
    covarianceType: family,
    weightConcentrationPriorType: prior,
    weightConcentrationPrior: 1e-3,
    initParams: init,
    nInit: 4,
    maxIter: 1000,
    seed,
    workers: 0,
    convergenceWarning: false,
  });
  const switchedOff = (make: (o: ReturnType<typeof options>) => BayesianGaussianMixture, family: string, prior: WeightConcentrationPriorType) =>
    fc.asyncProperty(separatedArb, async ({ init, clusters, d, seed }) => {
      const { rows } = separated(clusters, d, 100, seed);
      const m = await make(options(family, prior, clusters, init, seed)).fit(rows);
      const kept = m.effectiveComponents(1e-2);
      if (kept !== clusters) throw new Error(`${kept} of ${clusters + 3} components kept a weight > 1e-2 on ${clusters} clusters (${init}, d = ${d}); weights [${Array.from(m.state.weights, (w) => w.toFixed(4)).join(', ')}]`);
    });
  for (const prior of PRIORS) {
    for (const family of FAMILIES.filter((f) => f !== 'tied')) {
      const name = `bayesian switch-off ${family} x ${prior}`;
      it(name, async () => {
        await check(name, switchedOff((o) => new BayesianGaussianMixture({ ...o, container }), family, prior), runs(6));
      });
    }
  }

  it('has teeth: a weight update that ignores the counts n_k keeps the surplus components', async () => {
    for (const prior of PRIORS) {
      const name = `bayesian switch-off teeth ${prior}`;
      const run = check(name, switchedOff((o) => new CountBlindWeights({ ...o, container }), 'full', prior), runs(6));
      await expect(run).rejects.toThrow(/components kept a weight > 1e-2[\s\S]*Replay: FC_REPLAY=/);
    }
  });
});

/**
 * BayesianGaussianMixture whose variational weight update is broken: the
 * weight posterior is formed as if every component held n / K rows (the
 * means and covariances are updated as usual).
 */
class CountBlindWeights extends BayesianGaussianMixture {
  protected override strategy(fit: FitData): EmStrategy<VariationalState> {
    const real = super.strategy(fit);
    const { k } = fit;
    const gamma = 1e-3;
    return {
      ...real,
      mStep: (stats) => {
        const s = real.mStep(stats);
        const c = s.weightConcentration;
        const dp = c.length === 2 * k;
        let n = 0;
        for (let j = 0; j < k; j++) n += dp ? c[j]! - 1 : c[j]! - gamma;
        const share = n / k;
        const weights = new Float64Array(k);
        let rest = 1;
        for (let j = 0; j < k; j++) {
          if (dp) {
            c[j] = 1 + share;
            c[k + j] = gamma + (k - 1 - j) * share;
            weights[j] = (rest * c[j]!) / (c[j]! + c[k + j]!);
            rest -= weights[j]!;
          } else {
            c[j] = gamma + share;
            weights[j] = 1 / k;
          }
        }
        const total = weights.reduce((a, b) => a + b, 0);
        return { ...s, params: { ...s.params, weights: weights.map((w) => w / total) } };
      },
    };
  }
}

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
