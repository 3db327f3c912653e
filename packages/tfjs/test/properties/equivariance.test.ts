// Properties 3, 4 and 9: EM commutes with row permutations and with affine
// maps of the data, and integer sample weights equal replicated rows, given
// the same (correspondingly mapped) initial parameters. For every registered family x initializer, the initializer
// produces the initial parameters (a one-iteration fit), which are then
// passed explicitly (weightsInit / meansInit / precisionsInit) to both fits.
import { invertLowerTriangular, matMul, transpose, tryCholesky, type Container } from '@gmmkit/core';
import fc from 'fast-check';
import { beforeAll, describe, expect } from 'vitest';
import { GaussianMixture, initBackend, type GaussianMixtureConfig } from '../../src/index.js';
import { caseArb, permutation, type Dataset, type FitChoice } from './arbitraries.js';
import {
  EPS32,
  conditioning,
  fitOptions,
  fitOrDiscard,
  itForEachCell,
  precisionsOf,
  rowsOf,
  runs,
  seedArb,
  testContainer,
} from './helpers.js';

beforeAll(async () => {
  await initBackend();
});

const container = testContainer();

/** EM iterations compared: few, so EM's own amplification of rounding (unstable directions) stays bounded. */
const ITERATIONS = 5;

/**
 * Initial parameters from the cell's initializer (one EM iteration after it),
 * and the options that start EM from them and run exactly ITERATIONS
 * iterations (tol = 0 never declares convergence early, so both fits do
 * the same number of steps).
 */
async function startingPoint(
  ds: Dataset,
  fit: FitChoice,
  family: string,
  init: string,
  c: Container,
): Promise<{
  base: GaussianMixtureConfig;
  /** `base` starting from the initial parameters below. */
  options: GaussianMixtureConfig;
  means: number[][];
  /** The precisions times a factor (1/c² when the data are scaled by c). */
  scaledPrecisions: (factor: number) => NonNullable<GaussianMixtureConfig['precisionsInit']>;
  kappaStart: number;
}> {
  const options = fitOptions(ds, fit, family, init, c);
  const gm0 = await fitOrDiscard(new GaussianMixture({ ...options, maxIter: 1, nInit: 1 }), ds.rows);
  const base = { ...options, nInit: 1, tol: 0, maxIter: ITERATIONS };
  const weights = Array.from(gm0.state.weights);
  const means = rowsOf(gm0.state.means, ds.d);
  const precisions = precisionsOf(gm0);
  return {
    base,
    options: { ...base, weightsInit: weights, meansInit: means, precisionsInit: precisions },
    means,
    scaledPrecisions: (factor) => precisionsOf(gm0, factor),
    kappaStart: Math.max(...conditioning(gm0, ds.rows)),
  };
}

/**
 * Compares model `b` mapped back by x -> (x - shift) / scale with model `a`
 * (fitted to `rows`), in a's own metric: means as Mahalanobis distances under
 * a's covariance, covariances as ‖L⁻¹ Σ_b L⁻ᵀ - I‖_max (Σ_a = L Lᵀ),
 * weights absolutely, the lower bound after removing d ln|scale|.
 *
 * Tolerance, derived from float32 as for property 1 (monotone.test.ts):
 * permuting or rescaling the rows changes only the rounding of float32 ops
 * (unit roundoff EPS32/2, error growth ~√n over n rows), which shows up in
 * component k's whitened parameters amplified by its conditioning κ_k
 * (helpers.ts `conditioning`: large for near-singular data and for components
 * collapsed onto a few rows). The rounding of the first E-step is amplified
 * by the conditioning of the starting parameters, κ_start (e.g. one-row
 * components right after k-means++ / random-from-data seeding). EM then
 * carries the perturbation through ITERATIONS steps, each of which can grow
 * it (about 2x per step in unstable directions, e.g. a symmetric split of one
 * cluster): allowance 2^ITERATIONS, and 2 for the two runs. So with
 * τ = 2^(ITERATIONS+1) EPS32 √n and K_k = max(κ_k, κ_start):
 *   component k's mean and covariance: τ K_k; weights: τ max_k K_k;
 *   lower bound: τ (|L| + d + Σ_k w_k K_k).
 * A component holding less than one row of responsibility (n w_k < 1) is
 * being emptied by EM: its mean and covariance are set by exponentially small
 * responsibilities of distant rows, whose rounding each EM step multiplies by
 * ~(distance / sd)², without a useful bound. Only its weight is compared
 * (absolutely, above), which bounds its effect on every output.
 * Returns the lower-bound tolerance for callers comparing log-likelihoods.
 */
