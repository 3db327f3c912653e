import { AbortedError, InvalidArgumentError, InvalidDataError } from '@gmmkit/core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  BayesianGaussianMixture,
  GaussianMixture,
  MIN_SAMPLE_INITS,
  fitStream,
  initBackend,
  tf,
  type RowSource,
} from '../src/index.js';
import { blobs, irisLike, maxAbsDiff, permutedAccuracy } from './helpers.js';

const iris = irisLike();

beforeAll(async () => {
  await initBackend('wasm');
});

/** A re-iterable source over rows in memory, in blocks of `blockRows`; counts its passes. */
function arraySource(rows: number[][], blockRows: number): RowSource & { passes: number } {
  const d = rows[0]!.length;
  const src = {
    d,
    passes: 0,
    async *blocks(): AsyncIterable<Float64Array> {
      src.passes++;
      for (let start = 0; start < rows.length; start += blockRows) {
        // yield to the event loop as a file reader would
        await Promise.resolve();
        yield Float64Array.from(rows.slice(start, start + blockRows).flat());
      }
    },
  };
  return src;
}

/** Initial precisions for each family's layout (k = 3, d = 4), not all equal so the families differ. */
function precisionsFor(type: string): number[] | number[][] | number[][][] {
  const diag = [
    [4, 8, 30, 90],
    [3, 9, 4, 20],
    [2, 8, 3, 12],
  ];
  switch (type) {
    case 'full':
      return diag.map((p) => p.map((_, a) => p.map((v, b) => (a === b ? v : 0))));
    case 'tied':
      return [4, 8, 5, 20].map((v, a, all) => all.map((_, b) => (a === b ? v : 0)));
    case 'diag':
      return diag;
    default:
      return [5, 4, 3];
  }
}

const families = ['full', 'tied', 'diag', 'spherical'] as const;

/** Options that start EM from the same given parameters and run 12 iterations, for a family. */
function presetStart(covarianceType: (typeof families)[number]) {
  return {
    nComponents: 3,
    covarianceType,
    weightsInit: [0.3, 0.3, 0.4],
    meansInit: [iris.X[0]!, iris.X[60]!, iris.X[120]!],
    precisionsInit: precisionsFor(covarianceType),
    tol: 0, // a fixed number of iterations: the comparison does not hinge on when each run stops
    maxIter: 12,
  };
}

