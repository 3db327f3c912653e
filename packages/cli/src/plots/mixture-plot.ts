import type { TopLevelSpec } from 'vega-lite';
import { ellipseLayer, meansLayer } from './fit-plot.js';

/**
 * Plots of a fitted mixture over 1 to 6 of its columns, as mclust's
 * plot(Mclust) draws them: a histogram with the mixture density and the
 * weighted components for one column, a scatter with 1- and 2-sigma
 * ellipses for two, a pairs (scatter-matrix) plot for more. Three kinds:
 * classification (points by component), uncertainty (points sized by
 * 1 - max responsibility) and density (the mixture density shaded). Colours
 * never repeat (shapes are a second channel beyond 10 components) and the
 * legend is in component order. Above `maxPoints` rows a seeded random
 * subsample is drawn and the caption says so.
 */
export type PlotKind = 'classification' | 'uncertainty' | 'density';
export const PLOT_KINDS: readonly PlotKind[] = ['classification', 'uncertainty', 'density'];

export interface MixturePlotInput {
  kind: PlotKind;
  /** Names of the plotted columns (1 to 6). */
  columns: readonly string[];
  /** Rows [n][columns.length] in the plotted units. */
  points: readonly (readonly number[])[];
  /** Component of each row (0-based). */
  labels: ArrayLike<number>;
  /** 1 - the largest responsibility of each row (for the uncertainty kind). */
  uncertainty?: ArrayLike<number> | undefined;
  weights: readonly number[];
  /** [k][columns.length] */
  means: readonly (readonly number[])[];
  /** [k][columns.length][columns.length], the marginal covariances of the plotted columns. */
  covariances: readonly (readonly (readonly number[])[])[];
  title: string;
  /** A second title line (e.g. which columns of how many are shown). */
  note?: string | undefined;
  /** Rows drawn at most (per panel of a pairs plot: maxPoints / 4); default 5000. */
  maxPoints?: number | undefined;
}

const TABLEAU10 = ['#4c78a8', '#f58518', '#e45756', '#72b7b2', '#54a24b', '#eeca3b', '#b279a2', '#ff9da6', '#9d755d', '#bab0ac'];
const TABLEAU20 = [
  '#4c78a8', '#9ecae9', '#f58518', '#ffbf79', '#54a24b', '#88d27a', '#b79a20', '#f2cf5b', '#439894', '#83bcb6',
  '#e45756', '#ff9d98', '#79706e', '#bab0ac', '#d67195', '#fcbfd2', '#b279a2', '#d6a5c9', '#9e765f', '#d8b5a5',
];
const SHAPES = ['circle', 'square', 'triangle-up', 'diamond', 'cross', 'triangle-down', 'triangle-right', 'triangle-left'];

/** k distinct colours: Tableau 10, Tableau 20, else evenly spaced hues at two lightnesses. */
export function componentColors(k: number): string[] {
  if (k <= 10) return TABLEAU10.slice(0, k);
  if (k <= 20) return TABLEAU20.slice(0, k);
  const out: string[] = [];
  for (let j = 0; j < k; j++) out.push(hslHex((360 * j) / k, 0.65, j % 2 === 0 ? 0.42 : 0.62));
  // Rounding could only collide for huge k; make every one distinct anyway.
  return out.map((c, j) => (out.indexOf(c) === j ? c : hslHex((360 * j) / k + 0.5, 0.5, 0.5)));
}

/** One shape for up to 10 components; beyond, shapes cycle as a second channel. */
export function componentShapes(k: number): string[] {
  return Array.from({ length: k }, (_, j) => (k <= 10 ? 'circle' : SHAPES[j % SHAPES.length]!));
}

function hslHex(h: number, s: number, l: number): string {
  const a = s * Math.min(l, 1 - l);
  const f = (n: number) => {
    const t = (n + h / 30) % 12;
    const v = l - a * Math.max(-1, Math.min(t - 3, 9 - t, 1));
    return Math.round(v * 255)
      .toString(16)
      .padStart(2, '0');
  };
  return `#${f(0)}${f(8)}${f(4)}`;
}

