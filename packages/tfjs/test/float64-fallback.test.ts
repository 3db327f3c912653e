// The float64 fallback of the M-step: a component of a few rows in large
// units loses its covariance to float32 rounding even about its mean; the
// engine then recomputes its statistics in float64 from the host rows.
import { readFileSync } from 'node:fs';
import { SingularCovarianceError, createRng, registerPlugins, type CovarianceFamily } from '@gmmkit/core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  GaussianMixture,
  createGmmContainer,
  diagCovariance,
  emPass,
  fullCovariance,
  initBackend,
  sphericalCovariance,
  tf,
  tiedCovariance,
  uploadCentered,
} from '../src/index.js';
import { exactPass } from '../src/engine.js';

beforeAll(async () => {
  await initBackend('wasm');
});

const d = 4;
// 200 rows around the origin and 4 rows (fewer than d + 1: their scatter is singular) around 1000, spread 100
// (seed 2: one where float32 statistics fail even about the means, see the second test).
const rng = createRng(2);
const big = Array.from({ length: 200 }, () => Array.from({ length: d }, () => 30 * rng.normal()));
const small = Array.from({ length: 4 }, () => Array.from({ length: d }, () => 1000 + 100 * rng.normal()));
const X = [...big, ...small];

/** Mean and covariance (divided by n, + reg I) of rows in float64. */
function exactCovariance(rows: number[][], reg: number): { mean: number[]; cov: number[] } {
  const mean = Array.from({ length: d }, (_, a) => rows.reduce((s, r) => s + r[a]!, 0) / rows.length);
  const cov = new Array<number>(d * d).fill(0);
  for (const r of rows) for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) cov[a * d + b] += ((r[a]! - mean[a]!) * (r[b]! - mean[b]!)) / rows.length;
  for (let a = 0; a < d; a++) cov[a * d + a] += reg;
  return { mean, cov };
}

/** The two groups as the starting point (weights, means, precisions), so no initializer is involved. */
function start(): Pick<ConstructorParameters<typeof GaussianMixture>[0] & object, 'weightsInit' | 'meansInit' | 'precisionsInit'> {
  const eye = (v: number) => Array.from({ length: d }, (_, a) => Array.from({ length: d }, (_, b) => (a === b ? v : 0)));
  return {
    weightsInit: [200 / 204, 4 / 204],
    meansInit: [new Array<number>(d).fill(0), new Array<number>(d).fill(1000)],
    precisionsInit: [eye(1 / 900), eye(1 / 900)],
  };
}

/** The component near 1000 of a fit of X: the float64 mean and covariance of `rows` (+ reg), and weight `share`. */
function expectExactSmall(g: GaussianMixture, rows: number[][], share: number): void {
  const s = g.state;
  const j = s.means[d]! > 500 ? 1 : 0;
  const { mean, cov } = exactCovariance(rows, 1e-6);
  // means from float32 sums over rows near 1000: ~1e-5
  for (let a = 0; a < d; a++) expect(Math.abs(s.means[j * d + a]! - mean[a]!)).toBeLessThan(1e-3);
  const got = s.covariances.subarray(j * d * d, (j + 1) * d * d);
  // entries of size ~1e4: the same matrix to float32-mean accuracy, and positive definite (it factored)
  for (let i = 0; i < d * d; i++) expect(Math.abs(got[i]! - cov[i]!)).toBeLessThan(1e-6 * 1e4);
  expect(s.weights[j]).toBeCloseTo(share, 6);
  expect(s.droppedRestarts).toBeUndefined();
}

describe('float64 fallback of the M-step', () => {
  it('fits a tiny component in large units that float32 statistics cannot, with its exact covariance', async () => {
    const before = tf.memory().numTensors;
    const g = await new GaussianMixture({ nComponents: 2, ...start(), maxIter: 5, degenerate: 'allow', seed: 0 }).fit(X);
    expect(tf.memory().numTensors).toBe(before);
    expectExactSmall(g, small, small.length / X.length);
  });

  it('without accumulateHost the same fit fails (the test has teeth), and the error says why', async () => {
    const { accumulateHost: _, accumulateHostLabels: __, ...noHost } = fullCovariance as CovarianceFamily & { accumulateHost: unknown; accumulateHostLabels: unknown };
    const family: CovarianceFamily = { ...noHost, name: 'full-no-host' };
    const container = createGmmContainer();
    registerPlugins(container, { covarianceFamilies: [family] });
    const g = new GaussianMixture({ nComponents: 2, covarianceType: 'full-no-host', container, ...start(), maxIter: 5, degenerate: 'allow' });
    await expect(g.fit(X)).rejects.toThrow(SingularCovarianceError);
  });
});

