import { platform, type BackendProvider } from '@gmmkit/core';
import { loadBackendPackage, loadTfjsNode } from '#tfjs-platform';

/** Native TensorFlow through @tensorflow/tfjs-node (Node only; optional dependency, its install downloads libtensorflow). */
export const tensorflowBackend: BackendProvider = {
  name: 'tensorflow',
  tfBackendName: 'tensorflow',
  priority: 300,
  installHint:
    'install it with `pnpm add @tensorflow/tfjs-node` on a machine that can download libtensorflow (its install script fetches it)',
  async load() {
    loadTfjsNode(); // by name at run time: TypeScript and bundlers need not find the optional package
  },
};

/**
 * Where the tfjs-backend-wasm binaries are served from: a URL prefix, or one
 * URL per binary (`tfjs-backend-wasm.wasm`, `tfjs-backend-wasm-simd.wasm`,
 * `tfjs-backend-wasm-threaded-simd.wasm`). Needed in a browser bundle, where
 * the binaries are assets the bundler emits (see the playground's
 * `?url` imports); Node finds them next to the package.
 */
export type WasmPaths = string | Record<string, string>;
let wasmPaths: WasmPaths | undefined;

/** Sets where the wasm backend fetches its binaries; call before the first fit. Workers gmmkit starts inherit it. */
export function setWasmPaths(paths: WasmPaths | undefined): void {
  wasmPaths = paths;
}

/** What setWasmPaths set, if anything. */
export function getWasmPaths(): WasmPaths | undefined {
  return wasmPaths;
}

/** WebAssembly kernels with SIMD (and threads where the page is cross-origin isolated) (@tensorflow/tfjs-backend-wasm). */
export const wasmBackend: BackendProvider = {
  name: 'wasm',
  tfBackendName: 'wasm',
  priority: 200,
  installHint: 'install it with `pnpm add @tensorflow/tfjs-backend-wasm`',
  async load() {
    const wasm = await loadBackendPackage('@tensorflow/tfjs-backend-wasm', () => import('@tensorflow/tfjs-backend-wasm'));
    if (wasmPaths !== undefined) wasm.setWasmPaths(wasmPaths);
  },
};

/**
 * WebGL kernels (@tensorflow/tfjs-backend-webgl), browsers only. Last but
 * webgpu in 'auto' (measured, docs/browser.md): EM reads its statistics back
 * every iteration, and in headless Chromium's software GL a sweep took 17-35x
 * wasm's time and 8-28x cpu's. Ask for it by name on a real GPU.
 */
export const webglBackend: BackendProvider = {
  name: 'webgl',
  tfBackendName: 'webgl',
  priority: 90,
  installHint: 'webgl needs a browser with WebGL 2 (@tensorflow/tfjs-backend-webgl)',
  async load() {
    if (platform.name !== 'browser') throw new Error('webgl runs in browsers only');
    await import('@tensorflow/tfjs-backend-webgl');
  },
};

/** WebGPU kernels (@tensorflow/tfjs-backend-webgpu), browsers that expose navigator.gpu and give an adapter; last in 'auto'. */
export const webgpuBackend: BackendProvider = {
  name: 'webgpu',
  tfBackendName: 'webgpu',
  priority: 80,
  installHint: 'webgpu needs a browser with WebGPU (navigator.gpu) (@tensorflow/tfjs-backend-webgpu)',
  async load() {
    const nav = (globalThis as { navigator?: { gpu?: unknown } }).navigator;
    if (platform.name !== 'browser' || nav?.gpu === undefined) throw new Error('this runtime has no WebGPU (navigator.gpu)');
    await import('@tensorflow/tfjs-backend-webgpu');
  },
};

/** Pure-JavaScript kernels (@tensorflow/tfjs-backend-cpu): always works, about 10x slower than wasm. */
export const cpuBackend: BackendProvider = {
  name: 'cpu',
  tfBackendName: 'cpu',
  priority: 100,
  installHint: 'install it with `pnpm add @tensorflow/tfjs-backend-cpu`',
  async load() {
    await loadBackendPackage('@tensorflow/tfjs-backend-cpu', () => import('@tensorflow/tfjs-backend-cpu'));
  },
};

/**
 * The backends of this runtime, by descending priority ('auto' tries them in
 * this order): Node tensorflow, wasm, cpu; browsers wasm, cpu, webgl, webgpu.
 */
export const builtinBackends: readonly BackendProvider[] =
  platform.name === 'browser'
    ? [wasmBackend, cpuBackend, webglBackend, webgpuBackend]
    : [tensorflowBackend, wasmBackend, cpuBackend];
