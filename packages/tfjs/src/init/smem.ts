import type { InitialGuess, Initializer, InitializerInput, RefineInput } from '@gmmkit/core';
import { responsibilities, splitAlongMainAxis } from '../reseed.js';
import { kmeansInitializer } from './kmeans.js';

/** Split-and-merge moves tried after the restarts (see docs/initialization.md for the measurement behind it). */
export const SMEM_MOVES = 5;

/** One split-and-merge move: components `merge` [i, j] become one (in i), component `split` is cut in two (into split and j). */
export interface SplitMergeMove {
  merge: [number, number];
  split: number;
}

/** The polish's tolerance, as a fraction of the fit's: the chosen state's EM goes on until an iteration gains less than tol * SMEM_POLISH. */
export const SMEM_POLISH = 0.01;

/** splitMergeInitializer's settings. */
export interface SplitMergeOptions {
  /** Moves tried in all (default SMEM_MOVES), or a function of k giving them. */
  moves?: number | ((k: number) => number);
  /** At most this many EM iterations per move (default: the fit's maxIter). */
  iterations?: number;
  /**
   * After the moves, the chosen state's EM continues to tolerance tol * polish
   * (at most maxIter more iterations); 0 skips it. Default SMEM_POLISH.
   */
  polish?: number;
  /**
   * Screening (measured in docs/initialization.md, not the default): from each
   * state, the first `candidates` moves (each merge pair with its best
   * `splits` split components) run `iterations` EM iterations each; the best
   * `keep` of them by that bound go on to convergence (at the polish
   * tolerance when `tight`, the best restart then polished first), and the
   * best of those is accepted when it beats the current bound. `moves` then
   * counts rounds of screening.
   */
  screen?: { candidates: number; iterations: number; keep: number; splits?: number; tight?: boolean };
  /**
   * Other restarts (RefineInput.others, measured in docs/initialization.md,
   * not the default): after the polish, up to `count` other restarts whose
   * bound is within `margin` times the polish's gain of the best restart's
   * are polished too (a restart that close may climb past the best on data
   * where EM stops that far from its optimum), taken by `order`: 'bound'
   * best first, 'apart' the least like the best restart first (its
   * responsibilities matched to the best's, a different partition more
   * likely a different optimum; this builds every close restart's state).
   * The highest polished bound is chosen. Not used with `screen`.
   */
  others?: { margin: number; count: number; order?: 'bound' | 'apart' };
  /**
   * Measured, not the default: the polish first (the best restart's state),
   * then every move whose EM at tol ends within `near` tol of the current
   * (polished) bound is polished too before it is compared. Not used with
   * `screen`.
   */
  near?: number;
  name?: string;
}

/**
 * Split-and-merge EM (after Ueda, Nakano, Ghahramani & Hinton 2000, "SMEM
 * algorithm for mixture models"). The restarts are exactly 'kmeans''s; then,
 * from the best restart's converged state, up to `moves` candidate moves run
 * each: merge the two components whose responsibility columns are most
 * correlated, split the component the data fit worst (the highest local KL
 * divergence between its posterior-weighted rows and its Gaussian), with the
 * split cutting its rows in two across its principal axis; full EM from there
 * (through InitializerInput.shortEm, at most `iterations` iterations). A move
 * whose lower bound beats the current one is accepted and the candidates are
 * ranked again from its state. Ueda et al.'s partial EM on the three changed
 * components is not done: EM runs on all of them from the start of the move.
 * Last, the polish: EM from the chosen state (the best restart's, or the
 * last accepted move's) goes on at the tighter tolerance tol * `polish`, so
 * the one fit kept climbs to its optimum instead of stopping where an
 * iteration first gains less than tol.
 */
