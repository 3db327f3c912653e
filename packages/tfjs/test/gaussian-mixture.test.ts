import {
  InvalidArgumentError,
  InvalidDataError,
  ModelFormatError,
  NotFittedError,
  SingularCovarianceError,
  UnknownPluginError,
  registerPlugins,
  type Initializer,
} from '@gmmkit/core';
import { createRng } from '@gmmkit/core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  EXPANDED_KERNEL_LIMIT,
  GaussianMixture,
  axisAlignedKernel,
  createGmmContainer,
  matrixKernel,
  initBackend,
  tf,
  toMatrix,
  type GaussianMixtureJSON,
} from '../src/index.js';
import { blobs, irisLike, maxAbsDiff, permutedAccuracy } from './helpers.js';

const types = ['full', 'tied', 'diag', 'spherical'] as const;
const iris = irisLike();

beforeAll(async () => {
  await initBackend('wasm');
});

describe('toMatrix', () => {
  it('accepts nested arrays, flat data with a shape and tensors', () => {
    const m = toMatrix([
      [1, 2],
      [3, 4],
    ]);
    expect(m).toEqual({ rows: 2, cols: 2, data: Float64Array.from([1, 2, 3, 4]) });
    expect(toMatrix({ data: [1, 2, 3, 4, 5, 6], shape: [3, 2] }).rows).toBe(3);
    const t = tf.tensor2d([1, 2, 3, 4], [2, 2]);
    expect(toMatrix(t).data).toEqual(Float64Array.from([1, 2, 3, 4]));
    t.dispose();
  });

  it('accepts a Matrix { rows, cols, data } (copied), checking rows * cols against data.length', () => {
    const data = Float64Array.from([1, 2, 3, 4, 5, 6]);
    const m = toMatrix({ rows: 3, cols: 2, data });
    expect(m).toEqual({ rows: 3, cols: 2, data });
    expect(m.data).not.toBe(data);
    expect(() => toMatrix({ rows: 2, cols: 2, data })).toThrow(/6 values but rows x cols = 2 x 2 needs 4/);
    expect(() => toMatrix({ rows: 4, cols: 2, data })).toThrow(InvalidDataError);
    expect(() => toMatrix({ rows: 1.5, cols: 2, data })).toThrow(InvalidDataError);
    expect(() => toMatrix({ rows: 0, cols: 2, data: new Float64Array(0) })).toThrow(/empty/);
    expect(() => toMatrix({ rows: 1, cols: 2, data: Float64Array.from([1, NaN]) })).toThrow(/row 1, column 2/);
  });

  it('rejects empty, ragged and non-finite data, naming row and column (1-based)', () => {
    expect(() => toMatrix([])).toThrow(InvalidDataError);
    expect(() => toMatrix([[1, 2], [3]])).toThrow(/row 2/);
    try {
      toMatrix([
        [1, 2],
        [3, NaN],
      ]);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(InvalidDataError);
      expect((e as InvalidDataError).location).toEqual({ row: 2, column: 2, value: 'NaN' });
    }
    expect(() => toMatrix({ data: [1, Infinity], shape: [1, 2] })).toThrow(/row 1, column 2/);
    expect(() => toMatrix({ data: [1, 2, 3], shape: [2, 2] })).toThrow(InvalidDataError);
  });
});

