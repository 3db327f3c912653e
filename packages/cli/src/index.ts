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
export {
  readTable,
  readRawTable,
  parseTable,
  selectColumns,
  toNumeric,
  parseNumber,
  sniffFormat,
  formatFromName,
  type RawTable,
  type NumericTable,
  type TableFormat,
  type ReadTableOptions,
  type Cell,
} from './io/read-table.js';
export { writeFileAtomic, checkWritable, type WriteOptions } from './io/write-atomic.js';
export { formatTable, formatNumber, toCsv } from './io/format.js';
export { sweepPlotSpec, type SweepPlotInput } from './plots/sweep-plot.js';
export { fitPlotSpec, ellipsePoints, type FitPlotInput } from './plots/fit-plot.js';
export { renderSvg } from './plots/render.js';
export {
  MODEL_FILE_FORMAT,
  MODEL_FILE_VERSION,
  readModelFile,
  parseModelFile,
  computeStandardization,
  type ModelFile,
  type Standardization,
} from './model-file.js';
export { EXIT, UsageError, exitCodeFor, messageFor } from './errors.js';
export type { FitJson } from './commands/fit.js';
export type { SweepJson } from './commands/sweep.js';
export type { ScoreJson } from './commands/score.js';
export type { InspectJson } from './commands/inspect.js';
