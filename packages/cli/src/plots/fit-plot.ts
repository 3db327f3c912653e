import type { TopLevelSpec } from 'vega-lite';

/** Two dimensions of a fitted mixture and the points it was fitted to. */
export interface FitPlotInput {
  /** Axis titles. */
  xName: string;
  yName: string;
  /** Points [n][2] in the plotted units. */
  points: readonly (readonly [number, number])[];
  /** Component of each point (0-based). */
  labels: ArrayLike<number>;
  /** Component means [k][2]. */
  means: readonly (readonly [number, number])[];
  /** Component covariances [k] of [[sxx, sxy], [sxy, syy]] (marginal over the two dimensions). */
  covariances: readonly (readonly [readonly [number, number], readonly [number, number]])[];
  /**
   * Points whose assignment is uncertain (e.g. 1 - max responsibility above
   * a threshold), drawn ringed in black; default none.
   */
  uncertain?: ArrayLike<boolean>;
  /** Contours to draw, in standard deviations (Mahalanobis radius); default [1, 2]. */
  sigmas?: readonly number[];
  title?: string;
}

/** A fitted d-dimensional mixture and its rows, to be drawn on two of the columns. */
export interface MixtureView {
  columns: readonly string[];
  /** Rows, row-major [n, d]. */
  data: ArrayLike<number>;
  d: number;
  /** Component means [k][d]. */
  means: readonly (readonly number[])[];
  /** Full component covariances [k][d][d]. */
  covariances: readonly (readonly (readonly number[])[])[];
  /** Component of each row. */
  labels: ArrayLike<number>;
  uncertain?: ArrayLike<boolean>;
  title?: string;
}

/**
 * The FitPlotInput for columns `a` and `b` of a mixture: the points' two
 * coordinates and each component's marginal on them (the matching 2x2
 * block of its covariance). `gmm fit --plot` and the playground both draw this.
 */
export function fitPlotInput(view: MixtureView, a: number, b: number): FitPlotInput {
  const { d, data } = view;
  const points: [number, number][] = [];
  for (let i = 0; i * d < data.length; i++) points.push([data[i * d + a]!, data[i * d + b]!]);
  return {
    xName: view.columns[a]!,
    yName: view.columns[b]!,
    points,
    labels: view.labels,
    means: view.means.map((m) => [m[a]!, m[b]!] as [number, number]),
    covariances: view.covariances.map(
      (c) =>
        [
          [c[a]![a]!, c[a]![b]!],
          [c[b]![a]!, c[b]![b]!],
        ] as [[number, number], [number, number]],
    ),
    ...(view.uncertain === undefined ? {} : { uncertain: view.uncertain }),
    ...(view.title === undefined ? {} : { title: view.title }),
  };
}

/**
 * Points of the ellipse {x : (x - mean)ᵀ Σ⁻¹ (x - mean) = r²}: the circle of
 * radius r mapped through the Cholesky factor L of Σ (Σ = L Lᵀ).
 */
export function ellipsePoints(
  mean: readonly [number, number],
  cov: FitPlotInput['covariances'][number],
  r: number,
  segments = 64,
): [number, number][] {
  const a = cov[0][0];
  const b = cov[0][1];
  const c = cov[1][1];
  const l11 = Math.sqrt(Math.max(a, 0));
  const l21 = l11 > 0 ? b / l11 : 0;
  const l22 = Math.sqrt(Math.max(c - l21 * l21, 0));
  const out: [number, number][] = [];
  for (let i = 0; i <= segments; i++) {
    const t = (2 * Math.PI * i) / segments;
    const u = r * Math.cos(t);
    const v = r * Math.sin(t);
    out.push([mean[0] + l11 * u, mean[1] + l21 * u + l22 * v]);
  }
  return out;
}

type Axis = { field: string; type: 'quantitative'; title: string | undefined; scale: { zero: boolean } };

/**
 * The line layer of each component's ellipses at the given radii (in standard
 * deviations), one path per component and radius, dashed by radius; with
 * `legend` false the dash legend is left to another panel.
 */
export function ellipseLayer(
  means: FitPlotInput['means'],
  covariances: FitPlotInput['covariances'],
  sigmas: readonly number[],
  encoding: { x: Axis; y: Axis; color: object },
  legend = true,
) {
  const values: { x: number; y: number; component: string; contour: string; order: number; path: string }[] = [];
  means.forEach((mean, j) => {
    for (const s of sigmas) {
      ellipsePoints(mean, covariances[j]!, s).forEach(([x, y], order) =>
        values.push({ x, y, component: String(j), contour: `${s}σ`, order, path: `${j}:${s}` }),
      );
    }
  });
  return {
    data: { values },
    mark: { type: 'line', strokeWidth: 1.5 },
    encoding: {
      ...encoding,
      detail: { field: 'path', type: 'nominal' },
      order: { field: 'order', type: 'quantitative' },
      strokeDash: { field: 'contour', type: 'nominal', title: 'contour', ...(legend ? {} : { legend: null }) },
    },
  };
}

/** The layer of the component means, black crosses. */
export function meansLayer(means: FitPlotInput['means'], encoding: { x: Axis; y: Axis }) {
  return {
    data: { values: means.map(([x, y], j) => ({ x, y, component: String(j) })) },
    mark: { type: 'point', shape: 'cross', size: 120, filled: true, color: 'black' },
    encoding,
  };
}

/** Points coloured by component, with 1- and 2-sigma ellipses, the means and any uncertain points marked. */
export function fitPlotSpec(input: FitPlotInput): TopLevelSpec {
  const sigmas = input.sigmas ?? [1, 2];
  // 0-based, as `gmm predict` labels them.
  const name = (j: number) => String(j);
  const points = input.points.map(([x, y], i) => ({ x, y, component: name(input.labels[i]!) }));
  const uncertain = input.uncertain === undefined ? [] : points.filter((_, i) => input.uncertain![i]);
  const x = { field: 'x', type: 'quantitative' as const, title: input.xName, scale: { zero: false } };
  const y = { field: 'y', type: 'quantitative' as const, title: input.yName, scale: { zero: false } };
  const color = { field: 'component', type: 'nominal' as const, title: 'component' };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: input.title ?? `Gaussian mixture, k=${input.means.length}`,
    width: 420,
    height: 420,
    background: 'white',
    layer: [
      {
        data: { values: points },
        mark: { type: 'circle', size: 18, opacity: 0.6 },
        encoding: { x, y, color },
      },
      ellipseLayer(input.means, input.covariances, sigmas, { x, y, color }),
      ...(uncertain.length === 0
        ? []
        : [
            {
              data: { values: uncertain.map((p) => ({ ...p, mark: 'uncertain' })) },
              mark: { type: 'point', size: 70, strokeWidth: 1.2, filled: false, color: 'black' },
              encoding: { x, y, shape: { field: 'mark', type: 'nominal', title: null } },
            },
          ]),
      meansLayer(input.means, { x, y }),
    ],
  } as TopLevelSpec;
}