export function splitMergeInitializer(options: SplitMergeOptions = {}): Initializer {
  const { moves = SMEM_MOVES, iterations = Infinity, polish = SMEM_POLISH, screen, others, near, name = 'smem' } = options;
  if (screen !== undefined) return screenedInitializer(moves, polish, screen, name);
  return {
    name,
    description: `k-means restarts, then up to ${typeof moves === 'number' ? moves : 'moves(k)'} split-and-merge moves from the best (SMEM)${polish > 0 ? `, its EM polished to tol * ${polish}` : ''}`,
    initialize: (input: InitializerInput): InitialGuess => kmeansInitializer.initialize(input),
    async refine(input: RefineInput): Promise<InitialGuess> {
      const { data, n, d, k, weights } = input;
      const polishTol = input.tol * polish;
      let current = input.start;
      let bound = input.lowerBound;
      // the polish's gain: how far short of its optimum EM at tol stopped (the others' margin is measured in it)
      let gain = 0;
      const polishCurrent = async (): Promise<void> => {
        const p = await continueEm(input, current, polishTol);
        if (p === undefined || p.bound < bound) return;
        gain = p.bound - bound;
        ({ guess: current, bound } = p);
      };
      const early = near !== undefined && polish > 0;
      if (early) await polishCurrent();
      const limit = typeof moves === 'number' ? moves : moves(k);
      let tried = 0;
      while (tried < limit) {
        const logProb = input.weightedLogProb(current);
        if (logProb === undefined) break;
        const resp = responsibilities(logProb, n, k);
        let accepted = false;
        for (const move of splitMergeCandidates(resp, logProb, n, k, weights)) {
          if (tried >= limit) break;
          tried++;
          const moved = applyMove(resp, move, data, n, d, k, weights);
          if (moved === undefined) continue;
          let reached: InitialGuess = { kind: 'responsibilities', resp: moved };
          let b = await input.shortEm(reached, iterations);
          // a move ending within `near` tol of the polished bound may pass it when polished too
          if (early && b > bound - near * input.tol) {
            const p = await continueEm(input, reached, polishTol);
            if (p !== undefined) ({ guess: reached, bound: b } = p);
          }
          if (b > bound) {
            current = reached;
            bound = b;
            accepted = true;
            break;
          }
        }
        if (!accepted) break;
      }
      if (polish > 0 && !early) await polishCurrent();
      return others !== undefined && polish > 0 ? polishOthers(input, { guess: current, bound }, gain, others, polishTol) : current;
    },
  };
}

/**
 * EM from a state's own responsibilities (its next iteration) on to tolerance
 * `tol`: the guess it ran from and the bound it reached; undefined when the
 * state has none (never run, or its run failed).
 */
async function continueEm(input: RefineInput, state: InitialGuess, tol: number): Promise<{ guess: InitialGuess; bound: number } | undefined> {
  const logProb = input.weightedLogProb(state);
  if (logProb === undefined) return undefined;
  const guess: InitialGuess = { kind: 'responsibilities', resp: responsibilities(logProb, input.n, input.k) };
  return { guess, bound: await input.shortEm(guess, Infinity, tol) };
}

/**
 * SplitMergeOptions.others: the other restarts within `margin` * `gain` of the
 * best restart's bound, up to `count` of them in `order`, polished at `tol`;
 * the highest of them and `chosen` (the polished state).
 */
async function polishOthers(
  input: RefineInput,
  chosen: { guess: InitialGuess; bound: number },
  gain: number,
  { margin, count, order = 'bound' }: NonNullable<SplitMergeOptions['others']>,
  tol: number,
): Promise<InitialGuess> {
  let close = (input.others ?? []).filter((o) => margin === Infinity || input.lowerBound - o.lowerBound <= margin * gain);
  if (order === 'apart' && close.length > count) {
    const best = input.start.kind === 'responsibilities' ? input.start.resp : undefined;
    const like = new Map(close.map((o) => [o, best === undefined ? 0 : agreement(best, o.start(), input.n, input.k, input.weights)]));
    close = [...close].sort((a, b) => like.get(a)! - like.get(b)!);
  }
  let top = chosen;
  for (const other of close.slice(0, count)) {
    const p = await continueEm(input, other.start(), tol);
    if (p !== undefined && p.bound > top.bound) top = p;
  }
  return top.guess;
}

