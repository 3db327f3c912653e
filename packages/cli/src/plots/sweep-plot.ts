import type { TopLevelSpec } from 'vega-lite';

/** What a sweep plot needs: one value of the criterion per (k, family). */
export interface SweepPlotInput {
  criterion: string;
  rows: readonly { k: number; covarianceType: string; value: number | null }[];
  best: { k: number; covarianceType: string; value: number } | undefined;
  title?: string;
  /** The values are mclust-signed (higher is better). */
  higherIsBetter?: boolean;
}

/**
 * The criterion against k, one line per covariance family, the best model
 * ringed and labelled. Failed fits (value null) leave gaps.
 */
export function sweepPlotSpec(input: SweepPlotInput): TopLevelSpec {
  const values = input.rows
    .filter((r) => r.value !== null && Number.isFinite(r.value))
    .map((r) => ({ k: r.k, family: r.covarianceType, value: r.value }));
  const crit = input.criterion.toUpperCase();
  const best =
    input.best === undefined
      ? []
      : [
          {
            k: input.best.k,
            family: input.best.covarianceType,
            value: input.best.value,
            label: `best: k=${input.best.k}, ${input.best.covarianceType}`,
          },
        ];
  const x = {
    field: 'k',
    type: 'quantitative' as const,
    title: 'k (components)',
    axis: { tickMinStep: 1, format: 'd' },
  };
  const y = {
    field: 'value',
    type: 'quantitative' as const,
    title: `${crit} (${input.higherIsBetter === true ? "higher is better, mclust's sign" : 'lower is better'})`,
    scale: { zero: false },
  };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: input.title ?? `${crit} by number of components`,
    width: 480,
    height: 300,
    background: 'white',
    layer: [
      {
        data: { values },
        mark: { type: 'line', point: true },
        encoding: { x, y, color: { field: 'family', type: 'nominal', title: 'covariance' } },
      },
      {
        data: { values: best },
        mark: { type: 'point', size: 260, strokeWidth: 2.5, color: 'black', filled: false },
        encoding: { x, y },
      },
      {
        data: { values: best },
        mark: { type: 'text', dy: -16, fontWeight: 'bold', color: 'black' },
        encoding: { x, y, text: { field: 'label', type: 'nominal' } },
      },
    ],
  } as TopLevelSpec;
}
