export { kmeansInitializer, kmeansPlusPlusInitializer, kmeansPlusPlusIndices, lloyd, lloydTensor, oneHot, gatherRows } from './kmeans.js';
export { randomInitializer, randomFromDataInitializer, sampleWithoutReplacement } from './random.js';
export { ememInitializer, emEmInitializer, EMEM_CANDIDATES, EMEM_SHORT_ITERATIONS } from './emem.js';
export { smemInitializer, splitMergeInitializer, splitMergeCandidates, applyMove, responsibilities, SMEM_MOVES, type SplitMergeMove } from './smem.js';
