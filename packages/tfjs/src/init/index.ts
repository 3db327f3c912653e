export { kmeansInitializer, kmeansPlusPlusInitializer, kmeansPlusPlusIndices, lloyd, lloydTensor, oneHot, gatherRows } from './kmeans.js';
export { randomInitializer, randomFromDataInitializer, sampleWithoutReplacement } from './random.js';
