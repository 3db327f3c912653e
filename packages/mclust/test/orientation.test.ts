// EVE/VVE's common orientation (mstep.ts commonOrientation): the M-step
// objective Σ_k [tr(W_k Σ_k⁻¹) + n_k ln|Σ_k|] has local minima in D. Started
// from the pooled scatter's eigenvectors alone, the MM ends in a worse one on
// some scatter problems; the several starts find a lower minimum there, and a
// warm start from the previous covariances is never left for a worse one.
import { createRng, pluginModule, symmetricEigen, type CovarianceFamily } from '@gmmkit/core';
import { GaussianMixture, createGmmContainer, initBackend } from '@gmmkit/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { mclustFamilies } from '../src/index.js';
import { compose } from '../src/linalg.js';
import { commonOrientation, orientationMM } from '../src/mstep.js';
import { loadFixture } from './fixtures.js';

beforeAll(async () => {
  await initBackend('wasm');
});

/**
 * A scatter problem: k components in d dimensions, each W_k = n_k R_k diag(l) R_kᵀ with its own
 * random orientation R_k and log-normal spectrum l (sd 3 in ln), n_k in [10, 50).
 */
function problem(seed: number, k: number, d: number): { w: Float64Array; nk: Float64Array } {
  const rng = createRng(seed);
  const dd = d * d;
  const w = new Float64Array(k * dd);
  const nk = new Float64Array(k);
  for (let j = 0; j < k; j++) {
    nk[j] = 10 + 40 * rng.next();
    const m = new Float64Array(dd);
    for (let a = 0; a < d; a++)
      for (let b = a; b < d; b++) {
        const v = rng.normal();
        m[a * d + b] = v;
        m[b * d + a] = v;
      }
    const r = symmetricEigen(m, d).vectors;
    const l = Array.from({ length: d }, () => nk[j]! * Math.exp(3 * rng.normal()));
    w.set(compose(r, l, d), j * dd);
  }
  return { w, nk };
}

/** The objective of covariances [k, d, d], evaluated from their own eigen-decompositions. */
function objective(w: Float64Array, nk: Float64Array, sigma: Float64Array, k: number, d: number): number {
  const dd = d * d;
  let total = 0;
  for (let j = 0; j < k; j++) {
    const { values, vectors } = symmetricEigen(sigma.subarray(j * dd, (j + 1) * dd), d);
    for (let c = 0; c < d; c++) {
      let q = 0;
      for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) q += vectors[a * d + c]! * w[j * dd + a * d + b]! * vectors[b * d + c]!;
      total += q / values[c]! + nk[j]! * Math.log(values[c]!);
    }
  }
  return total;
}

/** The MM from the pooled scatter's eigenvectors alone, run to convergence, as covariances [k, d, d]. */
function pooledOnly(volume: 'E' | 'V', w: Float64Array, nk: Float64Array, k: number, d: number): Float64Array {
  const dd = d * d;
  const pooled = new Float64Array(dd);
  for (let j = 0; j < k; j++) for (let i = 0; i < dd; i++) pooled[i] += w[j * dd + i]!;
  const fit = orientationMM(volume, w, nk, k, d, symmetricEigen(pooled, d).vectors)!;
  const out = new Float64Array(k * dd);
  for (let j = 0; j < k; j++) out.set(compose(fit.orientation, fit.v.subarray(j * d, (j + 1) * d), d), j * dd);
  return out;
}

const K = 3;
const D = 4;

describe('commonOrientation', () => {
  // Problems of problem(seed, 3, 4) where the pooled start alone converges to a minimum at least 6
  // nats (of the log-likelihood, half the objective) above the one the several starts find; found by
  // scanning seeds 0..199 (the pooled start ended worse on 82 of those 400 problems, by up to 95 nats).
  const pooledWorse: ['E' | 'V', number][] = [
    ['E', 0],
    ['E', 11],
    ['E', 78],
    ['V', 1],
    ['V', 26],
  ];
  it.each(pooledWorse)('%s, seed %i: a lower minimum than the pooled start alone', (volume, seed) => {
    const { w, nk } = problem(seed, K, D);
    const multi = objective(w, nk, commonOrientation(volume, w, nk, K, D)!, K, D);
    const pooled = objective(w, nk, pooledOnly(volume, w, nk, K, D), K, D);
    expect((pooled - multi) / 2).toBeGreaterThan(6);
  });

  // Problems where the screened starts (without a warm start) converge above the pooled start's
  // minimum. Given that minimum as the previous covariances, the M-step must not end above it.
  const screenedWorse: ['E' | 'V', number][] = [
    ['E', 12],
    ['V', 146],
    ['V', 170],
  ];
  it.each(screenedWorse)('%s, seed %i: from previous covariances, never above their objective', (volume, seed) => {
    const { w, nk } = problem(seed, K, D);
    const previous = pooledOnly(volume, w, nk, K, D);
    const before = objective(w, nk, previous, K, D);
    const cold = objective(w, nk, commonOrientation(volume, w, nk, K, D)!, K, D);
    const warm = objective(w, nk, commonOrientation(volume, w, nk, K, D, previous)!, K, D);
    // the case has teeth: without the warm start the M-step ends higher
    expect(cold).toBeGreaterThan(before + 0.1);
    expect(warm).toBeLessThanOrEqual(before + 1e-9 * Math.abs(before));
  });

  it('from previous covariances, never above their objective (generated problems, both volumes)', () => {
    // The previous covariances: the M-step's own answer for a perturbed scatter (an EM iteration
    // before, with other responsibilities), so they share an orientation that is not this W's optimum.
    for (const volume of ['E', 'V'] as const)
      for (let seed = 0; seed < 12; seed++) {
        const { w, nk } = problem(seed, K, D);
        const other = problem(seed + 1000, K, D);
        const mixed = w.map((v, i) => 0.8 * v + 0.2 * other.w[i]!);
        const previous = commonOrientation(volume, mixed, nk, K, D)!;
        // the previous parameters' objective under this W, with their volumes and shapes re-fitted
        // given their orientation (what the MM's first evaluation does), is at most theirs as given
        const before = objective(w, nk, previous, K, D);
        const warm = objective(w, nk, commonOrientation(volume, w, nk, K, D, previous)!, K, D);
        expect(warm).toBeLessThanOrEqual(before + 1e-9 * Math.abs(before));
      }
  });
});

describe("the engine's previous parameters", () => {
  it('reach the M-step: each EM iteration gets the state the one before produced', async () => {
    const eve = mclustFamilies.find((f) => f.name === 'EVE')!;
    const seen: (Float64Array | undefined)[] = [];
    const made: Float64Array[] = [];
    const spy: CovarianceFamily = {
      ...eve,
      name: 'EVE-spy',
      mStep(stats, regCovar, ctx, previous) {
        seen.push(previous?.covariances);
        const out = eve.mStep(stats, regCovar, ctx, previous);
        made.push(out.covariances);
        return out;
      },
    };
    const fx = loadFixture('iris');
    const gm = new GaussianMixture({
      nComponents: 3,
      covarianceType: 'EVE-spy',
      maxIter: 5,
      tol: 0,
      seed: 1,
      convergenceWarning: false,
      container: createGmmContainer(pluginModule({ covarianceFamilies: [spy] })),
    });
    await gm.fit(fx.X);
    gm.dispose();
    // the first M-step is the initializer's (no state before it); EM's 5 follow it
    expect(seen).toHaveLength(6);
    expect(seen[0]).toBeUndefined();
    for (let i = 1; i < seen.length; i++) expect(seen[i]).toBe(made[i - 1]);
  });
});