describe('fitStream', () => {
  it.each(families)(
    '%s: matches the in-memory fit from the same initial parameters (float32 tolerance)',
    async (covarianceType) => {
      const options = presetStart(covarianceType);
      const memory = await new GaussianMixture(options).fit(iris.X);
      const before = tf.memory().numTensors;
      const source = arraySource(iris.X, 37); // blocks that do not divide n
      const streamed = await fitStream(source, options);
      expect(tf.memory().numTensors).toBe(before);
      // 1 statistics pass + one per iteration
      expect(source.passes).toBe(1 + 12);
      const a = memory.state;
      const b = streamed.state;
      expect(b.nIter).toBe(12);
      expect(b.nSamples).toBe(150);
      expect(b.covarianceType).toBe(covarianceType);
      expect(maxAbsDiff(b.weights, a.weights)).toBeLessThan(1e-5);
      expect(maxAbsDiff(b.means, a.means)).toBeLessThan(1e-5);
      expect(maxAbsDiff(b.covariances, a.covariances)).toBeLessThan(1e-5);
      expect(maxAbsDiff(b.lowerBoundHistory, a.lowerBoundHistory)).toBeLessThan(1e-5);
      // the history moved: the comparison is not of two copies of the initial parameters
      expect(a.lowerBoundHistory.at(-1)! - a.lowerBoundHistory[0]!).toBeGreaterThan(0.1);
      expect(b.lowerBound).toBe(b.lowerBoundHistory.at(-1));
    },
  );

  it('with the default initializer and n <= sampleSize starts from the in-memory fit and confirms it', async () => {
    const memory = await new GaussianMixture({ nComponents: 3, seed: 3 }).fit(iris.X);
    const seen: number[] = [];
    const streamed = await fitStream(arraySource(iris.X, 40), {
      nComponents: 3,
      seed: 3,
      onIteration: (it) => seen.push(it),
    });
    const s = streamed.state;
    expect(s.converged).toBe(true);
    expect(s.nIter).toBeGreaterThanOrEqual(2); // the first iteration never converges (previous bound is -Infinity)
    expect(s.nIter).toBeLessThanOrEqual(4);
    expect(seen).toEqual(Array.from({ length: s.nIter }, (_, i) => i + 1));
    // EM only climbs from the in-memory optimum, by less than tol per step
    expect(s.lowerBound).toBeGreaterThanOrEqual(memory.state.lowerBound - 1e-5);
    expect(Math.abs(streamed.score(iris.X) - memory.score(iris.X))).toBeLessThan(2e-3);
    expect(streamed.predict(iris.X)).toEqual(memory.predict(iris.X));
  });

  it('redoes a pass about the current means when the M-step finds a singular covariance, and takes the later passes about the means (the engine fallback)', async () => {
    // Four duplicate rows far from the data mean: float32 raw moments cancel to a singular covariance.
    const rows = [...blobs(60, [[0, 0], [5, 5]], 1, 3).X, ...Array.from({ length: 4 }, () => [1000.1, -2000.3])];
    const purposes: string[] = [];
    const streamed = await fitStream(arraySource(rows, 16), {
      nComponents: 3,
      seed: 0,
      onPass: (_pass, purpose) => purposes.push(purpose),
    });
    expect(purposes[0]).toBe('statistics');
    expect(purposes).toContain('accurate-moments');
    // every fallback pass follows the EM pass whose M-step it retries
    // The first fallback pass follows the EM pass whose M-step it retries; the run's later passes are
    // about the means from the start (no raw pass to fail again).
    const first = purposes.indexOf('accurate-moments');
    expect(purposes[first - 1]).toBe('em');
    expect(purposes.slice(first)).toEqual(purposes.slice(first).map(() => 'accurate-moments'));
    const memory = await new GaussianMixture({ nComponents: 3, seed: 0 }).fit(rows);
    expect(Math.abs(streamed.score(rows) - memory.score(rows))).toBeLessThan(1e-3);
  });

  it('initializes on a reservoir sample when the data is larger, deterministically per seed', async () => {
    const { X, labels } = blobs(
      900,
      [
        [0, 0],
        [8, 0],
        [0, 8],
      ],
      1,
      5,
    );
    const opts = { nComponents: 3, covarianceType: 'diag', sampleSize: 120, nInit: 2, seed: 11 } as const;
    const one = await fitStream(arraySource(X, 100), opts);
    const two = await fitStream(arraySource(X, 64), opts); // other block sizes, same rows: same sample
    expect(permutedAccuracy(one.predict(X), labels, 3)).toBeGreaterThan(0.97);
    expect(one.state.converged).toBe(true);
    expect(maxAbsDiff(one.state.means, two.state.means)).toBeLessThan(1e-5);
    const other = await fitStream(arraySource(X, 100), { ...opts, seed: 12 });
    expect(other.state.lowerBound).toBeCloseTo(one.state.lowerBound, 3);
    // a normal model: JSON round trip gives the same predictions
    const again = await GaussianMixture.fromJSON(JSON.stringify(one.toJSON()));
    expect(again.predict(X)).toEqual(one.predict(X));
    expect(one.toJSON().options).toMatchObject({ nInit: 2, seed: 11 });
  });

  it('restarts on the sample (at least MIN_SAMPLE_INITS) so one unlucky start does not decide the fit', async () => {
    // Four overlapping 4-D components of equal weight: k-means often merges two and
    // splits one (weights near 0.54/0.20/0.17/0.09, a log-likelihood ~3200 lower).
    // With one start on the sample, seed 0 landed there; the in-memory fit lands there too.
    const n = 30_000;
    const d = 4;
    const comps = [
      { m: [0, 0, 0, 0], sd: [1, 1, 1, 1] },
      { m: [2.5, 0, 0, 0], sd: [0.5, 2, 1, 1] },
      { m: [0, 2.5, 0, 0], sd: [1, 0.5, 2, 1] },
      { m: [1, 1, 3, 0], sd: [2, 1, 0.5, 0.5] },
    ];
    let s = 7;
    const u = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) + 0.5) / 2 ** 32;
    const normal = () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
    const X = new Float64Array(n * d);
    for (let i = 0; i < n; i++) {
      const c = comps[Math.min(3, Math.floor(u() * 4))]!;
      for (let j = 0; j < d; j++) X[i * d + j] = c.m[j]! + c.sd[j]! * normal();
    }
    const source: RowSource = {
      d,
      async *blocks() {
        for (let i = 0; i < n; i += 8192) yield X.subarray(i * d, Math.min(n, i + 8192) * d);
      },
    };
    expect(MIN_SAMPLE_INITS).toBeGreaterThanOrEqual(5);
    const x = { data: X, shape: [n, d] as [number, number] };
    const memory = await new GaussianMixture({ nComponents: 4, seed: 0 }).fit(x);
    const streamed = await fitStream(source, { nComponents: 4, seed: 0 });
    expect(streamed.score(x) * n).toBeGreaterThanOrEqual(memory.score(x) * n - 1);
    for (const w of streamed.state.weights) expect(Math.abs(w - 0.25)).toBeLessThan(0.02);
    // The model records the user's nInit, not the sample's restarts.
    expect(streamed.toJSON().options.nInit).toBe(1);
    memory.dispose();
    streamed.dispose();
  });

  it('surfaces a source that throws mid-pass, naming the pass and rows read, and leaks no tensors', async () => {
    const before = tf.memory().numTensors;
    let pass = 0;
    const failing: RowSource = {
      d: 4,
      async *blocks() {
        pass++;
        for (let start = 0; start < iris.X.length; start += 50) {
          if (pass === 3 && start === 100) throw new Error('disk went away');
          yield Float64Array.from(iris.X.slice(start, start + 50).flat());
        }
      },
    };
    await expect(fitStream(failing, { nComponents: 3, maxIter: 10 })).rejects.toThrow(
      /fitStream: the row source failed in pass 3 \(EM pass 2\) after 100 rows: disk went away/,
    );
    expect(tf.memory().numTensors).toBe(before);
    const syncThrow: RowSource = {
      d: 2,
      blocks() {
        throw new Error('cannot open');
      },
    };
    await expect(fitStream(syncThrow, { nComponents: 1 })).rejects.toThrow(
      /pass 1 \(the statistics pass\) after 0 rows: cannot open/,
    );
  });

  it('closes the source when the fit gives up mid-pass', async () => {
    let closed = 0;
    const rows = iris.X.map((r) => [...r]);
    rows[70]![2] = NaN;
    const src: RowSource = {
      d: 4,
      async *blocks() {
        try {
          for (let s = 0; s < rows.length; s += 25) yield Float64Array.from(rows.slice(s, s + 25).flat());
        } finally {
          closed++;
        }
      },
    };
    const error = await fitStream(src, { nComponents: 2 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidDataError);
    expect((error as InvalidDataError).location).toEqual({ row: 71, column: 3, value: 'NaN' });
    expect(closed).toBe(1);
  });

  it('stops at an aborted signal mid-pass, closing the source', async () => {
    const before = tf.memory().numTensors;
    const controller = new AbortController();
    let closed = 0;
    let blocksRead = 0;
    const src: RowSource = {
      d: 4,
      async *blocks() {
        try {
          for (let s = 0; s < iris.X.length; s += 30) {
            blocksRead++;
            if (blocksRead === 12) controller.abort(); // third pass, second block
            yield Float64Array.from(iris.X.slice(s, s + 30).flat());
          }
        } finally {
          closed++;
        }
      },
    };
    const error = await fitStream(src, { nComponents: 3, signal: controller.signal }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AbortedError);
    expect(blocksRead).toBe(12);
    expect(closed).toBe(3);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects sources that change between passes, bad blocks and bad options', async () => {
    let pass = 0;
    const shrinking: RowSource = {
      d: 4,
      async *blocks() {
        pass++;
        yield Float64Array.from(iris.X.slice(0, pass === 1 ? 150 : 149).flat());
      },
    };
    await expect(
      fitStream(shrinking, {
        nComponents: 2,
        weightsInit: [0.5, 0.5],
        meansInit: [iris.X[0]!, iris.X[149]!],
        precisionsInit: [1, 1],
        covarianceType: 'spherical',
      }),
    ).rejects.toThrow(/yielded 149 rows in pass 2 but 150 in pass 1/);
    const ragged: RowSource = {
      d: 3,
      async *blocks() {
        yield new Float64Array(6);
        yield new Float64Array(4);
      },
    };
    await expect(fitStream(ragged, {})).rejects.toThrow(/after row 2 has 4 values, not a multiple of d=3/);
    const tiny = arraySource(iris.X.slice(0, 5), 2);
    await expect(fitStream(tiny, { nComponents: 6 })).rejects.toThrow(InvalidArgumentError);
    await expect(fitStream(arraySource(iris.X, 50), { nComponents: 3, sampleSize: 2 })).rejects.toThrow(
      /<= sampleSize \(2\)/,
    );
    await expect(fitStream(arraySource(iris.X, 50), { sampleSize: 0 })).rejects.toThrow(
      /sampleSize must be an integer >= 1/,
    );
    await expect(fitStream(arraySource(iris.X, 50), { covarianceType: 'nope' })).rejects.toThrow(
      /unknown covariance family 'nope'|nope/,
    );
    await expect(fitStream({ d: 2, blocks: async function* () {} }, {})).rejects.toThrow(/no rows/);
  });
});