/**
 * At most `max` of n row indices, in order: a seeded random subsample
 * (a partial Fisher-Yates shuffle), so a file sorted or cycling by
 * component is still sampled fairly and the same data give the same plot.
 */
export function subsample(n: number, max: number): number[] {
  if (n <= max) return Array.from({ length: n }, (_, i) => i);
  const idx = Int32Array.from({ length: n }, (_, i) => i);
  let s = 0x9e3779b9;
  for (let i = 0; i < max; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const j = i + Math.floor((s / 2 ** 32) * (n - i));
    const t = idx[i]!;
    idx[i] = idx[j]!;
    idx[j] = t;
  }
  return Array.from(idx.subarray(0, max)).sort((a, b) => a - b);
}

const names = (k: number) => Array.from({ length: k }, (_, j) => String(j));

function componentEncodings(k: number, shapes: boolean) {
  const domain = names(k);
  return {
    color: {
      field: 'component',
      type: 'nominal' as const,
      title: 'component',
      sort: domain,
      scale: { domain, range: componentColors(k) },
    },
    ...(shapes
      ? {
          shape: {
            field: 'component',
            type: 'nominal' as const,
            title: 'component',
            sort: domain,
            scale: { domain, range: componentShapes(k) },
          },
        }
      : {}),
  };
}

function normalPdf(x: number, mean: number, variance: number): number {
  return Math.exp(-((x - mean) ** 2) / (2 * variance)) / Math.sqrt(2 * Math.PI * variance);
}

/** The mixture density of two columns (a, b) at (x, y): Σ w_j N2(μ_j[a,b], Σ_j[ab]). */
function density2(input: MixturePlotInput, a: number, b: number, x: number, y: number): number {
  let total = 0;
  input.weights.forEach((w, j) => {
    const c = input.covariances[j]!;
    const sxx = c[a]![a]!;
    const syy = c[b]![b]!;
    const sxy = c[a]![b]!;
    const det = sxx * syy - sxy * sxy;
    if (!(det > 0)) return;
    const dx = x - input.means[j]![a]!;
    const dy = y - input.means[j]![b]!;
    const q = (syy * dx * dx - 2 * sxy * dx * dy + sxx * dy * dy) / det;
    total += (w * Math.exp(-q / 2)) / (2 * Math.PI * Math.sqrt(det));
  });
  return total;
}

function extent(values: readonly number[]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (lo === hi) return [lo - 0.5, hi + 0.5];
  return [lo, hi];
}

interface Panel {
  layer: unknown[];
  width: number;
  height: number;
}

