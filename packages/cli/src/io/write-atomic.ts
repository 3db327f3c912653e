import { randomBytes } from 'node:crypto';
import { existsSync, realpathSync, statSync } from 'node:fs';
import { link, open, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { describeFsError } from './read-file.js';

/**
 * Output files are written whole or not at all: the content goes to a
 * temporary file in the target's directory (same file system, so the final
 * step is atomic), is flushed, then moved into place. Without `force` an
 * existing file is never replaced: nothing the user had is lost unasked.
 */
export interface WriteOptions {
  /** Replace an existing file (--force). */
  force?: boolean;
  /** Files this command reads; writing over one is refused even with --force. */
  inputs?: readonly string[];
}

/**
 * Checks, before any work is done, that `target` may be written: its
 * directory exists, it is not one of the inputs, and it does not exist
 * unless `force`. Commands call this up front so a long fit is not wasted.
 */
export function checkWritable(target: string, options: WriteOptions = {}, flag = '-o'): void {
  const dir = path.dirname(path.resolve(target));
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new UsageError(`${flag} ${target}: directory ${path.dirname(target)} does not exist`);
  }
  for (const input of options.inputs ?? []) {
    if (input !== '-' && sameFile(input, target)) {
      throw new UsageError(`${flag} ${target}: refusing to overwrite the input file ${input}`);
    }
  }
  if (existsSync(target)) {
    if (statSync(target).isDirectory()) throw new UsageError(`${flag} ${target}: is a directory`);
    if (options.force !== true)
      throw new UsageError(`${flag} ${target}: file exists (use --force to overwrite it)`);
  }
}

/** Several outputs of one command must not name the same file. */
export function checkDistinct(targets: readonly (readonly [flag: string, file: string | undefined])[]): void {
  const seen = new Map<string, string>();
  for (const [flag, file] of targets) {
    if (file === undefined || file === '-') continue;
    const key = path.resolve(file);
    const other = seen.get(key);
    if (other !== undefined) throw new UsageError(`${other} and ${flag} both name ${file}`);
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

export async function writeFileAtomic(
  target: string,
  content: string | Uint8Array,
  options: WriteOptions = {},
): Promise<void> {
  checkWritable(target, options);
  const dir = path.dirname(path.resolve(target));
  const tmp = path.join(
    dir,
    `.${path.basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
  );
  try {
    const handle = await open(tmp, 'wx', 0o644);
    try {
      await handle.writeFile(content);
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (options.force === true) {
      await rename(tmp, target);
    } else {
      // link() fails if the target appeared meanwhile: no clobbering even
      // under a race. Fall back to rename where hard links are unsupported.
      try {
        await link(tmp, target);
        await unlink(tmp);
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code === 'EEXIST') throw new UsageError(`${target}: file exists (use --force to overwrite it)`);
        if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EXDEV' && code !== 'ENOSYS') throw err;
        await rename(tmp, target);
      }
    }
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    if (err instanceof UsageError) throw err;
    throw new UsageError(`cannot write ${target}: ${describeFsError(err)}`);
  }
}
