// Every family's degeneracy rule (CovarianceFamily.degeneracy) fires on a
// constructed collapse and stays quiet on healthy parameters and fits.
import type { CovarianceFamily, DegeneracyContext, MixtureParameters } from '@gmmkit/core';
import { createRng } from '@gmmkit/core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  GaussianMixture,
  PINNED_VARIANCE_RATIO,
  centerAndSummarize,
  createGmmContainer,
  dataMoments,
  dataResolution,
  dataResolutionBound,
  degeneracyContextFor,
  diagCovariance,
  fullCovariance,
  initBackend,
  sphericalCovariance,
  tf,
  tiedCovariance,
} from '../src/index.js';
import { blobs } from './helpers.js';
import { eeiFamily } from './properties/plugins.js';

const REG = 1e-6;
const d = 3;
const k = 3;

/** The family's parameters from per-component axis variances v[j][a] (shared families take component 0's). */
function paramsFor(family: CovarianceFamily, weights: number[], v: number[][]): MixtureParameters {
  const means = new Float64Array(k * d);
  let covariances: Float64Array;
  switch (family.name) {
    case 'full':
      covariances = new Float64Array(k * d * d);
      v.forEach((row, j) => row.forEach((x, a) => (covariances[j * d * d + a * d + a] = x)));
      break;
    case 'tied':
      covariances = new Float64Array(d * d);
      v[0]!.forEach((x, a) => (covariances[a * d + a] = x));
      break;
    case 'diag':
      covariances = Float64Array.from(v.flat());
      break;
    case 'spherical':
      covariances = Float64Array.from(v, (row) => row.reduce((s, x) => s + x, 0) / d);
      break;
    default: // eei: one shared diagonal
      covariances = Float64Array.from(v[0]!);
  }
  return { weights: Float64Array.from(weights), means, covariances };
}

function context(n: number, dataVariance = [4, 4, 4], grid?: number): DegeneracyContext {
  const dataCovariance = new Float64Array(d * d);
  dataVariance.forEach((v, a) => (dataCovariance[a * d + a] = v));
  const resolution = grid === undefined ? {} : { dataResolution: Float64Array.from(dataVariance, (v) => (v > 0 ? (grid * grid) / 12 : 0)) };
  return { tf, k, d, n, regCovar: REG, dataVariance: Float64Array.from(dataVariance), dataCovariance, ...resolution };
}

const families: [CovarianceFamily, { shared: boolean; minPoints: number }][] = [
  [fullCovariance, { shared: false, minPoints: d + 1 }],
  [tiedCovariance, { shared: true, minPoints: 0 }],
  [diagCovariance, { shared: false, minPoints: 2 }],
  [sphericalCovariance, { shared: false, minPoints: 2 }],
  [eeiFamily, { shared: true, minPoints: 0 }],
];

const healthy = [
  [1, 1, 1],
  [1, 0.5, 2],
  [0.3, 1, 1],
];

beforeAll(async () => {
  await initBackend('wasm');
});

