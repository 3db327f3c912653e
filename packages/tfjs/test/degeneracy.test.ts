// Every family's degeneracy rule (CovarianceFamily.degeneracy) fires on a
// constructed collapse and stays quiet on healthy parameters and fits.
import type { CovarianceFamily, DegeneracyContext, MixtureParameters } from '@gmmkit/core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  GaussianMixture,
  PINNED_VARIANCE_RATIO,
  createGmmContainer,
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

function context(n: number, dataVariance = [4, 4, 4]): DegeneracyContext {
  const dataCovariance = new Float64Array(d * d);
  dataVariance.forEach((v, a) => (dataCovariance[a * d + a] = v));
  return { tf, k, d, n, regCovar: REG, dataVariance: Float64Array.from(dataVariance), dataCovariance };
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

  it('rejects an invalid value with a clear error', () => {
    expect(() => new GaussianMixture({ degenerate: 'maybe' as 'warn', container: createGmmContainer() })).toThrow(
      /degenerate must be 'reject', 'warn' or 'allow'/,
    );
  });
});
