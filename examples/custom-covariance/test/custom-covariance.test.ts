import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { UnknownPluginError } from '@gmmkit/core';
import { GaussianMixture, createGmmContainer } from '@gmmkit/tfjs';
import { describe, expect, it } from 'vitest';
import { GMM_BIN, IRIS_CSV, PLUGIN_MODULE, run } from '../src/main.js';

const exec = promisify(execFile);
const exampleDir = fileURLToPath(new URL('..', import.meta.url));

let apiEei: { logLikelihood: number } | undefined;

describe('examples/custom-covariance', () => {
  it('fits with the plugin family from the API, and EEI sits where its constraints put it', async () => {
    const lines: string[] = [];
    const r = await run({ print: (l) => lines.push(l), withCli: false });
    apiEei = r.comparison.find((row) => row.covarianceType === 'eei');
    expect(r.eei.covarianceType).toBe('eei');
    expect(r.eei.converged).toBe(true);
    // one shared variance per feature (d = 4), all positive
    expect(r.eei.variances).toHaveLength(4);
    expect(r.eei.variances.every((v) => v > 0)).toBe(true);
    const by = Object.fromEntries(r.comparison.map((row) => [row.covarianceType, row]));
    // parameters: 2 weights + 12 means + 4 shared variances
    expect(by['eei']!.nParameters).toBe(18);
    // EEI is a special case of diag (per-component diagonals) and of tied (shared full matrix):
    // with the same data and k its likelihood cannot be clearly above theirs
    expect(by['eei']!.logLikelihood).toBeLessThan(by['diag']!.logLikelihood + 1e-6);
    expect(by['eei']!.logLikelihood).toBeLessThan(by['tied']!.logLikelihood + 1e-6);
    expect(lines.some((l) => l.startsWith('eei '))).toBe(true);
  });

  it('is unknown without the plugin', () => {
    expect(() => new GaussianMixture({ covarianceType: 'eei', container: createGmmContainer() })).toThrow(
      UnknownPluginError,
    );
  });

  it('runs from the CLI with --plugin (fit and a sweep on worker threads), same numbers as the API', async () => {
    // the same fit as run() does through the API: same data, k, nInit and seed
    const fit = await exec(process.execPath, [
      GMM_BIN,
      'fit',
      IRIS_CSV,
      '-k',
      '3',
      '--columns',
      '1-4',
      '--covariance',
      'eei',
      '--n-init',
      '3',
      '--plugin',
      PLUGIN_MODULE,
      '--json',
    ]);
    const cli = JSON.parse(fit.stdout) as { covarianceType: string; logLikelihood: number };
    expect(cli.covarianceType).toBe('eei');
    expect(apiEei).toBeDefined();
    expect(cli.logLikelihood).toBeCloseTo(apiEei!.logLikelihood, 2);

    const sweep = await exec(
      process.execPath,
      [
        GMM_BIN,
        'sweep',
        IRIS_CSV,
        '--columns',
        '1-4',
        '--k',
        '2..3',
        '--covariance',
        'eei,diag',
        '--workers',
        '2',
        '--plugin',
        './' + path.relative(exampleDir, PLUGIN_MODULE),
        '--json',
      ],
      { cwd: exampleDir },
    );
    const json = JSON.parse(sweep.stdout) as {
      results: { k: number; covarianceType: string; bic: number | null }[];
    };
    const eeiRows = json.results.filter((row) => row.covarianceType === 'eei');
    expect(eeiRows.map((row) => row.k)).toEqual([2, 3]);
    expect(eeiRows.every((row) => typeof row.bic === 'number' && Number.isFinite(row.bic))).toBe(true);
  });

  it('the CLI refuses the family without --plugin (exit code 2)', async () => {
    const failed = await exec(process.execPath, [
      GMM_BIN,
      'fit',
      IRIS_CSV,
      '-k',
      '3',
      '--columns',
      '1-4',
      '--covariance',
      'eei',
    ]).then(
      () => undefined,
      (err: { code: number; stderr: string }) => err,
    );
    expect(failed?.code).toBe(2);
    expect(failed?.stderr).toContain('eei');
  });

  it('runs as `node dist/main.js` (the start script)', async () => {
    const { stdout } = await exec(process.execPath, ['dist/main.js'], { cwd: exampleDir });
    expect(stdout).toContain("covariance family 'eei' from a plugin");
    expect(stdout).toMatch(/covarianceType: eei, log-likelihood: -?\d+\.\d\d, BIC: \d+\.\d\d/);
  });
});
