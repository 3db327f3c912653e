import type { InitialGuess, Initializer, InitializerInput, RefineInput } from '@gmmkit/core';
import { kmeansInitializer } from './kmeans.js';

/** Split-and-merge moves tried after the restarts (see docs/initialization.md for the measurement behind it). */
export const SMEM_MOVES = 5;

/** One split-and-merge move: components `merge` [i, j] become one (in i), component `split` is cut in two (into split and j). */
export interface SplitMergeMove {
  merge: [number, number];
  split: number;
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
 */
export function splitMergeInitializer(moves: number, iterations = Infinity, name = 'smem'): Initializer {
  return {
    name,
    description: `k-means restarts, then up to ${moves} split-and-merge moves from the best (SMEM)`,
    initialize: (input: InitializerInput): InitialGuess => kmeansInitializer.initialize(input),
    async refine(input: RefineInput): Promise<InitialGuess> {
      const { data, n, d, k, weights } = input;
      let current = input.start;
      let bound = input.lowerBound;
      let tried = 0;
      while (tried < moves) {
        const logProb = input.weightedLogProb(current);
        if (logProb === undefined) break;
        const resp = responsibilities(logProb, n, k);
        let accepted = false;
        for (const move of splitMergeCandidates(resp, logProb, n, k, weights)) {
          if (tried >= moves) break;
          tried++;
          const guess: InitialGuess = { kind: 'responsibilities', resp: applyMove(resp, move, data, n, d, k, weights) };
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
      return current;
    },
  };
}

/** Responsibilities [n, k] from weighted log-probabilities [n, k] (row-wise softmax). */
export function responsibilities(logProb: Float64Array, n: number, k: number): Float64Array {
  const out = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    let max = -Infinity;
    for (let j = 0; j < k; j++) max = Math.max(max, logProb[i * k + j]!);
    let total = 0;
    for (let j = 0; j < k; j++) total += out[i * k + j] = Math.exp(logProb[i * k + j]! - max);
    for (let j = 0; j < k; j++) out[i * k + j]! /= total;
  }
  return out;
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
 * principal axis (through its weighted mean) they fall on.
 */
export function applyMove(
  resp: Float64Array,
  move: SplitMergeMove,
  data: Float64Array,
  n: number,
  d: number,
  k: number,
  weights?: Float64Array,
): Float64Array {
  const [i, j] = move.merge;
  const l = move.split;
  const out = Float64Array.from(resp);
  const w = (r: number): number => (weights === undefined ? 1 : weights[r]!);
  // The split component's weighted mean and covariance.
  const mean = new Float64Array(d);
  let mass = 0;
  for (let r = 0; r < n; r++) {
    const m = w(r) * resp[r * k + l]!;
    mass += m;
    for (let c = 0; c < d; c++) mean[c] += m * data[r * d + c]!;
  }
  for (let c = 0; c < d; c++) mean[c]! /= mass > 0 ? mass : 1;
  const cov = new Float64Array(d * d);
  for (let r = 0; r < n; r++) {
    const m = w(r) * resp[r * k + l]!;
    if (m === 0) continue;
    for (let a = 0; a < d; a++) {
      const da = data[r * d + a]! - mean[a]!;
      for (let b = a; b < d; b++) cov[a * d + b] += m * da * (data[r * d + b]! - mean[b]!);
    }
  }
  for (let a = 0; a < d; a++) for (let b = 0; b < a; b++) cov[a * d + b] = cov[b * d + a]!;
  const axis = principalAxis(cov, d);
  for (let r = 0; r < n; r++) {
    out[r * k + i] = resp[r * k + i]! + resp[r * k + j]!;
    let side = 0;
    for (let c = 0; c < d; c++) side += (data[r * d + c]! - mean[c]!) * axis[c]!;
    const rl = resp[r * k + l]!;
    out[r * k + j] = side > 0 ? rl : 0;
    out[r * k + l] = side > 0 ? 0 : rl;
  }
  return out;
}

/** The leading eigenvector of a symmetric positive semi-definite d x d matrix, by power iteration from its largest diagonal's axis. */
function principalAxis(cov: Float64Array, d: number): Float64Array {
  let v = new Float64Array(d);
  let top = 0;
  for (let c = 1; c < d; c++) if (cov[c * d + c]! > cov[top * d + top]!) top = c;
  // A start with weight on every axis (the largest diagonal's most), so no eigenvector is missed by symmetry.
  for (let c = 0; c < d; c++) v[c] = c === top ? 1 : 0.5;
  for (let iter = 0; iter < 100; iter++) {
    const next = new Float64Array(d);
    for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) next[a] += cov[a * d + b]! * v[b]!;
    let norm = 0;
    for (let a = 0; a < d; a++) norm += next[a]! * next[a]!;
    norm = Math.sqrt(norm);
    if (!(norm > 0)) break;
    for (let a = 0; a < d; a++) next[a]! /= norm;
    v = next;
  }
  return v;
}

/** 'smem': splitMergeInitializer(SMEM_MOVES). */
export const smemInitializer: Initializer = splitMergeInitializer(SMEM_MOVES);
