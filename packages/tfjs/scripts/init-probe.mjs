// Time of the k-means initializer's phases at large N (not a unit test).
import { createRng } from '@gmmkit/core';
import { lloydTensor, kmeansPlusPlusIndices, gatherRows, initBackend, tf } from '../dist/index.js';
await initBackend('wasm');
const N = Number(process.env.N ?? 500_000),
  D = 16,
  K = 8;
const rng = createRng(1);
const centers = Array.from({ length: K }, () => Array.from({ length: D }, () => rng.normal() * 2));
const data = new Float64Array(N * D);
for (let i = 0; i < N; i++) {
  const c = centers[i % K];
  for (let j = 0; j < D; j++) data[i * D + j] = c[j] + rng.normal();
}
const x = tf.tensor2d(Float32Array.from(data), [N, D]);
let t = performance.now();
const idx = kmeansPlusPlusIndices(data, N, D, K, createRng(0));
console.log('k-means++', (performance.now() - t).toFixed(0), 'ms');
for (const it of [1, 5, 300]) {
  t = performance.now();
  lloydTensor(tf, x, data, N, D, K, gatherRows(data, D, idx), it);
  console.log(`lloydTensor maxIter ${it}`, (performance.now() - t).toFixed(0), 'ms');
}
const { uploadBlocks, statsFromResponsibilities, fullCovariance, oneHot, emPass } =
  await import('../dist/index.js');
t = performance.now();
const blocks = uploadBlocks(tf, data, N, D, new Float64Array(D), 8192);
console.log('upload', (performance.now() - t).toFixed(0), 'ms');
const labels = lloydTensor(tf, x, data, N, D, K, gatherRows(data, D, idx));
const resp = oneHot(labels, N, K);
t = performance.now();
const ctx = { tf, k: K, d: D };
const stats = statsFromResponsibilities(tf, fullCovariance, blocks, resp, ctx);
console.log('statsFromResponsibilities (full)', (performance.now() - t).toFixed(0), 'ms');
const params = fullCovariance.mStep(stats, 1e-6, ctx);
for (let r = 0; r < 3; r++) {
  t = performance.now();
  emPass(tf, fullCovariance, params, blocks, ctx);
  console.log('emPass (full)', (performance.now() - t).toFixed(0), 'ms');
}
