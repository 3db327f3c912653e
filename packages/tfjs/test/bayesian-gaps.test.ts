// The scikit-learn parity behaviours of issue 12 (sklearn-gaps.test.ts) for
// BayesianGaussianMixture, which gets them through BaseMixture: warm starts
// carry the lower bound, maxIter 0 returns the initialization, the
// ConvergenceWarning, unknown option names, shapes of the prior arrays, one
// rule table for its numbers, toJSON shared with GaussianMixture, and
// fromJSON / loadMixture used without await.
import { InvalidArgumentError } from '@gmmkit/core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  BAYESIAN_OPTION_NAMES,
  BayesianGaussianMixture,
  GaussianMixture,
  OPTION_NAMES,
  initBackend,
  loadMixture,
} from '../src/index.js';
import { labelsContainer } from './bayesian-helpers.js';
import { convergenceWarnings, irisLike } from './helpers.js';

const iris = irisLike();
const line = [[0], [0.1], [0.2], [0.3], [5], [5.1], [5.2], [5.3]];

beforeAll(async () => {
  await initBackend('wasm');
});

describe('BayesianGaussianMixture: warmStart carries the previous lower bound', () => {
  it('maxIter 1 refitted: each fit converges exactly when its ELBO moved less than tol from the last fit’s', async () => {
    const tol = 1e-3;
    const g = new BayesianGaussianMixture({ nComponents: 2, warmStart: true, maxIter: 1, tol, convergenceWarning: false });
    const bounds: number[] = [];
    let fits = 0;
    while (fits < 50) {
      await g.fit(line);
      fits++;
      expect(g.state.nIter).toBe(1);
      const change = Math.abs(g.state.lowerBound - (bounds.at(-1) ?? -Infinity));
      bounds.push(g.state.lowerBound);
      expect(g.state.converged, `fit ${fits}: change ${change}`).toBe(change < tol);
      if (g.state.converged) break;
    }
    // Measured from -Infinity every time (the old behaviour), it never converges.
    expect(g.state.converged).toBe(true);
    expect(fits).toBeGreaterThan(1);
  });

  it('a converged model warm-started again converges in one iteration', async () => {
    const g = await new BayesianGaussianMixture({ nComponents: 3, seed: 1, warmStart: true }).fit(iris.X);
    expect(g.state.converged).toBe(true);
    const before = g.state.lowerBound;
    await g.fit(iris.X);
    expect(g.state.nIter).toBe(1);
    expect(g.state.converged).toBe(true);
    expect(Math.abs(g.state.lowerBoundHistory[0]! - before)).toBeLessThan(1e-3);
  });
});

describe('BayesianGaussianMixture: maxIter 0 returns the initialization', () => {
  it('the variational M-step of the initial responsibilities, by hand: β₀ + Nₖ, ν₀ + Nₖ, the shrunk means, the sticks', async () => {
    const labels = [0, 0, 0, 0, 1, 1, 1, 1];
    const g = await new BayesianGaussianMixture({
      nComponents: 2,
      initParams: 'given-labels',
      container: labelsContainer(labels, 2),
      maxIter: 0,
    }).fit(line);
    const s = g.state;
    expect(s.nIter).toBe(0);
    expect(s.converged).toBe(false);
    expect(s.lowerBoundHistory).toEqual([]);
    expect(Number.isFinite(s.lowerBound)).toBe(true);
    // Nₖ = 4 each (plus scikit-learn's 10 eps); β₀ = 1, ν₀ = d = 1, m₀ = the data mean 2.65, γ = 1/k.
    const close = (got: Float64Array, want: number[]) => Array.from(got).forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 10));
    close(s.meanPrecision, [5, 5]);
    close(s.degreesOfFreedom, [5, 5]);
    close(s.means, [(2.65 + 4 * 0.15) / 5, (2.65 + 4 * 5.15) / 5]);
    close(s.weightConcentration, [1 + 4, 1 + 4, 0.5 + 4, 0.5]);
    expect(g.warnings()).toEqual([]);
    // An iteration changes it: maxIter 0 is not a run that stopped after one.
    const one = await new BayesianGaussianMixture({
      nComponents: 2,
      initParams: 'given-labels',
      container: labelsContainer(labels, 2),
      maxIter: 1,
      convergenceWarning: false,
    }).fit(line);
    expect(one.state.nIter).toBe(1);
    expect(Array.from(one.state.covariances)).not.toEqual(Array.from(s.covariances));
  });

  it('emits no ConvergenceWarning', async () => {
    expect(await convergenceWarnings(() => new BayesianGaussianMixture({ nComponents: 2, maxIter: 0 }).fit(line))).toEqual([]);
  });
});

