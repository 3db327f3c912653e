export { kmeansInitializer, kmeansPlusPlusInitializer, kmeansPlusPlusIndices, kmeansStartingCenters, KMEANS_SAMPLE_ROWS, lloyd, lloydTensor, oneHot, gatherRows } from './kmeans.js';
export { randomInitializer, randomFromDataInitializer, sampleWithoutReplacement } from './random.js';
export { ememInitializer, emEmInitializer, EMEM_CANDIDATES, EMEM_SHORT_ITERATIONS } from './emem.js';
export { smemInitializer, splitMergeInitializer, splitMergeCandidates, applyMove, SMEM_MOVES, SMEM_POLISH, type SplitMergeMove, type SplitMergeOptions } from './smem.js';
export { responsibilities, splitAlongMainAxis } from '../reseed.js';
