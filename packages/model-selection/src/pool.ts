// Sweep workers are worker_threads in Node and Web Workers in browsers (#selection-platform).
import { AbortedError, GmmError, type WorkerHandle } from '@gmmkit/core';
import { spawnSweepWorker, sweepWorkerProblem } from '#selection-platform';
import type { CellResult, CellSpec } from './cell.js';
import type { FromWorker, ToWorker, WorkerInit } from './protocol.js';

/** Workers alive right now (diagnostics; tests use it to check an abort leaves none behind). */
const live = new Set<WorkerHandle>();
export function activeWorkerCount(): number {
  return live.size;
}

/** Workers holding a cell right now (diagnostics; tests wait for it before aborting mid-fit). */
const busy = new Set<WorkerHandle>();
export function busyWorkerCount(): number {
  return busy.size;
}

export interface PoolOptions {
  size: number;
  init: WorkerInit;
  /**
   * The next cell to fit, or undefined when nothing is left. Called on the
   * main thread, with the cell last given to the same lane (undefined for a
   * new one): a lane's FitCache serves best the cells of the k it holds.
   */
  next(previous: CellSpec | undefined): CellSpec | undefined;
  onResult(result: CellResult): void;
  /**
   * Fits a cell on the calling thread: when given, this thread is one more
   * lane beside the `size` workers (it would otherwise only wait), taking
   * cells from `next` as a worker does. Its fit must stop soon after `signal`
   * aborts (the pool settles only once it has).
   */
  local?: ((cell: CellSpec, signal: AbortSignal) => Promise<CellResult>) | undefined;
  signal?: AbortSignal;
}

/**
 * Cells a worker holds at once: the one it fits and the next, so it never
 * waits for this thread (busy with its own cell's fit when it has `local`)
 * to send one.
 */
const WORKER_QUEUE = 2;

/**
 * Fits cells on `size` worker threads (and on this thread with `local`),
 * handing each lane with room the next cell. Resolves when every cell is done;
 * rejects with AbortedError on abort. Either way every worker has exited and
 * the local lane's fit has stopped before the promise settles.
 */
export function runPool(opts: PoolOptions): Promise<void> {
  const problem = sweepWorkerProblem();
  if (problem !== undefined) return Promise.reject(new GmmError('INVALID_ARGUMENT', problem));
  return new Promise<void>((resolve, reject) => {
    const workers = new Set<WorkerHandle>();
    const running = new Map<WorkerHandle, CellSpec[]>(); // the cells sent to each worker, in order (the first is being fitted)
    const sent = new Map<WorkerHandle, CellSpec>(); // each worker's last cell sent
    const orphans: CellSpec[] = []; // cells queued on a worker that crashed: sent again first
    let settled = false;
    let respawns = 0;
    const exiting: Promise<void>[] = [];
    // the local lane: the cell it holds, and its abort (the pool's end stops its fit)
    let localCell: CellSpec | undefined;
    const localStop = new AbortController();
    const idle = (): boolean => running.size === 0 && localCell === undefined;
    const take = (previous: CellSpec | undefined): CellSpec | undefined => orphans.shift() ?? opts.next(previous);
    const stop = (w: WorkerHandle): Promise<void> => w.terminate().then(() => void live.delete(w));

    const finish = (err?: unknown): void => {
      if (settled) return;
      settled = true;
      opts.signal?.removeEventListener('abort', onAbort);
      localStop.abort();
      for (const w of workers) {
        busy.delete(w);
        exiting.push(stop(w));
      }
      // Retired workers too: settle only once every thread has exited.
      void Promise.all(exiting).then(() => (err === undefined ? resolve() : reject(err)));
    };
    const onAbort = (): void => finish(new AbortedError('sweep aborted'));

    const retire = (w: WorkerHandle): void => {
      workers.delete(w);
      running.delete(w);
      busy.delete(w);
      exiting.push(stop(w));
    };

    // Sends w the next cell when it holds fewer than WORKER_QUEUE; retires it when none is left and it is done.
    const dispatch = (w: WorkerHandle): void => {
      if (settled) return;
      const held = running.get(w) ?? [];
      if (held.length >= WORKER_QUEUE) return;
      let cell: CellSpec | undefined;
      try {
        cell = take(sent.get(w));
      } catch (err) {
        finish(err);
        return;
      }
      if (cell === undefined) {
        if (held.length > 0) return;
        retire(w);
        if (idle()) finish();
        return;
      }
      running.set(w, [...held, cell]);
      sent.set(w, cell);
      busy.add(w);
      w.post({ type: 'cell', cell } satisfies ToWorker);
    };

    const spawn = (): void => {
      const w = spawnSweepWorker(opts.init);
      live.add(w);
      workers.add(w);
      w.onExit((code) => {
        live.delete(w);
        busy.delete(w);
        if (settled || !workers.has(w)) return;
        crashed(w, `worker exited unexpectedly (exit code ${code})`);
      });
      w.onError((err) => {
        if (!settled) crashed(w, `worker crashed: ${err.message}`);
      });
      w.onMessage((message) => {
        const msg = message as FromWorker;
        if (settled) return;
        if (msg.type === 'ready') for (let i = 0; i < WORKER_QUEUE; i++) dispatch(w);
        else if (msg.type === 'result') {
          const left = (running.get(w) ?? []).slice(1);
          if (left.length > 0) running.set(w, left);
          else {
            running.delete(w);
            busy.delete(w);
          }
          try {
            opts.onResult(msg.result);
          } catch (err) {
            finish(err);
            return;
          }
          dispatch(w);
        } else finish(new GmmError('INVALID_ARGUMENT', `sweep worker failed: ${msg.message}`));
      });
    };

    // A worker that dies mid-cell (out of memory, a native crash) fails that
    // cell, not the sweep; a replacement takes over the remaining cells.
    const crashed = (w: WorkerHandle, reason: string): void => {
      const [cell, ...queued] = running.get(w) ?? [];
      orphans.push(...queued);
      workers.delete(w);
      running.delete(w);
      if (cell) {
        try {
          opts.onResult({
            id: cell.id,
            k: cell.k,
            covarianceType: cell.covarianceType,
            logLikelihood: Number.NaN,
            nParameters: Number.NaN,
            entropy: Number.NaN,
            n: opts.init.rows,
            converged: false,
            iterations: 0,
            seconds: 0,
            error: reason,
          });
        } catch (err) {
          finish(err);
          return;
        }
      }
      if (respawns < opts.size) {
        respawns++;
        spawn();
      } else if (workers.size === 0) {
        finish(new GmmError('INVALID_ARGUMENT', `sweep workers keep crashing (last: ${reason})`));
      }
    };

    if (opts.signal?.aborted) {
      reject(new AbortedError('sweep aborted'));
      return;
    }
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    for (let i = 0; i < opts.size; i++) spawn();
    const local = opts.local;
    if (local !== undefined) {
      // Cells on this thread, one after another, until none is left or the pool ends.
      const lane = async (): Promise<void> => {
        let previous: CellSpec | undefined;
        while (!settled) {
          const cell = take(previous);
          if (cell === undefined) {
            if (idle()) finish();
            return;
          }
          localCell = cell;
          const result = await local(cell, localStop.signal);
          localCell = undefined;
          if (settled) return;
          opts.onResult(result);
          previous = cell;
        }
      };
      // Its fit was told to stop when the pool ends; the pool settles once it has.
      const laneDone = lane().catch((err: unknown) => {
        localCell = undefined;
        finish(err);
      });
      exiting.push(laneDone);
    }
  });
}
