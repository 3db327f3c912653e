import { constants, createReadStream, openSync, statSync, type Stats } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { Socket } from 'node:net';
import { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip } from 'node:zlib';
import { AbortedError, InvalidDataError } from '@gmmkit/core';
import { UsageError } from '../errors.js';

/**
 * Opening an input: a file, a FIFO or device, or stdin ('-'), as bytes;
 * gzip is recognized by its magic number (not the name) and decompressed
 * as it streams; the text encoding (UTF-8, or UTF-16 by BOM or by its NUL
 * pattern) is decoded chunk by chunk. Binary table formats (Parquet, Arrow)
 * are recognized by their magic numbers so the caller can hand them to
 * their readers. Nothing here blocks a thread: a FIFO is opened
 * non-blocking and read through the event loop, so Ctrl-C (the signal)
 * stops a read that waits for a writer.
 */

export interface InputOptions {
  /** Aborts a read in progress (Ctrl-C): the iteration rejects with AbortedError. */
  signal?: AbortSignal | undefined;
  /** Bytes to use for '-' instead of process.stdin (tests). */
  stdin?: Uint8Array | undefined;
  /** Told once when a FIFO or device is opened and its data may be a while coming. */
  onWait?: ((message: string) => void) | undefined;
}

export type BinaryFormat = 'parquet' | 'arrow';

export type OpenedInput =
  | { kind: 'text'; gzip: boolean; encoding: string; chunks: AsyncIterable<string> }
  | { kind: BinaryFormat; gzip: boolean; bytes: () => Promise<Uint8Array> };

/** Bytes read per file chunk: 1 MiB (64 KiB chunks left a 60 MB read ~0.25 s of waits and per-chunk work; 1 MiB, ~0.04 s). */
const READ_CHUNK = 1 << 20;
/**
 * Regular files up to this size are read whole, in one chunk: one read and
 * one decode, and the CSV reader's text is that chunk with no join (a 60 MB
 * file: ~70 against ~110 ms of this thread's time in chunks). Larger files
 * stream, so gzip and text past the size of a JavaScript string still read.
 */
const WHOLE_FILE_BYTES = 256 * 2 ** 20;

/** The raw bytes of a file, FIFO, device or stdin. */
export async function* readBytes(file: string, options: InputOptions = {}): AsyncGenerator<Uint8Array> {
  const signal = options.signal;
  if (file === '-' && options.stdin !== undefined) {
    yield options.stdin;
    return;
  }
  const stream = file === '-' ? process.stdin : openStream(file, options);
  const onAbort = () => stream.destroy(new AbortedError('interrupted while reading input'));
  if (signal?.aborted === true) onAbort();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for await (const chunk of stream as AsyncIterable<Buffer | string>)
      yield typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
  } catch (err) {
    if (err instanceof AbortedError || signal?.aborted === true) throw new AbortedError('interrupted');
    if ((err as { code?: unknown }).code !== undefined)
      throw new UsageError(`cannot read ${file}: ${describeFsError(err)}`);
    throw err;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    if (stream !== process.stdin) stream.destroy();
  }
}

