// Parity with scikit-learn 1.2.1's GaussianMixture on the fixtures written by
// fixtures/generate.py (see fixtures/README.md). For every dataset x covariance
// type we start EM from exactly the initial parameters scikit-learn used
// (its own k-means initialization, stored in the fixture) with the same tol,
// regCovar and maxIter, and compare the fitted model. A second check fits with
// nInit=10 (seed 0) and requires at least scikit-learn's best-of-10 score.
//
// Tolerances (the engine runs the N-sized work in float32, scikit-learn in float64):
// - score (mean log-likelihood) and every lower bound: |a - b| <= 1e-4 |b|.
// - weights: |a - b| <= 1e-3 b.
// - means: compared in centered coordinates (data minus the column mean, as the
//   engine works), |a - b| <= 1e-3 * max(|b - mean_j|, sd_j). A plain relative
//   tolerance would be meaningless for mix5d, whose data sit ~1000 from the
//   origin with component scales of 0.5: 1e-3 * 1000 = 1 would accept anything.
// - covariances: |a - b| <= 1e-3 * max(|b_ij|, sqrt(b_ii b_jj)), i.e. relative for
//   variances and relative to the correlation scale for off-diagonal entries
//   (which may be near zero); diag and spherical entries are variances.
// - bic/aic: the parameter count implied by bic - aic must equal scikit-learn's,
//   bic and aic must be those of the engine's own score, and they may differ from
//   scikit-learn's only by what the score tolerance allows (2 n * 1e-4 |score|).
// - predictProba of the first 5 rows: |a - b| <= 5e-3 (a posterior moves by at most
//   a quarter of its log-odds error, which parameters within 1e-3 keep well below this).
// - nIter and converged must match: the fixtures record scikit-learn's lower
//   bound at every iteration, and the margins to tol are printed on failure.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GaussianMixture } from '../src/index.js';
import { tf } from '../src/runtime/index.js';

type Matrix = number[][];
type CovLayout = number[] | number[][] | number[][][];

interface FixtureCase {
  covarianceType: 'full' | 'tied' | 'diag' | 'spherical';
  init: { weights: number[]; means: Matrix; precisions: CovLayout };
  result: {
    weights: number[];
    means: Matrix;
    covariances: CovLayout;
    precisionsCholesky: CovLayout;
    converged: boolean;
    nIter: number;
    lowerBound: number;
    lowerBoundHistory: number[];
    score: number;
    bic: number;
    aic: number;
    nParameters: number;
    nSamples: number;
    predictProbaHead: Matrix;
  };
  bestOf: { nInit: number; randomState: number; score: number; lowerBound: number; converged: boolean };
}

interface DatasetFixture {
  dataset: string;
  n: number;
  d: number;
  k: number;
  options: { tol: number; regCovar: number; maxIter: number };
  X: Matrix;
  cases: FixtureCase[];
}

const FIXTURES = new URL('../../../fixtures/sklearn/', import.meta.url);
const index = JSON.parse(readFileSync(new URL('index.json', FIXTURES), 'utf8')) as { datasetFiles: string[] };
const datasets: DatasetFixture[] = index.datasetFiles.map(
  (f) => JSON.parse(readFileSync(new URL(f, FIXTURES), 'utf8')) as DatasetFixture,
);

const flat = (a: CovLayout): number[] => (a as unknown[]).flat(2) as number[];

/** Collects every entry outside its tolerance, so one failure reports them all. */
function mismatches(
  got: ArrayLike<number>,
  want: readonly number[],
  tolOf: (i: number) => number,
  label: (i: number) => string,
): string[] {
  const out: string[] = [];
  if (got.length !== want.length) return [`length ${got.length} != ${want.length}`];
  for (let i = 0; i < want.length; i++) {
    const a = got[i]!;
    const b = want[i]!;
    const tol = tolOf(i);
    if (!(Math.abs(a - b) <= tol))
      out.push(
        `${label(i)}: got ${a}, sklearn ${b}, |diff| ${Math.abs(a - b).toExponential(2)} > tol ${tol.toExponential(2)}`,
      );
  }
  return out;
}

function worstRatio(got: ArrayLike<number>, want: readonly number[], tolOf: (i: number) => number): number {
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!) / tolOf(i));
  return worst;
}

/** Per-entry covariance tolerances: 1e-3 of max(|b_ij|, sqrt(b_ii b_jj)). */
function covarianceTolerances(type: string, want: readonly number[], k: number, d: number): number[] {
  const rel = 1e-3;
  if (type === 'diag' || type === 'spherical') return want.map((b) => rel * Math.abs(b));
  const blocks = type === 'tied' ? 1 : k;
  const tols: number[] = [];
  for (let c = 0; c < blocks; c++) {
    const o = c * d * d;
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) {
        const b = want[o + i * d + j]!;
        const scale = Math.sqrt(Math.abs(want[o + i * d + i]! * want[o + j * d + j]!));
        tols.push(rel * Math.max(Math.abs(b), scale));
      }
    }
  }
  return tols;
}

