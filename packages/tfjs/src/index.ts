export { GaussianMixture, MODEL_FORMAT, MODEL_VERSION, type GaussianMixtureConfig } from './gaussian-mixture.js';
export { toMatrix, columnMeans, type Matrix } from './data.js';
export type * from './types.js';
export { builtinPlugins, createGmmContainer } from './container.js';
export * from './covariance/index.js';
export * from './init/index.js';
export { DEFAULT_CHUNK_SIZE, uploadBlocks, emPass, runEm, statsFromResponsibilities, weightedLogProb, type RowBlocks, type EmResult, type EmSettings } from './engine.js';
export * from './runtime/index.js';
export { fitStream, DEFAULT_SAMPLE_SIZE, type RowSource, type StreamFitOptions } from './streaming.js';