describe('float64 fallback with sample weights and missing cells', () => {
  // Integer weights: 0..2 on the large group (some rows dropped), 2 on the small one (its scatter stays singular;
  // a power of two scales its float32 sums exactly, so they fail as the unweighted ones do).
  const rngW = createRng(5);
  const W = X.map((_, i) => (i < 200 ? rngW.int(3) : 2));
  const replicate = (rows: number[][]): number[][] => rows.flatMap((row, i) => Array.from({ length: W[i]! }, () => row));
  const weightedSmall = replicate(X).slice(-8);
  const smallShare = weightedSmall.length / W.reduce((x, y) => x + y, 0);
  /** fullCovariance under another name, counting its accumulateHost calls (or without accumulateHost). */
  function variant(host: boolean): { config: { container: ReturnType<typeof createGmmContainer>; covarianceType: string }; calls: () => number } {
    let calls = 0;
    const { accumulateHost, accumulateHostLabels: _, ...rest } = fullCovariance as CovarianceFamily & { accumulateHost: NonNullable<CovarianceFamily['accumulateHost']> };
    const family: CovarianceFamily = host
      ? { ...rest, name: 'full-counted', accumulateHost: (...a) => (calls++, accumulateHost(...a)) }
      : { ...rest, name: 'full-no-host' };
    const container = createGmmContainer();
    registerPlugins(container, { covarianceFamilies: [family] });
    return { config: { container, covarianceType: family.name }, calls: () => calls };
  }
  const options = { nComponents: 2, ...start(), maxIter: 5, degenerate: 'allow', seed: 0 } as const;

  it('weighted: goes through the fallback (it fails without), with the weighted covariance of the small component', async () => {
    const counted = variant(true);
    const before = tf.memory().numTensors;
    const weighted = await new GaussianMixture({ ...options, ...counted.config }).fit(X, { sampleWeight: W });
    expect(tf.memory().numTensors).toBe(before);
    expect(counted.calls()).toBeGreaterThan(0);
    expectExactSmall(weighted, weightedSmall, smallShare);
    await expect(new GaussianMixture({ ...options, ...variant(false).config }).fit(X, { sampleWeight: W })).rejects.toThrow(SingularCovarianceError);
    // The replicated rows reach the same small component. (Their lower bounds are not compared: with a covariance
    // singular but for regCovar, log det moves with float32 noise in that direction.)
    expectExactSmall(await new GaussianMixture(options).fit(replicate(X)), weightedSmall, smallShare);
  });

  // 10% of the large group's cells removed (each row keeps one observed value); the small group stays complete.
  // Seed 16: one where these weighted rows need the fallback too (asserted below).
  const rngM = createRng(16);
  const gappy = X.map((row, i) => {
    if (i >= 200) return row;
    const out = row.map((v) => (rngM.next() < 0.1 ? Number.NaN : v));
    if (out.every(Number.isNaN)) out[0] = row[0]!;
    return out;
  });

  it('missing cells and weights: the fallback stays exact (rows with gaps go through their patterns in float64)', async () => {
    expect(gappy.flat().filter(Number.isNaN).length).toBeGreaterThan(40);
    const counted = variant(true);
    const before = tf.memory().numTensors;
    const g = await new GaussianMixture({ ...options, ...counted.config, missing: 'marginalize' }).fit(gappy, { sampleWeight: W });
    expect(tf.memory().numTensors).toBe(before);
    expect(counted.calls()).toBeGreaterThan(0);
    expectExactSmall(g, weightedSmall, smallShare);
    await expect(new GaussianMixture({ ...options, missing: 'marginalize', ...variant(false).config }).fit(gappy, { sampleWeight: W })).rejects.toThrow(
      SingularCovarianceError,
    );
    // the large component as the replicated rows with their gaps give it (float32 sums over ~400 rows: 1e-3 of its scale)
    const copies = await new GaussianMixture({ ...options, missing: 'marginalize' }).fit(replicate(gappy));
    const big = (m: GaussianMixture): number => (m.state.means[d]! > 500 ? 0 : 1);
    const [a, b] = [g.state, copies.state];
    for (let c = 0; c < d; c++) expect(Math.abs(a.means[big(g) * d + c]! - b.means[big(copies) * d + c]!)).toBeLessThan(1e-3 * 30);
    for (let i = 0; i < d * d; i++)
      expect(Math.abs(a.covariances[big(g) * d * d + i]! - b.covariances[big(copies) * d * d + i]!)).toBeLessThan(1e-3 * 900);
  });
});

