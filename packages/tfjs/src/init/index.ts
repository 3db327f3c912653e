export { kmeansInitializer, kmeansPlusPlusInitializer, kmeansPlusPlusIndices, lloyd, oneHot, gatherRows } from './kmeans.js';
export { randomInitializer, randomFromDataInitializer, sampleWithoutReplacement } from './random.js';
