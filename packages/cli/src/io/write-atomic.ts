import { randomBytes } from 'node:crypto';
import { closeSync, constants, lstatSync, openSync, realpathSync, statSync, unlinkSync, type Stats } from 'node:fs';
import { link, open, rename, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { describeFsError } from './input.js';

/**
 * Where output goes, and writing it without destroying anything:
 *
 * - '-' and /dev/stdout are stdout;
 * - an existing FIFO or character device (/dev/null, a terminal) is
 *   written into, never replaced (no --force needed: nothing is lost);
 * - a regular file is written whole or not at all: the content goes to a
 *   temporary file in the target's directory (same file system, so the
 *   final step is atomic), is flushed, then moved into place. Without
 *   `force` an existing file is never replaced; with it, only a regular
 *   file ever is;
 * - a symlink is written through: its target is what is checked and
 *   replaced (a dangling one is refused), the link itself stays;
 * - anything else (a directory, a block device, a socket) is refused.
 */
export interface WriteOptions {
  /** Replace an existing regular file (--force). */
  force?: boolean;
  /** Files this command reads; writing over one is refused even with --force. */
  inputs?: readonly string[];
  /** Writes to stdout (default: process.stdout, waiting for it to drain). */
  stdout?: (chunk: string | Uint8Array) => Promise<void>;
}

export type OutputKind = 'stdout' | 'stream' | 'file';

/** A checked output target. */
export interface OutputTarget {
  /** As the user gave it. */
  target: string;
  flag: string;
  kind: OutputKind;
  /** What is opened: the real path of a file (through symlinks) or of a device/FIFO. */
  path: string;
}

/** '-' and the names of stdout itself. */
export function isStdout(target: string): boolean {
  return target === '-' || target === '/dev/stdout' || target === '/dev/fd/1' || target === '/proc/self/fd/1';
}

/**
 * Checks, before any work is done, that `target` may be written, and says
 * how it will be: the name is not empty, its directory exists and takes a
 * new file, it is not one of the inputs, and an existing regular file is
 * only replaced with `force`. Commands call this up front so a long fit is
 * not wasted.
 */
export function checkWritable(target: string, options: WriteOptions = {}, flag = '-o'): OutputTarget {
  if (target.trim() === '') throw new UsageError(`${flag} needs a file name, got an empty one`);
  if (isStdout(target)) return { target, flag, kind: 'stdout', path: target };
  let real = path.resolve(target);
  let st: Stats | undefined = lstatOrUndefined(real);
  if (st?.isSymbolicLink() === true) {
    try {
      real = realpathSync(real);
    } catch {
      throw new UsageError(`${flag} ${target}: a symlink to a missing file; refusing to write through it`);
    }
    st = statSync(real);
  }
  for (const input of options.inputs ?? []) {
    if (input !== '-' && sameFile(input, real)) {
      throw new UsageError(`${flag} ${target}: refusing to overwrite the input file ${input}`);
    }
  }
  if (st !== undefined) {
    if (st.isDirectory()) throw new UsageError(`${flag} ${target}: is a directory`);
    if (st.isFIFO() || st.isCharacterDevice()) return { target, flag, kind: 'stream', path: real };
    if (!st.isFile())
      throw new UsageError(
        `${flag} ${target}: is a ${st.isBlockDevice() ? 'block device' : 'socket or special file'}; refusing to write to it`,
      );
    if (options.force !== true)
      throw new UsageError(`${flag} ${target}: file exists (use --force to overwrite it)`);
  }
  const dir = path.dirname(real);
  const dirStat = lstatOrUndefined(dir) === undefined ? undefined : statSync(dir);
  if (dirStat === undefined || !dirStat.isDirectory()) {
    throw new UsageError(`${flag} ${target}: directory ${path.dirname(target)} does not exist`);
  }
  probeDirectory(dir, target, flag);
  return { target, flag, kind: 'file', path: real };
}

function lstatOrUndefined(p: string): Stats | undefined {
  try {
    return lstatSync(p);
  } catch {
    return undefined;
  }
}

/** Creates and removes a file in `dir`: the temporary file of the atomic write must be possible. */
function probeDirectory(dir: string, target: string, flag: string): void {
  const probe = path.join(dir, `.gmm-probe.${process.pid}.${randomBytes(4).toString('hex')}`);
  let fd: number;
  try {
    fd = openSync(probe, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  } catch (err) {
    throw new UsageError(`${flag} ${target}: cannot create a file in ${dir} (${describeFsError(err)})`);
  }
  closeSync(fd);
  unlinkSync(probe);
}

/** Several outputs of one command must not name the same file (nor both stdout). */
export function checkDistinct(targets: readonly (readonly [flag: string, file: string | undefined])[]): void {
  const seen = new Map<string, string>();
  for (const [flag, file] of targets) {
    if (file === undefined) continue;
    const key = isStdout(file) ? '<stdout>' : path.resolve(file);
    const other = seen.get(key);
    if (other !== undefined)
      throw new UsageError(`${other} and ${flag} both name ${key === '<stdout>' ? 'stdout' : file}`);
    seen.set(key, flag);
  }
}

function sameFile(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return path.resolve(a) === path.resolve(b);
  }
}

/** An output being written: chunks in order, then commit (or abort, which leaves nothing behind). */
export interface Output {
  write(chunk: string | Uint8Array): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

function processStdout(chunk: string | Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    process.stdout.write(chunk, (err) => (err ? reject(err) : resolve()));
  });
}

