// Sweeps with sample (frequency) weights: every cell is fitted and scored
// weighted, and BIC's n is Σ w, so integer weights give the table of the
// replicated rows.
import { InvalidArgumentError } from '@gmmkit/core';
import { describe, expect, it } from 'vitest';
import { sweep } from '../src/sweep.js';
import { faithful } from './helpers.js';

// faithful's rows with weights 1..3; the replicated data is what they stand for.
const X = faithful();
const W = X.map((_, i) => 1 + (i % 3));
const replicated = X.flatMap((row, i) => Array.from({ length: W[i]! }, () => row));

describe('sweep with sampleWeight', () => {
  it('integer weights give the BIC table of the replicated rows (n = Σ w), in-process and in workers', async () => {
    const options = { k: '1..3', covarianceTypes: ['full', 'diag'], nInit: 3, seed: 2, tol: 1e-6, maxIter: 300 };
    const copies = await sweep({ ...options, data: replicated, workers: 0 });
    for (const workers of [0, 2]) {
      const weighted = await sweep({ ...options, data: X, sampleWeight: W, workers });
      try {
        expect(weighted.workers).toBe(workers);
        expect(weighted.rows.length).toBe(copies.rows.length);
        weighted.rows.forEach((row, i) => {
          const ref = copies.rows[i]!;
          expect([row.k, row.covarianceType]).toEqual([ref.k, ref.covarianceType]);
          // Same optimum reached from (differently seeded) weighted k-means: equal up to float32 sums.
          expect(Math.abs(row.bic - ref.bic) / Math.abs(ref.bic)).toBeLessThan(1e-5);
          expect(Math.abs(row.logLikelihood - ref.logLikelihood) / Math.abs(ref.logLikelihood)).toBeLessThan(1e-5);
          expect(Math.abs(row.icl - ref.icl) / Math.abs(ref.icl)).toBeLessThan(1e-3);
        });
        expect([weighted.best.k, weighted.best.covarianceType]).toEqual([copies.best.k, copies.best.covarianceType]);
      } finally {
        weighted.model.dispose();
      }
    }
    copies.model.dispose();
  });

  it('BIC uses n = Σ w: doubling every weight doubles -2 ln L but adds p ln 2 only', async () => {
    const one = await sweep({ data: X, k: 2, covarianceTypes: ['full'], workers: 0 });
    const two = await sweep({ data: X, sampleWeight: X.map(() => 2), k: 2, covarianceTypes: ['full'], workers: 0 });
    const r1 = one.rows[0]!;
    const r2 = two.rows[0]!;
    expect(r2.logLikelihood / r1.logLikelihood).toBeCloseTo(2, 6);
    expect(r2.bic - 2 * r1.bic).toBeCloseTo(r1.nParameters * (Math.log(2 * X.length) - 2 * Math.log(X.length)), 3);
    one.model.dispose();
    two.model.dispose();
  });

  it('bad weights are one-line errors before any fit', async () => {
    await expect(sweep({ data: X, sampleWeight: [1, 2], k: 2 })).rejects.toThrow(InvalidArgumentError);
    await expect(sweep({ data: X, sampleWeight: X.map(() => -1), k: 2 })).rejects.toThrow(/sampleWeight\[0\] is negative/);
    await expect(sweep({ data: X, sampleWeight: X.map((_, i) => (i < 2 ? 1 : 0)), k: '1..3' })).rejects.toThrow(
      /k = 3 exceeds the number of rows of positive weight \(2\)/,
    );
  });
});
