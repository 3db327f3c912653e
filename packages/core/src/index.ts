export * from './errors.js';
export * from './rng.js';
export * from './container.js';
export * from './linalg.js';
export * from './plugin-loader.js';
export type * from './contracts/index.js';
export type { Container, ContainerModule } from 'inversify';
