/**
 * A new initializer (farthest-point seeding, see farthest-point.ts),
 * registered through the plugin container and used by name: from the API,
 * then from the CLI with `--plugin` and `--init farthest-point`.
 *
 * Run: `pnpm --filter @gmmkit/example-custom-initializer start`
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { pluginModule } from '@gmmkit/core';
import { readTable } from '@gmmkit/cli';
import { GaussianMixture, createGmmContainer } from '@gmmkit/tfjs';
import plugins from './plugins.js';

export const IRIS_CSV = fileURLToPath(new URL('../../../data/iris.csv', import.meta.url));
/** The built plugin module (the CLI loads JavaScript, so this is dist/, also when run from src/). */
export const PLUGIN_MODULE = fileURLToPath(new URL('../dist/plugins.js', import.meta.url));
export const GMM_BIN = path.join(
  path.dirname(createRequire(import.meta.url).resolve('@gmmkit/cli/package.json')),
  'bin',
  'gmm.js',
);

export interface InitRow {
  initParams: string;
  nInit: number;
  /** The initParams recorded in the fitted model's JSON. */
  recorded: string;
  iterations: number;
  converged: boolean;
  /** Final mean log-likelihood lower bound (of the best initialization). */
  lowerBound: number;
}

export interface CustomInitializerResult {
  rows: InitRow[];
  /** The CLI's saved model: its initParams and lower bound. */
  cli: { initParams: string; lowerBound: number } | undefined;
}

export async function run(
  options: { print?: (line: string) => void; withCli?: boolean } = {},
): Promise<CustomInitializerResult> {
  const print = options.print ?? ((line: string) => console.log(line));
  const table = await readTable(IRIS_CSV, { columns: '1-4' });
  const X = { data: table.data, shape: [table.n, table.d] as const };

  // 1. From the API: a container with the built-ins and our initializer bound as a module.
  const container = createGmmContainer(pluginModule(plugins));
  const rows: InitRow[] = [];
  const configs: [string, number][] = [
    ['farthest-point', 1],
    ['farthest-point', 5],
    ['kmeans', 1],
    ['k-means++', 1],
    ['random', 1],
  ];
  for (const [initParams, nInit] of configs) {
    const gmm = await new GaussianMixture({ nComponents: 3, initParams, nInit, container, seed: 0 }).fit(X);
    const s = gmm.state;
    rows.push({
      initParams,
      nInit,
      recorded: gmm.toJSON().options.initParams,
      iterations: s.nIter,
      converged: s.converged,
      lowerBound: s.lowerBound,
    });
    gmm.dispose();
  }
  print(`Iris, 4 measurements (n = ${table.n}), k = 3, full covariances, seed 0`);
  print('');
  print('initializer     nInit  iterations  converged  lower bound (mean log-likelihood)');
  for (const r of rows) {
    const cells = [r.initParams.padEnd(14), String(r.nInit).padStart(5), String(r.iterations).padStart(10)];
    cells.push(String(r.converged).padStart(9), r.lowerBound.toFixed(4).padStart(33));
    print(cells.join('  '));
  }

  // 2. From the CLI: --plugin loads the module, --init names the initializer.
  let cli: CustomInitializerResult['cli'];
  if (options.withCli ?? true) {
    const dir = await mkdtemp(path.join(tmpdir(), 'gmmkit-init-'));
    try {
      const model = path.join(dir, 'model.json');
      const args = [
        'fit',
        IRIS_CSV,
        '-k',
        '3',
        '--columns',
        '1-4',
        '--init',
        'farthest-point',
        '--plugin',
        PLUGIN_MODULE,
      ];
      args.push('-o', model);
      const shown = (a: string) => {
        const rel = path.relative(process.cwd(), a);
        return rel.startsWith('.') ? rel : `./${rel}`;
      };
      print('');
      print(
        `$ gmm ${args.map((a) => (a === model ? 'model.json' : path.isAbsolute(a) ? shown(a) : a)).join(' ')}`,
      );
      await promisify(execFile)(process.execPath, [GMM_BIN, ...args]);
      const file = JSON.parse(await readFile(model, 'utf8')) as {
        plugins: string[];
        gmm: { options: { initParams: string }; lowerBound: number };
      };
      cli = { initParams: file.gmm.options.initParams, lowerBound: file.gmm.lowerBound };
      print(`model.json: initParams '${cli.initParams}', lower bound ${cli.lowerBound.toFixed(4)}`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  return { rows, cli };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  run().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
