import { readFileSync } from 'node:fs';
import yargs from 'yargs';
import type { Args, Io } from './commands/common.js';
import { EXIT, InterruptedError, UsageError, exitCodeFor, messageFor } from './errors.js';
import { holdSigint } from './commands/interrupt.js';
import { commandSpecs, globalOptions, type CommandSpec, type OptionSpec } from './spec.js';

type Handler = (args: Args, io: Io) => Promise<number>;

// Commands load lazily: --help and usage errors then skip loading tfjs.
const handlers: Record<CommandSpec['name'], () => Promise<Handler>> = {
  fit: async () => (await import('./commands/fit.js')).fitCommand,
  predict: async () => (await import('./commands/predict.js')).predictCommand,
  score: async () => (await import('./commands/score.js')).scoreCommand,
  sample: async () => (await import('./commands/sample.js')).sampleCommand,
  sweep: async () => (await import('./commands/sweep.js')).sweepCommand,
  inspect: async () => (await import('./commands/inspect.js')).inspectCommand,
  impute: async () => (await import('./commands/impute.js')).imputeCommand,
  worker: async () => (await import('./commands/worker.js')).workerCommand,
};

// yargs reads a lone '-' positional as an empty string; shield it.
const STDIN_TOKEN = '\u0000gmm-stdin\u0000';

function restoreStdin(args: Args): Args {
  for (const [key, value] of Object.entries(args)) {
    if (value === STDIN_TOKEN) args[key] = '-';
    else if (Array.isArray(value)) args[key] = value.map((v) => (v === STDIN_TOKEN ? '-' : v));
  }
  return args;
}

const EPILOGUE = [
  'Exit codes: 0 success, 2 usage or data error, 1 any other failure, 130 interrupted.',
  'Output files are written atomically and never replace an existing file without --force.',
  'Progress goes to stderr (only on a terminal); results go to stdout.',
].join('\n');

export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

function yargsOption(o: OptionSpec): Record<string, unknown> {
  return {
    type: o.type,
    describe: o.description,
    ...(o.alias === undefined ? {} : { alias: o.alias }),
    ...(o.array === true ? { array: true } : { requiresArg: o.type !== 'boolean' }),
    ...(o.default === undefined ? {} : { default: o.default }),
    ...(o.choices === undefined ? {} : { choices: o.choices }),
    ...(o.required === true ? { demandOption: true } : {}),
  };
}

/**
 * yargs renders a command's whole help text after its handler runs, for a
 * later showHelp() (its usage instance's cacheHelpMessage). gmm's handlers
 * only record the command and never show help from it, and that rendering was
 * about a third of a command's start-up CPU (string widths of every option's
 * text). An internal of yargs 17: where it is missing this does nothing;
 * `--help` renders on its own path either way (tested in main.test.ts).
 */
function skipHelpCache(parser: unknown): void {
  const internals = (parser as { getInternalMethods?: () => { getUsageInstance?: () => { cacheHelpMessage?: () => void } } })
    .getInternalMethods?.()
    .getUsageInstance?.();
  if (typeof internals?.cacheHelpMessage === 'function') internals.cacheHelpMessage = () => undefined;
}

/**
 * Runs `gmm` with these arguments and returns the exit code. Never throws
 * and never calls process.exit (but for a second Ctrl-C during a fit or sweep).
 */
export async function main(argv: string[], ioArg?: Io): Promise<number> {
  const io = ioArg ?? (await import('./io/process-io.js')).processIo();
  const debug = argv.includes('--debug');
  let selected: { name: CommandSpec['name']; args: Args } | undefined;
  try {
    let parser = yargs()
      .scriptName('gmm')
      .usage('$0 <command> [options]\n\nGaussian mixture models from the command line (gmmkit).')
      .exitProcess(false)
      .strict()
      .version(version())
      .help()
      .alias('help', 'h')
      .wrap(Math.min(110, process.stdout.columns ?? 100))
      .parserConfiguration({ 'camel-case-expansion': false })
      .demandCommand(1, 'name a command: fit, predict, score, sample, sweep, impute, inspect or worker')
      .epilogue(EPILOGUE)
      .fail((msg, err) => {
        throw err ?? new UsageError(msg ?? 'invalid arguments');
      });
    skipHelpCache(parser);
    for (const o of globalOptions) parser = parser.option(o.name, yargsOption(o));
    for (const spec of commandSpecs) {
      parser = parser.command(
        spec.usage,
        spec.summary,
        (y) => {
          let c = y;
          for (const p of spec.positionals)
            c = c.positional(p.name, { type: 'string', describe: p.description });
          for (const o of spec.options) c = c.option(o.name, yargsOption(o));
          for (const [cmd, desc] of spec.examples) c = c.example(cmd, desc);
          return c;
        },
        (args) => {
          selected = { name: spec.name, args: restoreStdin(args as Args) };
        },
      );
    }
    for (const spec of commandSpecs) parser = parser.example(spec.examples[0]![0], spec.examples[0]![1]);
    // With a callback yargs hands --help and --version text over instead of printing it.
    let shown = '';
    await parser.parseAsync(
      argv.map((a) => (a === '-' ? STDIN_TOKEN : a)),
      {},
      (_err, _argv, output) => {
        shown = output;
      },
    );
    if (selected === undefined) {
      if (shown !== '') io.out(shown);
      return EXIT.ok; // --help or --version
    }
    // fit and sweep stop cleanly on Ctrl-C (abortOnSigint); hold it while they load and read.
    const hold = selected.name === 'fit' || selected.name === 'sweep' ? holdSigint() : undefined;
    try {
      const run = await handlers[selected.name]();
      return await run(selected.args, io);
    } finally {
      hold?.release();
    }
  } catch (err) {
    io.endProgress();
    const code = exitCodeFor(err);
    // Ctrl-C: its line was printed when the signal arrived.
    if (err instanceof InterruptedError) return code;
    const hint =
      err instanceof UsageError && selected === undefined
        ? ` (see gmm ${argv[0] && handlers[argv[0] as CommandSpec['name']] ? argv[0] + ' ' : ''}--help)`
        : '';
    io.err(code === EXIT.interrupted ? 'gmm: interrupted' : `gmm: error: ${messageFor(err)}${hint}`);
    if (debug && err instanceof Error && err.stack !== undefined) io.err(err.stack);
    return code;
  }
}
