// scikit-learn GaussianMixture behaviours that a port of its test suite found
// missing (issue 12): warm starts carry the lower bound, maxIter 0, the
// ConvergenceWarning, *Init shapes, unknown option names, number rules, and
// fromJSON used without await.
import { InvalidArgumentError } from '@gmmkit/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { GaussianMixture, fitStream, initBackend, type RowSource } from '../src/index.js';
import { convergenceWarnings, irisLike } from './helpers.js';

const iris = irisLike();
// The reproduction: two tight groups on a line.
const line = [[0], [0.1], [0.2], [0.3], [5], [5.1], [5.2], [5.3]];

beforeAll(async () => {
  await initBackend('wasm');
});

describe('warmStart carries the previous lower bound (scikit-learn BaseMixture.fit_predict)', () => {
  it('maxIter 1 refitted until converged stops after 2 fits, as scikit-learn 1.2', async () => {
    const g = new GaussianMixture({ nComponents: 2, warmStart: true, maxIter: 1, convergenceWarning: false });
    let fits = 0;
    while (fits < 50) {
      await g.fit(line);
      fits++;
      if (g.state.converged) break;
    }
    // scikit-learn: "converged after 2 fits" on these rows (fixture: its 1.2.1, run by hand).
    expect(g.state.converged).toBe(true);
    expect(fits).toBe(2);
  });

  it('a converged model warm-started again converges in one iteration, measured from its own bound', async () => {
    const g = await new GaussianMixture({ nComponents: 3, seed: 1, warmStart: true, tol: 1e-3 }).fit(iris.X);
    expect(g.state.converged).toBe(true);
    const before = g.state.lowerBound;
    await g.fit(iris.X);
    expect(g.state.nIter).toBe(1);
    expect(g.state.converged).toBe(true);
    expect(Math.abs(g.state.lowerBoundHistory[0]! - before)).toBeLessThan(1e-3);
  });

  it('without warmStart every fit starts from -Infinity: maxIter 1 never converges', async () => {
    const g = new GaussianMixture({ nComponents: 2, maxIter: 1, convergenceWarning: false });
    for (let i = 0; i < 3; i++) {
      await g.fit(line);
      expect(g.state.converged).toBe(false);
    }
  });
});

describe('maxIter 0 returns the initialization (scikit-learn >= 1.1)', () => {
  it('given parameters come back unchanged, with nIter 0, not converged, and their own mean log-likelihood', async () => {
    const init = {
      weightsInit: [0.25, 0.75],
      meansInit: [[1], [4]],
      precisionsInit: [[[2]], [[0.5]]],
    };
    const g = await new GaussianMixture({ nComponents: 2, ...init, maxIter: 0 }).fit(line);
    expect(Array.from(g.state.weights)).toEqual([0.25, 0.75]);
    expect(Array.from(g.state.means)).toEqual([1, 4]);
    expect(g.state.covariances[0]).toBeCloseTo(0.5, 12);
    expect(g.state.covariances[1]).toBeCloseTo(2, 12);
    expect(g.state.nIter).toBe(0);
    expect(g.state.converged).toBe(false);
    expect(g.state.lowerBoundHistory).toEqual([]);
    // The bound is the mean log-likelihood of exactly these parameters (float32 E-step).
    expect(g.state.lowerBound).toBeCloseTo(g.score(line), 4);
    // Not an EM run that stopped early: nothing to warn about.
    expect(g.warnings()).toEqual([]);
  });

  it('the initializer’s parameters are those the first EM iteration starts from', async () => {
    const zero = await new GaussianMixture({ nComponents: 3, seed: 5, maxIter: 0 }).fit(iris.X);
    const one = await new GaussianMixture({ nComponents: 3, seed: 5, maxIter: 1, convergenceWarning: false }).fit(iris.X);
    // Iteration 1 scores the initialization: its bound is the maxIter 0 bound.
    expect(one.state.lowerBoundHistory[0]).toBeCloseTo(zero.state.lowerBound, 6);
    expect(one.state.nIter).toBe(1);
    // And it round-trips (maxIter 0 is a valid saved option).
    const back = await GaussianMixture.fromJSON(JSON.stringify(zero.toJSON()));
    expect(back.toJSON()).toEqual(zero.toJSON());
  });

  it('emits no ConvergenceWarning', async () => {
    expect(await convergenceWarnings(() => new GaussianMixture({ nComponents: 2, maxIter: 0 }).fit(line))).toEqual([]);
  });
});

