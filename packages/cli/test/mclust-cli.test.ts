/**
 * The CLI with @gmmkit/mclust registered by default: mclust names in fit and
 * sweep, --covariance mclust (14 models, E/V for 1-D data), --bic-sign mclust,
 * and saved models of mclust families read back without --plugin.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { gmm as run } from './helpers/gmm-process.js';

const FIXTURES = fileURLToPath(new URL('../../../fixtures/mclust/', import.meta.url));
const dir = mkdtempSync(path.join(tmpdir(), 'gmm-mclust-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const gmm = (args: string[]) => run(args, { cwd: dir });

const iris = path.join(FIXTURES, 'iris.csv');

describe('gmm with mclust models', () => {
  it('sweep --covariance mclust runs the 14 models; --bic-sign mclust prints 2 LL - p ln n', async () => {
    const [json, table] = await Promise.all([
      gmm(['sweep', iris, '--k', '1..2', '--covariance', 'mclust', '--workers', '0', '--json']),
      gmm(['sweep', iris, '--k', '1..2', '--covariance', 'mclust', '--workers', '0', '--bic-sign', 'mclust']),
    ]);
    expect(json.code, json.stderr).toBe(0);
    const out = JSON.parse(json.stdout) as { best: { bic: number; covarianceType: string; k: number }; results: { covarianceType: string }[] };
    const families = [...new Set(out.results.map((r) => r.covarianceType))];
    expect(families).toEqual(['EII', 'spherical', 'EEI', 'VEI', 'EVI', 'diag', 'tied', 'VEE', 'EVE', 'VVE', 'EEV', 'VEV', 'EVV', 'full']);
    // mclust's best model on iris is VEV with k = 2
    expect([out.best.covarianceType, out.best.k]).toEqual(['VEV', 2]);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toContain("bic: higher is better (mclust's sign");
    expect(table.stdout).toContain(`best: VEV, k = 2 (bic = ${(-out.best.bic).toFixed(2)},`);
  });

  it('fit --covariance EEV and VVV; the saved model reads back without --plugin', async () => {
    const fit = await gmm(['fit', iris, '-k', '2', '--covariance', 'EEV', '-o', 'eev.json', '--json']);
    expect(fit.code, fit.stderr).toBe(0);
    const inspect = await gmm(['inspect', 'eev.json']);
    expect(inspect.code, inspect.stderr).toBe(0);
    expect(inspect.stdout).toContain('EEV');
    const vvv = await gmm(['fit', iris, '-k', '2', '--covariance', 'VVV', '--json']);
    expect(vvv.code, vvv.stderr).toBe(0);
  });

  it('1-D data: --covariance mclust is E and V', async () => {
    const r = await gmm(['sweep', path.join(FIXTURES, 'acidity.csv'), '--k', '1..3', '--covariance', 'mclust', '--workers', '0', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { best: { covarianceType: string; k: number }; results: { covarianceType: string }[] };
    expect([...new Set(out.results.map((x) => x.covarianceType))]).toEqual(['E', 'V']);
    expect([out.best.covarianceType, out.best.k]).toEqual(['E', 2]); // mclust's choice on acidity
  });

  it("--start-from VVE=EVE,VEE,VVV,VVI reaches mclust's VVE optimum on banknote k = 5, which hc alone misses", { timeout: 300_000 }, async () => {
    // mclust's settings (its hc start, no regularization or re-seeding, tol 1e-5); mclust's own VVE k = 5 BIC from the fixture
    const banknote = path.join(FIXTURES, 'banknote.csv');
    const fixture = JSON.parse(readFileSync(path.join(FIXTURES, 'banknote.json'), 'utf8')) as { bic: Record<string, (number | null)[]> };
    const mclustBic = fixture.bic['VVE']![4]!;
    const args = ['sweep', banknote, '-k', '5', '--covariance', 'VVE,EVE,VEE,VVV,VVI', '--init', 'hc', '--tol', '1e-5', '--reg-covar', '0', '--reseeds', '0', '--max-iter', '1000', '--workers', '0', '--bic-sign', 'mclust', '--json'];
    const [plain, crossed] = await Promise.all([gmm(args), gmm([...args, '--start-from', 'VVE=EVE,VEE,VVV,VVI'])]);
    for (const r of [plain, crossed]) expect(r.code, r.stderr).toBe(0);
    type Row = { covarianceType: string; bic: number; startedFrom?: string };
    const vve = (r: { stdout: string }) => (JSON.parse(r.stdout) as { results: Row[] }).results.find((row) => row.covarianceType === 'VVE')!;
    // --json keeps gmmkit's sign (lower is better): mclust's BIC is its negative
    expect(-vve(plain).bic).toBeLessThan(mclustBic);
    expect(-vve(crossed).bic).toBeGreaterThanOrEqual(mclustBic - 0.05);
    expect(['EVE', 'VEE', 'VVV', 'VVI']).toContain(vve(crossed).startedFrom);
    const bad = await gmm(['sweep', banknote, '-k', '5', '--covariance', 'VVE,EVE', '--start-from', 'VVE']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--start-from 'VVE': expected FAMILY=SOURCE/);
  });

  it('--start-from names an unknown family or one not in --covariance: a one-line usage error', async () => {
    const banknote = path.join(FIXTURES, 'banknote.csv');
    const base = ['sweep', banknote, '-k', '2', '--covariance', 'VVE,EVE', '--workers', '0'];
    const [unknown, unlisted] = await Promise.all([gmm([...base, '--start-from', 'VVE=XYZ']), gmm([...base, '--start-from', 'VVE=EVE,full'])]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown covariance family 'XYZ'/);
    expect(unlisted.code).toBe(2);
    expect(unlisted.stderr).toMatch(/--start-from names 'full', which is not in --covariance \(VVE, EVE\)/);
    for (const r of [unknown, unlisted]) expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('rejects a bad --bic-sign and a multivariate E with one-line errors', async () => {
    const [sign, e] = await Promise.all([
      gmm(['sweep', iris, '--k', '1', '--bic-sign', 'sas']),
      gmm(['fit', iris, '-k', '2', '--covariance', 'E']),
    ]);
    expect(sign.code).toBe(2);
    expect(sign.stderr).toMatch(/bic-sign/);
    expect(e.code).not.toBe(0);
    expect(e.stderr).toContain("'E' is mclust's univariate model");
    expect(e.stderr.trim().split('\n')).toHaveLength(1);
  });
});
