import type { Io } from '../commands/common.js';

/**
 * How progress is shown, from `$GMM_PROGRESS`: `lines` writes every update as
 * its own line on stderr even when stderr is not a terminal (logs, and scripts
 * or tests that wait for a fit to be running before they signal it); `off`
 * shows none; anything else (the default) overwrites one line, only on a terminal.
 */
export type ProgressMode = 'tty' | 'lines' | 'off';

export function progressMode(env: string | undefined, isTTY: boolean): ProgressMode {
  const v = (env ?? '').trim().toLowerCase();
  if (v === 'lines') return 'lines';
  if (v === 'off') return 'off';
  return isTTY ? 'tty' : 'off';
}

/** Io on the process's streams; progress as `$GMM_PROGRESS` says (see progressMode). */
export function processIo(): Io {
  const mode = progressMode(process.env['GMM_PROGRESS'], process.stderr.isTTY === true);
  // A reader that stops early (`gmm predict ... | head`) is not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  let showing = false;
  return {
    out: (t) => void process.stdout.write(t.endsWith('\n') ? t : t + '\n'),
    // Resolves once the chunk is handed to the OS, so a producer (gmm sample) waits for a slow reader.
    write: (chunk) =>
      new Promise((resolve, reject) => {
        process.stdout.write(chunk, (err) => {
          if (err === null || err === undefined) resolve();
          else if ((err as NodeJS.ErrnoException).code === 'EPIPE') process.exit(0);
          else reject(err);
        });
      }),
    err: (t) => {
      if (showing) process.stderr.write('\r\x1b[K');
      showing = false;
      process.stderr.write(t.endsWith('\n') ? t : t + '\n');
    },
    progress: (t) => {
      if (mode === 'lines') process.stderr.write(`${t}\n`);
      if (mode !== 'tty') return;
      process.stderr.write(`\r\x1b[K${t}`);
      showing = true;
    },
    endProgress: () => {
      if (showing) process.stderr.write('\r\x1b[K');
      showing = false;
    },
  };
}
