/**
 * Missing values on Old Faithful: remove 30% of the cells at random, then
 * fit two components (full covariance) twice: once on the data with the
 * gaps filled by the column means (what users usually do), once with
 * missing: 'marginalize' (exact EM for data missing at random). Both are
 * compared with the fit on the complete data; the figure shows the three.
 *
 * Run: `node dist/missing.js [--out DIR]` (after `pnpm --filter @gmmkit/example-select-k build`)
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { ellipsePoints, readTable, renderSvg } from '@gmmkit/cli';
import { sweep } from '@gmmkit/model-selection';
import { DEFAULT_OUT_DIR, FAITHFUL_CSV } from './main.js';

/** Probability that a cell is removed (each independently; a row that would lose both keeps one of them). */
export const MISSING_RATE = 0.3;

export interface FitSummary {
  weights: number[];
  means: [number, number][];
  covariances: [[number, number], [number, number]][];
  /** Σ over components of ‖μ - μ_complete‖² + ‖Σ - Σ_complete‖²_F, components matched by mean. */
  error: number;
}

export interface MissingResult {
  complete: FitSummary;
  meanImputed: FitSummary;
  marginalized: FitSummary;
  removed: number;
  svgPath: string;
}

type Fit = Omit<FitSummary, 'error'>;
type Spec = Parameters<typeof renderSvg>[0];

