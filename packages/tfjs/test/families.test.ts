import { aat, createRng, SingularCovarianceError, InvalidArgumentError, tryCholesky, logDetFromCholesky, trySpdInverse, type CovarianceFamily, type PluginContext, type Tensor2D } from '@gmmkit/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { diagCovariance, fullCovariance, initBackend, sphericalCovariance, tf, tiedCovariance } from '../src/index.js';
import { hostStatistics } from '../src/engine.js';
import { maxAbsDiff } from './helpers.js';

const families: CovarianceFamily[] = [fullCovariance, tiedCovariance, diagCovariance, sphericalCovariance];
const n = 60;
const d = 3;
const k = 2;

// Random rows (two offset groups) and random responsibilities, float64 on the host.
const rng = createRng(42);
const X = new Float64Array(n * d).map((_, i) => rng.normal() * (1 + (i % d)) + (Math.floor(i / d) % 2 ? 2 : -1));
const R = new Float64Array(n * k);
for (let i = 0; i < n; i++) {
  const a = rng.next();
  R[i * k] = a;
  R[i * k + 1] = 1 - a;
}

/** Direct float64 M-step: weights, means, full covariances [k, d, d] (+reg), as scikit-learn computes them. */
function directParameters(reg: number) {
  const nk = new Float64Array(k);
  const means = new Float64Array(k * d);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < k; j++) {
      nk[j] += R[i * k + j]!;
      for (let c = 0; c < d; c++) means[j * d + c] += R[i * k + j]! * X[i * d + c]!;
    }
  for (let j = 0; j < k; j++) {
    nk[j] += 10 * Number.EPSILON;
    for (let c = 0; c < d; c++) means[j * d + c]! /= nk[j]!;
  }
  const covs = new Float64Array(k * d * d);
  for (let j = 0; j < k; j++)
    for (let i = 0; i < n; i++)
      for (let a = 0; a < d; a++)
        for (let b = 0; b < d; b++)
          covs[j * d * d + a * d + b] += (R[i * k + j]! * (X[i * d + a]! - means[j * d + a]!) * (X[i * d + b]! - means[j * d + b]!)) / nk[j]!;
  const total = nk[0]! + nk[1]!;
  return { nk, weights: nk.map((v) => v / total), means, covs, total, reg };
}

/** Expected covariances in each family's layout from the direct computation. */
function expectedCovariances(family: string, reg: number): Float64Array {
  const p = directParameters(reg);
  if (family === 'full') return p.covs.map((v, i) => v + (Math.floor(i / d) % d === i % d ? reg : 0));
  if (family === 'tied') {
    const out = new Float64Array(d * d);
    for (let j = 0; j < k; j++) for (let i = 0; i < d * d; i++) out[i] += (p.covs[j * d * d + i]! * p.nk[j]!) / p.total;
    for (let a = 0; a < d; a++) out[a * d + a] += reg;
    return out;
  }
  const diag = new Float64Array(k * d);
  for (let j = 0; j < k; j++) for (let a = 0; a < d; a++) diag[j * d + a] = p.covs[j * d * d + a * d + a]! + reg;
  if (family === 'diag') return diag;
  const sph = new Float64Array(k);
  for (let j = 0; j < k; j++) for (let a = 0; a < d; a++) sph[j] += diag[j * d + a]! / d;
  return sph;
}

function withTensors<T>(rows: [number, number], f: (x: Tensor2D, r: Tensor2D) => T): T {
  const [a, b] = rows;
  const x = tf.tensor2d(Float32Array.from(X.subarray(a * d, b * d)), [b - a, d]);
  const r = tf.tensor2d(Float32Array.from(R.subarray(a * k, b * k)), [b - a, k]);
  try {
    return f(x, r);
  } finally {
    x.dispose();
    r.dispose();
  }
}

let ctx: PluginContext;
beforeAll(async () => {
  await initBackend('wasm');
  ctx = { tf, k, d };
});

