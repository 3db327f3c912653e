// Per-iteration EM time at N=100k, D=16, K=8 for each family (not a unit test).
// Run: pnpm --filter @gmmkit/tfjs build && node packages/tfjs/scripts/bench-em.mjs   (env: N, CHUNK, FAMILIES, GMM_BACKEND, INIT, SPREAD,
// WORKERS = 0 (single thread, the default here) | n | auto)
import { loadavg } from 'node:os';
import { createRng } from '@gmmkit/core';
import { GaussianMixture, initBackend, tf } from '../dist/index.js';

const N = Number(process.env['N'] ?? 100_000);
const D = 16;
const K = 8;
const backend = process.env['GMM_BACKEND'] ?? 'wasm';
const chunkSize = process.env['CHUNK'] ? Number(process.env['CHUNK']) : undefined;
const families = (process.env['FAMILIES'] ?? 'full,tied,diag,spherical').split(',');
const workersEnv = process.env['WORKERS'] ?? '0';
const workers = workersEnv === 'auto' ? 'auto' : Number(workersEnv);

const rng = createRng(1);
// SPREAD=2 gives overlapping components (responsibilities in float32's denormal range without the engine's flush).
const spread = Number(process.env['SPREAD'] ?? 4);
const centers = Array.from({ length: K }, () => Array.from({ length: D }, () => rng.normal() * spread));
const data = new Float64Array(N * D);
for (let i = 0; i < N; i++) {
  const c = centers[i % K];
  for (let j = 0; j < D; j++) data[i * D + j] = c[j] + rng.normal();
}
const X = { data, shape: [N, D] };
const info = await initBackend(backend);
console.log(
  `load average ${loadavg()
    .map((v) => v.toFixed(2))
    .join(' ')}`,
);
console.log(
  `backend ${info.name}, N=${N} D=${D} K=${K}, chunk ${chunkSize ?? 'default'}, workers ${workers}`,
);
for (const covarianceType of families) {
  const times = [];
  let last = 0;
  let cpuFirst;
  let cpuLast;
  let fitStart = 0;
  let firstIteration = 0;
  const gmm = new GaussianMixture({
    nComponents: K,
    covarianceType,
    maxIter: 12,
    tol: 0,
    initParams: process.env['INIT'] ?? 'kmeans',
    seed: 0,
    workers,
    ...(chunkSize ? { chunkSize } : {}),
    onIteration: () => {
      const now = performance.now();
      if (last) times.push(now - last);
      else firstIteration = now - fitStart;
      last = now;
      // CPU time of all threads (main + workers): per iteration, a load-independent measure of work.
      cpuLast = process.cpuUsage();
      cpuFirst ??= cpuLast;
    },
  });
  const before = tf.memory().numTensors;
  fitStart = performance.now();
  await gmm.fit(X);
  const cpu = (cpuLast.user + cpuLast.system - cpuFirst.user - cpuFirst.system) / 1000 / times.length;
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)];
  console.log(
    `${covarianceType.padEnd(10)} median ${median.toFixed(1)} ms/iter  (min ${times[0].toFixed(1)}, max ${times[times.length - 1].toFixed(1)}; cpu ${cpu.toFixed(1)} ms/iter; init + 1st iter ${firstIteration.toFixed(0)} ms; leaked ${tf.memory().numTensors - before})`,
  );
}
