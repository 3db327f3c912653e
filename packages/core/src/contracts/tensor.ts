import type * as tfCore from '@tensorflow/tfjs-core';

/**
 * The tfjs-core namespace the engine runs on. Plugins receive it instead of
 * importing their own copy, so a plugin built against another tfjs-core
 * install still creates tensors on the engine's backend.
 */
export type Tf = typeof tfCore;
export type Tensor2D = tfCore.Tensor2D;
