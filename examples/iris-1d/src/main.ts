/**
 * Iris in one dimension: a mixture of three Gaussians fitted to petal width.
 *
 * A histogram of petal width has three bumps (setosa's narrow petals, then
 * versicolor, then virginica, which overlap). A Gaussian mixture models the
 * density as a weighted sum of k normal densities,
 *
 *   p(x) = Σ_k w_k N(x | μ_k, σ²_k),
 *
 * and EM finds the weights, means and variances that maximize the
 * log-likelihood Σ_i log p(x_i). This example prints the fitted components
 * and draws the histogram with p(x) and each weighted component w_k N(x | μ_k, σ²_k).
 *
 * Run: `pnpm --filter @gmmkit/example-iris-1d start [-- --out DIR]`
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { readTable, renderSvg } from '@gmmkit/cli';
import { GaussianMixture } from '@gmmkit/tfjs';

type Spec = Parameters<typeof renderSvg>[0];

export const IRIS_CSV = fileURLToPath(new URL('../../../data/iris.csv', import.meta.url));
export const DEFAULT_OUT_DIR = fileURLToPath(new URL('../out/', import.meta.url));

export interface Component {
  mean: number;
  variance: number;
  weight: number;
}

export interface Iris1dOptions {
  /** Directory for iris-1d.svg (created if missing). Default: the example's out/. */
  outDir?: string;
  /** Seed of the fit (default 0). */
  seed?: number;
  /** Where the report lines go (default console.log). */
  print?: (line: string) => void;
}

export interface Iris1dResult {
  /** The three components, sorted by mean. */
  components: Component[];
  /** Total log-likelihood Σ_i log p(x_i). */
  logLikelihood: number;
  converged: boolean;
  iterations: number;
  n: number;
  svgPath: string;
  /** EM from a random start: the mean log-likelihood lower bound after each iteration. */
  emTrace: number[];
  emSvgPath: string;
}

/** Iterations shown in the EM figure. */
export const EM_SNAPSHOTS = [1, 2, 5, 20, 50, 150];

/** Normal density N(x | mean, variance). */
export function normalPdf(x: number, mean: number, variance: number): number {
  return Math.exp(-((x - mean) ** 2) / (2 * variance)) / Math.sqrt(2 * Math.PI * variance);
}

export async function run(options: Iris1dOptions = {}): Promise<Iris1dResult> {
  const print = options.print ?? ((line: string) => console.log(line));
  const table = await readTable(IRIS_CSV, { columns: 'Petal.Width' });
  const x = Array.from(table.data);

  const gmm = await new GaussianMixture({
    nComponents: 3,
    covarianceType: 'full',
    nInit: 3,
    seed: options.seed ?? 0,
  }).fit({
    data: table.data,
    shape: [table.n, 1],
  });
  const s = gmm.state;
  // In one dimension every family's covariance is a single number per component; fullCovariances() gives [k, 1, 1].
  const variances = gmm.fullCovariances();
  const components: Component[] = [];
  for (let j = 0; j < s.k; j++)
    components.push({ mean: s.means[j]!, variance: variances[j]!, weight: s.weights[j]! });
  components.sort((a, b) => a.mean - b.mean);
  const logLikelihood = gmm.score({ data: table.data, shape: [table.n, 1] }) * table.n;

  print(`Iris petal width (n = ${table.n}), Gaussian mixture with k = 3`);
  print(`EM: ${s.nIter} iterations, converged: ${s.converged}, log-likelihood ${logLikelihood.toFixed(2)}`);
  print('');
  print('component    mean  variance  std.dev  weight');
  components.forEach((c, j) => {
    print(
      `${String(j + 1).padEnd(9)} ${c.mean.toFixed(3).padStart(7)} ${c.variance.toFixed(4).padStart(9)} ${Math.sqrt(
        c.variance,
      )
        .toFixed(3)
        .padStart(8)} ${c.weight.toFixed(3).padStart(7)}`,
    );
  });

  const outDir = options.outDir ?? DEFAULT_OUT_DIR;
  await mkdir(outDir, { recursive: true });
  const svgPath = path.join(outDir, 'iris-1d.svg');
  await writeFile(svgPath, await renderSvg(histogramSpec(x, components)));
  print('');
  print(`wrote ${svgPath}`);
  gmm.dispose();

  // EM at work: from a deliberately poor start (means at 1.0, 1.5 and 2.0 cm, none near
  // setosa's 0.25), the same fit stopped after t iterations for a few t. The start is
  // fixed, so every run follows one path.
  const X = { data: table.data, shape: [table.n, 1] as const };
  const snapshots: { iteration: number; components: Component[] }[] = [];
  let emTrace: number[] = [];
  for (const t of EM_SNAPSHOTS) {
    const g = await new GaussianMixture({
      nComponents: 3,
      meansInit: [[1.0], [1.5], [2.0]],
      tol: 0,
      maxIter: t,
    }).fit(X);
    const v = g.fullCovariances();
    snapshots.push({
      iteration: t,
      components: [0, 1, 2].map((j) => ({
        mean: g.state.means[j]!,
        variance: v[j]!,
        weight: g.state.weights[j]!,
      })),
    });
    emTrace = g.state.lowerBoundHistory;
    g.dispose();
  }
  print('');
  print('EM from means 1.0, 1.5, 2.0 (mean log-likelihood lower bound after each iteration):');
  print(
    EM_SNAPSHOTS.map((t) => `  iteration ${String(t).padStart(3)}: ${emTrace[t - 1]!.toFixed(4)}`).join('\n'),
  );
  const emSvgPath = path.join(outDir, 'iris-1d-em.svg');
  await writeFile(emSvgPath, await renderSvg(emSpec(x, snapshots)));
  print(`wrote ${emSvgPath}`);
  return {
    components,
    logLikelihood,
    converged: s.converged,
    iterations: s.nIter,
    n: table.n,
    svgPath,
    emTrace,
    emSvgPath,
  };
}