/** A regular file's size in bytes; undefined for '-', FIFOs, devices and what cannot be statted (readBytes reports that). */
export function regularFileSize(file: string): number | undefined {
  if (file === '-') return undefined;
  try {
    const st = statSync(file);
    return st.isFile() ? st.size : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A regular file's bytes as one chunk, in one read of the size it had when
 * statted (fs.promises.readFile reads 512 KiB at a time, ~3x slower at 60 MB);
 * a file that grew meanwhile yields the rest after.
 */
async function* readWhole(file: string, options: InputOptions, size: number): AsyncGenerator<Uint8Array> {
  let handle: FileHandle | undefined;
  const read = async (into: Buffer): Promise<number> => {
    let filled = 0;
    while (filled < into.length) {
      if (options.signal?.aborted === true) throw new AbortedError('interrupted');
      const { bytesRead } = await handle!.read(into, filled, into.length - filled, null);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return filled;
  };
  try {
    handle = await open(file, 'r');
    const whole = Buffer.allocUnsafe(size);
    const filled = await read(whole);
    yield whole.subarray(0, filled);
    if (filled < size) return;
    for (;;) {
      const more = Buffer.allocUnsafe(READ_CHUNK);
      const n = await read(more);
      if (n === 0) return;
      yield more.subarray(0, n);
    }
  } catch (err) {
    if (err instanceof AbortedError || options.signal?.aborted === true) throw new AbortedError('interrupted');
    throw new UsageError(`cannot read ${file}: ${describeFsError(err)}`);
  } finally {
    await handle?.close();
  }
}

function openStream(file: string, options: InputOptions): Readable {
  let st: Stats;
  try {
    st = statSync(file);
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${describeFsError(err)}`);
  }
  if (st.isDirectory()) throw new UsageError(`cannot read ${file}: it is a directory`);
  if (st.isFile()) return createReadStream(file, { highWaterMark: READ_CHUNK });
  // A FIFO, socket or device: open without blocking and read through the
  // event loop (a blocking open of a FIFO without a writer would hold a
  // thread that even process.exit waits for).
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${describeFsError(err)}`);
  }
  if (st.isFIFO() || st.isSocket()) {
    options.onWait?.(`reading ${file}: waiting for data (Ctrl-C to stop)`);
    return new Socket({ fd, readable: true, writable: false });
  }
  return createReadStream(file, { fd, highWaterMark: READ_CHUNK });
}

export function describeFsError(err: unknown): string {
  const code = (err as { code?: string }).code;
  switch (code) {
    case 'ENOENT':
      return 'no such file';
    case 'EISDIR':
      return 'it is a directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EROFS':
      return 'read-only file system';
    case 'ENOSPC':
      return 'no space left on the device';
    default:
      return err instanceof Error ? err.message : String(err);
  }
}

/** Takes bytes from the front of a byte stream until `n` are there (or it ends), keeping the rest. */
async function peek(
  it: AsyncIterator<Uint8Array>,
  n: number,
): Promise<{ head: Uint8Array; done: boolean }> {
  const parts: Uint8Array[] = [];
  let have = 0;
  while (have < n) {
    const step = await it.next();
    if (step.done === true) return { head: Buffer.concat(parts), done: true };
    parts.push(step.value);
    have += step.value.length;
  }
  // One chunk (a file read whole) as it is: no copy.
  return { head: parts.length === 1 ? parts[0]! : Buffer.concat(parts), done: false };
}

/** The peeked head, then the rest of the iterator. */
async function* rejoin(head: Uint8Array, done: boolean, it: AsyncIterator<Uint8Array>): AsyncGenerator<Uint8Array> {
  try {
    if (head.length > 0) yield head;
    if (done) return;
    for (;;) {
      const step = await it.next();
      if (step.done === true) return;
      yield step.value;
    }
  } finally {
    await it.return?.();
  }
}

const startsWith = (b: Uint8Array, bytes: readonly number[]) => bytes.every((x, i) => b[i] === x);
const GZIP = [0x1f, 0x8b];
const PARQUET = [0x50, 0x41, 0x52, 0x31]; // PAR1
const ARROW_FILE = [0x41, 0x52, 0x52, 0x4f, 0x57, 0x31]; // ARROW1
const ARROW_STREAM = [0xff, 0xff, 0xff, 0xff]; // continuation marker of an IPC stream message

/**
 * Opens an input and tells what it holds: text (decoded, gzip undone) or a
 * binary table format. `source` names it in errors.
 */
export async function openInput(file: string, source: string, options: InputOptions = {}): Promise<OpenedInput> {
  const size = regularFileSize(file);
  let bytes: AsyncIterable<Uint8Array> = size !== undefined && size <= WHOLE_FILE_BYTES ? readWhole(file, options, size) : readBytes(file, options);
  let it = bytes[Symbol.asyncIterator]();
  let { head, done } = await peek(it, 8);
  let gzip = false;
  if (startsWith(head, GZIP)) {
    gzip = true;
    const gunzip = createGunzip();
    const compressed = Readable.from(rejoin(head, done, it));
    compressed.on('error', (err) => gunzip.destroy(err));
    bytes = gunzipped(compressed.pipe(gunzip), source);
    it = bytes[Symbol.asyncIterator]();
    ({ head, done } = await peek(it, 8));
  }
  const all = rejoin(head, done, it);
  if (startsWith(head, PARQUET) || startsWith(head, ARROW_FILE) || startsWith(head, ARROW_STREAM)) {
    const kind: BinaryFormat = startsWith(head, PARQUET) ? 'parquet' : 'arrow';
    return { kind, gzip, bytes: async () => collect(all) };
  }
  const encoding = detectEncoding(head);
  return { kind: 'text', gzip, encoding, chunks: decode(all, encoding, source) };
}

async function* gunzipped(stream: Readable, source: string): AsyncGenerator<Uint8Array> {
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) yield chunk;
  } catch (err) {
    if ((err as { code?: string }).code?.startsWith('Z_') === true)
      throw new InvalidDataError(`${source}: corrupt gzip data (${(err as Error).message})`, { file: source });
    throw err;
  } finally {
    stream.destroy();
  }
}

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const c of chunks) parts.push(c);
  return Buffer.concat(parts);
}

