// Peak memory / wall time of one large fit (not a unit test). Run after building, e.g.
//   /usr/bin/time -v node packages/tfjs/scripts/mem-probe.mjs   (env: N=2000000, COV=full, ITERS=2, WORKERS=0|n|auto)
import { createRng } from '@gmmkit/core';
import { GaussianMixture, initBackend } from '../dist/index.js';
const N = Number(process.env.N ?? 2_000_000),
  D = 16,
  K = 8;
const rng = createRng(1);
const centers = Array.from({ length: K }, () => Array.from({ length: D }, () => rng.normal() * 2));
const data = new Float64Array(N * D);
for (let i = 0; i < N; i++) {
  const c = centers[i % K];
  for (let j = 0; j < D; j++) data[i * D + j] = c[j] + rng.normal();
}
await initBackend(process.env.GMM_BACKEND ?? 'wasm');
const t0 = performance.now();
let tl = t0;
const opts = {
  nComponents: K,
  covarianceType: process.env.COV ?? 'full',
  maxIter: Number(process.env.ITERS ?? 2),
  tol: 0,
  seed: 0,
  onIteration: (i) => {
    const now = performance.now();
    console.log('iter', i, (now - tl).toFixed(0), 'ms');
    tl = now;
  },
};
if (process.env.WORKERS) opts.workers = process.env.WORKERS === 'auto' ? 'auto' : Number(process.env.WORKERS);
const g = await new GaussianMixture(opts).fit({ data, shape: [N, D] });
console.log(
  'fit',
  ((performance.now() - t0) / 1000).toFixed(1),
  's',
  'lb',
  g.state.lowerBound,
  'rss',
  (process.memoryUsage().rss / 2 ** 30).toFixed(2),
  'GiB',
);
