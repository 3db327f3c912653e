import { createRng, pluginModule, type InitialGuess, type Initializer } from '@gmmkit/core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  GaussianMixture,
  SMEM_MOVES,
  SMEM_POLISH,
  applyMove,
  createGmmContainer,
  initBackend,
  kmeansInitializer,
  oneHot,
  responsibilities,
  smemInitializer,
  splitMergeCandidates,
  splitMergeInitializer,
  tf,
} from '../src/index.js';
import { broadAndTight } from './helpers.js';

const X = broadAndTight(3);

async function fitted(initParams: string, seed: number, nInit = 1, extra: object = {}): Promise<GaussianMixture> {
  const gm = new GaussianMixture({ nComponents: 6, nInit, initParams, seed, convergenceWarning: false, ...extra });
  await gm.fit(X);
  return gm;
}

beforeAll(async () => {
  await initBackend('wasm');
});

describe("initializer 'smem'", () => {
  it("never ends below 'kmeans' at the same seed and nInit, and climbs out of k-means's worse optima", async () => {
    const best = (await fitted('kmeans', 0, 10)).score(X);
    let improved = 0;
    for (const seed of [1, 2, 3, 4]) {
      for (const covarianceType of ['full', 'diag']) {
        const plain = (await fitted('kmeans', seed, 1, { covarianceType })).state.lowerBound;
        const smem = (await fitted('smem', seed, 1, { covarianceType })).state.lowerBound;
        expect(smem).toBeGreaterThanOrEqual(plain);
        if (smem > plain + 0.01) improved++;
      }
    }
    expect(improved).toBeGreaterThan(0);
    // Seeds 2 and 3 leave plain k-means at a worse optimum (emem.test.ts); split-and-merge reaches the best of 10 restarts.
    for (const seed of [2, 3]) {
      expect((await fitted('kmeans', seed)).score(X)).toBeLessThan(best - 0.05);
      expect((await fitted('smem', seed)).score(X)).toBeGreaterThan(best - 1e-3);
    }
  });

  it('is deterministic: the same seed gives the same fit', async () => {
    const [a, b] = [(await fitted('smem', 7, 2)).state, (await fitted('smem', 7, 2)).state];
    expect(b.means).toEqual(a.means);
    expect(b.covariances).toEqual(a.covariances);
    expect(b.lowerBound).toBe(a.lowerBound);
  });

  it('leaves no tensors behind', async () => {
    await fitted('smem', 1); // backend warm-up
    const before = tf.memory().numTensors;
    await fitted('smem', 2, 2);
    expect(tf.memory().numTensors).toBe(before);
  });

  it(`tries at most ${SMEM_MOVES} moves, re-ranking after an accepted one, then polishes the last accepted`, async () => {
    const n = X.shape[0];
    const k = 6;
    const guess = kmeansInitializer.initialize({ tf, x: undefined as never, data: X.data, n, d: 2, k, rng: createRng(1) });
    if (guess.kind !== 'labels') throw new Error('kmeans returns labels');
    const resp = oneHot(guess.labels, n, k);
    const start: InitialGuess = { kind: 'responsibilities', resp };
    const logProb = new Float64Array(n * k);
    for (let i = 0; i < n * k; i++) logProb[i] = Math.log(Math.max(resp[i]!, 1e-300)) - 1;
    const refine = async (initializer: Initializer, polishBound: number) => {
      const tried: InitialGuess[] = [];
      const polished: { guess: InitialGuess; tol: number | undefined }[] = [];
      const bounds = [-2, -0.5, -3, -3, -3, -3, -3, -3]; // the second move is accepted (start: -1), no later one
      const refined = await initializer.refine!({
        tf, x: undefined as never, data: X.data, n, d: 2, k, rng: createRng(0),
        start,
        lowerBound: -1,
        tol: 1e-3,
        shortEm: async (guess, _maxIter, tol) => {
          if (tol !== undefined) {
            polished.push({ guess, tol });
            return polishBound;
          }
          tried.push(guess);
          return bounds[tried.length - 1] ?? -3;
        },
        weightedLogProb: () => logProb,
      });
      return { tried, polished, refined };
    };
    const { tried, polished, refined } = await refine(smemInitializer, -0.4);
    expect(tried.length).toBe(SMEM_MOVES);
    // the polish: EM from the accepted state's own responsibilities, at the tighter tolerance, kept when it does not end lower
    expect(polished.map((p) => p.tol)).toEqual([1e-3 * SMEM_POLISH]);
    expect(refined).toBe(polished[0]!.guess);
    expect(polished[0]!.guess).toEqual({ kind: 'responsibilities', resp: responsibilities(logProb, n, k) });
    const lower = await refine(smemInitializer, -0.6);
    expect(lower.refined).toBe(lower.tried[1]);
    const unpolished = await refine(splitMergeInitializer({ polish: 0 }), -0.4);
    expect(unpolished.polished).toHaveLength(0);
    expect(unpolished.refined).toBe(unpolished.tried[1]);
    // moves as a function of k: 2k = 12 tried when none is accepted (the polish is not run below the bound)
    const many = await refine(splitMergeInitializer({ moves: (k) => 2 * k }), -0.6);
    expect(many.tried).toHaveLength(2 * k);
    expect(many.refined).toBe(many.tried[1]);
  });

  it('screened (the screen option): never below kmeans at the same seed, deterministic', async () => {
    const screened = splitMergeInitializer({ screen: { candidates: 6, iterations: 3, keep: 2, splits: 2, tight: true }, name: 'smem-screened' });
    const container = createGmmContainer(pluginModule({ initializers: [screened] }));
    for (const seed of [2, 3]) {
      const plain = (await fitted('kmeans', seed)).state.lowerBound;
      const a = (await fitted('smem-screened', seed, 1, { container })).state;
      const b = (await fitted('smem-screened', seed, 1, { container })).state;
      expect(a.lowerBound).toBeGreaterThanOrEqual(plain);
      expect(b.lowerBound).toBe(a.lowerBound);
      expect(b.means).toEqual(a.means);
    }
  });

  it('tries no move when k < 3, only the polish', async () => {
    const start: InitialGuess = { kind: 'responsibilities', resp: new Float64Array([1, 0, 0, 1]) };
    const tols: (number | undefined)[] = [];
    const input = {
      tf, x: undefined as never, data: new Float64Array([0, 1]), n: 2, d: 1, k: 2, rng: createRng(0),
      start, lowerBound: -1, tol: 1e-3,
      shortEm: async (_guess: InitialGuess, _maxIter: number, tol?: number) => {
        tols.push(tol);
        return -1;
      },
      weightedLogProb: () => new Float64Array([0, -50, -50, 0]),
    };
    expect(await splitMergeInitializer({ polish: 0 }).refine!(input)).toBe(start);
    expect(tols).toEqual([]);
    expect(await smemInitializer.refine!(input)).not.toBe(start);
    expect(tols).toEqual([1e-3 * SMEM_POLISH]);
  });

  it('others: polishes the other restarts within margin x the polish gain, up to count, best first or least like the best first', async () => {
    // k = 2: no moves, only the polish; the polished bound of a state is looked up by the state last passed to weightedLogProb
    const state = (resp: number[]): InitialGuess => ({ kind: 'responsibilities', resp: new Float64Array(resp) });
    const start = state([1, 0, 0, 1]);
    const like = state([1, 0, 0, 1]); // the best restart's partition
    const apart = state([1, 0, 1, 0]); // a different one
    const far = state([0, 1, 1, 0]);
    const polished = new Map([[start, -0.99], [like, -0.995], [apart, -0.98], [far, -0.9]]);
    const others = [
      { lowerBound: -1.002, start: () => like },
      { lowerBound: -1.02, start: () => apart },
      { lowerBound: -1.05, start: () => far }, // beyond 3 x the polish's gain (0.01) below the best
    ];
    const run = async (options: { margin: number; count: number; order?: 'bound' | 'apart' }) => {
      let last: InitialGuess = start;
      const sources: InitialGuess[] = [];
      const guesses: InitialGuess[] = [];
      const refined = await splitMergeInitializer({ others: options }).refine!({
        tf, x: undefined as never, data: new Float64Array([0, 1]), n: 2, d: 1, k: 2, rng: createRng(0),
        start, lowerBound: -1, tol: 1e-3, others,
        shortEm: async (guess) => {
          sources.push(last);
          guesses.push(guess);
          return polished.get(last)!;
        },
        weightedLogProb: (guess) => {
          last = guesses.includes(guess) ? sources[guesses.indexOf(guess)]! : guess;
          return new Float64Array([0, -50, -50, 0]);
        },
      });
      return { polishedFrom: sources, refinedFrom: sources[guesses.indexOf(refined)] };
    };
    expect(await run({ margin: 3, count: 1 })).toEqual({ polishedFrom: [start, like], refinedFrom: start });
    expect(await run({ margin: 3, count: 5 })).toEqual({ polishedFrom: [start, like, apart], refinedFrom: apart });
    expect(await run({ margin: 3, count: 1, order: 'apart' })).toEqual({ polishedFrom: [start, apart], refinedFrom: apart });
    expect(await run({ margin: Infinity, count: 5 })).toEqual({ polishedFrom: [start, like, apart, far], refinedFrom: far });
  });

  it('others and near: never below kmeans at the same seed, deterministic, no tensors left', async () => {
    const variant = splitMergeInitializer({ others: { margin: 3, count: 1, order: 'apart' }, near: 10, iterations: 5, name: 'smem-others' });
    const container = createGmmContainer(pluginModule({ initializers: [variant] }));
    await fitted('smem-others', 1, 3, { container }); // backend warm-up
    const before = tf.memory().numTensors;
    for (const seed of [2, 3]) {
      const plain = (await fitted('kmeans', seed, 3)).state.lowerBound;
      const a = (await fitted('smem-others', seed, 3, { container })).state;
      const b = (await fitted('smem-others', seed, 3, { container })).state;
      expect(a.lowerBound).toBeGreaterThanOrEqual(plain);
      expect(b.lowerBound).toBe(a.lowerBound);
      expect(b.means).toEqual(a.means);
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('split-and-merge candidates', () => {
  // 1-D rows: two tight groups at -5 and 5 both under component 0 (a poor fit), and component 1 and 2
  // sharing the rows around 20 half and half (perfectly correlated columns).
  const rows = [-5.1, -5, -4.9, 4.9, 5, 5.1, 19.9, 20, 20.1, 20.2];
  const n = rows.length;
  const k = 3;
  const resp = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    if (i < 6) resp[i * k] = 1;
    else resp[i * k + 1] = resp[i * k + 2] = 0.5;
  }
  const normal = (x: number, mean: number, sd: number) => -0.5 * Math.log(2 * Math.PI * sd * sd) - ((x - mean) ** 2) / (2 * sd * sd);
  const logProb = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    logProb[i * k] = Math.log(0.6) + normal(rows[i]!, 0, 5);
    logProb[i * k + 1] = Math.log(0.2) + normal(rows[i]!, 20.05, 0.13);
    logProb[i * k + 2] = Math.log(0.2) + normal(rows[i]!, 20.05, 0.13);
  }

  it('merges the most correlated pair and splits the component left', () => {
    const [first] = splitMergeCandidates(resp, logProb, n, k);
    expect(first).toEqual({ merge: [1, 2], split: 0 });
  });

  it('a move merges the pair into one column and cuts the split component across its principal axis', () => {
    const out = applyMove(resp, { merge: [1, 2], split: 0 }, Float64Array.from(rows), n, 1, k)!;
    for (let i = 0; i < n; i++) expect(out[i * k]! + out[i * k + 1]! + out[i * k + 2]!).toBeCloseTo(1, 12);
    for (let i = 6; i < n; i++) expect(out[i * k + 1]).toBe(1);
    // The rows at -5 and at 5 end in different columns (0 and 2).
    const side = (i: number) => (out[i * k] === 1 ? 0 : out[i * k + 2] === 1 ? 2 : -1);
    expect(new Set([0, 1, 2].map(side)).size).toBe(1);
    expect(new Set([3, 4, 5].map(side)).size).toBe(1);
    expect(side(0)).not.toBe(side(3));
    expect(side(0)).not.toBe(-1);
  });

  it('responsibilities are the row-wise softmax', () => {
    const r = responsibilities(new Float64Array([0, Math.log(3), 1000, 1000]), 2, 2);
    [0.25, 0.75, 0.5, 0.5].forEach((v, i) => expect(r[i]).toBeCloseTo(v, 14));
  });
});

describe('Initializer.refine (engine side)', () => {
  /** A container with 'kmeans''s restarts and `refine` as the second stage, registered as `name`. */
  const refining = (name: string, refine: NonNullable<Initializer['refine']>) =>
    createGmmContainer(pluginModule({ initializers: [{ name, description: `k-means restarts, then ${name}'s refine`, initialize: (input) => kmeansInitializer.initialize(input), refine }] }));

  it("shortEm's tol runs EM on to a tighter tolerance (RefineInput.tol is the fit's)", async () => {
    const seen: { tol: number; iterations: number; bound: number }[] = [];
    let iterations = 0;
    // EM from the best restart at the fit's tol, then at tol / 1000
    const container = refining('probe', async (input) => {
      for (const tol of [input.tol, input.tol / 1000]) {
        iterations = 0;
        const bound = await input.shortEm(input.start, Infinity, tol);
        seen.push({ tol, iterations, bound });
      }
      return input.start;
    });
    await fitted('probe', 3, 1, { container, tol: 1e-2, onIteration: () => iterations++ });
    expect(seen.map((r) => r.tol)).toEqual([1e-2, 1e-5]);
    expect(seen[1]!.iterations).toBeGreaterThan(seen[0]!.iterations);
    expect(seen[1]!.bound).toBeGreaterThan(seen[0]!.bound);
  });

  it("offers the other restarts' converged states: distinct, best first; the fit's bound never drops; deterministic", async () => {
    const probe = async () => {
      // every run's last bound (onIteration counts from 1 at each run), up to refine: the restarts'
      const finals: number[] = [];
      let seen: { best: number; tol: number; bounds: number[]; restarts: number[] } | undefined;
      const container = refining('others', async (input) => {
        const others = input.others ?? [];
        seen = { best: input.lowerBound, tol: input.tol, bounds: others.map((o) => o.lowerBound), restarts: [...finals] };
        // the runner-up's state, built once, stands for a converged state as `start` does
        const runnerUp = others[0]!.start();
        expect(others[0]!.start()).toBe(runnerUp);
        expect(input.weightedLogProb(runnerUp)).toHaveLength(input.n * input.k);
        return runnerUp; // EM continues from it; kept only if it beats the best restart
      });
      const onIteration = (iteration: number, bound: number) => {
        if (iteration === 1) finals.push(bound);
        else finals[finals.length - 1] = bound;
      };
      const gm = await fitted('others', 3, 10, { container, onIteration, degenerate: 'allow' });
      return { state: gm.state, ...seen! };
    };
    const { state, best, tol, bounds, restarts } = await probe();
    expect(restarts).toHaveLength(10);
    expect(Math.max(...restarts)).toBeCloseTo(best, 12);
    expect(bounds.length).toBeGreaterThan(0);
    expect(bounds.length).toBeLessThan(restarts.length);
    // best first, each more than tol below the one before (the best's first), each one of the restarts
    [best, ...bounds].slice(1).forEach((b, i) => expect([best, ...bounds][i]! - b).toBeGreaterThan(tol));
    for (const b of bounds) expect(restarts.some((r) => Math.abs(r - b) < 1e-12)).toBe(true);
    // a restart left out is within tol of the best or of one listed (the same optimum, most likely)
    for (const r of restarts) expect([best, ...bounds].some((b) => Math.abs(b - r) <= tol)).toBe(true);
    const plain = await fitted('kmeans', 3, 10, { degenerate: 'allow' });
    expect(state.lowerBound).toBeGreaterThanOrEqual(plain.state.lowerBound);
    const again = await probe();
    expect(again.bounds).toEqual(bounds);
    expect(again.state.means).toEqual(state.means);
  });

  it('keeps the best restart when refine returns a worse state, and is skipped on warm starts', async () => {
    let calls = 0;
    // refine returns a worse start: two components over all rows, alternating
    const container = refining('worse', async (input) => {
      calls++;
      const resp = new Float64Array(input.n * input.k);
      for (let i = 0; i < input.n; i++) resp[i * input.k + (i % 2)] = 1;
      const guess: InitialGuess = { kind: 'responsibilities', resp };
      expect(await input.shortEm(guess, 1)).toBeLessThan(input.lowerBound);
      expect(input.weightedLogProb(input.start)).toHaveLength(input.n * input.k);
      return guess;
    });
    const plain = await fitted('kmeans', 5, 2);
    const refined = await fitted('worse', 5, 2, { container, warmStart: true });
    expect(calls).toBe(1);
    expect(refined.state.lowerBound).toBe(plain.state.lowerBound);
    await refined.fit(X); // warm: one run from the fitted state, no refine
    expect(calls).toBe(1);
  });
});
