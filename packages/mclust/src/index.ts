export { mclustFamilies, mclustFamily, mclustModelNames, MCLUST_MODELS, BUILTIN_NAMES } from './families.js';
export { volumeShape, variableOrientation, commonOrientation, orientationMM, vee, INNER_CONTROL, innerStats, type Letter } from './mstep.js';
export { polarFactor } from './linalg.js';
export { default as plugins, mclustPlugins } from './plugins.js';
export { hcInitializer, hcTree, partitionAt, agglomerate, svdTransform, quantileClasses, hcStats, HC_SUBSET, type Agglomeration } from './hc.js';
export { shapesFigure, componentsOf, covarianceOf, type Ellipse } from './figure.js';