describe.each(families.map((f) => [f.name, f] as const))('covariance family %s', (name, family) => {
  it('has scikit-learn shapes and parameter counts', () => {
    const shapes: Record<string, number[]> = { full: [k, d, d], tied: [d, d], diag: [k, d], spherical: [k] };
    const counts: Record<string, number> = { full: (k * d * (d + 1)) / 2, tied: (d * (d + 1)) / 2, diag: k * d, spherical: k };
    expect(family.covarianceShape(k, d)).toEqual(shapes[name]);
    expect(family.nCovarianceParameters(k, d)).toBe(counts[name]);
  });

  it('merge(accumulate(A), accumulate(B)) equals accumulate(A ∪ B) and leaks no tensors', () => {
    const before = tf.memory().numTensors;
    const all = withTensors([0, n], (x, r) => family.accumulate(x, r, ctx));
    const a = withTensors([0, 25], (x, r) => family.accumulate(x, r, ctx));
    const b = withTensors([25, n], (x, r) => family.accumulate(x, r, ctx));
    const m = family.merge(a, b);
    expect(tf.memory().numTensors).toBe(before);
    expect(m.n).toBe(n);
    expect(maxAbsDiff(m.nk, all.nk)).toBeLessThan(1e-4);
    expect(maxAbsDiff(m.sumX, all.sumX)).toBeLessThan(1e-4);
    expect(maxAbsDiff(m.second, all.second)).toBeLessThan(1e-3);
  });

  it('accumulateHostLabels gives accumulateHost of the one-hot responsibilities (weights, a weight 0, about a reference)', () => {
    const labels = Int32Array.from({ length: n }, (_, i) => (i * 7) % k);
    const weights = Float64Array.from({ length: n }, (_, i) => (i % 5 === 0 ? 0 : 1 + (i % 3)));
    const reference = Float64Array.from({ length: k * d }, (_, i) => 0.5 * i - 1);
    for (const w of [undefined, weights])
      for (const ref of [undefined, reference]) {
        const ctx = ref === undefined ? { tf, k, d } : { tf, k, d, reference: ref };
        const oneHot = new Float64Array(n * k);
        labels.forEach((j, i) => (oneHot[i * k + j] = w === undefined ? 1 : w[i]!));
        const expected = family.accumulateHost!(X, oneHot, n, ctx);
        const got = family.accumulateHostLabels!(X, labels, w, n, ctx);
        for (const key of ['nk', 'sumX', 'second'] as const) expect(Array.from(got[key])).toEqual(Array.from(expected[key]));
        expect(got.n).toBe(expected.n);
        expect(got.reference === undefined ? undefined : Array.from(got.reference)).toEqual(ref === undefined ? undefined : Array.from(ref));
      }
  });

  it('hostStatistics: weighted responsibilities or labels give the statistics of the rows replicated by their integer weights', () => {
    const weights = Float64Array.from({ length: n }, (_, i) => i % 4);
    const replicated = Array.from(weights).flatMap((w, i) => Array.from({ length: w }, () => i));
    const rowsOf = (idx: number[]) => Float64Array.from(idx.flatMap((i) => Array.from(X.subarray(i * d, (i + 1) * d))));
    const respOf = (idx: number[]) => Float64Array.from(idx.flatMap((i) => Array.from(R.subarray(i * k, (i + 1) * k))));
    const reference = Float64Array.from({ length: k * d }, (_, i) => 0.25 * i);
    const labels = Int32Array.from({ length: n }, (_, i) => (i * 5) % k);
    const cases = [
      [{ kind: 'responsibilities', resp: R }, { kind: 'responsibilities', resp: respOf(replicated) }],
      [{ kind: 'labels', labels }, { kind: 'labels', labels: Int32Array.from(replicated, (i) => labels[i]!) }],
    ] as const;
    for (const [weighted, copies] of cases) {
      const got = hostStatistics(family, X, weighted, n, weights, reference, { tf, k, d })!;
      const expected = hostStatistics(family, rowsOf(replicated), copies, replicated.length, undefined, reference, { tf, k, d })!;
      for (const key of ['nk', 'sumX', 'second'] as const) expect(maxAbsDiff(got[key], expected[key])).toBeLessThan(1e-9);
    }
  });

  it('mStep matches a direct float64 computation, with or without a reference point', () => {
    const reg = 1e-3;
    const p = directParameters(reg);
    const expected = expectedCovariances(name, reg);
    const raw = withTensors([0, n], (x, r) => family.accumulate(x, r, ctx));
    const reference = Float64Array.from(p.means, (v) => v + 0.25);
    const about = withTensors([0, n], (x, r) => family.accumulate(x, r, { ...ctx, reference }));
    expect(about.reference).toBeDefined();
    for (const stats of [raw, about]) {
      const out = family.mStep(stats, reg, ctx);
      expect(maxAbsDiff(out.weights, p.weights)).toBeLessThan(1e-6);
      expect(maxAbsDiff(out.means, p.means)).toBeLessThan(1e-5);
      expect(maxAbsDiff(out.covariances, expected)).toBeLessThan(1e-4);
    }
  });

  it('logDensity matches log N(x | μ, Σ) computed directly in float64', () => {
    const reg = 1e-3;
    const params = family.mStep(withTensors([0, n], (x, r) => family.accumulate(x, r, ctx)), reg, ctx);
    const full = family.fullCovariances(params.covariances, k, d);
    const before = tf.memory().numTensors;
    const kernel = family.densityKernel(params, ctx);
    const got = withTensors([0, n], (x) => {
      const t = kernel.logDensity(x);
      const v = Float64Array.from(t.dataSync());
      t.dispose();
      return v;
    });
    kernel.dispose();
    expect(tf.memory().numTensors).toBe(before);
    const want = new Float64Array(n * k);
    for (let j = 0; j < k; j++) {
      const cov = full.subarray(j * d * d, (j + 1) * d * d);
      const inv = trySpdInverse(cov, d)!;
      const logDet = logDetFromCholesky(tryCholesky(cov, d)!, d);
      for (let i = 0; i < n; i++) {
        let q = 0;
        for (let a = 0; a < d; a++)
          for (let b = 0; b < d; b++)
            q += (X[i * d + a]! - params.means[j * d + a]!) * inv[a * d + b]! * (X[i * d + b]! - params.means[j * d + b]!);
        want[i * k + j] = -0.5 * (d * Math.log(2 * Math.PI) + logDet + q);
      }
    }
    expect(maxAbsDiff(got, want)).toBeLessThan(1e-3);
  });

  it('precision Cholesky factors invert back to the covariances and reproduce Σ⁻¹', () => {
    const params = family.mStep(withTensors([0, n], (x, r) => family.accumulate(x, r, ctx)), 1e-3, ctx);
    const pc = family.precisionsCholesky(params.covariances, k, d);
    expect(pc.length).toBe(params.covariances.length);
    expect(maxAbsDiff(family.covariancesFromPrecisionsCholesky(pc, k, d), params.covariances)).toBeLessThan(1e-9);
    if (name === 'full') {
      const prec = aat(pc.subarray(0, d * d), d);
      expect(maxAbsDiff(prec, trySpdInverse(params.covariances.subarray(0, d * d), d)!)).toBeLessThan(1e-9);
    }
    expect(() => family.validate(params.covariances, k, d)).not.toThrow();
  });

  it('validate rejects wrong lengths, non-finite and non-positive-definite values', () => {
    const size = family.covarianceShape(k, d).reduce((a, b) => a * b, 1);
    expect(() => family.validate(new Float64Array(size + 1), k, d)).toThrow(InvalidArgumentError);
    const bad = new Float64Array(size).fill(1);
    bad[0] = NaN;
    expect(() => family.validate(bad, k, d)).toThrow(InvalidArgumentError);
    expect(() => family.validate(new Float64Array(size).fill(name === 'full' || name === 'tied' ? 1 : -1), k, d)).toThrow(InvalidArgumentError);
  });

  it('a component with no points keeps finite parameters (regCovar·I, nk += 10 eps)', () => {
    const zero = tf.zeros([n, 1]) as Tensor2D;
    const one = tf.ones([n, 1]) as Tensor2D;
    const resp = tf.concat([one, zero], 1) as Tensor2D;
    const x = tf.tensor2d(Float32Array.from(X), [n, d]);
    const stats = family.accumulate(x, resp, ctx);
    tf.dispose([zero, one, resp, x]);
    const out = family.mStep(stats, 1e-6, ctx);
    for (const v of [...out.weights, ...out.means, ...out.covariances]) expect(Number.isFinite(v)).toBe(true);
    expect(out.weights[1]).toBeLessThan(1e-12);
  });

  it('throws SingularCovarianceError naming regCovar when a covariance is singular', () => {
    // All rows identical and regCovar 0: every covariance is exactly 0.
    const x = tf.tensor2d(new Float32Array(n * d).fill(1.5), [n, d]);
    const r = tf.tensor2d(Float32Array.from(R), [n, k]);
    const stats = family.accumulate(x, r, { ...ctx, reference: new Float64Array(k * d).fill(1.5) });
    tf.dispose([x, r]);
    expect(() => family.mStep(stats, 0, ctx)).toThrow(SingularCovarianceError);
    expect(() => family.mStep(stats, 0, ctx)).toThrow(/regCovar/);
  });
});