describe('ConvergenceWarning', () => {
  it('a fit that hits maxIter emits one Node warning named ConvergenceWarning and lists it in warnings()', async () => {
    let g: GaussianMixture | undefined;
    const seen = await convergenceWarnings(async () => {
      g = await new GaussianMixture({ nComponents: 3, seed: 2, maxIter: 2, tol: 0 }).fit(iris.X);
    });
    expect(seen).toEqual(['EM did not converge in 2 iterations (tol 0): raise maxIter or tol, or check the data and initialization']);
    expect(g!.state.converged).toBe(false);
    expect(g!.warnings()).toContain(seen[0]);
  });

  it('convergenceWarning: false silences the Node warning; warnings() still lists it', async () => {
    let g: GaussianMixture | undefined;
    const seen = await convergenceWarnings(async () => {
      g = await new GaussianMixture({ nComponents: 3, seed: 2, maxIter: 2, tol: 0, convergenceWarning: false }).fit(iris.X);
    });
    expect(seen).toEqual([]);
    expect(g!.warnings()).toEqual(['EM did not converge in 2 iterations (tol 0): raise maxIter or tol, or check the data and initialization']);
  });

  it('a converged fit warns about nothing', async () => {
    let g: GaussianMixture | undefined;
    const seen = await convergenceWarnings(async () => {
      g = await new GaussianMixture({ nComponents: 2, seed: 0 }).fit(line);
    });
    expect(g!.state.converged).toBe(true);
    expect(seen).toEqual([]);
    expect(g!.warnings()).toEqual([]);
  });

  it('fitStream warns about its own EM, not about the fit of its initialization sample', async () => {
    const source: RowSource = {
      d: 4,
      async *blocks() {
        yield Float64Array.from(iris.X.flat());
      },
    };
    const seen = await convergenceWarnings(() => fitStream(source, { nComponents: 3, seed: 2, maxIter: 2, tol: 0 }));
    expect(seen).toEqual(['EM did not converge in 2 iterations (tol 0): raise maxIter or tol, or check the data and initialization']);
  });
});

describe('*Init options are checked as shapes, not flattened', () => {
  it.each([
    ['weightsInit [[0.3], [0.7]] (the issue’s example)', { nComponents: 2, weightsInit: [[0.3], [0.7]] }, /weightsInit must have shape \[2\].*got shape \[2, 1\]/],
    ['weightsInit of k+1 values', { nComponents: 2, weightsInit: [0.3, 0.3, 0.4] }, /weightsInit must have shape \[2\].*got shape \[3\]/],
    ['meansInit with a nested level too many', { nComponents: 2, meansInit: [[[1]], [[2]]] }, /meansInit must have shape \[2, d\].*got shape \[2, 1, 1\]/],
    ['meansInit as a flat list', { nComponents: 2, meansInit: [1, 2] }, /meansInit must have shape \[2, d\].*got shape \[2\]/],
    ['ragged meansInit', { nComponents: 2, meansInit: [[1, 2], [3]] }, /meansInit is not rectangular/],
    ['ragged precisionsInit', { nComponents: 2, covarianceType: 'diag', precisionsInit: [[1, 2], [3]] }, /precisionsInit is not rectangular/],
    ['a non-number leaf', { nComponents: 2, weightsInit: [0.5, '0.5'] }, /weightsInit\[1\] must be a finite number/],
  ] as const)('%s is rejected', (_name, options, message) => {
    expect(() => new GaussianMixture(options as never)).toThrow(InvalidArgumentError);
    expect(() => new GaussianMixture(options as never)).toThrow(message);
  });

  it.each([
    ['full', [1, 0, 0, 1, 1, 0, 0, 1], '[2, 2, 2]', '[8]'],
    ['full', [[1, 0], [0, 1], [1, 0], [0, 1]], '[2, 2, 2]', '[4, 2]'],
    ['tied', [[[1, 0], [0, 1]]], '[2, 2]', '[1, 2, 2]'],
    ['diag', [1, 2, 3, 4], '[2, 2]', '[4]'],
    ['spherical', [[1], [2]], '[2]', '[2, 1]'],
  ] as const)('%s: precisionsInit %j must have the family’s layout %s', async (covarianceType, precisionsInit, want, got) => {
    const g = new GaussianMixture({ nComponents: 2, covarianceType, precisionsInit });
    const err = await g.fit(iris.X.map((r) => r.slice(0, 2))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as Error).message).toContain(`must have shape ${want}`);
    expect((err as Error).message).toContain(`got shape ${got}`);
  });

  it('the right shapes are accepted for every built-in family', async () => {
    const X = iris.X.map((r) => r.slice(0, 2));
    const layouts = {
      full: [[[1, 0], [0, 1]], [[2, 0], [0, 2]]],
      tied: [[1, 0], [0, 1]],
      diag: [[1, 1], [2, 2]],
      spherical: [1, 2],
    };
    for (const [covarianceType, precisionsInit] of Object.entries(layouts)) {
      const g = await new GaussianMixture({ nComponents: 2, covarianceType, precisionsInit, weightsInit: [0.5, 0.5], meansInit: [X[0]!, X[100]!], maxIter: 0 }).fit(X);
      expect(g.state.nIter).toBe(0);
    }
  });
});