describe('fitStream runs the estimator\'s strategy: MAP EM and variational inference', () => {
  it.each(families)(
    "%s with prior: 'default' matches MAP EM in memory from the same initial parameters (float32 tolerance)",
    async (covarianceType) => {
      const options = {
        ...presetStart(covarianceType),
        prior: 'default' as const,
        convergenceWarning: false,
      };
      const memory = await new GaussianMixture(options).fit(iris.X);
      const { prior: _map, ...ml } = options;
      const plain = await new GaussianMixture(ml).fit(iris.X);
      const before = tf.memory().numTensors;
      const source = arraySource(iris.X, 37);
      const streamed = await fitStream(source, options);
      expect(tf.memory().numTensors).toBe(before);
      expect(source.passes).toBe(1 + 12);
      const a = memory.state;
      const b = streamed.state;
      expect(maxAbsDiff(b.weights, a.weights)).toBeLessThan(1e-5);
      expect(maxAbsDiff(b.means, a.means)).toBeLessThan(1e-5);
      expect(maxAbsDiff(b.covariances, a.covariances)).toBeLessThan(1e-5);
      expect(maxAbsDiff(b.lowerBoundHistory, a.lowerBoundHistory)).toBeLessThan(1e-5);
      // MAP EM, not maximum likelihood: the prior moves the fit by far more than the tolerance
      expect(maxAbsDiff(a.covariances, plain.state.covariances)).toBeGreaterThan(1e-3);
      expect(streamed.toJSON().options.prior).toBe('default');
    },
  );

  it.each([
    ['full', 'dirichlet-process'],
    ['tied', 'dirichlet-distribution'],
    ['diag', 'dirichlet-process'],
    ['spherical', 'dirichlet-distribution'],
  ] as const)(
    '%s, %s: BayesianGaussianMixture streamed over blocks equals the in-memory fit from the same start (float32 tolerance)',
    async (covarianceType, weightConcentrationPriorType) => {
      const options = {
        nComponents: 5,
        covarianceType,
        weightConcentrationPriorType,
        tol: 0,
        maxIter: 8,
        seed: 1,
        convergenceWarning: false,
        workers: 0,
      };
      // n <= sampleSize: the stream's sample fit is the in-memory fit (8 iterations), then 8 passes from it;
      // in memory, the same as a warm-started second fit.
      const memory = new BayesianGaussianMixture({ ...options, warmStart: true });
      await memory.fit(iris.X);
      const first = memory.state.lowerBoundHistory;
      await memory.fit(iris.X);
      const before = tf.memory().numTensors;
      const source = arraySource(iris.X, 37);
      const streamed = await fitStream(source, options, BayesianGaussianMixture);
      expect(tf.memory().numTensors).toBe(before);
      expect(streamed).toBeInstanceOf(BayesianGaussianMixture);
      expect(source.passes).toBe(1 + 8);
      const a = memory.state;
      const b = streamed.state;
      expect(b.nIter).toBe(8);
      // The ELBO is a total over the rows (scikit-learn's lower_bound_): compared per row, as GaussianMixture's
      // mean log-likelihood; the posterior counts relatively.
      const rel = (x: ArrayLike<number>, y: ArrayLike<number>) => {
        let m = 0;
        for (let i = 0; i < y.length; i++) m = Math.max(m, Math.abs(x[i]! - y[i]!) / (1 + Math.abs(y[i]!)));
        return m;
      };
      expect(maxAbsDiff(b.lowerBoundHistory, a.lowerBoundHistory) / iris.X.length).toBeLessThan(1e-5);
      expect(maxAbsDiff(b.weights, a.weights)).toBeLessThan(1e-5);
      expect(maxAbsDiff(b.means, a.means)).toBeLessThan(1e-5);
      expect(maxAbsDiff(b.covariances, a.covariances)).toBeLessThan(1e-5);
      expect(rel(b.weightConcentration, a.weightConcentration)).toBeLessThan(1e-5);
      expect(rel(b.degreesOfFreedom, a.degreesOfFreedom)).toBeLessThan(1e-5);
      expect(maxAbsDiff(b.covariancePrior, a.covariancePrior)).toBeLessThan(1e-9);
      // the passes moved the variational posterior (the ELBO changed after the first fit)
      expect(Math.abs(a.lowerBoundHistory.at(-1)! - first.at(-1)!)).toBeGreaterThan(1e-6);
      // the model round-trips as a Bayesian one
      const back = await BayesianGaussianMixture.fromJSON(streamed.toJSON());
      expect(back.predict(iris.X)).toEqual(streamed.predict(iris.X));
    },
  );

  it('refuses what it cannot stream, in one line', async () => {
    await expect(
      fitStream(arraySource(iris.X, 50), { prior: 'default', missing: 'marginalize' }),
    ).rejects.toThrow(/prior with missing: 'marginalize' is not supported/);
    await expect(fitStream(arraySource(iris.X, 50), { weightsInit: [1] } as never, BayesianGaussianMixture)).rejects.toThrow(
      /unknown fitStream option 'weightsInit'/,
    );
    await expect(
      fitStream(arraySource(iris.X, 50), {}, GaussianMixture as unknown as typeof BayesianGaussianMixture),
    ).rejects.toThrow(/the estimator must be BayesianGaussianMixture/);
  });
});
