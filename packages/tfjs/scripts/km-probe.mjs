import { createRng } from '@gmmkit/core';
import { lloyd, lloydTensor, kmeansPlusPlusIndices, gatherRows, initBackend, tf } from '../dist/index.js';
await initBackend('wasm');
const N = Number(process.env.N ?? 100_000),
  D = 16,
  K = 8;
const spread = Number(process.env.SPREAD ?? 0.5);
const rng = createRng(1);
const centers = Array.from({ length: K }, () => Array.from({ length: D }, () => rng.normal() * spread));
const data = new Float64Array(N * D);
for (let i = 0; i < N; i++) {
  const c = centers[i % K];
  for (let j = 0; j < D; j++) data[i * D + j] = c[j] + rng.normal();
}
const x = tf.tensor2d(Float32Array.from(data), [N, D]);
const hash = (l) => {
  let h = 0;
  for (let i = 0; i < N; i++) h = (h * 31 + l[i]) | 0;
  return h;
};
for (let s = 0; s < 3; s++) {
  let t = performance.now();
  const idx = kmeansPlusPlusIndices(data, N, D, K, createRng(s));
  const t1 = performance.now();
  const a = lloyd(data, N, D, K, gatherRows(data, D, idx));
  const t2 = performance.now();
  const b = lloydTensor(tf, x, data, N, D, K, gatherRows(data, D, idx));
  const t3 = performance.now();
  let diff = 0;
  for (let i = 0; i < N; i++) diff += a[i] !== b[i];
  console.log(
    `seed ${s}: ++ ${(t1 - t).toFixed(0)} ms, host lloyd ${(t2 - t1).toFixed(0)} ms, tensor lloyd ${(t3 - t2).toFixed(0)} ms, host hash ${hash(a)}, labels differing ${diff}`,
  );
}
