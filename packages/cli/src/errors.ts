import { GmmError, InvalidDataError } from '@gmmkit/core';

/**
 * CLI-side errors and the mapping of every error to one line and an exit
 * code: 2 for usage and data problems (the user can fix the command or the
 * file), 1 for anything else, 130 when interrupted.
 */
export const EXIT = { ok: 0, failure: 1, usage: 2, interrupted: 130 } as const;

/** A command-line problem: bad flag value, output file exists, input missing. Exit 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * Ctrl-C stopped the command (see commands/interrupt.ts). Its one line was
 * printed when the signal arrived, so main prints nothing more. Exit 130.
 */
export class InterruptedError extends Error {
  constructor(options?: { cause?: unknown }) {
    super('interrupted', options);
    this.name = 'InterruptedError';
  }
}

/** GmmError codes that mean "the user's input or flags are wrong" (exit 2). */
const USER_CODES = new Set(['INVALID_ARGUMENT', 'INVALID_DATA', 'UNKNOWN_PLUGIN', 'MODEL_FORMAT']);

export function exitCodeFor(err: unknown): number {
  if (err instanceof UsageError) return EXIT.usage;
  if (err instanceof InterruptedError) return EXIT.interrupted;
  if (err instanceof GmmError) {
    if (err.code === 'ABORTED') return EXIT.interrupted;
    return USER_CODES.has(err.code) ? EXIT.usage : EXIT.failure;
  }
  return EXIT.failure;
}

/** The one line printed after "gmm: error: ". Data errors carry their location. */
export function messageFor(err: unknown): string {
  if (err instanceof InvalidDataError) return libraryWords(withLocation(err.message, err.location));
  if (err instanceof GmmError) return libraryWords(oneLine(err.message || err.name));
  if (err instanceof Error) return oneLine(err.message || err.name);
  return oneLine(String(err));
}

/** A library message in this CLI's words: flags, not option names. */
export function cliWords(message: string): string {
  return message
    .replace(/standardize the data/g, 'use --standardize')
    .replace(/\bregCovar=/g, '--reg-covar ')
    .replace(/\bregCovar\b/g, '--reg-covar')
    .replace(/\bnComponents=/g, '-k ')
    .replace(/\bnComponents\b/g, '-k')
    .replace(/\bnInit\b/g, '--n-init')
    .replace(/\bmaxIter\b/g, '--max-iter')
    .replace(/\bcovarianceType\b/g, '--covariance')
    .replace(/\binitParams\b/g, '--init')
    .replace(/\bor tol\b/g, 'or --tol');
}

/**
 * A library message (error, warning, a sweep cell's failure or degeneracy)
 * in this CLI's words, with components numbered from 0 as in the tables and
 * `gmm predict`. The library counts components from 1 in its messages
 * ("component 3 has 2.00 effective points", "(component 2)"), except in the
 * possessive "component 0's covariance has condition number", which is
 * already 0-based and left alone.
 */
export function libraryWords(message: string): string {
  return cliWords(message).replace(/\bcomponent (\d+)\b(?!')/g, (_, n: string) => `component ${Number(n) - 1}`);
}

function withLocation(message: string, loc: InvalidDataError['location']): string {
  // Messages built by this package already name their location; only
  // prefix what the engine left out.
  const parts: string[] = [];
  if (loc.file !== undefined && !message.includes(loc.file)) parts.push(loc.file);
  if (loc.row !== undefined && !/\brow \d/.test(message)) parts.push(`row ${loc.row}`);
  if (loc.column !== undefined && !/\bcolumn\b/.test(message))
    parts.push(`column ${JSON.stringify(String(loc.column))}`);
  if (loc.value !== undefined && !message.includes(loc.value))
    parts.push(`value ${JSON.stringify(loc.value)}`);
  return oneLine(parts.length > 0 ? `${parts.join(', ')}: ${message}` : message);
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ').trim();
}
