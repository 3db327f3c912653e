/// <reference types="vite/client" />
// The tfjs wasm binaries, emitted by Vite as assets of this page (served
// locally, never fetched from a CDN), handed to gmmkit before the first fit.
// Workers gmmkit starts (sweep pool, shard workers) inherit the setting.
import { setWasmPaths } from '@gmmkit/tfjs';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';

setWasmPaths({
  'tfjs-backend-wasm.wasm': wasmPlain,
  'tfjs-backend-wasm-simd.wasm': wasmSimd,
  'tfjs-backend-wasm-threaded-simd.wasm': wasmThreaded,
});
