// A worker thread of scanPlainNumbersInParallel: says it is ready, then
// scans each piece of the body it is sent (whole lines) and posts the
// result, its numbers transferred, or null when the piece is not plain.
import { parentPort, workerData } from 'node:worker_threads';
import { scanPlainNumbers, type PlainNumbersOptions } from './plain-numbers.js';

const { opts } = workerData as { opts: PlainNumbersOptions };
const port = parentPort!;
port.on('message', (text: string) => {
  const out = scanPlainNumbers(text, 0, opts);
  port.postMessage(out ?? null, out === undefined ? [] : [out.data.buffer as ArrayBuffer]);
});
port.postMessage('ready');
