export * from './common.js';
export { fullCovariance, matrixKernel, covarianceFromMoments, validateSpd, mapBlocks, fullSecondMoments, fullSecondMomentsAbout } from './full.js';
export { tiedCovariance } from './tied.js';
export { diagCovariance, inverseSqrt, inverseSquare } from './diag.js';
export { sphericalCovariance } from './spherical.js';
export * from './degeneracy.js';
