// Every mclust family's degeneracy rule (CovarianceFamily.degeneracy, the
// built-ins' contract and threshold): it fires on a constructed collapse and
// on too few points for what the model estimates per component, and stays
// quiet on healthy parameters.
import type { CovarianceFamily, DegeneracyContext, MixtureParameters } from '@gmmkit/core';
import { PINNED_VARIANCE_RATIO, initBackend, tf } from '@gmmkit/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { mclustFamilies } from '../src/index.js';

const REG = 1e-6;
const k = 3;
/** Features of the multivariate cases (the univariate E and V get 1). */
const D = 4;

beforeAll(async () => {
  await initBackend('wasm');
});

/** The covariances layout, probed at k = 2, d = 5 so that no two layouts look alike. */
function layoutOf(family: CovarianceFamily): 'one' | 'k' | 'd' | 'kd' | 'kdd' {
  const shape = family.covarianceShape(2, 5).join(',');
  return ({ '1': 'one', '2': 'k', '5': 'd', '2,5': 'kd' } as const)[shape] ?? 'kdd';
}

/** The family's covariances from per-component axis variances v[j][a]: shared layouts take component 0's, isotropic ones the mean. */
function paramsFor(family: CovarianceFamily, weights: number[], v: number[][]): MixtureParameters {
  const d = v[0]!.length;
  const layout = layoutOf(family);
  const mean = (row: number[]) => row.reduce((s, x) => s + x, 0) / d;
  let covariances: Float64Array;
  if (layout === 'one') covariances = Float64Array.of(mean(v[0]!));
  else if (layout === 'k') covariances = Float64Array.from(v, mean);
  else if (layout === 'd') covariances = Float64Array.from(v[0]!);
  else if (layout === 'kd') covariances = Float64Array.from(v.flat());
  else {
    covariances = new Float64Array(k * d * d);
    v.forEach((row, j) => row.forEach((x, a) => (covariances[j * d * d + a * d + a] = x)));
  }
  return { weights: Float64Array.from(weights), means: new Float64Array(k * d), covariances };
}

function context(n: number, dataVariance: number[]): DegeneracyContext {
  const d = dataVariance.length;
  const dataCovariance = new Float64Array(d * d);
  dataVariance.forEach((x, a) => (dataCovariance[a * d + a] = x));
  return { tf, k, d, n, regCovar: REG, dataVariance: Float64Array.from(dataVariance), dataCovariance };
}

/** Per-component points each model needs (its own parts), or, for a spectrum shared by all, the rows in all. */
const NEEDS: Record<string, { points: number } | { rows: (d: number) => number }> = {
  EII: { rows: () => k + 1 },
  EEI: { rows: () => k + 1 },
  EEV: { rows: (d) => k + d },
  E: { rows: () => k + 1 },
  VEI: { points: 2 },
  EVI: { points: 2 },
  VEE: { points: 2 },
  VEV: { points: 2 },
  V: { points: 2 },
  EVE: { points: D + 1 },
  VVE: { points: D + 1 },
  EVV: { points: D + 1 },
};

describe.each(mclustFamilies.map((f) => [f.name, f] as const))('%s degeneracy rule', (name, family) => {
  const d = family.name.length === 3 ? D : 1;
  const dataVariance = Array<number>(d).fill(4);
  const healthy = [
    [1, 0.5, 2, 1],
    [1, 1, 1, 0.7],
    [0.3, 1, 1, 2],
  ].map((row) => row.slice(0, d));
  const third = [1 / 3, 1 / 3, 1 / 3];
  const layout = layoutOf(family);
  const shared = layout === 'one' || layout === 'd';
  const isotropic = layout === 'one' || layout === 'k';
  const rule = (weights: number[], v: number[][], n = 300) => family.degeneracy!(paramsFor(family, weights, v), context(n, dataVariance));

  it('is declared and quiet on healthy parameters, tight but real variances too', () => {
    expect(NEEDS[name]).toBeDefined();
    expect(rule(third, healthy)).toBeUndefined();
    // 100x above the floor, relative to the data's variance (4)
    expect(rule(third, healthy.map((row) => row.map(() => REG + 100 * PINNED_VARIANCE_RATIO * 4)))).toBeUndefined();
  });

  it('fires on a variance pinned at regCovar, naming the component unless the covariance is shared', () => {
    const j = shared ? 0 : 2;
    // a component on identical rows: its variances are regCovar (or one of them, on a tied coordinate)
    const pinned = (value: number, all: boolean) =>
      healthy.map((row, c) => (c === j ? row.map((x, a) => (all || a === d - 1 ? value : x)) : row));
    const found = rule(third, pinned(REG, isotropic));
    expect(found?.reason).toMatch(/pinned at the regCovar floor/);
    expect(found!.component).toBe(shared ? undefined : 2);
    // just above the documented ratio stays quiet
    expect(rule(third, pinned(REG + 2 * PINNED_VARIANCE_RATIO * 4, isotropic))).toBeUndefined();
  });

  it('fires when a component has too few effective points for what it estimates on its own', () => {
    const needs = NEEDS[name]!;
    if ('rows' in needs) {
      const rows = needs.rows(d);
      expect(rule(third, healthy, rows - 1)?.reason).toMatch(/too few/);
      expect(rule(third, healthy, rows)).toBeUndefined();
      // an empty component (mclust: "mixing proportion fell below threshold")
      const empty = rule([0.5, 0.5 - 0.2 / 300, 0.2 / 300], healthy);
      expect(empty?.reason).toMatch(/^component 3 has [\d.e-]+ effective points/);
      expect(rule([0.5, 0.5 - 1 / 300, 1 / 300], healthy)).toBeUndefined();
      return;
    }
    const n = 300;
    const weights = (points: number) => [(n - points) / 2 / n, (n - points) / 2 / n, points / n];
    expect(rule(weights(needs.points), healthy)).toBeUndefined();
    // counted to the nearest point: a soft E-step leaves a component of m rows just below m
    expect(rule(weights(needs.points - 0.4), healthy)).toBeUndefined();
    const few = rule(weights(needs.points - 1), healthy);
    expect(few?.reason).toMatch(/^component 3 has [\d.]+ effective points/);
    expect(few!.component).toBe(2);
  });
});
