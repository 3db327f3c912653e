// Property 1: the EM lower bound never decreases, for every registered
// covariance family x initializer (built-ins and the test plugins), and a
// deliberately wrong M-step makes the property fail (it has teeth).
import { PluginRegistry, type Container } from '@gmmkit/core';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { GaussianMixture, initBackend } from '../../src/index.js';
import { caseArb, type Dataset, type FitChoice } from './arbitraries.js';
import {
  EPS32,
  check,
  conditioning,
  fitOptions,
  fitOrDiscard,
  regularizationLoss,
  grid,
  runs,
  testContainer,
} from './helpers.js';
import { inflatedFamily } from './plugins.js';

/**
 * Tolerance on one step of the lower bound, derived from float32.
 *
 * The lower bound L = (1/n) Σ_i log Σ_k w_k N(x_i | μ_k, Σ_k) is evaluated
 * with float32 tensor ops and reduced in float64, so each evaluation carries
 * float32 rounding (unit roundoff u = EPS32/2) relative to the magnitudes it
 * is computed from:
 *  (a) E-step: per row, |log det| + (d/2) ln 2π ~ |L| + d, and the quadratic
 *      form ‖(x_i - μ_k)ᵀU_k‖² (Σ_k⁻¹ = U_k U_kᵀ), whose float32 operands are
 *      the centred rows, of size ‖x_i - m‖² tr(Σ_k⁻¹) (m = the data mean, the
 *      engine's centre); on average Σ_k w_k (tr Σ_k + ‖μ_k - m‖²) tr(Σ_k⁻¹).
 *  (b) M-step: covariances come from float32 moment sums, so δΣ_k is about
 *      u (Σ_k + (μ_k - m)(μ_k - m)ᵀ), which moves L by
 *      ½ Σ_k w_k tr(Σ_k⁻¹ δΣ_k) <= u Σ_k w_k (tr Σ_k + ‖μ_k - m‖²) tr(Σ_k⁻¹).
 * Hence every evaluated L is within ~EPS32 * M of its exact value, with
 *   M = |L| + d + Σ_k w_k (tr Σ_k + ‖μ_k - m‖²) tr(Σ_k⁻¹),
 * and a step compares two evaluations: slack = 2 * 2 * EPS32 * M (the
 * second factor 2 covers the accumulation constants). The conditioning term
 * matters: near-singular data or a component collapsed onto a few rows make
 * tr(Σ⁻¹) large, and so does the real float32 noise of L. M is taken from the
 * fitted state (EM decreases happen, if at all, near convergence, where the
 * parameters are the fitted ones).
 *
 * regCovar: EM's guarantee is for the exact M-step (regCovar = 0). With
 * ε = regCovar > 0 the M-step returns Σ' = S + εI, S the maximizer of Q, and
 * loses Q(S) - Q(S + εI) = ½ Σ_k w_k Σ_j f(ε / s_kj) per row (s_kj the
 * eigenvalues of S_k, f(u) = ln(1 + u) - u/(1 + u) <= min(u²/2, ln(1 + u))).
 * Since L(θ_{t+1}) - L(θ_t) >= Q(θ_{t+1}) - Q(θ_t) and Q(θ_t) <= Q(S_{t+1}),
 * a step may drop by up to that loss (observed: ~5e-4 per step with
 * regCovar = 1e-4 scale² on near-singular data). The slack adds it, with
 * S_k = Σ_k - εI from the fitted state; directions where S_k has no spread
 * of its own (s_kj <= ε/100: a constant column, a component on duplicate
 * rows) are skipped, since there Σ_k = εI at every iteration and the loss
 * does not change from one step to the next. With regCovar = 0 the term is 0.
 */
export function stepSlack(gm: GaussianMixture, ds: Dataset): number {
  const kappa = conditioning(gm, ds.rows);
  const weighted = kappa.reduce((s, v, c) => s + gm.state.weights[c]! * v, 0);
  const float32 = 4 * EPS32 * (Math.abs(gm.state.lowerBound) + gm.state.d + weighted);
  return float32 + regularizationLoss(gm, gm.toJSON().options.regCovar);
}


/** The property: every recorded step L_t - L_{t-1} >= -slack. */
async function lowerBoundNeverDecreases(
  container: Container,
  family: string,
  init: string,
  { ds, fit }: { ds: Dataset; fit: FitChoice },
): Promise<void> {
  const reported: { iteration: number; lowerBound: number }[] = [];
  const gm = new GaussianMixture({
    ...fitOptions(ds, fit, family, init, container),
    onIteration: (iteration, lowerBound) => reported.push({ iteration, lowerBound }),
  });
  await fitOrDiscard(gm, ds.rows);
  const history = gm.state.lowerBoundHistory;
  // The history is what onIteration reported for one of the restarts.
  const restarts: number[][] = [];
  for (const r of reported) {
    if (r.iteration === 1) restarts.push([]);
    restarts[restarts.length - 1]!.push(r.lowerBound);
  }
  expect(
    restarts.some((seq) => seq.length === history.length && seq.every((v, i) => Object.is(v, history[i]))),
  ).toBe(true);
  expect(history.length).toBe(gm.state.nIter);

  const slack = stepSlack(gm, ds);
  for (let t = 1; t < history.length; t++) {
    const step = history[t]! - history[t - 1]!;
    if (!(step >= -slack)) {
      throw new Error(
        `lower bound decreased at iteration ${t + 1}: ${history[t - 1]} -> ${history[t]} (step ${step}, slack ${slack}); history [${history.join(', ')}]`,
      );
    }
  }
}

beforeAll(async () => {
  await initBackend();
});

const container = testContainer();

describe('property 1: the lower bound never decreases', () => {
  it('covers the test plugins through the container', () => {
    const cells = grid(container);
    expect(cells).toContainEqual({ family: 'eei', init: 'farthest-point' });
    expect(cells).toContainEqual({ family: 'full', init: 'kmeans' });
    // @gmmkit/mclust's ten families, each with one initializer, hc among them
    for (const f of ['EII', 'EEI', 'VEI', 'EVI', 'VEE', 'EVE', 'VVE', 'EEV', 'VEV', 'EVV'])
      expect(cells.filter((c) => c.family === f)).toHaveLength(1);
    expect(cells.some((c) => c.init === 'hc')).toBe(true);
  });

  for (const { family, init } of grid(container)) {
    const name = `monotone ${family} x ${init}`;
    it(name, async () => {
      await check(
        name,
        fc.asyncProperty(caseArb(), (c) => lowerBoundNeverDecreases(container, family, init, c)),
        runs(40),
      );
    });
  }
});

describe('property 1 has teeth', () => {
  // Deliberately wrong plugins: built-in families whose M-step inflates the
  // covariances x3, registered in a test container like any user plugin.
  // fast-check must find a dataset on which the lower bound decreases.
  const registry = new PluginRegistry(container);
  for (const base of ['full', 'diag']) {
    const wrong = inflatedFamily(registry.covarianceFamily(base), 3);
    const brokenContainer = testContainer({ covarianceFamilies: [wrong] });
    const name = `teeth ${wrong.name} x kmeans`;
    it(`${name}: fast-check finds a decreasing lower bound`, async () => {
      const run = check(
        name,
        fc.asyncProperty(caseArb(), (c) =>
          lowerBoundNeverDecreases(brokenContainer, wrong.name, 'kmeans', c),
        ),
        runs(40),
      );
      await expect(run).rejects.toThrow(/lower bound decreased[\s\S]*Replay: FC_REPLAY=/);
    });
  }
});
