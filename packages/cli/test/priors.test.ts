/**
 * gmm fit --bayesian and --prior, gmm sweep --prior, in-process through
 * main(): the Bayesian model file round-trips through predict, score, sample
 * and inspect; the numbers are checked against the scikit-learn and mclust
 * fixtures (fixtures/sklearn/bayesian.json, fixtures/mclust/prior.json).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { run, tempWorkingDir } from './helpers/in-process.js';

const root = new URL('../../../', import.meta.url);
const faithful = path.join(root.pathname, 'data', 'faithful.csv');
const bayesianFixture = JSON.parse(readFileSync(new URL('fixtures/sklearn/bayesian.json', root), 'utf8')) as {
  datasets: { dataset: string; cases: { covarianceType: string; weightConcentrationPriorType: string; result: { effectiveComponents: number; lowerBound: number } }[] }[];
};
const mclust = JSON.parse(readFileSync(new URL('fixtures/mclust/prior.json', root), 'utf8')) as {
  datasets: { dataset: string; n: number; models: { model: string; cases: { G: number; bicFromLoglik: number }[] }[]; best: { model: string; G: number } }[];
};

tempWorkingDir('gmm-priors-');

describe('gmm fit --bayesian', () => {
  it('reports the effective number of components and writes a model that predict, score, sample and inspect read', async () => {
    const want = bayesianFixture.datasets
      .find((d) => d.dataset === 'faithful')!
      .cases.find((c) => c.covarianceType === 'full' && c.weightConcentrationPriorType === 'dirichlet-process')!.result;
    const fit = await run('fit', faithful, '-k', '6', '--bayesian', '--n-init', '3', '--max-iter', '500', '--json', '-o', 'bgm.json');
    expect(fit.code, fit.stderr).toBe(0);
    const r = JSON.parse(fit.stdout) as { k: number; bic: null; bayesian: { effectiveComponents: number; weightConcentrationPriorType: string; lowerBound: number }; weights: number[] };
    expect(r.k).toBe(6);
    expect(r.bic).toBeNull();
    expect(r.bayesian.weightConcentrationPriorType).toBe('dirichlet-process');
    // scikit-learn (from its own k-means start) keeps 2 of 6; so does the best of 3 restarts here
    expect(r.bayesian.effectiveComponents).toBe(want.effectiveComponents);
    expect(Number.isFinite(r.bayesian.lowerBound)).toBe(true);
    expect(r.weights.filter((w) => w > 0.01)).toHaveLength(r.bayesian.effectiveComponents);

    const text = await run('fit', faithful, '-k', '6', '--bayesian', '--weight-prior-type', 'dirichlet-distribution', '--weight-concentration-prior', '0.5');
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/Bayesian 'full' Gaussian mixture \(at most 6 components, dirichlet-distribution prior\)/);
    expect(text.stdout).toMatch(/effective components:\s+\d of 6 \(weight > 0\.01\)/);

    const predict = await run('predict', 'bgm.json', faithful, '--proba');
    expect(predict.code, predict.stderr).toBe(0);
    // a header and one row of 6 probabilities (summing to 1) per data row
    const probaRows = predict.stdout.trim().split('\n').slice(1).map((l) => l.split(',').map(Number));
    expect(probaRows).toHaveLength(272);
    for (const row of probaRows.slice(0, 5)) expect(Math.abs(row.slice(-6).reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-6);
    const score = await run('score', 'bgm.json', faithful, '--json');
    expect(score.code, score.stderr).toBe(0);
    const s = JSON.parse(score.stdout) as { bic: null; meanLogLikelihood: number };
    expect(s.bic).toBeNull();
    expect(Number.isFinite(s.meanLogLikelihood)).toBe(true);
    const sample = await run('sample', 'bgm.json', '-n', '20', '--seed', '1', '-o', 'draws.csv');
    expect(sample.code, sample.stderr).toBe(0);
    expect(readFileSync('draws.csv', 'utf8').trim().split('\n')).toHaveLength(21);
    const inspect = await run('inspect', 'bgm.json', '--json');
    expect(inspect.code, inspect.stderr).toBe(0);
    const info = JSON.parse(inspect.stdout) as { bayesian: { effectiveComponents: number } };
    expect(info.bayesian.effectiveComponents).toBe(r.bayesian.effectiveComponents);
    const inspectText = await run('inspect', 'bgm.json');
    expect(inspectText.stdout).toMatch(/Bayesian, dirichlet-process prior: \d with weight > 0\.01/);
  }, 120_000);

  it('refuses flag combinations that do not apply, in one line', async () => {
    const cases: [string[], RegExp][] = [
      [['--weight-concentration-prior', '1'], /--weight-concentration-prior needs --bayesian/],
      [['--bayesian', '--prior', 'default'], /--bayesian and --prior are two different priors/],
      [['--prior', 'default', '--stream', '--missing', 'marginalize'], /prior with missing: 'marginalize' is not supported/],
      [['--bayesian', '--weight-prior-type', 'dirichlet'], /weight-prior-type/],
      [['--bayesian', '--mean-precision-prior', '0'], /--mean-precision-prior must be a finite number > 0/],
      [['--prior-dof', '5'], /need --prior default/],
      [['--prior', 'default', '--prior-mean', '1,x'], /--prior-mean must be comma-separated numbers/],
      [['--prior', 'default', '--covariance', 'EEI'], /prior supports --covariance full \(VVV\), tied \(EEE\), diag \(VVI\), spherical \(VII\); got 'EEI'/],
    ];
    for (const [flags, message] of cases) {
      const r = await run('fit', faithful, '-k', '2', ...flags);
      expect(r.code, r.stderr).not.toBe(0);
      expect(r.stdout).toBe('');
      expect(r.stderr.trimEnd().split('\n'), r.stderr).toHaveLength(1);
      expect(r.stderr).toMatch(message);
    }
  });
});

describe('--prior default (MAP EM, mclust)', () => {
  const ds = mclust.datasets.find((d) => d.dataset === 'faithful')!;

  it('gmm fit --prior default reports BIC at the MAP log-likelihood, as mclust for the same fit', async () => {
    const r = await run('fit', faithful, '-k', '2', '--covariance', 'full', '--prior', 'default', '--n-init', '5', '--tol', '1e-6', '--max-iter', '500', '--reg-covar', '0', '--json');
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { bic: number; prior: string };
    expect(j.prior).toBe('default');
    const want = -ds.models.find((m) => m.model === 'VVV')!.cases[1]!.bicFromLoglik;
    // faithful's 2-component VVV optimum is well separated: every start finds mclust's
    expect(Math.abs(j.bic - want)).toBeLessThanOrEqual(1e-4 * (Math.abs(want) + ds.n));
  }, 60_000);

  // mclust's choice over k = 1..9 is EEE (tied) 3; k = 1..6 keeps the run short. Ten restarts, as the
  // select-k example needs for faithful's tied k = 3 without a prior (five find a worse tied 3 here).
  it("gmm sweep --prior default chooses mclust's model and k on faithful", async () => {
    writeFileSync('faithful.csv', readFileSync(faithful));
    const r = await run('sweep', 'faithful.csv', '--k', '1..6', '--prior', 'default', '--n-init', '10', '--reg-covar', '0', '--json');
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { best: { k: number; covarianceType: string } };
    const family = { VVV: 'full', EEE: 'tied', VVI: 'diag', VII: 'spherical' }[ds.best.model];
    expect([j.best.covarianceType, j.best.k]).toEqual([family, ds.best.G]);
  }, 300_000);

  // With mclust's settings (its hc start, one start, reg-covar 0, and --tol 1e-5 per row, about mclust's
  // relative 1e-5 on these datasets) the sweep is mclustBIC's: on diabetes it chooses VVV 4 as mclust,
  // where ten k-means starts find a better VVV 3 optimum (BIC 4781.6 against mclust's 4837.3 for k = 3).
  it.each([
    ['iris', ['--columns', '1-4']],
    ['faithful', []],
    ['diabetes', ['--columns', '2-4']],
  ])("gmm sweep --prior default --init hc chooses mclust's model and k on %s, at mclust's BIC", async (name, columns) => {
    const want = mclust.datasets.find((d) => d.dataset === name)!;
    const file = path.join(root.pathname, 'data', `${name}.csv`);
    const r = await run('sweep', file, ...columns, '--k', '1..9', '--covariance', 'full,tied,diag,spherical', '--prior', 'default', '--init', 'hc', '--n-init', '1', '--tol', '1e-5', '--reg-covar', '0', '--max-iter', '1000', '--json');
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { best: { k: number; covarianceType: string; bic: number } };
    const family = { VVV: 'full', EEE: 'tied', VVI: 'diag', VII: 'spherical' }[want.best.model];
    expect([j.best.covarianceType, j.best.k]).toEqual([family, want.best.G]);
    const bic = -want.models.find((m) => m.model === want.best.model)!.cases[want.best.G - 1]!.bicFromLoglik;
    expect(Math.abs(j.best.bic - bic)).toBeLessThanOrEqual(1e-4 * (Math.abs(bic) + want.n));
  }, 300_000);
});

describe('gmm fit --stream with --bayesian and --prior', () => {
  // faithful (272 rows) fits in the stream's sample: the sample fit is the in-memory fit,
  // and the passes (the same estimator's EM steps over blocks) confirm it.
  it.each([
    [['--bayesian', '-k', '6'], 'bayesian'],
    [['--prior', 'default', '-k', '3'], 'prior'],
  ])('%j: the streamed fit equals the in-memory one', async (flags, kind) => {
    const common = [faithful, ...flags, '--tol', '1e-8', '--max-iter', '1000', '--seed', '2', '--json'];
    const memory = await run('fit', ...common);
    const streamed = await run('fit', ...common, '--stream', '--chunk-rows', '50', '-o', `${kind}-stream.json`);
    expect(memory.code, memory.stderr).toBe(0);
    expect(streamed.code, streamed.stderr).toBe(0);
    type Fit = { weights: number[]; means: number[][]; logLikelihood: number; prior?: string; bayesian?: { effectiveComponents: number } };
    const a = JSON.parse(memory.stdout) as Fit;
    const b = JSON.parse(streamed.stdout) as Fit;
    expect(b.prior).toBe(a.prior);
    expect(b.bayesian?.effectiveComponents).toBe(a.bayesian?.effectiveComponents);
    b.weights.forEach((w, j) => expect(Math.abs(w - a.weights[j]!)).toBeLessThan(1e-4));
    b.means.flat().forEach((v, i) => expect(Math.abs(v - a.means.flat()[i]!)).toBeLessThan(1e-3 * (1 + Math.abs(v))));
    expect(Math.abs(b.logLikelihood - a.logLikelihood)).toBeLessThan(1e-3 * Math.abs(a.logLikelihood));
    const inspect = await run('inspect', `${kind}-stream.json`, '--json');
    expect(inspect.code, inspect.stderr).toBe(0);
    expect(inspect.stdout.includes('"bayesian"')).toBe(kind === 'bayesian');
  }, 120_000);
});