describe('exactPass: the float64 statistics equal the float32 pass about the same means', () => {
  // Moderate data in unit scale, where float32 is accurate to ~1e-6 relative: the two passes must agree.
  const rng = createRng(21);
  const n = 300;
  const rows = Array.from({ length: n }, (_, i) => Array.from({ length: 3 }, (_, a) => (i % 2 === 0 ? 0 : 3) + rng.normal() * (1 + a / 2)));
  const gaps = rows.map((r) => r.map((v, a) => (a > 0 && rng.next() < 0.2 ? Number.NaN : v)));
  const weights = Float64Array.from(rows, () => rng.int(4));
  const cases: [string, CovarianceFamily][] = [
    ['full', fullCovariance],
    ['tied', tiedCovariance],
    ['diag', diagCovariance],
    ['spherical', sphericalCovariance],
  ];
  it.each(cases)('%s, with weights and missing cells', (_name, family) => {
    const k = 2;
    const dd = 3;
    const ctx = { tf, k, d: dd };
    const data = Float64Array.from(gaps.flat());
    const blocks = uploadCentered(tf, data, n, dd, 64, 0, weights);
    try {
      expect(blocks.patterns!.length).toBeGreaterThan(1);
      const full = new Float64Array(k * dd * dd);
      for (let j = 0; j < k; j++) for (let a = 0; a < dd; a++) full[j * dd * dd + a * dd + a] = 1 + a / 2 + 0.3 * j;
      full[1] = full[3] = 0.2;
      const params = {
        weights: Float64Array.from([0.5, 0.5]),
        means: Float64Array.from([0.1, -0.1, 0.2, 3, 2.9, 3.1]),
        covariances: layoutOf(family.name, full, k, dd),
      };
      const fast = emPass(tf, family, params, blocks, ctx, params.means);
      const exact = exactPass(tf, family, params, blocks, ctx)!;
      expect(Math.abs(exact.totalLogLikelihood - fast.totalLogLikelihood) / Math.abs(fast.totalLogLikelihood)).toBeLessThan(1e-5);
      for (const key of ['nk', 'sumX', 'second'] as const) {
        const a = exact.stats[key];
        const b = fast.stats[key];
        expect(a.length).toBe(b.length);
        let scale = 0;
        for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]!));
        for (let i = 0; i < b.length; i++) expect(Math.abs(a[i]! - b[i]!), `${key}[${i}]`).toBeLessThan(1e-4 * scale);
      }
      expect(exact.stats.reference).toEqual(fast.stats.reference);
    } finally {
      blocks.dispose();
    }
  });
});

/** Covariances [k, d, d] (diagonal-dominant) in a built-in family's layout. */
function layoutOf(name: string, full: Float64Array, k: number, dd: number): Float64Array {
  const diag = (j: number, a: number): number => full[j * dd * dd + a * dd + a]!;
  switch (name) {
    case 'full':
      return full;
    case 'tied':
      return full.slice(0, dd * dd);
    case 'diag':
      return Float64Array.from({ length: k * dd }, (_, i) => diag(Math.floor(i / dd), i % dd));
    default: // spherical
      return Float64Array.from({ length: k }, (_, j) => Array.from({ length: dd }, (_, a) => diag(j, a)).reduce((x, y) => x + y, 0) / dd);
  }
}

function csv(file: string): number[][] {
  const lines = readFileSync(new URL(`../../../data/${file}`, import.meta.url), 'utf8').trim().split('\n').slice(1);
  return lines.map((l) => l.split(',').slice(1).map(Number)); // the first column is the class label
}

describe('fits scikit-learn completes (fixtures/sklearn/trust.json) do not fail', () => {
  const fixture = JSON.parse(readFileSync(new URL('../../../fixtures/sklearn/trust.json', import.meta.url), 'utf8')) as {
    cases: { dataset: string; covarianceType: string; k: number; nInit: number; lowerBound: number; converged: boolean }[];
  };
  const data = new Map<string, number[][]>();
  it.each(fixture.cases.map((c) => [`${c.dataset} ${c.covarianceType} k=${c.k}`, c] as const))('%s', async (_name, c) => {
    if (!data.has(c.dataset)) data.set(c.dataset, csv(`${c.dataset}.csv`));
    const X = data.get(c.dataset)!;
    const g = await new GaussianMixture({ nComponents: c.k, covarianceType: c.covarianceType, nInit: c.nInit, seed: 0, degenerate: 'allow' }).fit(X);
    expect(Number.isFinite(g.state.lowerBound)).toBe(true);
    expect(g.state.droppedRestarts).toBeUndefined();
    // a comparable optimum: within 1 nat per row of scikit-learn's best of the same number of restarts
    expect(g.state.lowerBound).toBeGreaterThan(c.lowerBound - 1);
  });
});