/**
 * How alike two states' responsibilities are: the share of the (weighted) rows
 * on matched components, the components paired greedily by their shared
 * responsibility mass. 1: the same partition.
 */
function agreement(a: Float64Array, guess: InitialGuess, n: number, k: number, weights?: Float64Array): number {
  if (guess.kind !== 'responsibilities') return 0;
  const b = guess.resp;
  const shared = new Float64Array(k * k);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const w = weights === undefined ? 1 : weights[i]!;
    total += w;
    for (let x = 0; x < k; x++) {
      const ax = w * a[i * k + x]!;
      if (ax !== 0) for (let y = 0; y < k; y++) shared[x * k + y] += ax * b[i * k + y]!;
    }
  }
  const rowUsed = new Uint8Array(k);
  const colUsed = new Uint8Array(k);
  let matched = 0;
  for (let t = 0; t < k; t++) {
    let top = -1;
    for (let c = 0; c < k * k; c++) {
      if (!rowUsed[Math.floor(c / k)] && !colUsed[c % k] && (top < 0 || shared[c]! > shared[top]!)) top = c;
    }
    rowUsed[Math.floor(top / k)] = 1;
    colUsed[top % k] = 1;
    matched += shared[top]!;
  }
  return total > 0 ? matched / total : 0;
}

/** splitMergeInitializer with `screen` set: screened rounds of candidate moves. */
function screenedInitializer(
  moves: number | ((k: number) => number),
  polish: number,
  screen: NonNullable<SplitMergeOptions['screen']>,
  name: string,
): Initializer {
  const { candidates, iterations, keep, splits = 1, tight = false } = screen;
  return {
    name,
    description: `k-means restarts, then screened split-and-merge rounds (${candidates} moves x ${iterations} EM iterations, best ${keep} run on)`,
    initialize: (input: InitializerInput): InitialGuess => kmeansInitializer.initialize(input),
    async refine(input: RefineInput): Promise<InitialGuess> {
      const { data, n, d, k, weights } = input;
      const polishTol = input.tol * polish;
      const continued = (state: InitialGuess, tol: number) => continueEm(input, state, tol);
      let current = input.start;
      let bound = input.lowerBound;
      if (tight && polish > 0) {
        const p = await continued(current, polishTol);
        if (p !== undefined && p.bound >= bound) ({ guess: current, bound } = p);
      }
      const runTol = tight && polish > 0 ? polishTol : input.tol;
      const rounds = typeof moves === 'number' ? moves : moves(k);
      for (let round = 0; round < rounds; round++) {
        const logProb = input.weightedLogProb(current);
        if (logProb === undefined) break;
        const resp = responsibilities(logProb, n, k);
        const screened: { guess: InitialGuess; bound: number; order: number }[] = [];
        const list = splitMergeCandidates(resp, logProb, n, k, weights, splits);
        for (let c = 0; c < list.length && c < candidates; c++) {
          const moved = applyMove(resp, list[c]!, data, n, d, k, weights);
          if (moved === undefined) continue;
          const guess: InitialGuess = { kind: 'responsibilities', resp: moved };
          const b = await input.shortEm(guess, iterations);
          if (b > -Infinity) screened.push({ guess, bound: b, order: c });
        }
        screened.sort((p, q) => q.bound - p.bound || p.order - q.order);
        let next: { guess: InitialGuess; bound: number } | undefined;
        for (const s of screened.slice(0, keep)) {
          const p = await continued(s.guess, runTol);
          if (p !== undefined && p.bound > bound && (next === undefined || p.bound > next.bound)) next = p;
        }
        if (next === undefined) break;
        ({ guess: current, bound } = next);
      }
      if (polish > 0 && !tight) {
        const p = await continued(current, polishTol);
        if (p !== undefined && p.bound >= bound) current = p.guess;
      }
      return current;
    },
  };
}