describe('GaussianMixture end to end', () => {
  it.each(types)('%s: fits iris-like data, likelihood never decreases, labels recover the groups', async (covarianceType) => {
    const seen: number[] = [];
    const g = new GaussianMixture({ nComponents: 3, covarianceType, seed: 1, onIteration: (it, lb) => seen.push(it, lb) });
    const before = tf.memory().numTensors;
    await g.fit(iris.X);
    const s = g.state;
    expect(s.converged).toBe(true);
    expect(s.nIter).toBe(s.lowerBoundHistory.length);
    expect(s.lowerBound).toBe(s.lowerBoundHistory.at(-1));
    expect(seen.length).toBe(2 * s.nIter);
    for (let i = 1; i < s.lowerBoundHistory.length; i++) {
      // EM's monotonicity, up to float32 noise in the per-row terms
      expect(s.lowerBoundHistory[i]!).toBeGreaterThanOrEqual(s.lowerBoundHistory[i - 1]! - 1e-5);
    }
    expect(s.weights.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    const labels = g.predict(iris.X);
    expect(permutedAccuracy(labels, iris.labels, 3)).toBeGreaterThan(0.85);
    // the lower bound of the final parameters is at least the last one reported
    expect(g.score(iris.X)).toBeGreaterThanOrEqual(s.lowerBound - 1e-4);
    const proba = g.predictProba(iris.X);
    expect([proba.rows, proba.cols]).toEqual([150, 3]);
    for (let i = 0; i < proba.rows; i++) expect(proba.data[i * 3]! + proba.data[i * 3 + 1]! + proba.data[i * 3 + 2]!).toBeCloseTo(1, 9);
    const ss = g.scoreSamples(iris.X);
    expect(ss.reduce((a, b) => a + b, 0) / ss.length).toBeCloseTo(g.score(iris.X), 10);
    // one pass giving both is exactly the two separate calls
    const both = g.scoreSamplesAndProba(iris.X);
    expect(both.scores).toEqual(ss);
    expect(both.proba).toEqual(proba);
    const p = g.nParameters();
    const cov = { full: 30, tied: 10, diag: 12, spherical: 3 }[covarianceType];
    expect(p).toBe(cov + 12 + 2);
    const ll = ss.reduce((a, b) => a + b, 0);
    expect(g.bic(iris.X)).toBeCloseTo(-2 * ll + p * Math.log(150), 8);
    expect(g.aic(iris.X)).toBeCloseTo(-2 * ll + 2 * p, 8);
    expect(g.fullCovariances().length).toBe(3 * 16);
    expect(tf.memory().numTensors).toBe(before);
    g.dispose();
    expect(g.isFitted).toBe(false);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('is deterministic: same seed, same data -> identical results; a different seed may differ', async () => {
    const fit = async (seed: number) => (await new GaussianMixture({ nComponents: 3, seed, initParams: 'random', nInit: 2 }).fit(iris.X)).state;
    const a = await fit(5);
    const b = await fit(5);
    expect(b.means).toEqual(a.means);
    expect(b.covariances).toEqual(a.covariances);
    expect(b.lowerBoundHistory).toEqual(a.lowerBoundHistory);
  });

  it('nInit keeps the best lower bound among the restarts', async () => {
    const bounds: number[] = [];
    for (let r = 0; r < 3; r++) {
      // a one-restart model with the seed restart r would use; degenerate: 'allow', since under 'reject' a later
      // restart that degenerates (here the second: a component of 5 points in 4-D collapses) ends early and is passed over
      let last = -Infinity;
      const g = new GaussianMixture({ nComponents: 4, initParams: 'random-from-data', seed: 11, nInit: r + 1, degenerate: 'allow', onIteration: (_i, lb) => (last = lb) });
      await g.fit(iris.X);
      bounds.push(g.state.lowerBound);
      // `last` is the last restart's final bound: the kept one is that (one restart) or no worse.
      if (r === 0) expect(g.state.lowerBound).toBe(last);
      else expect(g.state.lowerBound).toBeGreaterThanOrEqual(last);
    }
    // more restarts can only keep the same or a better optimum (restart seeds are shared prefixes)
    expect(bounds[1]!).toBeGreaterThanOrEqual(bounds[0]!);
    expect(bounds[2]!).toBeGreaterThanOrEqual(bounds[1]!);
  });

  it('fitPredict equals fit then predict', async () => {
    const g = new GaussianMixture({ nComponents: 3, seed: 2 });
    const labels = await g.fitPredict(iris.X);
    expect(labels).toEqual(g.predict(iris.X));
  });

  it('warmStart continues from the previous parameters with one initialization', async () => {
    const g = new GaussianMixture({ nComponents: 3, seed: 3, maxIter: 2, tol: 0, warmStart: true });
    await g.fit(iris.X);
    const first = g.state.lowerBound;
    await g.fit(iris.X);
    // the second fit starts where the first stopped, so its first bound is no worse
    expect(g.state.lowerBoundHistory[0]!).toBeGreaterThanOrEqual(first - 1e-6);
    const cold = new GaussianMixture({ nComponents: 3, seed: 3, maxIter: 2, tol: 0 });
    await cold.fit(iris.X);
    await cold.fit(iris.X);
    expect(cold.state.lowerBoundHistory).toEqual((await new GaussianMixture({ nComponents: 3, seed: 3, maxIter: 2, tol: 0 }).fit(iris.X)).state.lowerBoundHistory);
  });

  it('uses user-provided weights, means and precisions (scikit-learn semantics)', async () => {
    const meansInit = [
      [5, 3.4, 1.5, 0.2],
      [6, 2.8, 4.3, 1.3],
      [6.6, 3, 5.6, 2],
    ];
    const g = new GaussianMixture({
      nComponents: 3,
      covarianceType: 'diag',
      meansInit,
      weightsInit: [0.2, 0.3, 0.5],
      precisionsInit: [
        [10, 10, 10, 10],
        [5, 5, 5, 5],
        [4, 4, 4, 4],
      ],
      maxIter: 1,
    });
    await g.fit(iris.X);
    // after one iteration the lower bound is the likelihood of exactly the given parameters
    const json: GaussianMixtureJSON = {
      ...(await new GaussianMixture({ nComponents: 3, covarianceType: 'diag' }).fit(iris.X)).toJSON(),
      weights: [0.2, 0.3, 0.5],
      means: meansInit,
      covariances: { shape: [3, 4], values: [0.1, 0.1, 0.1, 0.1, 0.2, 0.2, 0.2, 0.2, 0.25, 0.25, 0.25, 0.25] },
    };
    const fixed = await GaussianMixture.fromJSON(json);
    expect(g.state.lowerBoundHistory[0]!).toBeCloseTo(fixed.score(iris.X), 4);
    await expect(new GaussianMixture({ nComponents: 3, meansInit: [[1, 2], [1, 2], [1, 2]] }).fit(iris.X)).rejects.toThrow(/meansInit has 2 features/);
    // k == d: a [k, d] diag layout must not be read as [d, d] matrices
    const square = await new GaussianMixture({ nComponents: 2, covarianceType: 'diag', precisionsInit: [[1, 4], [0.5, 2]], maxIter: 1 }).fit([[0, 1], [1, 0], [2, 2], [3, 1]]);
    expect(square.state.nIter).toBe(1);
    await expect(new GaussianMixture({ nComponents: 1, precisionsInit: [[[1, 2], [2, 1]]] }).fit([[1, 2], [3, 4], [5, 7]])).rejects.toThrow(/positive definite/);
  });

  it('a registered initializer returning means sees all rows as one tensor, even in small chunks', async () => {
    const container = createGmmContainer();
    const seen: number[][] = [];
    const firstRows: Initializer = {
      name: 'first-rows',
      description: 'the first k rows as means (test plugin)',
      initialize({ x, data, n, d, k }) {
        seen.push([x.shape[0], x.shape[1], n]);
        return { kind: 'means', means: data.slice(0, k * d), weights: new Float64Array(k).fill(1 / k) };
      },
    };
    registerPlugins(container, { initializers: [firstRows] });
    const before = tf.memory().numTensors;
    const g = await new GaussianMixture({ nComponents: 3, initParams: 'first-rows', container, chunkSize: 16, maxIter: 1 }).fit(iris.X);
    expect(tf.memory().numTensors).toBe(before);
    expect(seen).toEqual([[150, 4, 150]]);
    // one iteration scores exactly the initial guess: means = first rows (iris rows 1-3 are one group)
    expect(Number.isFinite(g.state.lowerBoundHistory[0]!)).toBe(true);
  });

  it('sample draws from the fitted mixture, grouped by component, reproducibly', async () => {
    const { X } = blobs(2000, [[0, 0], [8, 8]], 1, 4);
    const g = await new GaussianMixture({ nComponents: 2, seed: 0 }).fit(X);
    const { X: S, labels } = g.sample(4000, 9);
    expect([S.rows, S.cols]).toEqual([4000, 2]);
    for (let i = 1; i < labels.length; i++) expect(labels[i]!).toBeGreaterThanOrEqual(labels[i - 1]!);
    const m = new Float64Array(2);
    let count = 0;
    for (let i = 0; i < 4000; i++)
      if (labels[i] === 0) {
        m[0] += S.data[i * 2]!;
        m[1] += S.data[i * 2 + 1]!;
        count++;
      }
    expect(count / 4000).toBeCloseTo(g.state.weights[0]!, 1);
    expect(maxAbsDiff([m[0]! / count, m[1]! / count], g.state.means.subarray(0, 2))).toBeLessThan(0.1);
    expect(g.sample(10, 9)).toEqual(g.sample(10, 9));
  });

  it('takes a Matrix as data: predict(sample(n).X), score and the rows of predictProba', async () => {
    const { X } = blobs(400, [[0, 0], [8, 8]], 1, 4);
    const g = await new GaussianMixture({ nComponents: 2, seed: 0 }).fit(X);
    const { X: S, labels } = g.sample(100, 3);
    const asShape = { data: S.data, shape: [S.rows, S.cols] as [number, number] };
    const predicted = g.predict(S);
    expect(predicted).toEqual(g.predict(asShape));
    // Well separated blobs: the component a row was drawn from is the one predicted.
    expect(permutedAccuracy(predicted, labels, 2)).toBe(1);
    expect(g.score(S)).toBe(g.score(asShape));
    const proba = g.predictProba(S);
    expect(g.predict(proba)).toHaveLength(100); // a [100, 2] Matrix is data for a 2-D model too
    g.dispose();
  });
});

describe('degenerate data stays finite', () => {
  it.each(types)('%s: k == n, duplicate rows and a constant feature', async (covarianceType) => {
    const small = [
      [1, 2, 5],
      [1, 2, 5],
      [3, 1, 5],
      [4, 4, 5],
    ];
    for (const initParams of ['kmeans', 'k-means++', 'random-from-data', 'random']) {
      const g = await new GaussianMixture({ nComponents: 4, covarianceType, initParams }).fit(small);
      for (const v of [...g.state.means, ...g.state.covariances, ...g.state.weights, g.state.lowerBound]) expect(Number.isFinite(v)).toBe(true);
      for (const v of g.scoreSamples(small)) expect(Number.isFinite(v)).toBe(true);
    }
    const constant = [...Array(30)].map((_, i) => [i % 7, 2.5]);
    const g = await new GaussianMixture({ nComponents: 2, covarianceType }).fit(constant);
    expect(g.state.covariances.every(Number.isFinite)).toBe(true);
  });

  it('regCovar 0 on a constant feature throws SingularCovarianceError naming regCovar', async () => {
    const constant = [...Array(30)].map((_, i) => [i % 7, 2.5]);
    const g = new GaussianMixture({ nComponents: 2, regCovar: 0 });
    await expect(g.fit(constant)).rejects.toThrow(SingularCovarianceError);
    await expect(g.fit(constant)).rejects.toThrow(/regCovar=0.*Increase regCovar/s);
    expect(g.isFitted).toBe(false);
  });

  it('a singular fit leaks no tensors', async () => {
    const before = tf.memory().numTensors;
    await expect(new GaussianMixture({ nComponents: 2, regCovar: 0 }).fit([...Array(20)].map((_, i) => [i % 3, 1]))).rejects.toThrow();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('argument errors come before any tensor work', () => {
  it.each([
    [{ nComponents: 0 }, /nComponents/],
    [{ nComponents: 1.5 }, /nComponents/],
    [{ tol: -1 }, /tol/],
    [{ maxIter: -1 }, /maxIter/],
    [{ nInit: 0 }, /nInit/],
    [{ regCovar: -1e-6 }, /regCovar/],
    [{ regCovar: NaN }, /regCovar/],
    [{ chunkSize: 0 }, /chunkSize/],
    [{ nComponents: 2, weightsInit: [0.5, 0.6] }, /sum to 1/],
    [{ nComponents: 2, meansInit: [[1, 2]] }, /meansInit/],
  ] as const)('%o is rejected', (options, message) => {
    expect(() => new GaussianMixture(options)).toThrow(InvalidArgumentError);
    expect(() => new GaussianMixture(options)).toThrow(message);
  });

  it('unknown plugin names are UnknownPluginErrors listing what exists', () => {
    expect(() => new GaussianMixture({ covarianceType: 'nope' })).toThrow(UnknownPluginError);
    expect(() => new GaussianMixture({ covarianceType: 'nope' })).toThrow(/full, tied, diag, spherical/);
    expect(() => new GaussianMixture({ initParams: 'nope' })).toThrow(UnknownPluginError);
  });

  it('k > n, bad data and wrong widths are typed errors', async () => {
    await expect(new GaussianMixture({ nComponents: 5 }).fit([[1], [2]])).rejects.toThrow(InvalidArgumentError);
    await expect(new GaussianMixture().fit([[1, NaN]])).rejects.toThrow(InvalidDataError);
    const g = await new GaussianMixture({ nComponents: 2 }).fit(iris.X);
    expect(() => g.predict([[1, 2]])).toThrow(InvalidDataError);
  });

  it('methods needing a fit throw NotFittedError', () => {
    const g = new GaussianMixture();
    expect(() => g.state).toThrow(NotFittedError);
    expect(() => g.predict([[1]])).toThrow(NotFittedError);
    expect(() => g.toJSON()).toThrow(NotFittedError);
    expect(() => g.nParameters()).toThrow(NotFittedError);
  });
});

describe('toJSON / fromJSON', () => {
  it.each(types)('%s round-trips exactly, through JSON text too', async (covarianceType) => {
    const g = await new GaussianMixture({ nComponents: 3, covarianceType, seed: 4 }).fit(iris.X);
    const json = g.toJSON();
    expect(json.format).toBe('gmmkit.gaussian-mixture');
    expect(json.version).toBe(1);
    const back = await GaussianMixture.fromJSON(JSON.parse(JSON.stringify(json)));
    expect(back.state.means).toEqual(g.state.means);
    expect(back.state.covariances).toEqual(g.state.covariances);
    expect(back.state.precisionsCholesky).toEqual(g.state.precisionsCholesky);
    expect(back.predict(iris.X)).toEqual(g.predict(iris.X));
    expect(back.scoreSamples(iris.X)).toEqual(g.scoreSamples(iris.X));
    expect((await GaussianMixture.fromJSON(JSON.stringify(json))).toJSON()).toEqual(json);
  });

  it('rejects corrupt, newer or inconsistent models with a clear ModelFormatError', async () => {
    const json = (await new GaussianMixture({ nComponents: 2, seed: 4 }).fit(iris.X)).toJSON();
    const cases: [unknown, RegExp][] = [
      ['{not json', /not valid JSON/],
      [{ ...json, format: 'other' }, /not a gmmkit model/],
      [{ ...json, version: 2 }, /newer than this gmmkit supports/],
      [{ ...json, weights: [0.5] }, /weights must have 2/],
      [{ ...json, weights: [0.9, 0.5] }, /sum to 1/],
      [{ ...json, means: [[1, 2, 3, 4], [1, 2, 3, null]] }, /means\[1\]\[3\]/],
      [{ ...json, covariances: { shape: [2, 4], values: json.covariances.values } }, /covariances.shape/],
      [{ ...json, covariances: { ...json.covariances, values: json.covariances.values.slice(1) } }, /values/],
      [{ ...json, covariances: { ...json.covariances, values: json.covariances.values.map(() => 1) } }, /positive definite/],
      [{ ...json, covarianceType: 'unknown' }, /not registered/],
    ];
    for (const [bad, message] of cases) {
      await expect(GaussianMixture.fromJSON(bad)).rejects.toThrow(ModelFormatError);
      await expect(GaussianMixture.fromJSON(bad)).rejects.toThrow(message);
    }
  });
});

describe('axis-aligned E-step kernel', () => {
  // Both of its formulations (expanded matMul, direct broadcast) against float64, on rows near each component.
  it.each([
    ['moderate components (expanded form)', [0, 3], [1, 0.5], false],
    ['a tight component far from the origin (direct form)', [0, 20], [1, 0.01], true],
  ] as const)('%s: log-densities within 1e-3 of float64', (_label, centers, sds, far) => {
    const k = 2;
    const d = 4;
    const means = new Float64Array(k * d);
    const precisionChol = new Float64Array(k * d);
    let c = 0;
    for (let j = 0; j < k; j++)
      for (let f = 0; f < d; f++) {
        means[j * d + f] = centers[j]! + 0.1 * f;
        precisionChol[j * d + f] = 1 / (sds[j]! * (1 + 0.2 * f));
        c = Math.max(c, (means[j * d + f]! * precisionChol[j * d + f]!) ** 2 * d);
      }
    expect(c > EXPANDED_KERNEL_LIMIT).toBe(far);
    const rng = createRng(4);
    const n = 200;
    const rows = new Float64Array(n * d);
    for (let i = 0; i < n; i++) {
      const j = i % k;
      for (let f = 0; f < d; f++) rows[i * d + f] = means[j * d + f]! + rng.normal() / precisionChol[j * d + f]!;
    }
    const kernel = axisAlignedKernel(tf, means, precisionChol, k, d);
    const x = tf.tensor2d(Float32Array.from(rows), [n, d]);
    const before = tf.memory().numTensors;
    const t = kernel.logDensity(x);
    const got = t.dataSync();
    t.dispose();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    kernel.dispose();
    let worst = 0;
    for (let i = 0; i < n; i++)
      for (let j = 0; j < k; j++) {
        let q = 0;
        let logDet = 0;
        for (let f = 0; f < d; f++) {
          // the float32 row, as the kernel sees it
          q += ((Math.fround(rows[i * d + f]!) - means[j * d + f]!) * precisionChol[j * d + f]!) ** 2;
          logDet += Math.log(precisionChol[j * d + f]!);
        }
        const want = logDet - 0.5 * d * Math.log(2 * Math.PI) - 0.5 * q;
        // relative for the far component's huge values, absolute near 0
        worst = Math.max(worst, Math.abs(got[i * k + j]! - want) / Math.max(1, Math.abs(want) * 1e-3));
      }
    expect(worst).toBeLessThan(1e-3);
  });
});

describe('shared-factor (tied) E-step kernel', () => {
  it.each([
    ['components near the data mean (expanded form)', 3, 0.7],
    ['a tight shared covariance, means far away (full product)', 30, 0.01],
  ] as const)('%s: log-densities within 1e-3 of float64', (_label, offset, sd) => {
    const k = 3;
    const d = 3;
    // U: upper-triangular precision factor of a correlated covariance scaled by sd
    const u = Float64Array.from([1, -0.3, 0.2, 0, 1.2, 0.4, 0, 0, 0.9].map((v) => v / sd));
    const means = Float64Array.from({ length: k * d }, (_, i) => (Math.floor(i / d) - 1) * offset + 0.3 * (i % d));
    const rng = createRng(5);
    const n = 150;
    const rows = new Float64Array(n * d);
    for (let i = 0; i < n; i++) for (let f = 0; f < d; f++) rows[i * d + f] = means[(i % k) * d + f]! + sd * rng.normal();
    const kernel = matrixKernel(tf, means, u, k, d, true);
    const x = tf.tensor2d(Float32Array.from(rows), [n, d]);
    const t = kernel.logDensity(x);
    const got = t.dataSync();
    t.dispose();
    x.dispose();
    kernel.dispose();
    let logDet = 0;
    for (let r = 0; r < d; r++) logDet += Math.log(u[r * d + r]!);
    let worst = 0;
    for (let i = 0; i < n; i++)
      for (let j = 0; j < k; j++) {
        let q = 0;
        for (let c = 0; c < d; c++) {
          let y = 0;
          for (let r = 0; r < d; r++) y += (Math.fround(rows[i * d + r]!) - means[j * d + r]!) * u[r * d + c]!;
          q += y * y;
        }
        const want = logDet - 0.5 * d * Math.log(2 * Math.PI) - 0.5 * q;
        worst = Math.max(worst, Math.abs(got[i * k + j]! - want) / Math.max(1, Math.abs(want) * 1e-3));
      }
    expect(worst).toBeLessThan(1e-3);
  });
});

describe('numerical warnings', () => {
  it('reports condition numbers and stays quiet on well-conditioned data', async () => {
    // One component with covariance diag(1, 4) up to sampling noise: κ ≈ 4.
    const rng = createRng(3);
    const rows = Array.from({ length: 400 }, () => [rng.normal(), 2 * rng.normal()]);
    const gm = await new GaussianMixture({ nComponents: 1, seed: 0 }).fit(rows);
    const [kappa] = gm.conditionNumbers();
    expect(kappa).toBeGreaterThan(3);
    expect(kappa).toBeLessThan(5.5);
    expect(gm.warnings()).toEqual([]);
    gm.dispose();
  });

  it('flags a covariance float32 cannot resolve, naming regCovar', async () => {
    // The second column is the first plus noise 1e3 times smaller: κ ≈ 4e6 with regCovar 0 (a
    // noise of 1e-4 already makes the fit singular in float32).
    const rng = createRng(4);
    const rows = Array.from({ length: 300 }, () => {
      const x = rng.normal();
      return [x, x + 1e-3 * rng.normal()];
    });
    const gm = await new GaussianMixture({ nComponents: 1, regCovar: 0, seed: 0 }).fit(rows);
    expect(gm.conditionNumbers()[0]).toBeGreaterThan(1e5);
    const warnings = gm.warnings();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/component 0's covariance has condition number .* raise regCovar \(now 0\)/);
    gm.dispose();
  });
});
