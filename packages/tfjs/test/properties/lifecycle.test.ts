// Properties 6 and 7, for every registered family x initializer: a JSON round
// trip gives identical outputs, and no public method leaks tensors.
import { PluginRegistry, type Container } from '@gmmkit/core';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { GaussianMixture, initBackend, tf } from '../../src/index.js';
import { caseArb, type Dataset, type FitChoice } from './arbitraries.js';
import { check, fitOptions, fitOrDiscard, isSingular, itForEachCell, runs, seedArb, testContainer } from './helpers.js';
import { leakyFamily } from './plugins.js';

beforeAll(async () => {
  await initBackend();
});

const container = testContainer();

describe('property 6: toJSON -> fromJSON gives identical predictions, probabilities and scores', () => {
  itForEachCell(
    container,
    'json',
    (family, init) =>
      fc.asyncProperty(
        caseArb(),
        seedArb,
        async ({ ds, fit }, sampleSeed) => {
          const gm = await fitOrDiscard(
            new GaussianMixture(fitOptions(ds, fit, family, init, container)),
            ds.rows,
          );
          // Through text, as a saved file would be; the plugin family is found in the container.
          const restored = await GaussianMixture.fromJSON(JSON.stringify(gm.toJSON()), { container });
          expect(restored.state).toEqual(gm.state);
          expect(restored.toJSON()).toEqual(gm.toJSON());
          expect(restored.nParameters()).toBe(gm.nParameters());
          // On the training rows and on fresh rows drawn from the model.
          const drawn = gm.sample(25, sampleSeed).X;
          const fresh = { data: drawn.data, shape: [drawn.rows, drawn.cols] as const };
          for (const X of [ds.rows, fresh]) {
            expect(restored.predict(X)).toEqual(gm.predict(X));
            expect(restored.predictProba(X)).toEqual(gm.predictProba(X));
            expect(restored.scoreSamples(X)).toEqual(gm.scoreSamples(X));
            expect(restored.score(X)).toBe(gm.score(X));
            expect(restored.bic(X)).toBe(gm.bic(X));
            expect(restored.aic(X)).toBe(gm.aic(X));
          }
        },
      ),
    runs(12),
  );
});

type InputForm = 'rows' | 'flat' | 'tensor';
const inputFormArb = fc.constantFrom<InputForm>('rows', 'flat', 'tensor');

/** The property: numTensors is where it was after every public call, whatever the input form. */
async function noLeaks(
  c: Container,
  family: string,
  init: string,
  { ds, fit }: { ds: Dataset; fit: FitChoice },
  form: InputForm,
): Promise<void> {
  const count = () => tf.memory().numTensors;
  const start = count();
  // The caller's tensor input stays the caller's: read, never disposed.
  const tensor = form === 'tensor' ? tf.tensor2d(ds.rows) : undefined;
  const X =
    tensor ??
    (form === 'flat' ? { data: Float64Array.from(ds.rows.flat()), shape: [ds.n, ds.d] as const } : ds.rows);
  const before = count();
  try {
    const gm = new GaussianMixture(fitOptions(ds, fit, family, init, c));
    try {
      await gm.fit(X);
    } catch (error) {
      // A refused fit must not leak either.
      expect(count()).toBe(before);
      if (isSingular(error)) fc.pre(false);
      throw error;
    }
    expect(count()).toBe(before);
    const steps: [string, () => unknown][] = [
      ['predict', () => gm.predict(X)],
      ['predictProba', () => gm.predictProba(X)],
      ['scoreSamples', () => gm.scoreSamples(X)],
      ['score', () => gm.score(X)],
      ['bic', () => gm.bic(X)],
      ['aic', () => gm.aic(X)],
      ['fullCovariances', () => gm.fullCovariances()],
      ['sample', () => gm.sample(10, 1)],
      ['toJSON', () => gm.toJSON()],
    ];
    for (const [method, call] of steps) {
      call();
      if (count() !== before) throw new Error(`${method} changed numTensors: ${before} -> ${count()}`);
    }
    const restored = await GaussianMixture.fromJSON(gm.toJSON(), { container: c });
    restored.predict(X);
    expect(count()).toBe(before);
    // A second fit of the same model (refit) does not accumulate tensors.
    await fitOrDiscard(gm, X);
    expect(count()).toBe(before);
    restored.dispose();
    gm.dispose();
    expect(count()).toBe(before);
    if (tensor) expect(tensor.isDisposed).toBe(false);
  } finally {
    tensor?.dispose();
  }
  expect(count()).toBe(start);
}

describe('property 7: fit, predict and dispose leave tf.memory().numTensors unchanged', () => {
  itForEachCell(
    container,
    'memory',
    (family, init) =>
      fc.asyncProperty(caseArb(), inputFormArb, (c, form) => noLeaks(container, family, init, c, form)),
    runs(8),
  );

  it('has teeth: a plugin that leaks a tensor per accumulate is caught', async () => {
    const leaky = leakyFamily(new PluginRegistry(container).covarianceFamily('diag'));
    const leakyContainer = testContainer({ covarianceFamilies: [leaky] });
    const run = check(
      'memory teeth',
      fc.asyncProperty(caseArb(), inputFormArb, (c, form) =>
        noLeaks(leakyContainer, leaky.name, 'kmeans', c, form),
      ),
      runs(3),
    );
    await expect(run).rejects.toThrow(/expected \d+ to be \d+|changed numTensors/);
  });
});
