/**
 * @gmmkit/cli as a library: the data readers, output helpers and plot
 * builders the `gmm` binary uses, for examples and scripts to reuse, plus
 * the command specs the documentation is checked against.
 */
export { main, version } from './main.js';
export {
  commandSpecs,
  commandSpec,
  globalOptions,
  type CommandSpec,
  type OptionSpec,
  type PositionalSpec,
} from './spec.js';
export * from './portable.js';
export { readTable, readRawTable, readModelFile, type ReadTableOptions } from './io/read-file.js';
export { writeFileAtomic, checkWritable, type WriteOptions } from './io/write-atomic.js';
export { formatTable, formatNumber, toCsv } from './io/format.js';
export { renderSvg } from './plots/render.js';
export { EXIT, UsageError, exitCodeFor, messageFor } from './errors.js';
export type { FitJson } from './commands/fit.js';
export type { SweepJson } from './commands/sweep.js';
export type { ScoreJson } from './commands/score.js';
export type { InspectJson } from './commands/inspect.js';