/** mulberry32: a small seeded uniform generator, so the removed cells are the same on every run. */
function uniform(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** k = 2, full covariance, ten restarts: one sweep cell, so the fit is the library's own. */
async function fit2(data: Float64Array, n: number, missing: boolean): Promise<Fit & { filled: Float64Array }> {
  const r = await sweep({
    data: { data, shape: [n, 2] },
    k: 2,
    covarianceTypes: ['full'],
    nInit: 10,
    seed: 0,
    workers: 0,
    tol: 1e-6,
    maxIter: 500,
    ...(missing ? { missing: 'marginalize' as const } : {}),
  });
  const s = r.model.state;
  const full = r.model.fullCovariances();
  // The model's own fill-in of the gaps: conditional means mixed by posterior (the data as is when complete).
  const filled = missing ? r.model.impute({ data, shape: [n, 2] }).data : data;
  r.model.dispose();
  const order = s.means[0]! <= s.means[2]! ? [0, 1] : [1, 0]; // short eruptions first
  return {
    filled,
    weights: order.map((j) => s.weights[j]!),
    means: order.map((j) => [s.means[j * 2]!, s.means[j * 2 + 1]!] as [number, number]),
    covariances: order.map(
      (j) =>
        [
          [full[j * 4]!, full[j * 4 + 1]!],
          [full[j * 4 + 2]!, full[j * 4 + 3]!],
        ] as [[number, number], [number, number]],
    ),
  };
}

function distance(a: Fit, b: Fit): number {
  let e = 0;
  for (let j = 0; j < 2; j++) {
    for (let c = 0; c < 2; c++) e += (a.means[j]![c]! - b.means[j]![c]!) ** 2;
    for (let r = 0; r < 2; r++) for (let c = 0; c < 2; c++) e += (a.covariances[j]![r]![c]! - b.covariances[j]![r]![c]!) ** 2;
  }
  return e;
}

export async function run(options: { outDir?: string; print?: (line: string) => void } = {}): Promise<MissingResult> {
  const print = options.print ?? ((line: string) => console.log(line));
  const table = await readTable(FAITHFUL_CSV);
  const n = table.n;
  const next = uniform(2024);
  const holes = Float64Array.from(table.data);
  for (let i = 0; i < n; i++) {
    const gone = [next() < MISSING_RATE, next() < MISSING_RATE];
    if (gone[0] && gone[1]) gone[next() < 0.5 ? 0 : 1] = false; // every row keeps one observed cell
    for (let c = 0; c < 2; c++) if (gone[c]) holes[i * 2 + c] = Number.NaN;
  }
  const removed = holes.reduce((s, v) => s + (Number.isNaN(v) ? 1 : 0), 0);
  const colMean = [0, 1].map((c) => {
    let s = 0;
    let m = 0;
    for (let i = 0; i < n; i++) {
      if (Number.isNaN(holes[i * 2 + c])) continue;
      s += holes[i * 2 + c]!;
      m++;
    }
    return s / m;
  });
  const imputed = holes.map((v, i) => (Number.isNaN(v) ? colMean[i % 2]! : v));

  const completeFit = await fit2(table.data, n, false);
  const meanFit = await fit2(imputed, n, false);
  const marginalFit = await fit2(holes, n, true);
  const summary = ({ filled: _f, ...f }: Fit & { filled: Float64Array }, error: number): FitSummary => ({ ...f, error });
  const complete = summary(completeFit, 0);
  const meanImputed = summary(meanFit, distance(meanFit, completeFit));
  const marginalized = summary(marginalFit, distance(marginalFit, completeFit));

  print(`Old Faithful, ${removed} of ${2 * n} cells removed at random (${((100 * removed) / (2 * n)).toFixed(1)}%)`);
  print('distance to the complete-data fit (Σ ‖Δμ‖² + ‖ΔΣ‖²_F over the two components):');
  print(`  mean imputation: ${meanImputed.error.toFixed(3)}`);
  print(`  marginalization: ${marginalized.error.toFixed(3)}`);

  const outDir = options.outDir ?? DEFAULT_OUT_DIR;
  await mkdir(outDir, { recursive: true });
  const svgPath = path.join(outDir, 'faithful-missing.svg');
  await writeFile(svgPath, await renderSvg(missingPlotSpec(holes, imputed, marginalFit.filled, n, completeFit, meanFit, marginalFit)));
  print(`wrote ${svgPath}`);
  return { complete, meanImputed, marginalized, removed, svgPath };
}

/** Two panels (mean imputation, marginalization): the points as the fit saw them and 2-sigma ellipses of the fit and of the complete-data fit. */
function missingPlotSpec(
  holes: Float64Array,
  imputed: Float64Array,
  conditional: Float64Array,
  n: number,
  complete: Fit,
  meanFit: Fit,
  marginal: Fit,
): Spec {
  const panel = (title: string, fit: Fit, pointsOf: (i: number) => { x: number; y: number; kind: string } | undefined) => {
    const points = [...Array(n).keys()].flatMap((i) => {
      const p = pointsOf(i);
      return p === undefined ? [] : [p];
    });
    const ellipses = [
      ...[0, 1].flatMap((j) =>
        ellipsePoints(complete.means[j]!, complete.covariances[j]!, 2).map(([x, y], order) => ({ x, y, order, path: `complete ${j}`, fit: 'complete data' })),
      ),
      ...[0, 1].flatMap((j) =>
        ellipsePoints(fit.means[j]!, fit.covariances[j]!, 2).map(([x, y], order) => ({ x, y, order, path: `fit ${j}`, fit: title })),
      ),
    ];
    return {
      title,
      width: 300,
      height: 260,
      layer: [
        {
          data: { values: points },
          mark: { type: 'point', filled: true, size: 14, opacity: 0.7 },
          encoding: {
            x: { field: 'x', type: 'quantitative', title: 'eruptions (min)', scale: { domain: [1, 5.8] } },
            y: { field: 'y', type: 'quantitative', title: 'waiting (min)', scale: { domain: [35, 100] } },
            color: { field: 'kind', type: 'nominal', title: 'row', scale: { domain: ['complete row', 'cell filled in'], range: ['#9aa5b1', '#d95f02'] } },
          },
        },
        {
          data: { values: ellipses },
          mark: { type: 'line', strokeWidth: 2 },
          encoding: {
            x: { field: 'x', type: 'quantitative' },
            y: { field: 'y', type: 'quantitative' },
            detail: { field: 'path' },
            order: { field: 'order' },
            strokeDash: { field: 'fit', type: 'nominal', title: '2-sigma ellipses', scale: { domain: ['complete data', title], range: [[4, 3], [1, 0]] } },
          },
        },
      ],
    };
  };
  const complete2 = (i: number): boolean => !Number.isNaN(holes[i * 2]) && !Number.isNaN(holes[i * 2 + 1]);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: `Old Faithful with ${holes.reduce((c, v) => c + (Number.isNaN(v) ? 1 : 0), 0)} of ${2 * n} cells removed at random: k = 2 full-covariance fits`,
    hconcat: [
      panel('mean imputation', meanFit, (i) => ({ x: imputed[i * 2]!, y: imputed[i * 2 + 1]!, kind: complete2(i) ? 'complete row' : 'cell filled in' })),
      // Marginalization fits the observed cells only; a row with a gap is drawn where the fitted model fills it
      // (gm.impute: the conditional mean given the observed cell, mixed over the components).
      panel('marginalization', marginal, (i) => ({ x: conditional[i * 2]!, y: conditional[i * 2 + 1]!, kind: complete2(i) ? 'complete row' : 'cell filled in' })),
    ],
    resolve: { scale: { strokeDash: 'independent' } },
    config: { background: 'white' },
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