/** UTF-16 by its byte-order mark, or by NULs in every other byte of ASCII text; else UTF-8. */
export function detectEncoding(head: Uint8Array): string {
  if (startsWith(head, [0xff, 0xfe])) return 'utf-16le';
  if (startsWith(head, [0xfe, 0xff])) return 'utf-16be';
  if (head.length >= 4) {
    const evenNul = head[0] === 0 && head[2] === 0 && head[1] !== 0 && head[3] !== 0;
    const oddNul = head[1] === 0 && head[3] === 0 && head[0] !== 0 && head[2] !== 0;
    if (oddNul) return 'utf-16le';
    if (evenNul) return 'utf-16be';
  }
  return 'utf-8';
}

/**
 * A streaming decoder that drops a leading byte-order mark: node's
 * StringDecoder for UTF-8 (~5x faster than TextDecoder on 64 KiB chunks,
 * the same text: invalid bytes become U+FFFD in both), TextDecoder for UTF-16.
 */
function streamDecoder(encoding: string): { decode(chunk: Uint8Array): string; end(): string } {
  if (encoding !== 'utf-8') {
    const decoder = new TextDecoder(encoding);
    return { decode: (chunk) => decoder.decode(chunk, { stream: true }), end: () => decoder.decode() };
  }
  const decoder = new StringDecoder('utf8');
  let started = false;
  const dropBom = (text: string): string => {
    if (started || text === '') return text;
    started = true;
    return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  };
  return { decode: (chunk) => dropBom(decoder.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength))), end: () => dropBom(decoder.end()) };
}

async function* decode(chunks: AsyncIterable<Uint8Array>, encoding: string, source: string): AsyncGenerator<string> {
  const decoder = streamDecoder(encoding);
  let first = true;
  for await (const chunk of chunks) {
    // (The first READ_CHUNK bytes, however the file was read.)
    if (first && encoding === 'utf-8' && chunk.subarray(0, READ_CHUNK).includes(0)) {
      throw new InvalidDataError(
        `${source}: holds NUL bytes: not a text table (nor gzip, Parquet or Arrow); if it is text in another encoding, convert it to UTF-8`,
        { file: source },
      );
    }
    first = false;
    const text = decoder.decode(chunk);
    if (text !== '') yield text;
  }
  const rest = decoder.end();
  if (rest !== '') yield rest;
}
