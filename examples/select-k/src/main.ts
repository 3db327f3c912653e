/**
 * Choosing k: a BIC sweep on Old Faithful (eruption duration and waiting
 * time, 272 eruptions).
 *
 * More components always fit the training data at least as well, so the
 * log-likelihood alone cannot pick k. BIC = -2 ln L + p ln n charges every
 * free parameter p; the lowest BIC wins. The sweep fits every (k, family)
 * cell, scores each and keeps the best.
 *
 * Run: `pnpm --filter @gmmkit/example-select-k start [-- --out DIR]`
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { fitPlotSpec, readTable, renderSvg, sweepPlotSpec } from '@gmmkit/cli';
import { formatSweepTable, sweep, type SweepRow } from '@gmmkit/model-selection';

export const FAITHFUL_CSV = fileURLToPath(new URL('../../../data/faithful.csv', import.meta.url));
export const DEFAULT_OUT_DIR = fileURLToPath(new URL('../out/', import.meta.url));

export interface SelectKOptions {
  outDir?: string;
  /** Worker threads for the sweep (default 2; results do not depend on it). */
  workers?: number;
  print?: (line: string) => void;
}

export interface SelectKResult {
  rows: SweepRow[];
  best: SweepRow;
  /** The k with the lowest BIC within each family. */
  bestKByFamily: Record<string, number>;
  table: string;
  sweepSvgPath: string;
  fitSvgPath: string;
}

export async function run(options: SelectKOptions = {}): Promise<SelectKResult> {
  const print = options.print ?? ((line: string) => console.log(line));
  const table = await readTable(FAITHFUL_CSV);
  const X = { data: table.data, shape: [table.n, table.d] as const };

  const result = await sweep({
    data: X,
    k: '1..6',
    criterion: 'bic',
    // Ten restarts, as the scikit-learn reference: tied k = 3 is a narrow optimum
    // that a few k-means starts can miss.
    nInit: 10,
    seed: 0,
    workers: options.workers ?? 2,
  });
  const text = formatSweepTable(result);
  const bestKByFamily: Record<string, number> = {};
  for (const family of new Set(result.rows.map((r) => r.covarianceType))) {
    const rows = result.rows.filter((r) => r.covarianceType === family && r.error === undefined);
    bestKByFamily[family] = rows.reduce((a, b) => (b.score < a.score ? b : a)).k;
  }

  print(
    `Old Faithful (n = ${table.n}, columns ${table.columns.join(', ')}): BIC for k = 1..6 and four covariance families`,
  );
  print('');
  print(text);
  print('');
  print(
    `lowest BIC per family: ${Object.entries(bestKByFamily)
      .map(([f, k]) => `${f} k = ${k}`)
      .join(', ')}`,
  );

  const outDir = options.outDir ?? DEFAULT_OUT_DIR;
  await mkdir(outDir, { recursive: true });
  const sweepSvgPath = path.join(outDir, 'faithful-bic.svg');
  await writeFile(
    sweepSvgPath,
    await renderSvg(
      sweepPlotSpec({
        criterion: 'bic',
        rows: result.rows.map((r) => ({
          k: r.k,
          covarianceType: r.covarianceType,
          value: r.error === undefined ? r.score : null,
        })),
        best: { k: result.best.k, covarianceType: result.best.covarianceType, value: result.best.score },
        title: 'Old Faithful: BIC by number of components',
      }),
    ),
  );

  // The chosen model over the data.
  const model = result.model;
  const s = model.state;
  const full = model.fullCovariances();
  const points = [...Array(table.n).keys()].map(
    (i) => [table.data[i * 2]!, table.data[i * 2 + 1]!] as [number, number],
  );
  const fitSvgPath = path.join(outDir, 'faithful-fit.svg');
  await writeFile(
    fitSvgPath,
    await renderSvg(
      fitPlotSpec({
        xName: `${table.columns[0]} (min)`,
        yName: `${table.columns[1]} (min)`,
        points,
        labels: model.predict(X),
        means: [...Array(s.k).keys()].map((j) => [s.means[j * 2]!, s.means[j * 2 + 1]!] as [number, number]),
        covariances: [...Array(s.k).keys()].map(
          (j) =>
            [
              [full[j * 4]!, full[j * 4 + 1]!],
              [full[j * 4 + 2]!, full[j * 4 + 3]!],
            ] as const,
        ),
        title: `Old Faithful: the lowest-BIC model (${s.covarianceType}, k = ${s.k})`,
      }),
    ),
  );
  model.dispose();
  print(`wrote ${sweepSvgPath}`);
  print(`wrote ${fitSvgPath}`);
  return { rows: result.rows, best: result.best, bestKByFamily, table: text, sweepSvgPath, fitSvgPath };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { out: { type: 'string' } } });
  await run(values.out === undefined ? {} : { outDir: path.resolve(values.out) });
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