/**
 * The candidate moves, best first: merge pairs by decreasing correlation of
 * their responsibility columns (J_merge), each with the component outside the
 * pair of the highest local KL divergence (J_split) as the one to split.
 * None when k < 3.
 */
export function splitMergeCandidates(
  resp: Float64Array,
  logProb: Float64Array,
  n: number,
  k: number,
  weights?: Float64Array,
  splits = 1,
): SplitMergeMove[] {
  if (k < 3) return [];
  const w = (i: number): number => (weights === undefined ? 1 : weights[i]!);
  // Gram matrix of the (sample-weighted) responsibility columns, and the column totals.
  const gram = new Float64Array(k * k);
  const nk = new Float64Array(k);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const wi = w(i);
    total += wi;
    for (let a = 0; a < k; a++) {
      const ra = wi * resp[i * k + a]!;
      nk[a] += ra;
      for (let b = a; b < k; b++) gram[a * k + b] += ra * resp[i * k + b]!;
    }
  }
  // J_split(l) = Σ_i f_il ln(f_il / p_l(x_i)), f_il = w_i r_il / N_l, ln p_l(x_i) = logProb_il - ln(N_l / N).
  const split = new Float64Array(k);
  for (let l = 0; l < k; l++) {
    if (nk[l]! <= 0) {
      split[l] = -Infinity;
      continue;
    }
    const logWeight = Math.log(nk[l]! / total);
    let j = 0;
    for (let i = 0; i < n; i++) {
      const f = (w(i) * resp[i * k + l]!) / nk[l]!;
      if (f > 0) j += f * (Math.log(f) - (logProb[i * k + l]! - logWeight));
    }
    split[l] = j;
  }
  const pairs: { merge: [number, number]; score: number }[] = [];
  for (let a = 0; a < k; a++) {
    for (let b = a + 1; b < k; b++) {
      const norm = Math.sqrt(gram[a * k + a]! * gram[b * k + b]!);
      pairs.push({ merge: [a, b], score: norm > 0 ? gram[a * k + b]! / norm : 0 });
    }
  }
  pairs.sort((p, q) => q.score - p.score || p.merge[0] - q.merge[0] || p.merge[1] - q.merge[1]);
  // components by decreasing J_split (ties by index)
  const bySplit = Array.from({ length: k }, (_, l) => l).sort((a, b) => (split[b]! > split[a]! ? 1 : split[b]! < split[a]! ? -1 : a - b));
  return pairs.flatMap(({ merge }) =>
    bySplit
      .filter((l) => l !== merge[0] && l !== merge[1])
      .slice(0, splits)
      .map((l) => ({ merge, split: l })),
  );
}

/**
 * The responsibilities after `move`: column i gets r_i + r_j; the split
 * component's rows go to column `split` or column j by the side of its
 * principal axis (through its weighted mean) they fall on
 * (splitAlongMainAxis, re-seeding's split). Undefined when the split
 * component has no spread to cut.
 */
export function applyMove(
  resp: Float64Array,
  move: SplitMergeMove,
  data: Float64Array,
  n: number,
  d: number,
  k: number,
  weights?: Float64Array,
): Float64Array | undefined {
  const [i, j] = move.merge;
  const out = Float64Array.from(resp);
  for (let r = 0; r < n; r++) {
    out[r * k + i] = resp[r * k + i]! + resp[r * k + j]!;
    out[r * k + j] = 0;
  }
  return splitAlongMainAxis(out, data, n, d, k, move.split, j, weights) ? out : undefined;
}

/** 'smem': splitMergeInitializer() (SMEM_MOVES moves, polish SMEM_POLISH). */
export const smemInitializer: Initializer = splitMergeInitializer();
