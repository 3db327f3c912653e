// Re-seeding a degenerate component under degenerate: 'reject' (reseeds):
// the split that gives the component new rows, and fits that end healthy
// where ending the restart (reseeds: 0) leaves nothing but degenerate ones.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { GaussianMixture, createGmmContainer, initBackend, tf } from '../src/index.js';
import { reseedResponsibilities } from '../src/reseed.js';

beforeAll(async () => {
  await initBackend('wasm');
});

/** mclust's thyroid data (215 x 5): at k = 8 with full covariance, k-means starts leave components of 2 to 5 rows. */
function thyroid(): number[][] {
  const lines = readFileSync(new URL('../../../data/thyroid.csv', import.meta.url), 'utf8').trim().split(/\r?\n/);
  const header = lines[0]!.split(',').map((h) => h.replace(/"/g, ''));
  const columns = ['RT3U', 'T4', 'T3', 'TSH', 'DTSH'].map((c) => header.indexOf(c));
  return lines.slice(1).map((line) => {
    const cells = line.split(',');
    return columns.map((c) => Number(cells[c]));
  });
}

describe('reseedResponsibilities', () => {
  // 2-D rows: two groups at x = -5 and x = +5 (spread along y), plus two rows far away
  const rows = [
    ...Array.from({ length: 10 }, (_, i) => [-5, i - 4.5]),
    ...Array.from({ length: 10 }, (_, i) => [5, i - 4.5]),
    [50, 50],
    [50, 50],
  ];
  const n = rows.length;
  const data = Float64Array.from(rows.flat());
  // component 0 holds the two groups, component 1 (degenerate) the two far rows, component 2 nothing much
  const logProb = new Float64Array(n * 3);
  rows.forEach((_, i) => logProb.set(i >= 20 ? [-60, 0, -50] : [0, -40, -30], i * 3));

  it("gives the degenerate component the far half of the heaviest component, along its main axis", () => {
    const given = Float64Array.from(logProb);
    const resp = reseedResponsibilities(given, data, n, 2, 3, 1)!;
    expect(resp).toBe(given); // written over the log-probabilities: one [n, k] array
    for (let i = 0; i < n; i++) expect(resp[i * 3]! + resp[i * 3 + 1]! + resp[i * 3 + 2]!).toBeCloseTo(1, 12);
    // the main axis of component 0 is x (spread 5 against y's 2.9): the x = +5 group moves to component 1
    for (let i = 0; i < 10; i++) expect(resp[i * 3]!).toBeGreaterThan(0.99);
    for (let i = 10; i < 20; i++) expect(resp[i * 3 + 1]!).toBeGreaterThan(0.99);
    // the rows component 1 sat on go back to the others (here component 2, 10 nats more likely than 0)
    for (let i = 20; i < n; i++) expect(resp[i * 3 + 2]!).toBeGreaterThan(0.99);
  });

  it('does not depend on the order of the rows', () => {
    const order = Array.from({ length: n }, (_, i) => (i * 7) % n);
    const permuted = Float64Array.from(order.flatMap((i) => rows[i]!));
    const permutedLogProb = Float64Array.from(order.flatMap((i) => Array.from(logProb.subarray(i * 3, i * 3 + 3))));
    const a = reseedResponsibilities(Float64Array.from(logProb), data, n, 2, 3, 1)!;
    const b = reseedResponsibilities(permutedLogProb, permuted, n, 2, 3, 1)!;
    order.forEach((i, r) => expect(Array.from(b.subarray(r * 3, r * 3 + 3))).toEqual(Array.from(a.subarray(i * 3, i * 3 + 3))));
  });

  it('has nothing to split with one component', () => {
    expect(reseedResponsibilities(new Float64Array(n), data, n, 2, 1, 0)).toBeUndefined();
  });
});

describe("fits under 'reject' re-seed degenerate components", () => {
  const X = thyroid();

  it('where ending the restart leaves only degenerate fits, re-seeding ends healthy and higher, without leaking tensors', async () => {
    const before = tf.memory().numTensors;
    const ended = await new GaussianMixture({ nComponents: 8, nInit: 3, seed: 0, workers: 0, reseeds: 0 }).fit(X);
    expect(ended.state.degeneracy).toMatch(/effective points/);
    const reseeded = await new GaussianMixture({ nComponents: 8, nInit: 3, seed: 0, workers: 0 }).fit(X);
    expect(reseeded.state.degeneracy).toBeUndefined();
    expect(reseeded.state.converged).toBe(true);
    expect(reseeded.warnings()).toEqual([]);
    expect(reseeded.score(X)).toBeGreaterThan(ended.score(X));
    ended.dispose();
    reseeded.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("a re-seed starts a new EM run within the restart's maxIter", async () => {
    const runs: number[][] = [];
    const g = await new GaussianMixture({
      nComponents: 8,
      seed: 2,
      workers: 0,
      maxIter: 10,
      convergenceWarning: false,
      onIteration: (iteration, bound) => (iteration === 1 ? runs.push([bound]) : runs.at(-1)!.push(bound)),
    }).fit(X);
    expect(runs.length).toBeGreaterThan(1); // at least one re-seed
    expect(runs.flat().length).toBeLessThanOrEqual(10);
    expect(g.state.lowerBoundHistory).toEqual(runs.at(-1));
    expect(g.state.nIter).toBe(runs.at(-1)!.length);
    g.dispose();
  });

  it("'warn' and 'allow' never re-seed", async () => {
    for (const degenerate of ['warn', 'allow'] as const) {
      let runs = 0;
      const g = await new GaussianMixture({ nComponents: 8, seed: 2, workers: 0, degenerate, onIteration: (i) => (runs += i === 1 ? 1 : 0) }).fit(X);
      expect(runs, degenerate).toBe(1);
      g.dispose();
    }
  });

  it('rejects an invalid count with a clear error', () => {
    expect(() => new GaussianMixture({ reseeds: -1, container: createGmmContainer() })).toThrow(/reseeds must be an integer >= 0, got -1/);
    expect(() => new GaussianMixture({ reseeds: 1.5, container: createGmmContainer() })).toThrow(/reseeds must be an integer >= 0/);
  });
});
