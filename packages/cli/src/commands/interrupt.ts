import { EXIT, InterruptedError, exitCodeFor } from '../errors.js';
import type { Io } from './common.js';

/** The early Ctrl-C listener of holdSigint, and whether Ctrl-C came while it listened. */
let held: { listener: () => void; pending: boolean } | undefined;

/**
 * Holds Ctrl-C from the start of a command that will call abortOnSigint
 * (fit, sweep) until it does: loading tfjs and reading the data can take
 * seconds, and a Ctrl-C then would otherwise kill the process by the signal
 * instead of exiting 130 with its one line. abortOnSigint takes over (and
 * acts on a Ctrl-C that came meanwhile); `release` removes the listener if
 * the command ended before that.
 */
export function holdSigint(): { release(): void } {
  const state = { listener: () => (state.pending = true), pending: false };
  held = state;
  process.on('SIGINT', state.listener);
  return {
    release() {
      process.off('SIGINT', state.listener);
      if (held === state) held = undefined;
    },
  };
}

/**
 * Runs `work` with an AbortSignal that Ctrl-C (SIGINT) aborts: the first
 * Ctrl-C prints one line on stderr and aborts the signal (the fit or sweep
 * stops at its next check, workers included); a second one exits at once
 * with 130. Once Ctrl-C was pressed this rejects with InterruptedError (exit
 * 130, nothing more printed) whether `work` then stops with an abort error or
 * finishes anyway, so the caller writes no output file. The handler is
 * removed when `work` settles (after that, Ctrl-C kills the process as usual;
 * files are written atomically).
 */
/**
 * The second Ctrl-C: die of SIGINT at once, as without a handler (exit
 * status 130 in a shell). Not process.exit(), which waits for any thread
 * still blocked in a system call (a FIFO open) and so may never return.
 */
export function quitNow(): never {
  process.removeAllListeners('SIGINT');
  process.kill(process.pid, 'SIGINT');
  // Unreachable unless the signal is blocked.
  process.exit(EXIT.interrupted);
}

export async function abortOnSigint<T>(
  io: Io,
  what: string,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) quitNow();
    io.endProgress();
    io.err(`gmm: interrupted: stopping the ${what} (Ctrl-C again to quit at once)`);
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  const early = held;
  if (early !== undefined) {
    process.off('SIGINT', early.listener);
    held = undefined;
    if (early.pending) onSigint();
  }
  try {
    const result = await work(controller.signal);
    // Ctrl-C after the last check: the user was told the command stops, so it does.
    if (controller.signal.aborted) throw new InterruptedError();
    return result;
  } catch (err) {
    if (err instanceof InterruptedError) throw err;
    if (controller.signal.aborted && exitCodeFor(err) === EXIT.interrupted)
      throw new InterruptedError({ cause: err });
    throw err;
  } finally {
    process.off('SIGINT', onSigint);
    io.endProgress();
  }
}
