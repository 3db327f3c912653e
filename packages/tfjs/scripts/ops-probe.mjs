// Per-block cost of the E-step / accumulation parts (not a unit test).
import { createRng } from '@gmmkit/core';
import {
  initBackend,
  tf,
  diagCovariance,
  sphericalCovariance,
  fullCovariance,
  tiedCovariance,
} from '../dist/index.js';
await initBackend(process.env.GMM_BACKEND ?? 'wasm');
const n = Number(process.env.CHUNK ?? 8192),
  d = 16,
  k = 8;
const rng = createRng(1);
const x = tf.tensor2d(
  Float32Array.from({ length: n * d }, () => rng.normal()),
  [n, d],
);
const fams = {
  diag: diagCovariance,
  spherical: sphericalCovariance,
  full: fullCovariance,
  tied: tiedCovariance,
};
const ctx = { tf, k, d };
function time(label, fn, reps = 30) {
  for (let i = 0; i < 3; i++) fn();
  const t = performance.now();
  for (let i = 0; i < reps; i++) fn();
  console.log(label.padEnd(36), ((performance.now() - t) / reps).toFixed(2), 'ms/block');
}
for (const name of (process.env.FAMILIES ?? 'diag,spherical,full,tied').split(',')) {
  const fam = fams[name];
  const means = Float64Array.from({ length: k * d }, () => rng.normal());
  const shape = fam.covarianceShape(k, d);
  let cov;
  if (name === 'diag') cov = Float64Array.from({ length: k * d }, () => 1 + rng.next());
  else if (name === 'spherical') cov = Float64Array.from({ length: k }, () => 1 + rng.next());
  else {
    const m = shape.length === 3 ? k : 1;
    cov = new Float64Array(m * d * d);
    for (let j = 0; j < m; j++) for (let a = 0; a < d; a++) cov[j * d * d + a * d + a] = 1 + rng.next();
  }
  const params = { weights: new Float64Array(k).fill(1 / k), means, covariances: cov };
  const kernel = fam.densityKernel(params, ctx);
  const logW = tf.tensor2d(new Float32Array(k).fill(Math.log(1 / k)), [1, k]);
  time(`${name} logDensity+download`, () => {
    const t = kernel.logDensity(x);
    t.dataSync();
    t.dispose();
  });
  const resp = tf.tidy(() => {
    const w = tf.add(kernel.logDensity(x), logW);
    const max = tf.max(w, 1, true);
    const e = tf.exp(tf.sub(w, max));
    return tf.div(e, tf.sum(e, 1, true));
  });
  time(`${name} full resp step`, () => {
    const [r, l] = tf.tidy(() => {
      const w = tf.add(kernel.logDensity(x), logW);
      const max = tf.max(w, 1, true);
      const e = tf.exp(tf.sub(w, max));
      const s = tf.sum(e, 1, true);
      return [tf.div(e, s), tf.add(max, tf.log(s))];
    });
    l.dataSync();
    r.dispose();
    l.dispose();
  });
  time(`${name} accumulate`, () => fam.accumulate(x, resp, ctx));
  resp.dispose();
  kernel.dispose();
  logW.dispose();
}
console.log('tensors', tf.memory().numTensors);
