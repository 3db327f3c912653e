/// <reference types="long" preserve="true" />
// tfjs-core's declarations use the global `Long` of @types/long without a
// reference to it, so they only compile (skipLibCheck: false) where
// @types/long happens to be hoisted and auto-included. This reference makes
// it explicit for every consumer (pnpm's isolated layout, `types: []`).
export * from './errors.js';
export * from './rng.js';
export * from './container.js';
export * from './linalg.js';
export * from './plugin-loader.js';
export type * from './contracts/index.js';
export type { Container, ContainerModule } from 'inversify';
export { platform } from '#platform';
export type * from './platform/types.js';
export * from './platform/worker-handle.js';
