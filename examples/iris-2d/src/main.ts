/**
 * Iris in two dimensions: petal length and petal width, k = 3, full covariances.
 *
 * Each component is a 2-D Gaussian with its own mean and covariance matrix
 * (an ellipse). EM gives every flower a posterior probability of belonging
 * to each component (soft clustering); taking the most probable component
 * gives a label (hard clustering). Most flowers are claimed by one component
 * with probability close to 1; the few between versicolor and virginica are
 * not, and those are the points where hard labels hide the doubt.
 *
 * The clusters are compared with the species by the adjusted Rand index
 * (1 = the same partition, about 0 = no better than chance).
 *
 * Run: `pnpm --filter @gmmkit/example-iris-2d start [-- --out DIR]`
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { fitPlotSpec, readRawTable, renderSvg, selectColumns, toNumeric } from '@gmmkit/cli';
import { GaussianMixture } from '@gmmkit/tfjs';

type Spec = Parameters<typeof renderSvg>[0];

export const IRIS_CSV = fileURLToPath(new URL('../../../data/iris.csv', import.meta.url));
export const DEFAULT_OUT_DIR = fileURLToPath(new URL('../out/', import.meta.url));
/** A point is "uncertain" when its most probable component has a posterior below this. */
export const UNCERTAIN_BELOW = 0.9;

export interface Iris2dOptions {
  /** Directory for iris-2d.svg (created if missing). Default: the example's out/. */
  outDir?: string;
  seed?: number;
  print?: (line: string) => void;
}

export interface Iris2dResult {
  n: number;
  /** Hard labels (0-based components, ordered by mean petal length). */
  labels: Int32Array;
  /** Posterior probabilities [n][k], same component order. */
  proba: number[][];
  species: string[];
  /** Component means [k][2] (petal length, petal width), ordered by petal length. */
  means: [number, number][];
  weights: number[];
  /** Rows (0-based) whose largest posterior is below UNCERTAIN_BELOW. */
  uncertain: number[];
  /** Adjusted Rand index of the hard labels against the species. */
  ari: number;
  /** Σ_i r_ik per component (soft counts) and the hard counts. */
  softCounts: number[];
  hardCounts: number[];
  svgPath: string;
}

/**
 * Adjusted Rand index (Hubert & Arabie): agreement of two partitions of the
 * same items, corrected for chance. 1 for identical partitions (up to
 * renaming), about 0 for independent ones.
 */
export function adjustedRandIndex(a: ArrayLike<number | string>, b: ArrayLike<number | string>): number {
  if (a.length !== b.length) throw new Error('partitions must label the same items');
  const n = a.length;
  const table = new Map<string, number>();
  const rows = new Map<string, number>();
  const cols = new Map<string, number>();
  const bump = (m: Map<string, number>, key: string) => m.set(key, (m.get(key) ?? 0) + 1);
  for (let i = 0; i < n; i++) {
    const x = String(a[i]);
    const y = String(b[i]);
    bump(table, JSON.stringify([x, y]));
    bump(rows, x);
    bump(cols, y);
  }
  const pairs = (v: number) => (v * (v - 1)) / 2;
  const sum = (m: Map<string, number>) => [...m.values()].reduce((s, v) => s + pairs(v), 0);
  const index = sum(table);
  const sa = sum(rows);
  const sb = sum(cols);
  const expected = (sa * sb) / pairs(n);
  const max = (sa + sb) / 2;
  if (max === expected) return 1; // both partitions trivial (one cluster, or all singletons)
  return (index - expected) / (max - expected);
}

