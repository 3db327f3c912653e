export type * from './tensor.js';
export type * from './covariance.js';
export type * from './initializer.js';
export type * from './criterion.js';
export type * from './backend.js';
