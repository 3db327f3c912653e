import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { scanPlainNumbers, type PlainNumbers, type PlainNumbersOptions } from './plain-numbers.js';

/**
 * The fast path's scan of a large body in parts, one per core: the parts
 * are whole lines, this thread scans the first while worker threads scan
 * the others, and the parts' rows are joined in order. The result is the
 * one-thread scan's, value for value (each cell is parsed on its own); a
 * part whose worker cannot run is scanned here.
 */

/** Bodies from this many characters up are scanned in parts (below, a worker's start-up, ~30 ms, does not pay back). */
export const PARALLEL_SCAN_CHARS = 4 * 2 ** 20;
/** At most this many parts (threads). */
const MAX_PARTS = 4;

/** scanPlainNumbers(text, start, opts) with the body split across `parts` threads (default: the cores, at most 4). */
export async function scanPlainNumbersInParallel(
  text: string,
  start: number,
  opts: PlainNumbersOptions,
  parts = text.length - start < PARALLEL_SCAN_CHARS ? 1 : Math.min(MAX_PARTS, availableParallelism()),
): Promise<PlainNumbers | undefined> {
  const cuts = lineCuts(text, start, parts);
  if (cuts.length <= 2) return scanPlainNumbers(text, start, opts);
  const others = cuts.slice(1, -1).map((from, p) => scanOnWorker(text, from, cuts[p + 2]!, opts));
  const first = scanPlainNumbers(text, start, opts, cuts[1]);
  // Not plain: the caller reads the text record by record; the workers end on their own.
  if (first === undefined) return undefined;
  return join([first, ...(await Promise.all(others))], opts.width);
}

/** Part boundaries [start, ..., text.length]: each inner cut just after a line feed, near an equal share. */
function lineCuts(text: string, start: number, parts: number): number[] {
  const cuts = [start];
  for (let p = 1; p < parts; p++) {
    const near = start + Math.floor(((text.length - start) * p) / parts);
    const lf = text.indexOf('\n', Math.max(near, cuts[cuts.length - 1]!));
    if (lf < 0 || lf + 1 >= text.length) break;
    cuts.push(lf + 1);
  }
  cuts.push(text.length);
  return cuts;
}

/** One part scanned on a worker thread; scanned on this thread if the worker fails to start or run. */
function scanOnWorker(text: string, from: number, to: number, opts: PlainNumbersOptions): Promise<PlainNumbers | undefined> {
  const part = text.slice(from, to);
  const here = () => scanPlainNumbers(part, 0, opts);
  return new Promise((resolve) => {
    let worker: Worker;
    try {
      worker = new Worker(new URL('./plain-numbers-worker.js', import.meta.url), { workerData: { text: part, opts } });
    } catch {
      resolve(here());
      return;
    }
    let answered = false;
    worker.once('message', (out: PlainNumbers | null) => {
      answered = true;
      resolve(out ?? undefined);
    });
    worker.once('error', () => {
      if (!answered) resolve(here());
      answered = true;
    });
    worker.once('exit', () => {
      if (!answered) resolve(here());
    });
  });
}

/** The parts' rows in order as one scan's result; undefined when any part is not plain. */
function join(scanned: readonly (PlainNumbers | undefined)[], width: number): PlainNumbers | undefined {
  if (scanned.some((s) => s === undefined)) return undefined;
  const parts = scanned as PlainNumbers[];
  const rows = parts.reduce((sum, s) => sum + s.rows, 0);
  const data = new Float64Array(rows * width);
  let offset = 0;
  for (const s of parts) {
    data.set(s.data.subarray(0, s.rows * width), offset);
    offset += s.rows * width;
  }
  const plain = Array.from({ length: width }, (_, j) => parts.every((s) => s.plain[j]));
  return { rows, data, plain };
}
