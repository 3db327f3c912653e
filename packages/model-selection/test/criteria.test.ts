import { PluginRegistry, type CriterionInput } from '@gmmkit/core';
import { describe, expect, it } from 'vitest';
import {
  aic,
  bic,
  builtinCriteria,
  createSelectionContainer,
  icl,
  responsibilityEntropy,
} from '../src/criteria.js';
import { sklearnTable } from './helpers.js';

const input = (over: Partial<CriterionInput> = {}): CriterionInput => ({
  logLikelihood: -100,
  n: 50,
  nParameters: 7,
  entropy: 3,
  ...over,
});

describe('criteria', () => {
  it('bic = -2 lnL + p ln n and aic = -2 lnL + 2p', () => {
    expect(bic.score(input())).toBeCloseTo(200 + 7 * Math.log(50), 12);
    expect(aic.score(input())).toBeCloseTo(214, 12);
  });

  it('match scikit-learn bic/aic and the fixture ICL on every reference row', () => {
    for (const dataset of ['iris', 'faithful', 'blobs2d', 'mix5d']) {
      const t = sklearnTable(dataset);
      for (const r of t.rows) {
        const x = { logLikelihood: r.score * t.n, n: t.n, nParameters: r.nParameters, entropy: r.entropy };
        // Fixture values are rounded to 10 significant digits.
        expect(bic.score(x)).toBeCloseTo(r.bic, 4);
        expect(aic.score(x)).toBeCloseTo(r.aic, 4);
        expect(icl.score(x)).toBeCloseTo(r.icl, 4);
      }
    }
  });

  it('icl = bic + 2 x entropy: never below bic, equal with hard responsibilities (mclust sign, negated)', () => {
    expect(icl.score(input({ entropy: 0 }))).toBe(bic.score(input({ entropy: 0 })));
    expect(icl.score(input({ entropy: 3 })) - bic.score(input())).toBeCloseTo(6, 12);
    // mclust's icl() = BIC_mclust + 2 Σ r ln r with BIC_mclust = -bic: the negation of ours.
    const mclustIcl = -bic.score(input()) + 2 * -3;
    expect(icl.score(input())).toBeCloseTo(-mclustIcl, 12);
  });

  it('responsibility entropy: 0 for hard labels, n ln k for uniform, 0 ln 0 = 0', () => {
    expect(responsibilityEntropy(new Float64Array([1, 0, 0, 1, 0, 1]))).toBe(0);
    const k = 4;
    const n = 5;
    expect(responsibilityEntropy(new Float64Array(n * k).fill(1 / k))).toBeCloseTo(n * Math.log(k), 12);
    expect(responsibilityEntropy(new Float64Array([0.5, 0.5, 0, 1]))).toBeCloseTo(Math.log(2), 12);
  });

  it('are plugins: the selection container binds them beside the built-in families', () => {
    const reg = new PluginRegistry(createSelectionContainer());
    expect(reg.criterionNames()).toEqual(['bic', 'aic', 'icl']);
    expect(reg.criterion('icl')).toBe(icl);
    expect(reg.covarianceFamilyNames()).toEqual(
      expect.arrayContaining(['full', 'tied', 'diag', 'spherical']),
    );
    expect(builtinCriteria.map((c) => c.name)).toEqual(['bic', 'aic', 'icl']);
  });
});
