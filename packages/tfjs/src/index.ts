export { BaseMixture, GaussianMixture, MODEL_FORMAT, MODEL_VERSION, OPTION_NAMES, covariancesFromPrecisions, nearestMeanResponsibilities, resolveOptions, type FitData, type GaussianMixtureConfig, type ResolvedOptions } from './gaussian-mixture.js';
export { NUMBER_OPTIONS, meetsRule, ruleText, type NumberOption, type NumberRule } from './options.js';
export { toMatrix, columnMeans, type Matrix } from './data.js';
export { FitCache } from './fit-cache.js';
export type * from './types.js';
export { builtinPlugins, createGmmContainer } from './container.js';
export * from './covariance/index.js';
export * from './init/index.js';
export { DEFAULT_CHUNK_SIZE, uploadBlocks, emPass, exactPass, runEm, statsFromResponsibilities, weightedLogProb, type RowBlocks, type EmResult, type EmSettings } from './engine.js';
export { runEmAsync, runStrategy, maximumLikelihood, localPass, uploadCentered, centerRows, checkSampleWeight, accumulateResponsibilities, responsibilityMeans, responsibilitiesOf, CompensatedSum, type PassFn, type PassResult, type EmStrategy, type EStepParameters, type DegenerateMode } from './engine.js';
export { BLOCK_CACHE_BYTES } from './covariance/common.js';
export { activeShardWorkerCount, resolveWorkerCount, shardRanges, AUTO_MIN_ROWS, AUTO_MIN_WORK } from './sharded.js';
export * from './runtime/index.js';
export {
  fitStream,
  DEFAULT_SAMPLE_SIZE,
  MIN_SAMPLE_INITS,
  defaultSampleSize,
  type RowSource,
  type StreamFitOptions,
  type WeightedBlock,
} from './streaming.js';
export {
  BAYESIAN_OPTION_NAMES,
  BayesianGaussianMixture,
  loadMixture,
  variationalInference,
  variationalEStep,
  type BayesianGaussianMixtureOptions,
  type BayesianFittedState,
  type BayesianJSON,
  type BayesianPriors,
  type VariationalState,
  type WeightConcentrationPriorType,
} from './bayesian.js';
export { lgamma, digamma, betaln } from './special.js';
export {
  maximumAPosteriori,
  resolvePrior,
  validatePrior,
  PRIOR_FAMILIES,
  type ConjugatePrior,
  type PriorOption,
  type ResolvedPrior,
} from './prior.js';
