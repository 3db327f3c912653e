import { AbortedError, createRng } from '@gmmkit/core';
import { initBackend } from '@gmmkit/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { activeWorkerCount, busyWorkerCount } from '../src/pool.js';
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

/** Resolves once `condition` holds: waits for a state, not for a length of time. */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((r) => setTimeout(r, 10));
}

beforeAll(async () => {
  await initBackend();
});

describe('abort', () => {
  it.each([false, true])('terminates the workers mid-fit (without waiting for their cells) and leaves none alive (callingThread: %s)', async (callingThread) => {
    const ac = new AbortController();
    let finished = 0;
    // Cells that cannot finish: tol 0 never converges and a million iterations
    // outlast the test's timeout. Settling at all proves the workers were
    // stopped rather than waited for.
    const running = sweep({
      data: mixture(2_000, 4),
      k: '1..10',
      covarianceTypes: ['full', 'diag'],
      tol: 0,
      maxIter: 1_000_000,
      workers: 2,
      callingThread,
      signal: ac.signal,
      onProgress: () => finished++,
    });
    running.catch(() => undefined);
    // With callingThread this thread took the first cell before its one worker started: both hold a cell then.
    const threads = callingThread ? 1 : 2;
    try {
      await until(() => busyWorkerCount() === threads);
      expect(activeWorkerCount()).toBe(threads);
      ac.abort();
      const err = await running.catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AbortedError);
      expect(finished).toBe(0);
      expect(activeWorkerCount()).toBe(0);
      expect(busyWorkerCount()).toBe(0);
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
