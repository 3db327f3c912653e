/**
 * main() in-process, for tests: the same code path as the binary (see
 * gmm-process.ts for the subprocess), its output captured, run in a
 * temporary working directory of the test file's own.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import type { Io } from '../../src/commands/common.js';
import { main } from '../../src/main.js';

export interface Captured {
  code: number;
  stdout: string;
  stderr: string;
}

/** main(argv) with stdout and stderr captured (each write a line); progress dropped. */
export async function run(...argv: string[]): Promise<Captured> {
  let stdout = '';
  let stderr = '';
  const io: Io = {
    out: (t) => (stdout += t.endsWith('\n') ? t : t + '\n'),
    err: (t) => (stderr += t.endsWith('\n') ? t : t + '\n'),
    progress: () => undefined,
    endProgress: () => undefined,
  };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

/**
 * A new temporary directory (named from `prefix`) that is the working
 * directory from this beforeAll on, so files are named relative to it; the
 * old working directory comes back and the directory is removed in afterAll.
 * Call it at the top of the test file, before the beforeAll that writes files.
 */
export function tempWorkingDir(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  const cwd = process.cwd();
  beforeAll(() => process.chdir(dir));
  afterAll(() => {
    process.chdir(cwd);
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}
