// MAP EM under mclust's conjugate prior: the penalized lower bound
// (log-likelihood + log prior density, per row) never decreases, for the four
// families the prior supports, with property 1's float32 slack (stepSlack).
// The prior keeps covariances positive definite where maximum likelihood
// degenerates (duplicate rows, components on a few rows), so regCovar may be 0
// here: no fit may be refused, except that a constant column makes the default
// prior scale singular, which resolvePrior refuses (those cases are discarded).
import { InvalidArgumentError } from '@gmmkit/core';
import fc from 'fast-check';
import { beforeAll, describe, it } from 'vitest';
import { GaussianMixture, createGmmContainer, initBackend } from '../../src/index.js';
import { caseArb } from './arbitraries.js';
import { MAX_ITER, check, runs, stepSlack } from './helpers.js';

beforeAll(async () => {
  await initBackend();
});

const container = createGmmContainer();

describe('MAP EM: the penalized lower bound never decreases', () => {
  for (const family of ['full', 'tied', 'diag', 'spherical']) {
    const name = `prior monotone ${family}`;
    it(name, async () => {
      await check(
        name,
        fc.asyncProperty(caseArb(), fc.boolean(), async ({ ds, fit }, noReg) => {
          const gm = new GaussianMixture({
            nComponents: fit.nComponents,
            covarianceType: family,
            prior: 'default',
            regCovar: noReg ? 0 : fit.regCovarRelative * ds.scale * ds.scale,
            nInit: fit.nInit,
            seed: fit.seed,
            maxIter: MAX_ITER,
            tol: 1e-5,
            workers: 0,
            container,
          });
          try {
            await gm.fit(ds.rows);
          } catch (error) {
            if (error instanceof InvalidArgumentError && /default prior scale/.test(error.message)) fc.pre(false);
            throw error;
          }
          const history = gm.state.lowerBoundHistory;
          const slack = stepSlack(gm, ds);
          for (let t = 1; t < history.length; t++) {
            const step = history[t]! - history[t - 1]!;
            if (!(step >= -slack)) {
              throw new Error(`penalized lower bound decreased at iteration ${t + 1}: step ${step}, slack ${slack}; history [${history.join(', ')}]`);
            }
          }
        }),
        runs(30),
      );
    });
  }
});