function expectSameModel(
  a: GaussianMixture,
  rows: readonly (readonly number[])[],
  b: GaussianMixture,
  map: { shift: readonly number[]; scale: number; kappaStart: number },
): number {
  const { k, d } = a.state;
  const { shift, scale, kappaStart } = map;
  expect(b.state.k).toBe(k);
  expect(b.state.nIter).toBe(a.state.nIter);
  const tau = 2 ** (ITERATIONS + 1) * EPS32 * Math.sqrt(rows.length);
  const kappa = conditioning(a, rows).map((v) => Math.max(v, kappaStart));
  const fa = a.fullCovariances();
  const fb = b.fullCovariances();
  const problems: string[] = [];
  for (let c = 0; c < k; c++) {
    if (rows.length * a.state.weights[c]! < 1) continue;
    const l = tryCholesky(fa.subarray(c * d * d, (c + 1) * d * d), d);
    if (l === null) throw new Error(`covariance ${c} of the reference fit is not SPD`);
    const li = invertLowerTriangular(l, d);
    const delta = new Float64Array(d);
    for (let j = 0; j < d; j++)
      delta[j] = (b.state.means[c * d + j]! - shift[j]!) / scale - a.state.means[c * d + j]!;
    const dMean = Math.hypot(...matMul(li, delta, d, d, 1));
    const sb = fb.subarray(c * d * d, (c + 1) * d * d).map((v) => v / (scale * scale));
    const w = matMul(matMul(li, sb, d, d, d), transpose(li, d, d), d, d, d);
    let dCov = 0;
    for (let i = 0; i < d; i++)
      for (let j = 0; j < d; j++) dCov = Math.max(dCov, Math.abs(w[i * d + j]! - (i === j ? 1 : 0)));
    const tol = tau * kappa[c]!;
    if (!(dMean <= tol)) problems.push(`mean ${c}: whitened distance ${dMean} > ${tol} (kappa ${kappa[c]})`);
    if (!(dCov <= tol))
      problems.push(`covariance ${c}: whitened difference ${dCov} > ${tol} (kappa ${kappa[c]})`);
  }
  let dWeight = 0;
  for (let c = 0; c < k; c++)
    dWeight = Math.max(dWeight, Math.abs(b.state.weights[c]! - a.state.weights[c]!));
  const weightTol = tau * Math.max(...kappa);
  if (!(dWeight <= weightTol)) problems.push(`weights differ by ${dWeight} > ${weightTol}`);
  const weighted = kappa.reduce((s, v, c) => s + a.state.weights[c]! * v, 0);
  const boundTol = tau * (Math.abs(a.state.lowerBound) + d + weighted);
  const dBound = Math.abs(b.state.lowerBound + d * Math.log(Math.abs(scale)) - a.state.lowerBound);
  if (!(dBound <= boundTol)) problems.push(`lower bounds differ by ${dBound} > ${boundTol}`);
  if (problems.length > 0) throw new Error(`models differ: ${problems.join('; ')}`);
  return boundTol;
}

describe('property 3: shuffling the rows does not change the fitted model', () => {
  itForEachCell(
    container,
    'shuffle',
    (family, init) =>
      fc.asyncProperty(caseArb(), seedArb, async ({ ds, fit }, permSeed) => {
        const start = await startingPoint(ds, fit, family, init, container);
        const a = await fitOrDiscard(new GaussianMixture(start.options), ds.rows);
        const shuffled = permutation(ds.n, permSeed).map((i) => ds.rows[i]!);
        const b = await fitOrDiscard(new GaussianMixture(start.options), shuffled);
        expectSameModel(a, ds.rows, b, {
          shift: new Array<number>(ds.d).fill(0),
          scale: 1,
          kappaStart: start.kappaStart,
        });
      }),
    runs(15),
  );
});

