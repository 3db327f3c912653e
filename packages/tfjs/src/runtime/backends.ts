import type { BackendProvider } from '@gmmkit/core';

// Module names held in variables so TypeScript does not require the optional
// @tensorflow/tfjs-node to be installed at build time.
const TFJS_NODE = '@tensorflow/tfjs-node';

/** Native TensorFlow through @tensorflow/tfjs-node (optional dependency; its install downloads libtensorflow). */
export const tensorflowBackend: BackendProvider = {
  name: 'tensorflow',
  tfBackendName: 'tensorflow',
  priority: 300,
  installHint:
    'install it with `pnpm add @tensorflow/tfjs-node` on a machine that can download libtensorflow (its install script fetches it)',
  async load() {
    await import(TFJS_NODE);
  },
};

/** WebAssembly kernels with SIMD (@tensorflow/tfjs-backend-wasm, a regular dependency). */
export const wasmBackend: BackendProvider = {
  name: 'wasm',
  tfBackendName: 'wasm',
  priority: 200,
  installHint: 'install it with `pnpm add @tensorflow/tfjs-backend-wasm`',
  async load() {
    await import('@tensorflow/tfjs-backend-wasm');
  },
};

/** Pure-JavaScript kernels (@tensorflow/tfjs-backend-cpu): always works, about 10x slower than wasm. */
export const cpuBackend: BackendProvider = {
  name: 'cpu',
  tfBackendName: 'cpu',
  priority: 100,
  installHint: 'install it with `pnpm add @tensorflow/tfjs-backend-cpu`',
  async load() {
    await import('@tensorflow/tfjs-backend-cpu');
  },
};

export const builtinBackends: readonly BackendProvider[] = [tensorflowBackend, wasmBackend, cpuBackend];