/** Opens a checked target for writing (a regular file goes to a temporary file until commit). */
export async function openOutput(t: OutputTarget, options: WriteOptions = {}): Promise<Output> {
  const fail = (err: unknown): never => {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`cannot write ${t.target}: ${describeFsError(err)}`);
  };
  if (t.kind === 'stdout') {
    const out = options.stdout ?? processStdout;
    return { write: (c) => out(c).catch(fail), commit: async () => undefined, abort: async () => undefined };
  }
  if (t.kind === 'stream') {
    // O_WRONLY only: never create or truncate; a FIFO waits here for its reader.
    const handle = await open(t.path, constants.O_WRONLY).catch(fail);
    return {
      write: (c) => handle.writeFile(c).catch(fail),
      commit: () => handle.close().catch(fail),
      abort: () => handle.close().catch(() => undefined),
    };
  }
  const dir = path.dirname(t.path);
  const tmp = path.join(dir, `.${path.basename(t.path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const handle: FileHandle = await open(tmp, 'wx', 0o644).catch(fail);
  let closed = false;
  const abort = async () => {
    if (!closed) await handle.close().catch(() => undefined);
    closed = true;
    await unlink(tmp).catch(() => undefined);
  };
  return {
    write: async (c) => {
      try {
        await handle.writeFile(c);
      } catch (err) {
        await abort();
        fail(err);
      }
    },
    commit: async () => {
      try {
        await handle.sync();
        await handle.close();
        closed = true;
        await moveIntoPlace(tmp, t, options.force === true);
      } catch (err) {
        await abort();
        fail(err);
      }
    },
    abort,
  };
}

async function moveIntoPlace(tmp: string, t: OutputTarget, force: boolean): Promise<void> {
  // Re-checked at the last moment: only a regular file is ever replaced.
  const now = lstatOrUndefined(t.path);
  if (now !== undefined && !now.isFile())
    throw new UsageError(`${t.flag} ${t.target}: is no longer a regular file; not replacing it`);
  if (force) {
    await rename(tmp, t.path);
    return;
  }
  // link() fails if the target appeared meanwhile: no clobbering even
  // under a race. Fall back to rename where hard links are unsupported.
  try {
    await link(tmp, t.path);
    await unlink(tmp);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'EEXIST') throw new UsageError(`${t.target}: file exists (use --force to overwrite it)`);
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EXDEV' && code !== 'ENOSYS') throw err;
    await rename(tmp, t.path);
  }
}

/** Writes `content` whole to `target` (checked again), as openOutput describes. */
export async function writeFileAtomic(
  target: string,
  content: string | Uint8Array,
  options: WriteOptions = {},
  flag = '-o',
): Promise<void> {
  const out = await openOutput(checkWritable(target, options, flag), options);
  await out.write(content);
  await out.commit();
}
