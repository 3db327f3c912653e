import { AbortedError, createRng } from '@gmmkit/core';
import { initBackend } from '@gmmkit/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { activeWorkerCount } from '../src/pool.js';
import { sweep } from '../src/sweep.js';

function mixture(n: number, d: number): { data: Float64Array; shape: [number, number] } {
  const rng = createRng(5);
  const data = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    const c = i % 4;
    for (let j = 0; j < d; j++) data[i * d + j] = rng.normal() + 3 * c * (j % 2 === 0 ? 1 : -1);
  }
  return { data, shape: [n, d] };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  await initBackend(); // keep the wasm start-up out of the timings
});

describe('abort', () => {
  it('terminates the workers promptly mid-fit and leaves none alive', async () => {
    const ac = new AbortController();
    let finished = 0;
    // Long cells (tiny tol, many iterations): far from done when the abort lands.
    const running = sweep({
      data: mixture(20_000, 6),
      k: '1..10',
      covarianceTypes: ['full', 'diag'],
      tol: 1e-12,
      maxIter: 1000,
      workers: 2,
      signal: ac.signal,
      onProgress: () => finished++,
    });
    running.catch(() => undefined);
    try {
      for (let t = 0; t < 100 && activeWorkerCount() < 2; t++) await sleep(50);
      expect(activeWorkerCount()).toBe(2);
      await sleep(500); // workers are now inside their first fits
      expect(finished).toBe(0);
      const t0 = performance.now();
      ac.abort();
      const err = await running.catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AbortedError);
      expect(performance.now() - t0).toBeLessThan(2000); // generous: the CI box is shared
      expect(activeWorkerCount()).toBe(0);
    } finally {
      ac.abort();
    }
  });

  it('in-process, stops at the next cell boundary', async () => {
    const ac = new AbortController();
    const cells: number[] = [];
    const running = sweep({
      data: mixture(2_000, 4),
      k: '1..10',
      covarianceTypes: ['full', 'diag'],
      workers: 0,
      signal: ac.signal,
      onProgress: (p) => {
        cells.push(p.done);
        if (p.done === 3) ac.abort();
      },
    });
    await expect(running).rejects.toBeInstanceOf(AbortedError);
    expect(cells).toEqual([1, 2, 3]);
  });
});
