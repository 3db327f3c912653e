// Properties 2, 5 and 8 of a fitted mixture, for every registered family x
// initializer: valid probabilities and parameters, parameter counts and
// information criteria, determinism and predict = argmax predictProba.
import { isSymmetric, tryCholesky } from '@gmmkit/core';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { GaussianMixture, initBackend } from '../../src/index.js';
import { caseArb } from './arbitraries.js';
import {
  check,
  conditioning,
  familyNames,
  fitOptions,
  fitOrDiscard,
  grid,
  maxAbsDiff,
  runs,
  testContainer,
} from './helpers.js';

beforeAll(async () => {
  await initBackend();
});

const container = testContainer();

function expectFinite(name: string, values: ArrayLike<number>): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) throw new Error(`${name}[${i}] is ${values[i]}`);
  }
}

describe('property 2: responsibilities, weights and covariances are valid; no NaN', () => {
  for (const { family, init } of grid(container)) {
    const name = `valid ${family} x ${init}`;
    it(name, async () => {
      await check(
        name,
        fc.asyncProperty(caseArb(), async ({ ds, fit }) => {
          const gm = await fitOrDiscard(
            new GaussianMixture(fitOptions(ds, fit, family, init, container)),
            ds.rows,
          );
          const { k, d, weights, means, covariances, precisionsCholesky, lowerBound, lowerBoundHistory } =
            gm.state;

          expectFinite('weights', weights);
          expectFinite('means', means);
          expectFinite('covariances', covariances);
          expectFinite('precisionsCholesky', precisionsCholesky);
          expectFinite('lowerBoundHistory', lowerBoundHistory);
          expect(Number.isFinite(lowerBound)).toBe(true);

          // Weights: positive, summing to 1 (float64 normalization).
          for (const w of weights) expect(w).toBeGreaterThan(0);
          expect(Math.abs(weights.reduce((s, w) => s + w, 0) - 1)).toBeLessThan(1e-12);

          // Covariances: the family accepts them; every component's matrix is symmetric positive definite.
          expect(() => gm.family.validate(covariances, k, d)).not.toThrow();
          const full = gm.fullCovariances();
          expect(full.length).toBe(k * d * d);
          for (let c = 0; c < k; c++) {
            const m = full.subarray(c * d * d, (c + 1) * d * d);
            expect(isSymmetric(m, d, 1e-12)).toBe(true);
            expect(tryCholesky(m, d)).not.toBeNull();
          }
          // The reported precision factors are those of the covariances: a float64 round trip
          // (Cholesky, triangular inverse, product), accurate to ~eps64 x the condition number.
          const back = gm.family.covariancesFromPrecisionsCholesky(precisionsCholesky, k, d);
          const scale = Math.max(...covariances.map(Math.abs));
          const kappa = Math.max(...conditioning(gm, ds.rows));
          expect(maxAbsDiff(back, covariances)).toBeLessThanOrEqual(64 * Number.EPSILON * kappa * scale);

          // Responsibilities on the training rows: in [0, 1], rows summing to 1.
          const proba = gm.predictProba(ds.rows);
          expect([proba.rows, proba.cols]).toEqual([ds.n, k]);
          expectFinite('predictProba', proba.data);
          for (let i = 0; i < ds.n; i++) {
            let s = 0;
            for (let j = 0; j < k; j++) {
              const r = proba.data[i * k + j]!;
              expect(r).toBeGreaterThanOrEqual(0);
              expect(r).toBeLessThanOrEqual(1);
              s += r;
            }
            expect(Math.abs(s - 1)).toBeLessThan(1e-12);
          }
          const samples = gm.scoreSamples(ds.rows);
          expect(samples.length).toBe(ds.n);
          expectFinite('scoreSamples', samples);
          expectFinite('score, bic, aic', [gm.score(ds.rows), gm.bic(ds.rows), gm.aic(ds.rows)]);
        }),
        runs(20),
      );
    });
  }
});

/**
 * Closed forms of the free parameters: k-1 weights, k*d means, and the
 * covariances of each family. A family registered without an entry here
 * fails the test, so a new plugin must state its count.
 */
const closedForm: Record<string, (k: number, d: number) => number> = {
  full: (k, d) => k - 1 + k * d + (k * d * (d + 1)) / 2,
  tied: (k, d) => k - 1 + k * d + (d * (d + 1)) / 2,
  diag: (k, d) => k - 1 + k * d + k * d,
  spherical: (k, d) => k - 1 + k * d + k,
  eei: (k, d) => k - 1 + k * d + d,
};

describe('property 5: nParameters, bic and aic', () => {
  for (const family of familyNames(container)) {
    const name = `criteria ${family}`;
    it(name, async () => {
      const p = closedForm[family];
      if (p === undefined)
        throw new Error(`no closed-form parameter count for family '${family}': add it to closedForm`);
      await check(
        name,
        fc.asyncProperty(
          caseArb(),
          fc.constantFrom(...grid(container).map((g) => g.init)),
          async ({ ds, fit }, init) => {
            const gm = await fitOrDiscard(
              new GaussianMixture(fitOptions(ds, fit, family, init, container)),
              ds.rows,
            );
            const { k, d } = gm.state;
            expect(gm.nParameters()).toBe(p(k, d));
            // LL = Σ_i log p(x_i), from the per-row scores (float64 sum).
            const samples = gm.scoreSamples(ds.rows);
            const ll = samples.reduce((s, v) => s + v, 0);
            const mag = samples.reduce((s, v) => s + Math.abs(v), 0) + 1;
            expect(Math.abs(gm.score(ds.rows) * ds.n - ll)).toBeLessThanOrEqual(1e-12 * mag);
            const pn = gm.nParameters();
            // Float64 reductions of the same numbers: agreement to a few ulps of the magnitudes involved.
            const tol = 1e-12 * (2 * mag + pn * Math.log(ds.n));
            expect(Math.abs(gm.bic(ds.rows) - (-2 * ll + pn * Math.log(ds.n)))).toBeLessThanOrEqual(tol);
            expect(Math.abs(gm.aic(ds.rows) - (-2 * ll + 2 * pn))).toBeLessThanOrEqual(tol);
          },
        ),
        runs(25),
      );
    });
  }
});

describe('property 8: same seed, same model; predict = argmax predictProba', () => {
  for (const { family, init } of grid(container)) {
    const name = `deterministic ${family} x ${init}`;
    it(name, async () => {
      await check(
        name,
        fc.asyncProperty(caseArb(), async ({ ds, fit }) => {
          const options = fitOptions(ds, fit, family, init, container);
          const a = await fitOrDiscard(new GaussianMixture(options), ds.rows);
          // A second model, same options and seed: bit-identical state.
          const b = new GaussianMixture({ ...options });
          await b.fit(ds.rows);
          expect(b.state).toEqual(a.state);
          expect(b.predict(ds.rows)).toEqual(a.predict(ds.rows));

          const labels = a.predict(ds.rows);
          const proba = a.predictProba(ds.rows);
          const k = proba.cols;
          for (let i = 0; i < ds.n; i++) {
            let best = 0;
            for (let j = 1; j < k; j++) if (proba.data[i * k + j]! > proba.data[i * k + best]!) best = j;
            if (labels[i] !== best) {
              throw new Error(
                `row ${i}: predict ${labels[i]} but argmax predictProba ${best} (${Array.from(proba.data.subarray(i * k, (i + 1) * k)).join(', ')})`,
              );
            }
          }
        }),
        runs(12),
      );
    });
  }
});