export async function run(options: Iris2dOptions = {}): Promise<Iris2dResult> {
  const print = options.print ?? ((line: string) => console.log(line));
  const raw = await readRawTable(IRIS_CSV);
  const table = toNumeric(raw, selectColumns(raw, 'Petal.Length,Petal.Width'));
  const speciesColumn = raw.columns.indexOf('Species');
  const species = raw.rows.map((r) => String(r[speciesColumn]));
  const X = { data: table.data, shape: [table.n, 2] as const };

  const gmm = await new GaussianMixture({
    nComponents: 3,
    covarianceType: 'full',
    nInit: 3,
    seed: options.seed ?? 0,
  }).fit(X);
  const s = gmm.state;
  const k = s.k;
  // Name components by increasing mean petal length so the output reads the same on every run.
  const order = [...Array(k).keys()].sort((i, j) => s.means[i * 2]! - s.means[j * 2]!);
  const rank = new Int32Array(k);
  order.forEach((j, r) => (rank[j] = r));
  const means = order.map((j) => [s.means[j * 2]!, s.means[j * 2 + 1]!] as [number, number]);
  const weights = order.map((j) => s.weights[j]!);
  const full = gmm.fullCovariances();
  const covariances = order.map(
    (j) =>
      [
        [full[j * 4]!, full[j * 4 + 1]!],
        [full[j * 4 + 2]!, full[j * 4 + 3]!],
      ] as const,
  );

  const labels = gmm.predict(X).map((j) => rank[j]!);
  const p = gmm.predictProba(X);
  const proba: number[][] = [];
  for (let i = 0; i < p.rows; i++) proba.push(order.map((j) => p.data[i * k + j]!));
  gmm.dispose();

  const uncertain = proba.flatMap((r, i) => (Math.max(...r) < UNCERTAIN_BELOW ? [i] : []));
  const softCounts = [0, 1, 2].map((j) => proba.reduce((acc, r) => acc + r[j]!, 0));
  const hardCounts = [0, 1, 2].map((j) => labels.filter((l) => l === j).length);
  const ari = adjustedRandIndex(labels, species);

  print(`Iris petal length and width (n = ${table.n}), k = 3, full covariances`);
  print(`EM: ${s.nIter} iterations, converged: ${s.converged}`);
  print('');
  print('component  weight  mean length  mean width  hard count  soft count (Σ r)');
  for (let j = 0; j < k; j++) {
    print(
      `${String(j).padEnd(9)}  ${weights[j]!.toFixed(3)}  ${means[j]![0].toFixed(3).padStart(11)}  ${means[
        j
      ]![1].toFixed(3).padStart(
        10,
      )}  ${String(hardCounts[j]).padStart(10)}  ${softCounts[j]!.toFixed(2).padStart(16)}`,
    );
  }
  print('');
  print('species      component 0  component 1  component 2');
  for (const sp of [...new Set(species)]) {
    const counts = [0, 1, 2].map((j) => labels.filter((l, i) => l === j && species[i] === sp).length);
    print(`${sp.padEnd(11)}  ${counts.map((c) => String(c).padStart(11)).join('  ')}`);
  }
  print('');
  print(`adjusted Rand index (hard labels vs species): ${ari.toFixed(3)}`);
  print('');
  print(
    `hard vs soft: ${uncertain.length} of ${table.n} flowers have no component above ${UNCERTAIN_BELOW} posterior probability:`,
  );
  print('  row  length  width  species       p(0)   p(1)   p(2)  hard label');
  for (const i of uncertain) {
    const [x, y] = [table.data[i * 2]!, table.data[i * 2 + 1]!];
    print(
      `  ${String(i + 1).padStart(3)}  ${x.toFixed(1).padStart(6)}  ${y.toFixed(1).padStart(5)}  ${species[i]!.padEnd(11)}  ${proba[
        i
      ]!.map((v) => v.toFixed(3).padStart(5)).join('  ')}  ${labels[i]}`,
    );
  }

  const points = [...Array(table.n).keys()].map(
    (i) => [table.data[i * 2]!, table.data[i * 2 + 1]!] as [number, number],
  );
  const spec = fitPlotSpec({
    xName: 'petal length (cm)',
    yName: 'petal width (cm)',
    points,
    labels,
    means,
    covariances,
    title: 'Iris petals: 3 Gaussian components (1σ and 2σ ellipses), uncertain points ringed',
  });
  addUncertainLayer(
    spec,
    uncertain.map((i) => ({ x: points[i]![0], y: points[i]![1], p: Math.max(...proba[i]!) })),
  );
  const outDir = options.outDir ?? DEFAULT_OUT_DIR;
  await mkdir(outDir, { recursive: true });
  const svgPath = path.join(outDir, 'iris-2d.svg');
  await writeFile(svgPath, await renderSvg(spec));
  print('');
  print(`wrote ${svgPath}`);

  return {
    n: table.n,
    labels,
    proba,
    species,
    means,
    weights,
    uncertain,
    ari,
    softCounts,
    hardCounts,
    svgPath,
  };
}

/** Rings the points whose largest posterior is below UNCERTAIN_BELOW. */
function addUncertainLayer(spec: Spec, values: { x: number; y: number; p: number }[]): void {
  const layered = spec as { layer: unknown[]; width?: number };
  layered.width = 480;
  layered.layer.push({
    data: { values },
    mark: { type: 'point', shape: 'circle', size: 140, strokeWidth: 1.5, color: 'black', filled: false },
    encoding: {
      x: { field: 'x', type: 'quantitative' },
      y: { field: 'y', type: 'quantitative' },
      tooltip: { field: 'p', type: 'quantitative', title: 'largest posterior' },
    },
  });
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
