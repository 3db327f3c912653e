// A worker thread of scanPlainNumbersInParallel: scans its part of the body
// (whole lines) and posts the result, its numbers transferred, or null when
// the part is not plain numbers.
import { parentPort, workerData } from 'node:worker_threads';
import { scanPlainNumbers, type PlainNumbersOptions } from './plain-numbers.js';

const { text, opts } = workerData as { text: string; opts: PlainNumbersOptions };
const out = scanPlainNumbers(text, 0, opts);
parentPort!.postMessage(out ?? null, out === undefined ? [] : [out.data.buffer as ArrayBuffer]);
