import type { InitialGuess, Initializer, InitializerInput } from '@gmmkit/core';
import { kmeansInitializer } from './kmeans.js';

/** Candidate k-means starts per restart (see docs/initialization.md for the measurement behind both numbers). */
export const EMEM_CANDIDATES = 4;
/** EM iterations of each candidate's short run. */
export const EMEM_SHORT_ITERATIONS = 5;

/**
 * 'emem': emEM (Biernacki, Celeux & Govaert 2003) over k-means starts. Each
 * restart draws EMEM_CANDIDATES k-means starts (k-means++ seeding, Lloyd),
 * the first the very start 'kmeans' would use, runs EMEM_SHORT_ITERATIONS EM
 * iterations from each through the engine (InitializerInput.shortEm) and
 * returns the one with the highest lower bound, whose EM the engine then
 * continues to convergence. Without shortEm (a driver that offers no EM) it is 'kmeans'.
 */
export const ememInitializer: Initializer = {
  name: 'emem',
  description: `emEM: the best of ${EMEM_CANDIDATES} k-means starts after ${EMEM_SHORT_ITERATIONS} EM iterations each, run on to convergence`,
  async initialize(input: InitializerInput): Promise<InitialGuess> {
    const { shortEm } = input;
    if (shortEm === undefined) return kmeansInitializer.initialize(input);
    let best: InitialGuess | undefined;
    let bestBound = -Infinity;
    for (let c = 0; c < EMEM_CANDIDATES; c++) {
      // One random stream for all candidates: the first draws what 'kmeans' would.
      const guess = kmeansInitializer.initialize(input);
      const bound = await shortEm(guess, EMEM_SHORT_ITERATIONS);
      if (best === undefined || bound > bestBound) {
        best = guess;
        bestBound = bound;
      }
    }
    return best!;
  },
};
