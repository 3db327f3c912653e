/**
 * A new covariance family (mclust's EEI, see eei.ts), registered through the
 * plugin container and used by name: from the API, then from the CLI with
 * `--plugin`.
 *
 * Run: `pnpm --filter @gmmkit/example-custom-covariance start`
 */
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { registerPlugins } from '@gmmkit/core';
import { readTable } from '@gmmkit/cli';
import { GaussianMixture, createGmmContainer } from '@gmmkit/tfjs';
import plugins from './plugins.js';

export const IRIS_CSV = fileURLToPath(new URL('../../../data/iris.csv', import.meta.url));
/** The built plugin module (the CLI loads JavaScript, so this is dist/, also when run from src/). */
export const PLUGIN_MODULE = fileURLToPath(new URL('../dist/plugins.js', import.meta.url));
/** The gmm binary of the workspace's @gmmkit/cli. */
export const GMM_BIN = path.join(
  path.dirname(createRequire(import.meta.url).resolve('@gmmkit/cli/package.json')),
  'bin',
  'gmm.js',
);

export interface FamilyRow {
  covarianceType: string;
  nParameters: number;
  logLikelihood: number;
  bic: number;
}

export interface CustomCovarianceResult {
  /** The EEI fit: its state's covarianceType and the shared variances. */
  eei: {
    covarianceType: string;
    variances: number[];
    means: number[][];
    weights: number[];
    converged: boolean;
  };
  /** EEI next to the built-in families, same data, k and seed. */
  comparison: FamilyRow[];
  /** What `gmm fit ... --covariance eei --plugin dist/plugins.js --json` printed, parsed. */
  cli: { covarianceType: string; bic: number; logLikelihood: number } | undefined;
}

export async function run(
  options: { print?: (line: string) => void; withCli?: boolean } = {},
): Promise<CustomCovarianceResult> {
  const print = options.print ?? ((line: string) => console.log(line));
  const table = await readTable(IRIS_CSV, { columns: '1-4' });
  const X = { data: table.data, shape: [table.n, table.d] as const };

  // 1. From the API: the built-ins plus our family, in one container.
  const container = createGmmContainer();
  registerPlugins(container, plugins);
  const comparison: FamilyRow[] = [];
  let eeiResult: CustomCovarianceResult['eei'] | undefined;
  for (const covarianceType of ['eei', 'spherical', 'diag', 'tied', 'full']) {
    const gmm = await new GaussianMixture({
      nComponents: 3,
      covarianceType,
      container,
      nInit: 3,
      seed: 0,
    }).fit(X);
    comparison.push({
      covarianceType: gmm.state.covarianceType,
      nParameters: gmm.nParameters(),
      logLikelihood: gmm.score(X) * table.n,
      bic: gmm.bic(X),
    });
    if (covarianceType === 'eei') {
      const s = gmm.state;
      eeiResult = {
        covarianceType: s.covarianceType,
        variances: Array.from(s.covariances),
        means: [0, 1, 2].map((j) => Array.from(s.means.subarray(j * s.d, (j + 1) * s.d))),
        weights: Array.from(s.weights),
        converged: s.converged,
      };
    }
    gmm.dispose();
  }
  const e = eeiResult!;
  print(`Iris, 4 measurements (n = ${table.n}), k = 3, covariance family 'eei' from a plugin`);
  print(`shared variances (${table.columns.join(', ')}): ${e.variances.map((v) => v.toFixed(4)).join(', ')}`);
  print(`weights: ${e.weights.map((w) => w.toFixed(3)).join(', ')}; converged: ${e.converged}`);
  print('');
  print('family     parameters  log-likelihood       BIC');
  for (const r of comparison) {
    print(
      `${r.covarianceType.padEnd(9)}  ${String(r.nParameters).padStart(10)}  ${r.logLikelihood.toFixed(2).padStart(14)}  ${r.bic
        .toFixed(2)
        .padStart(8)}`,
    );
  }

  // 2. From the CLI: the same family by name, loaded with --plugin.
  let cli: CustomCovarianceResult['cli'];
  if (options.withCli ?? true) {
    const args = ['fit', IRIS_CSV, '-k', '3', '--columns', '1-4', '--covariance', 'eei', '--n-init', '3'];
    args.push('--plugin', PLUGIN_MODULE, '--json');
    print('');
    // (A plugin path must start with ./ or / on the command line: a bare name is looked up as a package.)
    const shown = (a: string) => {
      const rel = path.relative(process.cwd(), a);
      return rel.startsWith('.') ? rel : `./${rel}`;
    };
    print(`$ gmm ${args.map((a) => (path.isAbsolute(a) ? shown(a) : a)).join(' ')}`);
    const { stdout } = await promisify(execFile)(process.execPath, [GMM_BIN, ...args]);
    const json = JSON.parse(stdout) as { covarianceType: string; bic: number; logLikelihood: number };
    cli = { covarianceType: json.covarianceType, bic: json.bic, logLikelihood: json.logLikelihood };
    print(
      `covarianceType: ${cli.covarianceType}, log-likelihood: ${cli.logLikelihood.toFixed(2)}, BIC: ${cli.bic.toFixed(2)}`,
    );
  }
  return { eei: e, comparison, cli };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  run().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