// Affine maps: x -> c x + t, with t up to 1e4 data scales from the data and c in ±[1e-2, 1e2].
const translationArb = fc.array(
  fc.tuple(fc.integer({ min: -8, max: 16 }), fc.boolean()).map(([e, neg]) => (neg ? -1 : 1) * 10 ** (e / 4)),
  { minLength: 4, maxLength: 4 },
);
const scaleArb = fc
  .tuple(fc.integer({ min: -8, max: 8 }), fc.boolean())
  .map(([e, neg]) => (neg ? -1 : 1) * 10 ** (e / 4));

describe('property 4: translating / scaling the data maps the fitted model accordingly', () => {
  itForEachCell(
    container,
    'translate',
    (family, init) =>
      fc.asyncProperty(caseArb(), translationArb, async ({ ds, fit }, tRel) => {
        const start = await startingPoint(ds, fit, family, init, container);
        const t = tRel.slice(0, ds.d).map((v) => v * ds.scale);
        const a = await fitOrDiscard(new GaussianMixture(start.options), ds.rows);
        const moved = ds.rows.map((row) => row.map((v, j) => v + t[j]!));
        const b = await fitOrDiscard(
          new GaussianMixture({
            ...start.options,
            meansInit: start.means.map((m) => m.map((v, j) => v + t[j]!)),
          }),
          moved,
        );
        const tol = expectSameModel(a, ds.rows, b, { shift: t, scale: 1, kappaStart: start.kappaStart });
        // The log-likelihood is unchanged (mean per row, as the lower bound).
        expect(Math.abs(b.score(moved) - a.score(ds.rows))).toBeLessThanOrEqual(tol);
      }),
    runs(12),
  );

  itForEachCell(
    container,
    'scale',
    (family, init) =>
      fc.asyncProperty(caseArb(), scaleArb, async ({ ds, fit }, c) => {
        const start = await startingPoint(ds, fit, family, init, container);
        const a = await fitOrDiscard(new GaussianMixture(start.options), ds.rows);
        const scaled = ds.rows.map((row) => row.map((v) => c * v));
        // Everything in data units scales: means by c, covariances and regCovar by c², precisions by 1/c².
        const b = await fitOrDiscard(
          new GaussianMixture({
            ...start.options,
            regCovar: (start.base.regCovar ?? 0) * c * c,
            meansInit: start.means.map((m) => m.map((v) => c * v)),
            precisionsInit: start.scaledPrecisions(1 / (c * c)),
          }),
          scaled,
        );
        const tol = expectSameModel(a, ds.rows, b, {
          shift: new Array<number>(ds.d).fill(0),
          scale: c,
          kappaStart: start.kappaStart,
        });
        // The total log-likelihood shifts by -n d ln|c| (tolerance: per row as the lower bound, times n).
        const llA = a.score(ds.rows) * ds.n;
        const llB = b.score(scaled) * ds.n;
        expect(Math.abs(llB - (llA - ds.n * ds.d * Math.log(Math.abs(c))))).toBeLessThanOrEqual(ds.n * tol);
      }),
    runs(12),
  );
});

describe('property 9: integer sample weights fit as the rows replicated that many times', () => {
  itForEachCell(
    container,
    'weights',
    (family, init) =>
      fc.asyncProperty(caseArb(), seedArb, async ({ ds, fit }, weightSeed) => {
        // Weights 0..3 per row, at least one positive row per component.
        const w = permutation(ds.n, weightSeed).map((p) => p % 4);
        fc.pre(w.filter((v) => v > 0).length >= fit.nComponents);
        const replicated = ds.rows.flatMap((row, i) => Array.from({ length: w[i]! }, () => row));
        const start = await startingPoint(ds, fit, family, init, container);
        const a = await fitOrDiscard(new GaussianMixture(start.options), replicated);
        const b = await fitOrDiscard(new GaussianMixture(start.options), ds.rows, { sampleWeight: w });
        const tol = expectSameModel(a, replicated, b, {
          shift: new Array<number>(ds.d).fill(0),
          scale: 1,
          kappaStart: start.kappaStart,
        });
        expect(Math.abs(b.score(ds.rows, { sampleWeight: w }) - a.score(replicated))).toBeLessThanOrEqual(
          tol,
        );
      }),
    runs(8),
  );
});