describe('unknown option names are rejected with the closest name', () => {
  it('a typo names the option it probably meant (nComponent: 3 used to fit k = 1)', () => {
    expect(() => new GaussianMixture({ nComponent: 3 } as never)).toThrow(
      "unknown GaussianMixture option 'nComponent': did you mean 'nComponents'?",
    );
    expect(() => new GaussianMixture({ max_iter: 10 } as never)).toThrow(/did you mean 'maxIter'\?/);
    expect(() => new GaussianMixture({ covariance_type: 'diag' } as never)).toThrow(/did you mean 'covarianceType'\?/);
  });

  it('a name near nothing lists the options', () => {
    expect(() => new GaussianMixture({ zzzzzzzz: 1 } as never)).toThrow(/unknown GaussianMixture option 'zzzzzzzz' \(options: nComponents, covarianceType, /);
  });

  it('fitStream knows its own options too', async () => {
    const source: RowSource = { d: 1, async *blocks() { yield Float64Array.from([1, 2, 3]); } };
    await expect(fitStream(source, { sampleSizes: 10 } as never)).rejects.toThrow(/unknown fitStream option 'sampleSizes': did you mean 'sampleSize'\?/);
    await expect(fitStream(source, { nComponent: 2 } as never)).rejects.toThrow(/did you mean 'nComponents'\?/);
  });
});

describe('numbers are validated by one rule table (the CLI uses the same)', () => {
  it.each([
    [{ seed: -1 }, /seed must be an integer in \[0, 4294967295\], got -1/],
    [{ seed: 1.5 }, /seed must be an integer/],
    [{ seed: 2 ** 32 }, /seed must be an integer in \[0, 4294967295\]/],
    [{ seed: Number.NaN }, /seed must be/],
    [{ maxIter: -1 }, /maxIter must be an integer >= 0, got -1/],
    [{ nInit: 0 }, /nInit must be an integer >= 1/],
    [{ tol: Infinity }, /tol must be a finite number >= 0/],
    [{ nComponents: '3' }, /nComponents must be an integer >= 1, got "3"/],
    [{ warmStart: 'yes' }, /warmStart must be a boolean/],
    [{ convergenceWarning: 0 }, /convergenceWarning must be a boolean/],
  ])('%o is rejected', (options, message) => {
    expect(() => new GaussianMixture(options as never)).toThrow(InvalidArgumentError);
    expect(() => new GaussianMixture(options as never)).toThrow(message);
  });

  it('the bounds themselves are accepted', () => {
    expect(() => new GaussianMixture({ seed: 0 })).not.toThrow();
    expect(() => new GaussianMixture({ seed: 2 ** 32 - 1 })).not.toThrow();
    expect(() => new GaussianMixture({ maxIter: 0, tol: 0, regCovar: 0 })).not.toThrow();
  });
});

describe('fromJSON is async; using its promise as a model says so', () => {
  it('calling a model method on the un-awaited promise throws an error naming the missing await', async () => {
    const json = (await new GaussianMixture({ nComponents: 2, seed: 0 }).fit(line)).toJSON();
    const pending = GaussianMixture.fromJSON(json) as unknown as GaussianMixture;
    expect(() => pending.predict(line)).toThrow(InvalidArgumentError);
    expect(() => pending.predict(line)).toThrow(
      'GaussianMixture.fromJSON() returns a Promise: await it (const model = await GaussianMixture.fromJSON(json)) before using model.predict',
    );
    expect(() => pending.state).toThrow(/await it .* before using model\.state/);
    expect(() => pending.isFitted).toThrow(/before using model\.isFitted/);
    // Awaited, the same promise is the model.
    const model = await (pending as unknown as Promise<GaussianMixture>);
    expect(Array.from(model.predict(line))).toHaveLength(line.length);
    expect(model).toBeInstanceOf(GaussianMixture);
  });
});