/** One column: histogram on the density scale, the weighted components and the mixture. */
function histogramPanel(
  input: MixturePlotInput,
  a: number,
  width: number,
  height: number,
  rows: number[],
): Panel {
  const x = input.points.map((p) => p[a]!);
  const n = x.length;
  const [lo, hi] = extent(x);
  const bins = Math.min(60, Math.max(10, Math.ceil(Math.sqrt(n))));
  const bin = (hi - lo) / bins;
  const counts = new Array<number>(bins).fill(0);
  for (const v of x) counts[Math.min(bins - 1, Math.floor((v - lo) / bin))]!++;
  const bars = counts.map((c, b) => ({ x0: lo + b * bin, x1: lo + (b + 1) * bin, y0: 0, density: c / (n * bin) }));
  const pad = 0.1 * (hi - lo);
  const curves: { x: number; y: number; component: string }[] = [];
  const mixture: { x: number; y: number }[] = [];
  for (let i = 0; i <= 200; i++) {
    const g = lo - pad + ((hi - lo + 2 * pad) * i) / 200;
    let total = 0;
    input.weights.forEach((w, j) => {
      const y = w * normalPdf(g, input.means[j]![a]!, input.covariances[j]![a]![a]!);
      total += y;
      curves.push({ x: g, y, component: String(j) });
    });
    mixture.push({ x: g, y: total });
  }
  const k = input.weights.length;
  const enc = componentEncodings(k, false);
  const xEnc = { field: 'x', type: 'quantitative' as const, title: input.columns[a], scale: { domain: [lo - pad, hi + pad] } };
  const layer: unknown[] = [
    {
      data: { values: bars },
      mark: { type: 'rect', color: '#c9d3df', stroke: 'white', strokeWidth: 0.5 },
      encoding: {
        x: { ...xEnc, field: 'x0' },
        x2: { field: 'x1' },
        y: { field: 'y0', type: 'quantitative', title: 'density' },
        y2: { field: 'density' },
      },
    },
    {
      data: { values: curves },
      mark: { type: 'line', strokeWidth: 1.5, strokeDash: [5, 3] },
      encoding: { x: xEnc, y: { field: 'y', type: 'quantitative' }, color: enc.color },
    },
    {
      data: { values: mixture },
      mark: { type: 'line', strokeWidth: 2.5, color: 'black' },
      encoding: { x: xEnc, y: { field: 'y', type: 'quantitative' } },
    },
  ];
  if (input.kind === 'classification') {
    // A rug of the (subsampled) rows by component.
    layer.push({
      data: { values: rows.map((i) => ({ x: x[i]!, component: String(input.labels[i]) })) },
      mark: { type: 'tick', thickness: 1, size: 8, opacity: 0.7 },
      encoding: { x: xEnc, y: { value: height - 4 }, color: enc.color },
    });
  }
  return { layer, width, height };
}

/** Two columns: points by component (or shaded density), 1- and 2-sigma ellipses, means. */
function scatterPanel(
  input: MixturePlotInput,
  a: number,
  b: number,
  size: number,
  legend: boolean,
  rows: number[],
  grid = 40,
): Panel {
  const k = input.weights.length;
  const enc = componentEncodings(k, k > 10);
  // Component legends are shared across layers and panels (one legend); the others show once.
  const hide = <T extends object>(e: T) => e;
  const xs = input.points.map((p) => p[a]!);
  const ys = input.points.map((p) => p[b]!);
  const x = { field: 'x', type: 'quantitative' as const, title: input.columns[a], scale: { zero: false } };
  const y = { field: 'y', type: 'quantitative' as const, title: input.columns[b], scale: { zero: false } };
  const layer: unknown[] = [];
  if (input.kind === 'density') {
    const [x0, x1] = extent(xs);
    const [y0, y1] = extent(ys);
    const g = grid;
    const cells: { x: number; x2: number; y: number; y2: number; density: number }[] = [];
    for (let i = 0; i < g; i++)
      for (let j = 0; j < g; j++) {
        const cx = x0 + ((x1 - x0) * (i + 0.5)) / g;
        const cy = y0 + ((y1 - y0) * (j + 0.5)) / g;
        cells.push({
          x: x0 + ((x1 - x0) * i) / g,
          x2: x0 + ((x1 - x0) * (i + 1)) / g,
          y: y0 + ((y1 - y0) * j) / g,
          y2: y0 + ((y1 - y0) * (j + 1)) / g,
          density: density2(input, a, b, cx, cy),
        });
      }
    layer.push({
      data: { values: cells },
      mark: { type: 'rect' },
      encoding: {
        x,
        x2: { field: 'x2' },
        y,
        y2: { field: 'y2' },
        color: {
          field: 'density',
          type: 'quantitative',
          title: 'mixture density',
          scale: { scheme: 'greys' },
          ...(legend ? {} : { legend: null }),
        },
      },
    });
  } else {
    const values = rows.map((i) => ({
      x: xs[i]!,
      y: ys[i]!,
      component: String(input.labels[i]),
      ...(input.kind === 'uncertainty' ? { uncertainty: input.uncertainty?.[i] ?? 0 } : {}),
    }));
    layer.push({
      data: { values },
      mark: { type: 'point', filled: true, opacity: input.kind === 'uncertainty' ? 0.75 : 0.6, size: 18 },
      encoding: {
        x,
        y,
        color: hide(enc.color),
        ...('shape' in enc ? { shape: hide(enc.shape) } : {}),
        ...(input.kind === 'uncertainty'
          ? {
              size: {
                field: 'uncertainty',
                type: 'quantitative',
                title: 'uncertainty (1 − max p)',
                scale: { domain: [0, Math.max(0.5, ...values.map((v) => v.uncertainty ?? 0))], range: [4, 220] },
                ...(legend ? {} : { legend: null }),
              },
            }
          : {}),
      },
    });
  }
  const means = input.means.map((m) => [m[a]!, m[b]!] as const);
  const covariances = input.covariances.map(
    (c) =>
      [
        [c[a]![a]!, c[a]![b]!],
        [c[b]![a]!, c[b]![b]!],
      ] as const,
  );
  layer.push(ellipseLayer(means, covariances, [1, 2], { x, y, color: enc.color }, legend));
  layer.push(meansLayer(means, { x, y }));
  return { layer, width: size, height: size };
}