describe.each(families)('%s degeneracy rule', (family, rule) => {
  const third = [1 / 3, 1 / 3, 1 / 3];

  it('is declared', () => {
    expect(typeof family.degeneracy).toBe('function');
  });

  it('stays quiet on healthy parameters, including tight but real variances', () => {
    expect(family.degeneracy!(paramsFor(family, third, healthy), context(300))).toBeUndefined();
    // 100x above the floor, relative to the data's variance (4): healthy
    const tight = healthy.map((row) => row.map(() => REG + 100 * PINNED_VARIANCE_RATIO * 4));
    expect(family.degeneracy!(paramsFor(family, third, tight), context(300))).toBeUndefined();
  });

  it('fires on a variance pinned at regCovar, naming the component', () => {
    // the collapsed component sits on identical rows: all its variances are regCovar (shared families: component 0 is the shared one)
    const j = rule.shared ? 0 : 2;
    const collapsed = healthy.map((row, c) => (c === j ? row.map(() => REG) : row));
    const found = family.degeneracy!(paramsFor(family, third, collapsed), context(300));
    expect(found).toBeDefined();
    expect(found!.reason).toMatch(/pinned at the regCovar floor/);
    expect(found!.component).toBe(rule.shared ? undefined : 2);
    // just above the threshold stays quiet: the rule is the documented ratio, not "any small variance"
    const above = healthy.map((row, c) => (c === j ? row.map(() => REG + 2 * PINNED_VARIANCE_RATIO * 4) : row));
    expect(family.degeneracy!(paramsFor(family, third, above), context(300))).toBeUndefined();
  });

  it("with the data's grid: a data part at or below the grid's variance over the component's points is pinned, above it not", () => {
    // integer data (grid 1): a component of n_k points whose rows all tie in a feature has a data part of 0 there,
    // one row a step off gives about 1/n_k; the floor is (1/12) / n_k (n for a shared covariance) plus float32 noise
    const n = 300;
    const j = rule.shared ? 0 : 2;
    const points = rule.shared ? n : n / 3;
    const floor = 1 / 12 / points + PINNED_VARIANCE_RATIO * 4;
    const at = (f: number) => healthy.map((row, c) => (c === j ? row.map(() => REG + f * floor) : row));
    const pinned = family.degeneracy!(paramsFor(family, third, at(0.5)), context(n, [4, 4, 4], 1));
    expect(found(pinned)).toMatch(/pinned at the regCovar floor \(its data part is 0\.50 of the floor/);
    expect(pinned!.component).toBe(rule.shared ? undefined : 2);
    expect(family.degeneracy!(paramsFor(family, third, at(2)), context(n, [4, 4, 4], 1))).toBeUndefined();
    // the same variances without a grid (continuous data): only the float32 term, and 2x its floor is healthy
    expect(family.degeneracy!(paramsFor(family, third, at(2)), context(n))).toBeUndefined();
  });

  it('stays quiet on a real component far thinner than the data when the data resolve it (4 decimals)', () => {
    // a variance of 1e-6 of the data's beyond regCovar: under the former rule (1e-5 of the data's variance) pinned,
    // yet a standard deviation of 2e-3, 20x the 1e-4 grid
    const j = rule.shared ? 0 : 2;
    const thin = healthy.map((row, c) => (c === j ? row.map(() => REG + 4e-6) : row));
    expect(family.degeneracy!(paramsFor(family, third, thin), context(300, [4, 4, 4], 1e-4))).toBeUndefined();
    expect(4e-6 / 4).toBeLessThan(1e-5);
  });

  it('skips constant features of the data (their variance is regCovar in every fit)', () => {
    const pinnedOnConstant = healthy.map((row) => [row[0]!, row[1]!, REG]);
    expect(family.degeneracy!(paramsFor(family, third, pinnedOnConstant), context(300, [4, 4, 0]))).toBeUndefined();
    // the same variances on a varying feature are pinned
    if (family.name !== 'spherical') expect(family.degeneracy!(paramsFor(family, third, pinnedOnConstant), context(300))).toBeDefined();
  });

  it('fires when a component has too few effective points for its covariance', () => {
    if (rule.shared) {
      // pooled covariance: n rows must exceed what the means use
      expect(family.degeneracy!(paramsFor(family, third, healthy), context(k))).toMatchObject({ reason: /too few/ });
      expect(family.degeneracy!(paramsFor(family, third, healthy), context(k + d + 1))).toBeUndefined();
      return;
    }
    const n = 300;
    const weights = (points: number) => [(n - points) / 2 / n, (n - points) / 2 / n, points / n];
    expect(family.degeneracy!(paramsFor(family, weights(rule.minPoints), healthy), context(n))).toBeUndefined();
    // n_k is counted to the nearest point: a soft E-step leaves a component of m rows just below m
    expect(family.degeneracy!(paramsFor(family, weights(rule.minPoints - 0.4), healthy), context(n))).toBeUndefined();
    const few = family.degeneracy!(paramsFor(family, weights(rule.minPoints - 1), healthy), context(n));
    expect(found(few)).toMatch(/^component 3 has [\d.]+ effective points/);
    expect(few!.component).toBe(2);
  });
});

function found(d: { reason: string } | undefined): string {
  expect(d).toBeDefined();
  return d!.reason;
}

describe('degenerate option on fits', () => {
  // Three healthy groups plus 12 copies of one far row: a fourth component sits on the copies.
  const { X } = blobs(
    300,
    [
      [0, 0, 0],
      [8, 0, 4],
      [0, 8, -4],
    ],
    1,
    5,
  );
  const duplicated = [...X, ...Array.from({ length: 12 }, () => [20, 20, 20])];

  it('a healthy fit is not flagged', async () => {
    for (const covarianceType of ['full', 'tied', 'diag', 'spherical']) {
      const g = await new GaussianMixture({ nComponents: 3, covarianceType, seed: 0 }).fit(X);
      expect(g.state.degeneracy, covarianceType).toBeUndefined();
      expect(g.warnings().some((w) => w.startsWith('degenerate'))).toBe(false);
    }
  });

  it("'warn' flags a component on duplicated rows and says so; 'allow' does not check", async () => {
    const before = tf.memory().numTensors;
    const g = await new GaussianMixture({ nComponents: 4, covarianceType: 'diag', seed: 0, degenerate: 'warn' }).fit(duplicated);
    expect(tf.memory().numTensors).toBe(before);
    expect(g.state.degeneracy).toMatch(/pinned at the regCovar floor/);
    expect(g.warnings().some((w) => w.startsWith('degenerate solution:'))).toBe(true);
    const a = await new GaussianMixture({ nComponents: 4, covarianceType: 'diag', seed: 0, degenerate: 'allow' }).fit(duplicated);
    expect(a.state.degeneracy).toBeUndefined();
    // same restarts, same likelihood: 'allow' and 'warn' only differ in reporting
    expect(a.state.lowerBound).toBe(g.state.lowerBound);
  });

  it("'reject' with no healthy restart: the degeneracy is the warning, not a convergence failure", async () => {
    // 4 copies of one row cannot hold 2 components: every restart (and re-seed) ends degenerate
    const g = await new GaussianMixture({ nComponents: 2, seed: 0, nInit: 2, convergenceWarning: false }).fit(
      Array.from({ length: 4 }, () => [1, 1]),
    );
    expect(g.state.degeneracy).toBeDefined();
    const warnings = g.warnings();
    expect(warnings.some((w) => w.startsWith('degenerate solution:') && w.includes('no restart of 2 was free of it'))).toBe(true);
    expect(warnings.some((w) => w.startsWith('EM did not converge'))).toBe(false);
    g.dispose();
  });

  it('rejects an invalid value with a clear error', () => {
    expect(() => new GaussianMixture({ degenerate: 'maybe' as 'warn', container: createGmmContainer() })).toThrow(
      /degenerate must be 'reject', 'warn' or 'allow'/,
    );
  });
});

describe('degeneracy with sample weights and missing cells: rows count by their weights', () => {
  const { X } = blobs(
    300,
    [
      [0, 0, 0],
      [8, 0, 4],
      [0, 8, -4],
    ],
    1,
    5,
  );
  const far = [20, 20, 20];
  const withFar = [...X, far];
  const init = {
    weightsInit: [0.33, 0.33, 0.33, 0.01],
    meansInit: [[0, 0, 0], [8, 0, 4], [0, 8, -4], far],
    precisionsInit: [[1, 1, 1], [1, 1, 1], [1, 1, 1], [1, 1, 1]],
  };
  const options = { nComponents: 4, covarianceType: 'diag', degenerate: 'warn', maxIter: 20, ...init } as const;
  /** The reason with its numbers taken out (the pinned ratio is float32 noise about 0). */
  const shape = (reason: string | undefined): string | undefined => reason?.replace(/-?\d+(\.\d+)?(e[-+]?\d+)?/g, '#');

  it("a far row of weight 1 is too few points for a variance; of weight 3 it is three rows, as its three copies are", async () => {
    const one = await new GaussianMixture(options).fit(withFar, { sampleWeight: withFar.map(() => 1) });
    expect(one.state.degeneracy).toBe('component 4 has 1.00 effective points; a variance needs at least 2');
    const three = await new GaussianMixture(options).fit(withFar, { sampleWeight: [...X.map(() => 1), 3] });
    const copies = await new GaussianMixture(options).fit([...X, far, far, far]);
    expect(three.state.degeneracy).toMatch(/^component 4 has a variance along feature 1 pinned at the regCovar floor/);
    expect(shape(three.state.degeneracy)).toBe(shape(copies.state.degeneracy));
    // fractional weights count fractionally: 0.4 + 0.4 of two copies is below one point
    const fraction = await new GaussianMixture(options).fit([...withFar, far], { sampleWeight: [...X.map(() => 1), 0.4, 0.4] });
    expect(fraction.state.degeneracy).toBe('component 4 has 0.800 effective points; a variance needs at least 2');
  });

  it("tied: the rows-too-few rule counts Σ w (four rows of weight 2 are the eight replicated rows)", async () => {
    const rows = [[0, 0, 0], [1, 0.5, 0], [0, 1, 0.3], [5, 5, 5.5]];
    const tied = { nComponents: 2, covarianceType: 'tied', degenerate: 'warn', maxIter: 10, meansInit: [[0.3, 0.5, 0.1], [5, 5, 5.5]] } as const;
    const plain = await new GaussianMixture(tied).fit(rows);
    expect(plain.state.degeneracy).toBe('4 rows are too few for k + d = 5: the shared covariance is singular');
    const weighted = await new GaussianMixture(tied).fit(rows, { sampleWeight: [2, 2, 2, 2] });
    const copies = await new GaussianMixture(tied).fit([...rows, ...rows]);
    expect(weighted.state.degeneracy).not.toMatch(/rows are too few/);
    expect(shape(weighted.state.degeneracy)).toBe(shape(copies.state.degeneracy));
  });

  it.each([true, false])('centerAndSummarize: the centered rows and their dataMoments and resolution bound (weights %s, a grid, ties, a constant column); undefined with a missing cell', (weighted) => {
    const rng = createRng(3);
    const n = 5003; // not a multiple of the four rows the outer products take at a time
    const d = 4;
    const data = new Float64Array(n * d);
    const w = weighted ? new Float64Array(n) : undefined;
    for (let i = 0; i < n; i++) {
      data[i * d] = 100 + 10 * rng.normal();
      data[i * d + 1] = Math.round(4 * rng.normal()) / 2; // a 0.5 grid
      data[i * d + 2] = 7; // constant
      data[i * d + 3] = i % 10; // ties
      if (w !== undefined) w[i] = i % 7 === 0 ? 0 : 1 + (i % 3);
    }
    const weight = (i: number): number => (w === undefined ? 1 : w[i]!);
    let total = 0;
    for (let i = 0; i < n; i++) total += weight(i);
    const center = new Float64Array(d);
    for (let i = 0; i < n; i++) for (let a = 0; a < d; a++) center[a] += (weight(i) * data[i * d + a]!) / total;
    // A missing cell in a row of weight 0 does not count.
    if (w !== undefined) data[14 * d] = Number.NaN;
    const out = new Float64Array(n * d);
    const made = centerAndSummarize(data, n, d, center, out, w)!;
    for (let i = 0; i < n * d; i++) expect(Object.is(out[i], data[i]! - center[i % d]!)).toBe(true);
    const two = dataMoments(out, n, d, w);
    for (let i = 0; i < d * d; i++) expect(Math.abs(made.moments.dataCovariance[i]! - two.dataCovariance[i]!)).toBeLessThan(1e-12 * Math.max(1, Math.abs(two.dataCovariance[i]!)));
    expect(made.moments.dataVariance[2]).toBe(0);
    expect(made.moments.dataVariance[0]).toBeGreaterThan(50);
    expect(Array.from(made.moments.dataCovariance.subarray(2 * d, 3 * d))).toEqual([0, 0, 0, 0]);
    expect(Array.from(made.resolutionBound)).toEqual(Array.from(dataResolutionBound(out, n, d, w)));
    data[17 * d + 1] = Number.NaN;
    expect(centerAndSummarize(data, n, d, center, out, w)).toBeUndefined();
    expect(Number.isNaN(out[17 * d + 1]!)).toBe(true);
    expect(out[18 * d]).toBe(data[18 * d]! - center[0]!);
  });

  it("the data's scale (dataMoments): weighted = replicated rows, weight-0 rows and missing cells left out", () => {
    const rows = [[1, 2, 3], [2, 0, 3], [4, 1, 3], [0, 5, 3]];
    const w = [2, 1, 0, 3];
    const flat = (r: number[][]): Float64Array => Float64Array.from(r.flat());
    const replicated = rows.flatMap((r, i) => Array.from({ length: w[i]! }, () => r));
    const a = dataMoments(flat(rows), 4, 3, Float64Array.from(w));
    const b = dataMoments(flat(replicated), replicated.length, 3);
    for (let i = 0; i < 9; i++) expect(a.dataCovariance[i]).toBeCloseTo(b.dataCovariance[i]!, 12);
    expect(a.dataVariance[2]).toBe(0); // constant over the rows that count
    expect(a.dataVariance[0]).toBeGreaterThan(0);
    // a missing cell: the feature's moments over the rows that observe it
    const gappy = [[1, 2, 3], [2, Number.NaN, 3], [4, 1, 3], [Number.NaN, 5, 3]];
    const c = dataMoments(flat(gappy), 4, 3);
    const mean0 = (1 + 2 + 4) / 3;
    expect(c.dataVariance[0]).toBeCloseTo([1, 2, 4].reduce((s, v) => s + (v - mean0) ** 2, 0) / 3, 12);
    const mean1 = (2 + 1 + 5) / 3;
    expect(c.dataVariance[1]).toBeCloseTo([2, 1, 5].reduce((s, v) => s + (v - mean1) ** 2, 0) / 3, 12);
    // covariance over the rows observing both (rows 1 and 3)
    expect(c.dataCovariance[1]).toBeCloseTo(((1 - mean0) * (2 - mean1) + (4 - mean0) * (1 - mean1)) / 2, 12);
    expect(Array.from(c.dataVariance).every(Number.isFinite)).toBe(true);
  });

  it('missing cells: the degeneracy check runs on the observed data and flags the same collapse', async () => {
    const gappy = withFar.map((r, i) => (i % 7 === 0 ? [r[0]!, Number.NaN, r[2]!] : r));
    const g = await new GaussianMixture({ ...options, missing: 'marginalize' }).fit([...gappy, far, far], { sampleWeight: [...X.map(() => 1), 1, 1, 1] });
    expect(g.state.degeneracy).toMatch(/^component 4 has a variance along feature 1 pinned at the regCovar floor/);
  });
});

describe('dataResolution', () => {
  it("is each feature's grid variance g²/12 from the smallest positive gap, ignoring NaN cells and weight-0 rows", () => {
    // feature 1: integers with ties; 2: four decimals; 3: constant; 4: a half step only in a weight-0 row or a NaN row
    const rows = [
      [3, 0.1234, 7, 1],
      [5, 0.1236, 7, 2],
      [3, 0.1235, 7, 3],
      [4, 0.2, 7, 2.5],
      [9, Number.NaN, 7, Number.NaN],
    ];
    const flat = Float64Array.from(rows.flat());
    const weights = Float64Array.of(1, 1, 1, 0, 1);
    const r = dataResolution(flat, rows.length, 4, weights);
    expect(r[0]).toBeCloseTo((2 * 2) / 12, 12); // 3, 3, 5, 9 (4 has weight 0): the smallest positive gap is 2
    expect(r[1]).toBeCloseTo((1e-4 * 1e-4) / 12, 18);
    expect(r[2]).toBe(0);
    expect(r[3]).toBeCloseTo(1 / 12, 12);
    // without weights the row of weight 0 counts: feature 1 gains 4 (gap 1), feature 4 gains 2.5 (gap 0.5)
    const all = dataResolution(flat, rows.length, 4);
    expect(all[0]).toBeCloseTo(1 / 12, 12);
    expect(all[3]).toBeCloseTo(0.25 / 12, 12);
  });
});

describe('degeneracyContextFor (the resolution computed only when a rule needs it)', () => {
  // The rules test with an upper bound of the resolution first (a strided sample's smallest gaps, capped by
  // the ranges); the verdicts must be the exact resolution's. Spreading the context evaluates its lazy
  // dataResolution into a plain object, which has no bound: the eager reference.
  const n = 20_000;
  const dims = 3;
  const rng = createRng(7);
  const datasets: [string, (i: number, a: number) => number][] = [
    ['a 1..7 survey grid', () => 1 + Math.floor(rng.next() * 7)],
    ['four decimals', () => Math.round(rng.normal() * 1e4) / 1e4],
    // feature 1's only half step is in one row the stride skips; feature 3 constant
    ['a rare half step and a constant', (i, a) => (a === 0 ? (i === 1 ? 0.5 : Math.floor(rng.next() * 5)) : a === 1 ? rng.normal() : 2)],
  ];
  it.each(datasets)('%s: the same verdict as with the exact resolution, for every family', (_, value) => {
    const rows = new Float64Array(n * dims);
    for (let i = 0; i < n; i++) for (let a = 0; a < dims; a++) rows[i * dims + a] = value(i, a);
    const center = new Float64Array(dims);
    for (let i = 0; i < n; i++) for (let a = 0; a < dims; a++) center[a] += rows[i * dims + a]! / n;
    for (let i = 0; i < n; i++) for (let a = 0; a < dims; a++) rows[i * dims + a] -= center[a]!;
    const lazy = degeneracyContextFor({ tf, k: 2, d: dims, n, regCovar: REG }, rows, n, dims);
    const exact = dataResolution(rows, n, dims);
    const eager = { ...lazy };
    expect(eager.dataResolution).toEqual(exact);
    let fired = 0;
    let quiet = 0;
    for (let trial = 0; trial < 60; trial++) {
      // component 2 holds a few points, its variances at 0.3x..3x of the exact floor (about half fire)
      const nk = 1 + Math.floor(rng.next() * 6);
      const weights = Float64Array.of(1 - nk / n, nk / n);
      const variances = Array.from({ length: dims }, (_, a) => [
        lazy.dataVariance[a]! + REG,
        REG + (exact[a]! / nk + PINNED_VARIANCE_RATIO * lazy.dataVariance[a]!) * 10 ** (rng.next() - 0.5),
      ]);
      const means = new Float64Array(2 * dims);
      const full = new Float64Array(2 * dims * dims);
      const diag = new Float64Array(2 * dims);
      for (let j = 0; j < 2; j++)
        for (let a = 0; a < dims; a++) {
          full[j * dims * dims + a * dims + a] = variances[a]![j]!;
          diag[j * dims + a] = variances[a]![j]!;
        }
      const spherical = Float64Array.from([0, 1], (j) => variances.reduce((s, v) => s + v[j]!, 0) / dims);
      const cases: [CovarianceFamily, Float64Array][] = [
        [fullCovariance, full],
        [diagCovariance, diag],
        [sphericalCovariance, spherical],
        [tiedCovariance, full.subarray(dims * dims)],
      ];
      for (const [family, covariances] of cases) {
        const params = { weights, means, covariances };
        const verdict = family.degeneracy!(params, lazy);
        expect(verdict).toEqual(family.degeneracy!(params, eager));
        if (verdict === undefined) quiet++;
        else fired++;
      }
    }
    // both outcomes occur, so the comparison covers the bound's pass and its fall back to the exact test
    expect(fired).toBeGreaterThan(20);
    expect(quiet).toBeGreaterThan(20);
  });
});

describe('a thin but real component', () => {
  // Three clusters of 400 rows in 3-D written with 4 decimals; the third is 2e-3 thick along (1, 1, 1)/√3,
  // 500x thinner than the data in that direction (a variance of ~4e-7 of the data's: the former rule, 1e-5 of
  // the data's variance, rejected it), but 20x the 1e-4 grid.
  const rng = createRng(21);
  const u = [1, 1, 1].map((x) => x / Math.sqrt(3));
  const e1 = [1, -1, 0].map((x) => x / Math.sqrt(2));
  const e2 = [1, 1, -2].map((x) => x / Math.sqrt(6));
  const centres = [
    [0, 0, 0],
    [8, 0, 4],
    [0, 8, -4],
  ];
  const X: number[][] = [];
  for (let i = 0; i < 1200; i++) {
    const c = i % 3;
    const z = [rng.normal(), rng.normal(), (c === 2 ? 2e-3 : 1) * rng.normal()];
    X.push(centres[c]!.map((m, a) => Math.round((m + z[0]! * e1[a]! + z[1]! * e2[a]! + z[2]! * u[a]!) * 1e4) / 1e4));
  }

  it("is kept under 'reject': the data resolve it, though it is far thinner than the data", async () => {
    const g = await new GaussianMixture({ nComponents: 3, covarianceType: 'full', seed: 0 }).fit(X);
    expect(g.state.degeneracy).toBeUndefined();
    const a = await new GaussianMixture({ nComponents: 3, covarianceType: 'full', seed: 0, degenerate: 'allow' }).fit(X);
    expect(g.state.lowerBound).toBe(a.state.lowerBound);
    // the fit found the thin component, and the former rule would have called it pinned
    const flat = Float64Array.from(X.flat());
    const mean = [0, 1, 2].map((b) => X.reduce((s, row) => s + row[b]! / X.length, 0));
    const { dataCovariance } = dataMoments(Float64Array.from(flat, (v, i) => v - mean[i % 3]!), X.length, 3);
    const along = (m: ArrayLike<number>, o = 0) => u.reduce((s, ua, p) => s + u.reduce((t, ub, q) => t + ua * ub * m[o + p * 3 + q]!, 0), 0);
    const full = g.fullCovariances();
    const thinnest = Math.min(...[0, 1, 2].map((j) => along(full, j * 9) - REG));
    expect(thinnest).toBeGreaterThan(2e-6);
    expect(thinnest).toBeLessThan(8e-6);
    expect(thinnest / along(dataCovariance)).toBeLessThan(1e-5);
    g.dispose();
    a.dispose();
  });
});
