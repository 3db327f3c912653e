import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { shareableFloat64Array } from '@gmmkit/core';
import { plainRowCapacity, scanPlainNumbers, type PlainNumbers, type PlainNumbersOptions } from './plain-numbers.js';

/**
 * The fast path's scan of a large body on several threads: the body is cut
 * into pieces of whole lines, this thread and worker threads take the next
 * piece as each becomes free (so a worker still starting up takes fewer),
 * and the pieces' rows are joined in order. The result is the one-thread
 * scan's, value for value (each cell is parsed on its own); a piece whose
 * worker fails is scanned here.
 */

/** Bodies from this many characters up are scanned on several threads (below, a worker's start-up, ~30 ms, does not pay back). */
export const PARALLEL_SCAN_CHARS = 4 * 2 ** 20;
/** Characters per piece: small enough to balance the threads, large enough that handing one out is cheap. */
const PIECE_CHARS = 2 ** 22;
/** At most this many threads (this one included). */
const MAX_THREADS = 4;

/**
 * scanPlainNumbers(text, start, opts) on `threads` threads (default: the
 * cores, at most 4), in pieces of about `pieceChars`; with `scanHere` false
 * this thread only hands the pieces out (tests: every piece on a worker), and
 * scans what is left once no worker runs. Workers come from `prestarted`
 * (ScanWorkers) when given, else are started here.
 */
export async function scanPlainNumbersInParallel(
  text: string,
  start: number,
  opts: PlainNumbersOptions,
  threads = text.length - start < PARALLEL_SCAN_CHARS ? 1 : Math.min(MAX_THREADS, availableParallelism()),
  pieceChars = PIECE_CHARS,
  scanHere = true,
  prestarted?: ScanWorkers,
): Promise<PlainNumbers | undefined> {
  const cuts = lineCuts(text, start, Math.max(threads, Math.ceil((text.length - start) / pieceChars)));
  const pieces = cuts.length - 1;
  // One piece: this thread alone, still into a shared matrix (the sweep's workers read it without a copy).
  if (threads <= 1 || pieces <= 1) return scanPlainNumbers(text, start, opts, text.length, shareableFloat64Array(plainRowCapacity(text, start, text.length) * opts.width));
  const scanned: (PlainNumbers | undefined)[] = new Array<PlainNumbers | undefined>(pieces);
  let next = 0;
  let notPlain = false;
  const take = (): number => (notPlain || next >= pieces ? -1 : next++);
  const record = (piece: number, out: PlainNumbers | undefined): void => {
    if (out === undefined) notPlain = true;
    scanned[piece] = out;
  };
  // One shared matrix with room for every piece's rows at its place: the pieces are parsed into it, and
  // when each fills its room (no blank or comment lines, no bare CRs) it is the result, with no join.
  const capacity = Array.from({ length: pieces }, (_, p) => plainRowCapacity(text, cuts[p]!, cuts[p + 1]!));
  const firstRow: number[] = [];
  let total = 0;
  for (const c of capacity) {
    firstRow.push(total);
    total += c;
  }
  const matrix = shareableFloat64Array(total * opts.width);
  const room = (piece: number): Float64Array => matrix.subarray(firstRow[piece]! * opts.width, (firstRow[piece]! + capacity[piece]!) * opts.width);
  const here = (piece: number): void => record(piece, scanPlainNumbers(text, cuts[piece]!, opts, cuts[piece + 1], room(piece)));
  const shared = matrix.buffer instanceof SharedArrayBuffer ? matrix.buffer : undefined;
  const into = shared === undefined ? undefined : (piece: number): PieceRoom => ({ buffer: shared, offset: firstRow[piece]! * opts.width, length: capacity[piece]! * opts.width });
  const left = (): number => (notPlain ? 0 : pieces - next);
  const workers = Array.from({ length: scanHere ? threads - 1 : threads }, () =>
    scanOnWorker(prestarted === undefined ? startScanWorker() : prestarted.take(), text, cuts, opts, take, left, record, here, into, room),
  );
  // This thread takes pieces too, yielding between them so the workers' answers (and their next pieces) go out.
  for (let piece = scanHere ? take() : -1; piece >= 0; piece = take()) {
    here(piece);
    await new Promise((resolve) => setImmediate(resolve));
  }
  await Promise.all(workers);
  // Pieces no worker took (none could start): this thread scans them.
  for (let piece = take(); piece >= 0; piece = take()) here(piece);
  if (notPlain) return undefined;
  const parts = scanned as PlainNumbers[];
  const filled = parts.every((s, p) => s.rows === capacity[p] && s.data.buffer === matrix.buffer);
  return filled ? { rows: matrix.length / opts.width, data: matrix, plain: plainColumns(parts, opts.width) } : join(parts, opts.width);
}

/** Piece boundaries [start, ..., text.length]: each inner cut just after a line feed, near an equal share. */
function lineCuts(text: string, start: number, pieces: number): number[] {
  const cuts = [start];
  for (let p = 1; p < pieces; p++) {
    const near = start + Math.floor(((text.length - start) * p) / pieces);
    const lf = text.indexOf('\n', Math.max(near, cuts[cuts.length - 1]!));
    if (lf < 0 || lf + 1 >= text.length) break;
    if (lf + 1 > cuts[cuts.length - 1]!) cuts.push(lf + 1);
  }
  cuts.push(text.length);
  return cuts;
}

