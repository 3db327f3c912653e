import type { Io } from '../commands/common.js';

/** Io on the process's streams; progress only when stderr is a terminal. */
export function processIo(): Io {
  const tty = process.stderr.isTTY === true;
  // A reader that stops early (`gmm predict ... | head`) is not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  let showing = false;
  return {
    out: (t) => void process.stdout.write(t.endsWith('\n') ? t : t + '\n'),
    err: (t) => {
      if (showing) process.stderr.write('\r\x1b[K');
      showing = false;
      process.stderr.write(t.endsWith('\n') ? t : t + '\n');
    },
    progress: (t) => {
      if (!tty) return;
      process.stderr.write(`\r\x1b[K${t}`);
      showing = true;
    },
    endProgress: () => {
      if (showing) process.stderr.write('\r\x1b[K');
      showing = false;
    },
  };
}
