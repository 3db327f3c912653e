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
  const { moves = SMEM_MOVES, iterations = Infinity, polish = SMEM_POLISH, name = 'smem' } = options;
  return {
    name,
    description: `k-means restarts, then up to ${typeof moves === 'number' ? moves : 'moves(k)'} split-and-merge moves from the best (SMEM)${polish > 0 ? `, its EM polished to tol * ${polish}` : ''}`,
    initialize: (input: InitializerInput): InitialGuess => kmeansInitializer.initialize(input),
    async refine(input: RefineInput): Promise<InitialGuess> {
      const { data, n, d, k, weights } = input;
      let current = input.start;
      let bound = input.lowerBound;
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
          const guess: InitialGuess = { kind: 'responsibilities', resp: moved };
          const b = await input.shortEm(guess, iterations);
          if (b > bound) {
            current = guess;
            bound = b;
            accepted = true;
            break;
          }
        }
        if (!accepted) break;
      }
      const logProb = polish > 0 ? input.weightedLogProb(current) : undefined;
      if (logProb !== undefined) {
        // EM from the chosen state's own responsibilities (its next iteration), at the tighter tolerance
        const polished: InitialGuess = { kind: 'responsibilities', resp: responsibilities(logProb, n, k) };
        if ((await input.shortEm(polished, Infinity, input.tol * polish)) >= bound) current = polished;
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
  return pairs.map(({ merge }) => {
    let best = -1;
    for (let l = 0; l < k; l++) if (l !== merge[0] && l !== merge[1] && (best < 0 || split[l]! > split[best]!)) best = l;
    return { merge, split: best };
  });
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
