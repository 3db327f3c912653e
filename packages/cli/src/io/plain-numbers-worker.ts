// A worker thread of scanPlainNumbersInParallel: says it is ready, then
// scans each piece of the body it is sent (whole lines) into its room of
// the shared matrix (or an array of its own, transferred) and posts the
// result, or null when the piece is not plain.
import { parentPort } from 'node:worker_threads';
import type { PieceReply, PieceRequest } from './plain-numbers-parallel.js';
import { scanPlainNumbers } from './plain-numbers.js';

const port = parentPort!;
port.on('message', ({ text, opts, into }: PieceRequest) => {
  // Into the piece's room of the shared matrix when given: nothing to send back but the row count.
  const room = into === undefined ? undefined : new Float64Array(into.buffer, into.offset * 8, into.length);
  const out = scanPlainNumbers(text, 0, opts, text.length, room);
  if (out === undefined) port.postMessage(null);
  else if (out.data.buffer === into?.buffer) port.postMessage({ ...out, data: undefined } satisfies PieceReply);
  else port.postMessage(out satisfies PieceReply, [out.data.buffer as ArrayBuffer]);
});
port.postMessage('ready');