function columnStats(X: Matrix): { mean: number[]; sd: number[] } {
  const n = X.length;
  const d = X[0]!.length;
  const mean = new Array<number>(d).fill(0);
  const sd = new Array<number>(d).fill(0);
  for (const row of X) for (let j = 0; j < d; j++) mean[j]! += row[j]! / n;
  for (const row of X) for (let j = 0; j < d; j++) sd[j]! += (row[j]! - mean[j]!) ** 2 / n;
  return { mean, sd: sd.map(Math.sqrt) };
}

function historyMargins(h: readonly number[], tol: number): string {
  const changes = h.slice(1).map((v, i) => v - h[i]!);
  return changes.map((c) => `${c.toExponential(2)} (${(c / tol).toFixed(3)} tol)`).join(', ');
}

interface FixedInitFit {
  backend: string;
  state: {
    weights: Float64Array;
    means: Float64Array;
    covariances: Float64Array;
    converged: boolean;
    nIter: number;
    lowerBound: number;
    lowerBoundHistory: number[];
  };
  score: number;
  bic: number;
  aic: number;
  probaHead: { rows: number; cols: number; data: Float64Array };
}

const summary: string[] = [];

afterAll(() => {
  // A one-screen table of what was measured, for the report.
  if (summary.length > 0) console.log(['sklearn parity (ours vs sklearn):', ...summary].join('\n'));
});

