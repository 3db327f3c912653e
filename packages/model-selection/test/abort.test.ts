import { AbortedError, createRng } from '@gmmkit/core';
import { describe, expect, it } from 'vitest';
import { activeWorkerCount } from '../src/pool.js';
import { sweep } from '../src/sweep.js';

// Big enough that the sweep is still running when the abort arrives.
function bigData(n: number, d: number): { data: Float64Array; shape: [number, number] } {
  const rng = createRng(5);
  const data = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    const c = i % 4;
    for (let j = 0; j < d; j++) data[i * d + j] = rng.normal() + 3 * c * (j % 2 === 0 ? 1 : -1);
  }
  return { data, shape: [n, d] };
}

describe('abort', () => {
  it.each([2, 0])('stops promptly and leaves no workers alive (workers: %i)', async (workers) => {
    const ac = new AbortController();
    const running = sweep({
      data: bigData(20_000, 6),
      k: '1..10',
      covarianceTypes: ['full', 'diag'],
      tol: 1e-9,
      maxIter: 500,
      workers,
      signal: ac.signal,
    });
    await new Promise((r) => setTimeout(r, 400));
    if (workers > 0) expect(activeWorkerCount()).toBe(workers);
    const t0 = performance.now();
    ac.abort();
    const err = await running.catch((e: unknown) => e);
    const ms = performance.now() - t0;
    expect(err).toBeInstanceOf(AbortedError);
    expect(ms).toBeLessThan(1500);
    expect(activeWorkerCount()).toBe(0);
  });
});