describe('BayesianGaussianMixture: ConvergenceWarning', () => {
  const message = 'EM did not converge in 2 iterations (tol 0): raise maxIter or tol, or check the data and initialization';

  it('a fit that hits maxIter emits one Node warning and lists it in warnings()', async () => {
    let g: BayesianGaussianMixture | undefined;
    const seen = await convergenceWarnings(async () => {
      g = await new BayesianGaussianMixture({ nComponents: 3, seed: 2, maxIter: 2, tol: 0 }).fit(iris.X);
    });
    expect(seen).toEqual([message]);
    expect(g!.warnings()).toContain(message);
  });

  it('convergenceWarning: false silences it; warnings() still lists it', async () => {
    let g: BayesianGaussianMixture | undefined;
    const seen = await convergenceWarnings(async () => {
      g = await new BayesianGaussianMixture({ nComponents: 3, seed: 2, maxIter: 2, tol: 0, convergenceWarning: false }).fit(iris.X);
    });
    expect(seen).toEqual([]);
    expect(g!.warnings()).toContain(message);
  });
});

describe('option names: one source for both estimators', () => {
  it('every name GaussianMixture or BayesianGaussianMixture lists is accepted by it', () => {
    for (const name of OPTION_NAMES) expect(() => new GaussianMixture({ [name]: undefined })).not.toThrow();
    for (const name of BAYESIAN_OPTION_NAMES) expect(() => new BayesianGaussianMixture({ [name]: undefined })).not.toThrow();
  });

  it('the Bayesian names are GaussianMixture’s but the *Init options and prior, plus its priors', () => {
    expect([...BAYESIAN_OPTION_NAMES].sort()).toEqual(
      [
        ...OPTION_NAMES.filter((n) => !['weightsInit', 'meansInit', 'precisionsInit', 'prior'].includes(n)),
        'weightConcentrationPriorType',
        'weightConcentrationPrior',
        'meanPrecisionPrior',
        'meanPrior',
        'degreesOfFreedomPrior',
        'covariancePrior',
      ].sort(),
    );
    expect(OPTION_NAMES).toEqual(expect.arrayContaining(['prior', 'degenerate']));
  });

  it.each([
    [{ weightConcentrationPrio: 1 }, "unknown BayesianGaussianMixture option 'weightConcentrationPrio': did you mean 'weightConcentrationPrior'?"],
    [{ nComponent: 3 }, "unknown BayesianGaussianMixture option 'nComponent': did you mean 'nComponents'?"],
    [{ degenerat: 'warn' }, "unknown BayesianGaussianMixture option 'degenerat': did you mean 'degenerate'?"],
    [{ mean_prior: [0] }, "unknown BayesianGaussianMixture option 'mean_prior': did you mean 'meanPrior'?"],
  ])('BayesianGaussianMixture %o: %s', (options, message) => {
    expect(() => new BayesianGaussianMixture(options as never)).toThrow(InvalidArgumentError);
    expect(() => new BayesianGaussianMixture(options as never)).toThrow(message);
  });

  it('GaussianMixture knows its newer options: prior, degenerate', () => {
    expect(() => new GaussianMixture({ degenerat: 'warn' } as never)).toThrow("did you mean 'degenerate'?");
    expect(() => new GaussianMixture({ prio: 'default' } as never)).toThrow("did you mean 'prior'?");
    expect(() => new GaussianMixture({ degenerate: 'warn', prior: 'default' })).not.toThrow();
  });

  it('GaussianMixture options BayesianGaussianMixture has not keep their own message', () => {
    expect(() => new BayesianGaussianMixture({ weightsInit: [0.5, 0.5] } as never)).toThrow(/has no weightsInit option/);
    expect(() => new BayesianGaussianMixture({ prior: 'default' } as never)).toThrow(/has no prior option/);
  });
});