export function mixturePlotSpec(input: MixturePlotInput): TopLevelSpec {
  const d = input.columns.length;
  const n = input.points.length;
  const max = input.maxPoints ?? 5000;
  const perPanel = d > 2 ? Math.max(200, Math.floor(max / 4)) : max;
  const rows = subsample(n, perPanel);
  const shown =
    input.kind === 'density' && d !== 1
      ? undefined
      : rows.length < n
        ? `showing ${rows.length.toLocaleString('en-US')} of ${n.toLocaleString('en-US')} rows (seeded random subsample${d > 2 ? ', per panel' : ''})`
        : undefined;
  const subtitle = [input.note, shown].filter((s): s is string => s !== undefined);
  const title = subtitle.length > 0 ? { text: input.title, subtitle } : input.title;
  const head = { $schema: 'https://vega.github.io/schema/vega-lite/v5.json', title, background: 'white' };
  if (d === 1) {
    if (input.kind === 'uncertainty') {
      const panel = scatterLike1d(input, rows);
      return { ...head, ...panel } as TopLevelSpec;
    }
    return { ...head, ...histogramPanel(input, 0, 520, 300, rows) } as TopLevelSpec;
  }
  if (d === 2) return { ...head, ...scatterPanel(input, 0, 1, 420, true, rows) } as TopLevelSpec;
  const size = Math.max(110, Math.floor(600 / d));
  const vconcat = [];
  for (let i = 0; i < d; i++) {
    const hconcat = [];
    for (let j = 0; j < d; j++)
      hconcat.push(
        i === j
          ? histogramPanel({ ...input, kind: 'density' }, i, size, size, rows)
          : scatterPanel(input, j, i, size, i === 0 && j === 1, rows, 20),
      );
    vconcat.push({ hconcat });
  }
  return { ...head, vconcat, spacing: 8 } as TopLevelSpec;
}

/** One column, uncertainty kind: each row at its value, its uncertainty up the y axis. */
function scatterLike1d(input: MixturePlotInput, rows: number[]): Panel {
  const k = input.weights.length;
  const enc = componentEncodings(k, k > 10);
  return {
    width: 520,
    height: 300,
    layer: [
      {
        data: {
          values: rows.map((i) => ({
            x: input.points[i]![0]!,
            u: input.uncertainty?.[i] ?? 0,
            component: String(input.labels[i]),
          })),
        },
        mark: { type: 'point', filled: true, size: 22, opacity: 0.7 },
        encoding: {
          x: { field: 'x', type: 'quantitative', title: input.columns[0], scale: { zero: false } },
          y: { field: 'u', type: 'quantitative', title: 'uncertainty (1 − max p)', scale: { domain: [0, 1] } },
          ...enc,
        },
      },
    ],
  };
}
