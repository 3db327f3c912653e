/**
 * `@gmmkit/cli/portable`: the parts of the CLI that need no Node APIs, for
 * browsers and bundlers (the playground uses them) as much as for Node:
 * the table parser with its error messages, the model file `gmm fit -o` and
 * `gmm sweep -o` write and `gmm predict` reads, and the Vega-Lite spec
 * builders behind `--plot`. The package's main entry re-exports all of it.
 */
export {
  parseTable,
  selectColumns,
  toNumeric,
  parseNumber,
  sniffFormat,
  formatFromName,
  type RawTable,
  type NumericTable,
  type TableFormat,
  type Cell,
} from './io/read-table.js';
export { sweepPlotSpec, type SweepPlotInput } from './plots/sweep-plot.js';
export { fitPlotSpec, fitPlotInput, ellipsePoints, type FitPlotInput, type MixtureView } from './plots/fit-plot.js';
export {
  mixturePlotSpec,
  componentColors,
  PLOT_KINDS,
  type MixturePlotInput,
  type PlotKind,
} from './plots/mixture-plot.js';
export {
  MODEL_FILE_FORMAT,
  MODEL_FILE_VERSION,
  modelFile,
  parseModelFile,
  computeStandardization,
  type ModelFile,
  type LoadedModelFile,
  type Standardization,
} from './model-file.js';