/** The mixture density after several EM iterations, over the histogram. */
export function emSpec(
  x: readonly number[],
  snapshots: readonly { iteration: number; components: readonly Component[] }[],
): Spec {
  const base = histogramSpec(x, []) as { layer: unknown[] };
  const curves: { x: number; y: number; iteration: string }[] = [];
  for (const snap of snapshots) {
    for (let i = 0; i <= 320; i++) {
      const g = -0.2 + (3.2 * i) / 320;
      let y = 0;
      for (const c of snap.components) y += c.weight * normalPdf(g, c.mean, c.variance);
      curves.push({ x: g, y, iteration: `after ${snap.iteration}` });
    }
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: 'EM at work: the fitted density p(x) after t iterations, from a poor start',
    width: 520,
    height: 300,
    background: 'white',
    layer: [
      base.layer[0],
      {
        data: { values: curves },
        mark: { type: 'line', strokeWidth: 2 },
        encoding: {
          x: { field: 'x', type: 'quantitative', scale: { domain: [-0.2, 3] } },
          y: { field: 'y', type: 'quantitative', title: 'density' },
          color: {
            field: 'iteration',
            type: 'ordinal',
            title: 'iterations',
            sort: snapshots.map((s) => `after ${s.iteration}`),
            scale: { scheme: 'viridis' },
            legend: { orient: 'top-right' },
          },
        },
      },
    ],
  } as Spec;
}

/**
 * Histogram on the density scale (bar area sums to 1, so it is comparable with
 * p(x)), the mixture density p(x), and each weighted component.
 */
export function histogramSpec(x: readonly number[], components: readonly Component[]): Spec {
  const binWidth = 0.1;
  // Petal width is measured to 0.1 cm: centre the bins on the measured values.
  const lo = Math.min(...x) - binWidth / 2;
  const counts = new Map<number, number>();
  for (const v of x) {
    const b = Math.floor((v - lo) / binWidth + 1e-9);
    counts.set(b, (counts.get(b) ?? 0) + 1);
  }
  const bars = [...counts].map(([b, c]) => ({
    x0: lo + b * binWidth,
    x1: lo + (b + 1) * binWidth,
    y0: 0,
    density: c / (x.length * binWidth),
  }));

  const grid: number[] = [];
  const from = -0.2;
  const to = 3;
  for (let i = 0; i <= 320; i++) grid.push(from + ((to - from) * i) / 320);
  const curves: { x: number; y: number; curve: string }[] = [];
  for (const g of grid) {
    let total = 0;
    components.forEach((c, j) => {
      const y = c.weight * normalPdf(g, c.mean, c.variance);
      total += y;
      curves.push({ x: g, y, curve: `w${j + 1} N(x | μ${j + 1}, σ²${j + 1})` });
    });
    curves.push({ x: g, y: total, curve: 'mixture p(x)' });
  }
  const names = ['mixture p(x)', ...components.map((_, j) => `w${j + 1} N(x | μ${j + 1}, σ²${j + 1})`)];
  const mixture = curves.filter((c) => c.curve === 'mixture p(x)');
  const parts = curves.filter((c) => c.curve !== 'mixture p(x)');
  const xScale = { domain: [from, to] };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: 'Iris petal width: histogram and a 3-component Gaussian mixture',
    width: 520,
    height: 300,
    background: 'white',
    layer: [
      {
        data: { values: bars },
        mark: { type: 'rect', color: '#c9d3df', stroke: 'white', strokeWidth: 0.5 },
        encoding: {
          x: { field: 'x0', type: 'quantitative', title: 'petal width (cm)', scale: xScale },
          x2: { field: 'x1' },
          y: { field: 'y0', type: 'quantitative' },
          y2: { field: 'density' },
        },
      },
      // The mixture first, the weighted components drawn over it (dashed).
      ...[mixture, parts].map((values, layer) => ({
        data: { values },
        mark: { type: 'line', strokeWidth: layer === 0 ? 2.5 : 2, strokeDash: layer === 0 ? [1, 0] : [6, 3] },
        encoding: {
          x: { field: 'x', type: 'quantitative', scale: xScale },
          y: { field: 'y', type: 'quantitative', title: 'density' },
          color: {
            field: 'curve',
            type: 'nominal',
            title: null,
            scale: { domain: names, range: ['black', '#1b9e77', '#d95f02', '#7570b3'] },
            legend: { orient: 'top-right', symbolType: 'stroke' },
          },
        },
      })),
    ],
  } as Spec;
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