/** A scan worker thread, started (its modules loading) before it has pieces; `ready` resolves false if it could not start. */
interface StartedWorker {
  worker: Worker;
  ready: Promise<boolean>;
  exited: () => boolean;
}

function startScanWorker(): StartedWorker | undefined {
  let worker: Worker;
  try {
    worker = new Worker(new URL('./plain-numbers-worker.js', import.meta.url));
  } catch {
    return undefined;
  }
  let exited = false;
  const ready = new Promise<boolean>((resolve) => {
    worker.once('message', () => resolve(true));
    worker.once('error', () => resolve(false));
    worker.once('exit', () => {
      exited = true;
      resolve(false);
    });
  });
  return { worker, ready, exited: () => exited };
}

/**
 * Scan workers started ahead, while the text is still being read: a worker
 * takes ~0.1 s to load, which then overlaps the read instead of the scan
 * (readRawTable starts them for a file large enough to be scanned in parts).
 * The scan takes them; close() ends those it did not take.
 */
export class ScanWorkers {
  private readonly idle: StartedWorker[];

  constructor(count = Math.min(MAX_THREADS, availableParallelism()) - 1) {
    this.idle = Array.from({ length: Math.max(0, count) }, startScanWorker).filter((w) => w !== undefined);
  }

  /** A started worker, or a new one when none is left. */
  take(): StartedWorker | undefined {
    return this.idle.pop() ?? startScanWorker();
  }

  close(): void {
    for (const { worker } of this.idle.splice(0)) void worker.terminate();
  }
}

/**
 * One worker thread scanning the pieces `take` hands it until none is left;
 * resolves once it has stopped. It holds a second piece while many are left,
 * so it never waits for this thread (which hands pieces out only between its
 * own) to get the next. A piece it cannot answer (it failed to start, or
 * died) is scanned here with `here`.
 */
async function scanOnWorker(
  started: StartedWorker | undefined,
  text: string,
  cuts: readonly number[],
  opts: PlainNumbersOptions,
  take: () => number,
  left: () => number,
  done: (piece: number, out: PlainNumbers | undefined) => void,
  here: (piece: number) => void,
  into: ((piece: number) => PieceRoom) | undefined,
  room: (piece: number) => Float64Array,
): Promise<void> {
  // Not started, or ended before it was needed (its exit seen before the listeners below exist).
  if (started === undefined || !(await started.ready) || started.exited()) return;
  const { worker } = started;
  const held: number[] = []; // pieces sent, in order: the worker answers them in turn
  await new Promise<void>((resolve) => {
    const send = (): boolean => {
      const piece = take();
      if (piece < 0) return false;
      held.push(piece);
      worker.postMessage({ text: text.slice(cuts[piece]!, cuts[piece + 1]!), opts, into: into?.(piece) } satisfies PieceRequest);
      return true;
    };
    const topUp = (): void => {
      const depth = left() >= PREFETCH_WHILE_LEFT ? 2 : 1;
      while (held.length < depth && send());
      if (held.length === 0) void worker.terminate();
    };
    worker.on('message', (out: PieceReply | null) => {
      const piece = held.shift()!;
      // Rows written in place come back without their numbers: the view of the shared matrix stands for them.
      done(piece, out === null ? undefined : { ...out, data: out.data ?? room(piece).subarray(0, out.rows * opts.width) });
      topUp();
    });
    const failed = (): void => {
      for (const piece of held.splice(0)) here(piece);
    };
    worker.once('error', failed);
    worker.once('exit', () => {
      failed();
      resolve();
    });
    topUp();
  });
}

/** A worker holds a second piece while at least this many are left untaken (near the end a held piece would make this thread wait for it). */
const PREFETCH_WHILE_LEFT = 4;

/** Where a worker writes a piece's rows: `length` numbers of the shared matrix's `buffer` from `offset`. */
export interface PieceRoom {
  buffer: SharedArrayBuffer;
  offset: number;
  length: number;
}

/** A piece for plain-numbers-worker.ts: its text (whole lines), how to read it and, where shared memory allows, its room in the matrix. */
export interface PieceRequest {
  text: string;
  opts: PlainNumbersOptions;
  into: PieceRoom | undefined;
}

/** The worker's answer: the scan, its numbers omitted (undefined) when they were written in place. */
export type PieceReply = Omit<PlainNumbers, 'data'> & { data: Float64Array | undefined };

/** Per column: plain in every piece. */
function plainColumns(parts: readonly PlainNumbers[], width: number): boolean[] {
  return Array.from({ length: width }, (_, j) => parts.every((s) => s.plain[j]));
}

/** The pieces' rows in order as one scan's result (shareable: a sweep's workers read it without a copy). */
function join(parts: readonly PlainNumbers[], width: number): PlainNumbers {
  const rows = parts.reduce((sum, s) => sum + s.rows, 0);
  const data = shareableFloat64Array(rows * width);
  let offset = 0;
  for (const s of parts) {
    data.set(s.data.subarray(0, s.rows * width), offset);
    offset += s.rows * width;
  }
  return { rows, data, plain: plainColumns(parts, width) };
}