describe('BayesianGaussianMixture: prior arrays are checked as shapes, not flattened', () => {
  const X = iris.X.map((r) => r.slice(0, 2));
  it.each([
    ['full', { meanPrior: [[1, 2]] }, /meanPrior must have shape \[2\] .*got shape \[1, 2\]/],
    ['full', { covariancePrior: [1, 0, 0, 1] }, /covariancePrior for 'full' must have shape \[2, 2\] .*got shape \[4\]/],
    ['tied', { covariancePrior: [[[1, 0], [0, 1]]] }, /covariancePrior for 'tied' must have shape \[2, 2\] .*got shape \[1, 2, 2\]/],
    ['diag', { covariancePrior: [[1], [2]] }, /covariancePrior for 'diag' must have shape \[2\] .*got shape \[2, 1\]/],
    ['spherical', { covariancePrior: [1] }, /covariancePrior for 'spherical' must have shape \[\] \(a number\), got shape \[1\]/],
  ] as const)('%s %o is rejected', async (covarianceType, options, message) => {
    const err = await new BayesianGaussianMixture({ nComponents: 2, covarianceType, ...(options as object) }).fit(X).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as Error).message).toMatch(message);
  });

  it('ragged and non-number priors fail at construction', () => {
    expect(() => new BayesianGaussianMixture({ covariancePrior: [[1, 0], [0]] })).toThrow(/covariancePrior is not rectangular/);
    expect(() => new BayesianGaussianMixture({ covariancePrior: 'big' as never })).toThrow(/covariancePrior must be an array/);
  });

  it('the right shapes are accepted for every family', async () => {
    const layouts = { full: [[1, 0], [0, 1]], tied: [[2, 0], [0, 2]], diag: [1, 2], spherical: 1.5 };
    for (const [covarianceType, covariancePrior] of Object.entries(layouts)) {
      const g = await new BayesianGaussianMixture({ nComponents: 2, covarianceType, covariancePrior, meanPrior: [5, 3], maxIter: 0 }).fit(X);
      expect(Array.from(g.state.covariancePrior)).toEqual([covariancePrior].flat(2));
    }
  });
});

describe('BayesianGaussianMixture: numbers follow the shared rule table', () => {
  it.each([
    [{ seed: -1 }, /seed must be an integer in \[0, 4294967295\], got -1/],
    [{ maxIter: -1 }, /maxIter must be an integer >= 0/],
    [{ weightConcentrationPrior: 0 }, /weightConcentrationPrior must be a finite number > 0, got 0/],
    [{ meanPrecisionPrior: Infinity }, /meanPrecisionPrior must be a finite number > 0/],
    [{ degreesOfFreedomPrior: -2 }, /degreesOfFreedomPrior must be a finite number > 0/],
    [{ degreesOfFreedomPrior: [3] }, /degreesOfFreedomPrior must be a finite number > 0, got \[3\]/],
  ])('%o is rejected', (options, message) => {
    expect(() => new BayesianGaussianMixture(options as never)).toThrow(InvalidArgumentError);
    expect(() => new BayesianGaussianMixture(options as never)).toThrow(message);
  });
});

describe('BayesianGaussianMixture.toJSON is BaseMixture’s plus the bayesian section', () => {
  it('has exactly GaussianMixture’s fields, degeneracy included, and keeps them through loadMixture', async () => {
    const b = await new BayesianGaussianMixture({ nComponents: 2, seed: 0 }).fit(line);
    const g = await new GaussianMixture({ nComponents: 2, seed: 0 }).fit(line);
    const { bayesian, ...common } = b.toJSON();
    expect(Object.keys(common).sort()).toEqual(Object.keys(g.toJSON()).sort());
    expect(bayesian.meanPrecision).toHaveLength(2);
    // A degenerate state is written and read back as GaussianMixture's is.
    (b as unknown as { _state: { degeneracy?: string } })._state.degeneracy = 'component 1 has collapsed (test)';
    const json = b.toJSON();
    expect(json.degeneracy).toBe('component 1 has collapsed (test)');
    const back = await loadMixture(JSON.stringify(json));
    expect(back).toBeInstanceOf(BayesianGaussianMixture);
    expect(back.state.degeneracy).toBe('component 1 has collapsed (test)');
    expect(back.toJSON()).toEqual(json);
  });
});

describe('BayesianGaussianMixture.fromJSON and loadMixture used without await say so', () => {
  it.each([
    ['BayesianGaussianMixture.fromJSON', (j: unknown) => BayesianGaussianMixture.fromJSON(j)],
    ['loadMixture', (j: unknown) => loadMixture(j)],
  ] as const)('%s', async (call, load) => {
    const json = (await new BayesianGaussianMixture({ nComponents: 2, seed: 0 }).fit(line)).toJSON();
    const pending = load(json) as unknown as BayesianGaussianMixture;
    expect(() => pending.predict(line)).toThrow(InvalidArgumentError);
    expect(() => pending.predict(line)).toThrow(`${call}() returns a Promise: await it (const model = await ${call}(json)) before using model.predict`);
    expect(() => pending.effectiveComponents()).toThrow(/before using model\.effectiveComponents/);
    const model = await (pending as unknown as Promise<BayesianGaussianMixture>);
    expect(model).toBeInstanceOf(BayesianGaussianMixture);
    expect(Array.from(model.predict(line))).toHaveLength(line.length);
  });
});
