/**
 * The built `gmm` binary as a subprocess, for tests: exit code, signal,
 * stdout and stderr, with hooks that act on events (a line on stderr or
 * stdout), never on delays.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

export const BIN = fileURLToPath(new URL('../../bin/gmm.js', import.meta.url));

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd: string;
  input?: string;
  env?: Record<string, string>;
  /** Node flags before the script (e.g. a heap limit). */
  nodeArgs?: string[];
  /** Called once, when stderr first matches the pattern. */
  onStderr?: { pattern: RegExp; then: (child: ChildProcess) => void };
  /** Called on every stdout chunk with all stdout so far; return true to stop collecting. */
  onStdout?: (stdout: string, child: ChildProcess) => void;
  /** Leave stdin open (the default closes it after `input`). */
  keepStdin?: boolean;
  /** Runs gmm under `ulimit -f <blocks>` (512-byte blocks): writes past that fail with EFBIG. */
  fileSizeLimit?: number;
}

export function gmm(args: string[], opts: RunOptions): Promise<Run> {
  return new Promise((resolve, reject) => {
    const node = [process.execPath, ...(opts.nodeArgs ?? []), BIN, ...args];
    const command =
      opts.fileSizeLimit === undefined ? node : ['/bin/sh', '-c', `ulimit -f ${opts.fileSizeLimit} && exec "$0" "$@"`, ...node];
    const child = spawn(command[0]!, command.slice(1), {
      cwd: opts.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, ...opts.env },
    });
    let stdout = '';
    let stderr = '';
    let fired = false;
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
      opts.onStdout?.(stdout, child);
    });
    child.stdout!.on('error', () => undefined);
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (!fired && opts.onStderr !== undefined && opts.onStderr.pattern.test(stderr)) {
        fired = true;
        opts.onStderr.then(child);
      }
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    child.stdin!.on('error', () => undefined);
    if (opts.keepStdin !== true) child.stdin!.end(opts.input ?? '');
  });
}

/** Runs tasks at most `limit` at a time (2 cores, ~100 MB each). */
export async function all<T>(tasks: (() => Promise<T>)[], limit = 2): Promise<T[]> {
  const out: T[] = new Array<T>(tasks.length);
  let next = 0;
  const lane = async () => {
    while (next < tasks.length) {
      const i = next++;
      out[i] = await tasks[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, lane));
  return out;
}

/** Exit `code` (of a process or of main() in-process), nothing on stdout, exactly one "gmm: error: ..." line matching `pattern` on stderr. */
export function expectOneLineError(r: Pick<Run, 'code' | 'stdout' | 'stderr'>, code: number, pattern: RegExp): void {
  expect(r.code, r.stderr).toBe(code);
  expect(r.stdout).toBe('');
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^gmm: error: /);
  expect(lines[0]).toMatch(pattern);
}

/** Progress lines as GMM_PROGRESS=lines writes them. */
const PROGRESS = /^(fitting: |sweep: |streaming: |sample: |reading .*: waiting for data)/;

/** stderr without progress lines (GMM_PROGRESS=lines). */
export function stderrLines(r: Run): string[] {
  return r.stderr.split('\n').filter((l) => l !== '' && !PROGRESS.test(l));
}
