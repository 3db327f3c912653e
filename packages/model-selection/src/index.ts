export {
  aic,
  bic,
  icl,
  builtinCriteria,
  criteriaModule,
  createSelectionContainer,
  responsibilityEntropy,
} from './criteria.js';
export {
  sweep,
  parseKSpec,
  cellSeed,
  resolveCriterion,
  toRow,
  BUILTIN_COVARIANCE_TYPES,
  type KSpec,
  type SweepOptions,
  type SweepProgress,
  type SweepResult,
  type SweepRow,
} from './sweep.js';
export { formatSweepTable, type FormatOptions } from './format.js';
export { activeWorkerCount, busyWorkerCount } from './pool.js';
export type { CellResult, CellSpec } from './cell.js';