for (const ds of datasets) {
  const { mean: colMean, sd: colSd } = columnStats(ds.X);
  const { k, d, n } = ds;

  describe(`${ds.dataset} (n=${n}, d=${d}, k=${k})`, () => {
    for (const c of ds.cases) {
      describe(c.covarianceType, () => {
        describe("from sklearn's initial parameters (tol, regCovar, maxIter as sklearn)", () => {
          let fit: FixedInitFit;
          const ref = c.result;

          beforeAll(async () => {
            const gm = new GaussianMixture({
              nComponents: k,
              covarianceType: c.covarianceType,
              tol: ds.options.tol,
              regCovar: ds.options.regCovar,
              maxIter: ds.options.maxIter,
              nInit: 1,
              weightsInit: c.init.weights,
              meansInit: c.init.means,
              precisionsInit: c.init.precisions,
              seed: 0,
            });
            try {
              await gm.fit(ds.X);
              const s = gm.state!;
              fit = {
                backend: tf.getBackend(),
                state: {
                  weights: Float64Array.from(s.weights),
                  means: Float64Array.from(s.means),
                  covariances: Float64Array.from(s.covariances),
                  converged: s.converged,
                  nIter: s.nIter,
                  lowerBound: s.lowerBound,
                  lowerBoundHistory: [...s.lowerBoundHistory],
                },
                score: gm.score(ds.X),
                bic: gm.bic(ds.X),
                aic: gm.aic(ds.X),
                probaHead: gm.predictProba(ds.X.slice(0, 5)),
              };
            } finally {
              gm.dispose();
            }
            const relScore = (fit.score - ref.score) / Math.abs(ref.score);
            // Worst error as a fraction of its tolerance (1 = at the limit), for the summary.
            const wantCov = flat(ref.covariances);
            const covTols = covarianceTolerances(c.covarianceType, wantCov, k, d);
            const meanTol = (i: number): number =>
              1e-3 * Math.max(Math.abs(ref.means.flat()[i]! - colMean[i % d]!), colSd[i % d]!);
            summary.push(
              `${ds.dataset.padEnd(16)} ${c.covarianceType.padEnd(9)} [${fit.backend}] score ${fit.score.toFixed(7)} vs ${ref.score.toFixed(7)} ` +
                `(rel ${relScore.toExponential(1)}), nIter ${fit.state.nIter} vs ${ref.nIter}, ` +
                `worst/tol means ${worstRatio(fit.state.means, ref.means.flat(), meanTol).toExponential(1)} ` +
                `covariances ${worstRatio(fit.state.covariances, wantCov, (i) => covTols[i]!).toExponential(1)}`,
            );
          });

          it('score (mean log-likelihood) within 1e-4 relative', () => {
            expect(Math.abs(fit.score - ref.score)).toBeLessThanOrEqual(1e-4 * Math.abs(ref.score));
          });

          it('same iteration count, convergence flag and lower-bound trajectory', () => {
            const ours = fit.state.lowerBoundHistory;
            const theirs = ref.lowerBoundHistory;
            const detail =
              `ours nIter=${fit.state.nIter} converged=${fit.state.converged} history=[${ours.join(', ')}]\n` +
              `sklearn nIter=${ref.nIter} converged=${ref.converged} history=[${theirs.join(', ')}]\n` +
              `sklearn changes: ${historyMargins(theirs, ds.options.tol)}`;
            const m = ours.length;
            const common = Math.min(m, theirs.length);
            const bad = mismatches(
              ours.slice(0, common),
              theirs.slice(0, common),
              (i) => 1e-4 * Math.abs(theirs[i]!),
              (i) => `iteration ${i + 1}`,
            );
            expect(bad, `${bad.join('\n')}\n${detail}`).toEqual([]);
            expect(fit.state.nIter, detail).toBe(ref.nIter);
            expect(fit.state.converged, detail).toBe(ref.converged);
            expect(Math.abs(fit.state.lowerBound - ref.lowerBound), detail).toBeLessThanOrEqual(
              1e-4 * Math.abs(ref.lowerBound),
            );
          });

          it('weights within 1e-3 relative, means within 1e-3 of the column scale', () => {
            const bad = [
              ...mismatches(
                fit.state.weights,
                ref.weights,
                (i) => 1e-3 * ref.weights[i]!,
                (i) => `weight[${i}]`,
              ),
              ...mismatches(
                fit.state.means,
                ref.means.flat(),
                (i) => {
                  const j = i % d;
                  return 1e-3 * Math.max(Math.abs(ref.means.flat()[i]! - colMean[j]!), colSd[j]!);
                },
                (i) => `mean[${Math.floor(i / d)}][${i % d}]`,
              ),
            ];
            expect(bad, bad.join('\n')).toEqual([]);
          });

          it('covariances within 1e-3 of the matrix scale', () => {
            const want = flat(ref.covariances);
            const tols = covarianceTolerances(c.covarianceType, want, k, d);
            const bad = mismatches(
              fit.state.covariances,
              want,
              (i) => tols[i]!,
              (i) => `covariances[${i}]`,
            );
            expect(bad, bad.join('\n')).toEqual([]);
          });

          it('bic and aic consistent with the fixture', () => {
            const lnN = Math.log(n);
            // bic - aic = p (ln n - 2): the engine's parameter count, exactly.
            const p = (fit.bic - fit.aic) / (lnN - 2);
            expect(p).toBeCloseTo(ref.nParameters, 4);
            // Both from the engine's own likelihood (bic/aic on the training rows), to float64 round-off.
            const ownBic = -2 * n * fit.score + ref.nParameters * lnN;
            const ownAic = -2 * n * fit.score + 2 * ref.nParameters;
            expect(Math.abs(fit.bic - ownBic)).toBeLessThanOrEqual(1e-9 * Math.abs(ownBic));
            expect(Math.abs(fit.aic - ownAic)).toBeLessThanOrEqual(1e-9 * Math.abs(ownAic));
            const allowed = 2 * n * 1e-4 * Math.abs(ref.score);
            expect(Math.abs(fit.bic - ref.bic)).toBeLessThanOrEqual(allowed);
            expect(Math.abs(fit.aic - ref.aic)).toBeLessThanOrEqual(allowed);
          });

          it('predictProba of the first 5 rows within 5e-3', () => {
            expect([fit.probaHead.rows, fit.probaHead.cols]).toEqual([5, k]);
            const want = ref.predictProbaHead.flat();
            const bad = mismatches(
              fit.probaHead.data,
              want,
              () => 5e-3,
              (i) => `proba[${Math.floor(i / k)}][${i % k}]`,
            );
            expect(bad, bad.join('\n')).toEqual([]);
          });
        });

        it(`nInit=10 (seed 0) reaches sklearn's best-of-10 score within 1e-3 relative`, async () => {
          const gm = new GaussianMixture({
            nComponents: k,
            covarianceType: c.covarianceType,
            tol: ds.options.tol,
            regCovar: ds.options.regCovar,
            maxIter: ds.options.maxIter,
            nInit: c.bestOf.nInit,
            seed: 0,
          });
          let score: number;
          try {
            await gm.fit(ds.X);
            score = gm.score(ds.X);
          } finally {
            gm.dispose();
          }
          const floor = c.bestOf.score - 1e-3 * Math.abs(c.bestOf.score);
          summary.push(
            `${ds.dataset.padEnd(16)} ${c.covarianceType.padEnd(9)} best-of-10 score ${score.toFixed(7)} vs sklearn ${c.bestOf.score.toFixed(7)}`,
          );
          expect(score, `ours ${score}, sklearn best-of-10 ${c.bestOf.score}`).toBeGreaterThanOrEqual(floor);
        });
      });
    }
  });
}
