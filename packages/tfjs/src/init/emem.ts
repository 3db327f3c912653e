import type { InitialGuess, Initializer, InitializerInput } from '@gmmkit/core';
import { kmeansInitializer } from './kmeans.js';

/** Candidate k-means starts per restart (see docs/initialization.md for the measurement behind both numbers). */
export const EMEM_CANDIDATES = 2;
/** EM iterations of each candidate's short run. */
export const EMEM_SHORT_ITERATIONS = 20;

/**
 * emEM (Biernacki, Celeux & Govaert 2003) over k-means starts. Each restart
 * draws `candidates` k-means starts (k-means++ seeding, Lloyd), the first the
 * very start 'kmeans' would use, runs `iterations` EM iterations from each
 * through the engine (InitializerInput.shortEm) and returns the one with the
 * highest lower bound, whose EM the engine then continues to convergence.
 * Without shortEm (a driver that offers no EM) it is 'kmeans'.
 */
export function emEmInitializer(candidates: number, iterations: number, name = 'emem'): Initializer {
  return {
    name,
    description: `emEM: the best of ${candidates} k-means starts after ${iterations} EM iterations each, run on to convergence`,
    async initialize(input: InitializerInput): Promise<InitialGuess> {
      const { shortEm } = input;
      if (shortEm === undefined) return kmeansInitializer.initialize(input);
      let best: InitialGuess | undefined;
      let bestBound = -Infinity;
      for (let c = 0; c < candidates; c++) {
        // One random stream for all candidates: the first draws what 'kmeans' would.
        const guess = kmeansInitializer.initialize(input);
        const bound = await shortEm(guess, iterations);
        if (best === undefined || bound > bestBound) {
          best = guess;
          bestBound = bound;
        }
      }
      return best!;
    },
  };
}

/** 'emem': emEmInitializer(EMEM_CANDIDATES, EMEM_SHORT_ITERATIONS). */
export const ememInitializer: Initializer = emEmInitializer(EMEM_CANDIDATES, EMEM_SHORT_ITERATIONS);
