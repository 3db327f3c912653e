import type { TopLevelSpec } from 'vega-lite';

/** What a sweep plot needs: one value of the criterion per (k, family). */
export interface SweepPlotInput {
  criterion: string;
  /** In the table's order (families keep it in the legend). */
  rows: readonly {
    k: number;
    covarianceType: string;
    value: number | null;
    /**
     * A failed fit (no value), a degenerate one (a value, marked ▽: in its
     * family's line when `degenerate` is 'warn', apart from it when 'reject')
     * or neither. Default 'ok'.
     */
    status?: 'ok' | 'failed' | 'degenerate';
  }[];
  /**
   * How the sweep treated degenerate cells (SweepResult.degenerate): under
   * 'reject' (the default) they are never chosen, so they stay out of the
   * lines and of the y range (one beyond it sits on the edge, labelled with
   * its value); under 'warn' they are ranked like any other cell.
   */
  degenerate?: 'reject' | 'warn' | 'allow';
  best: { k: number; covarianceType: string; value: number } | undefined;
  title?: string;
  /** The values are mclust-signed (higher is better). */
  higherIsBetter?: boolean;
}

/**
 * The criterion against k, one line per covariance family (legend in the
 * table's order), the best model ringed and labelled. Failed fits are
 * crosses along the bottom, degenerate ones hollow triangles (see
 * SweepPlotInput.degenerate). The y range
 * focuses on the competitive region (values far worse than the median
 * distance from the best, typically k = 1, sit on the edge as arrows with
 * their value), a single k still shows its points, and a best k at the edge
 * of the range gets a note suggesting a larger range.
 */
export function sweepPlotSpec(input: SweepPlotInput): TopLevelSpec {
  const higher = input.higherIsBetter === true;
  const crit = input.criterion.toUpperCase();
  const families: string[] = [];
  for (const r of input.rows) if (!families.includes(r.covarianceType)) families.push(r.covarianceType);
  const ks = [...new Set(input.rows.map((r) => r.k))].sort((a, b) => a - b);
  const rejectDegenerate = (input.degenerate ?? 'reject') === 'reject';
  const hasValue = (r: SweepPlotInput['rows'][number]) => r.value !== null && Number.isFinite(r.value) && r.status !== 'failed';
  // Rejected degenerate cells are never chosen: drawn apart, they neither join the lines nor set the range.
  const apart = (r: SweepPlotInput['rows'][number]) => rejectDegenerate && r.status === 'degenerate';
  const finite = input.rows.filter((r) => hasValue(r) && !apart(r));
  const values = finite.map((r) => r.value!);

  // The competitive region: from the best to 3x the median distance from it (at least 1% of the best's magnitude).
  const best = input.best?.value ?? (values.length > 0 ? (higher ? Math.max(...values) : Math.min(...values)) : 0);
  const dist = values.map((v) => Math.abs(v - best)).sort((a, b) => a - b);
  const median = dist.length > 0 ? dist[Math.floor((dist.length - 1) / 2)]! : 0;
  const reach = Math.max(3 * median, 0.01 * Math.abs(best), 1e-9);
  const worst = dist.length > 0 ? dist[dist.length - 1]! : 0;
  const clipAt = worst > reach ? reach : worst;
  const pad = Math.max(clipAt * 0.08, 1e-9);
  const edge = higher ? best - clipAt : best + clipAt;
  const domain = higher ? [edge - pad, best + pad] : [best - pad, edge + pad];
  const offScale = (v: number) => Math.abs(v - best) > clipAt;

  const points = finite.map((r) => ({
    k: r.k,
    family: r.covarianceType,
    value: offScale(r.value!) ? edge : r.value!,
    shown: r.value!,
    off: offScale(r.value!),
  }));
  const off = points.filter((p) => p.off);
  // One label per k: the nearest off-scale value there (labels side by side would overlap).
  const offLabels = [...new Set(off.map((p) => p.k))].map((k) => {
    const at = off.filter((p) => p.k === k).map((p) => p.shown);
    const nearest = higher ? Math.max(...at) : Math.min(...at);
    return { k, value: edge, label: `${Number(nearest.toPrecision(5))}${at.length > 1 ? '…' : ''}` };
  });
  const failed = input.rows
    .filter((r) => !hasValue(r))
    .map((r) => ({ k: r.k, family: r.covarianceType, value: domain[0]! + pad / 2 }));
  const inRange = (v: number) => Math.min(domain[1]!, Math.max(domain[0]!, v));
  const degenerate = input.rows
    .filter((r) => hasValue(r) && r.status === 'degenerate')
    .map((r) => ({ k: r.k, family: r.covarianceType, value: inRange(r.value!), shown: r.value! }));
  // A rejected cell beyond the range sits on its edge with its value.
  const degenerateLabels = degenerate
    .filter((p) => p.value !== p.shown)
    .map((p) => ({ k: p.k, value: p.value, label: `${Number(p.shown.toPrecision(5))}` }));
  const bestRows =
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
  const notes: string[] = [];
  if (input.best !== undefined && ks.length > 1) {
    if (input.best.k === ks[ks.length - 1])
      notes.push(`the best k (${input.best.k}) is the largest tried: try a larger --k range`);
    else if (input.best.k === ks[0] && ks[0]! > 1)
      notes.push(`the best k (${input.best.k}) is the smallest tried: try smaller k`);
  }
  if (off.length > 0) notes.push(`${off.length} value${off.length === 1 ? '' : 's'} off the scale (arrows, with their value)`);
  if (failed.length > 0) notes.push(`× failed fit${failed.length === 1 ? '' : 's'}: ${failed.map((f) => `${f.family} k=${f.k}`).slice(0, 6).join(', ')}${failed.length > 6 ? ', ...' : ''}`);
  if (degenerate.length > 0)
    notes.push(
      `▽ degenerate fit (a collapsed component)${rejectDegenerate ? ', never chosen' : ''}: ${degenerate
        .map((p) => `${p.family} k=${p.k}`)
        .slice(0, 6)
        .join(', ')}${degenerate.length > 6 ? ', ...' : ''}`,
    );

  const xDomain = ks.length === 0 ? [0, 2] : [ks[0]! - 0.5, ks[ks.length - 1]! + 0.5];
  const x = {
    field: 'k',
    type: 'quantitative' as const,
    title: 'k (components)',
    scale: { domain: xDomain, nice: false },
    axis: { tickMinStep: 1, format: 'd', values: ks.length <= 30 ? ks : undefined },
  };
  const y = {
    field: 'value',
    type: 'quantitative' as const,
    title: `${crit} (${higher ? "higher is better, mclust's sign" : 'lower is better'})`,
    scale: { domain, nice: false, zero: false },
  };
  const color = {
    field: 'family',
    type: 'nominal' as const,
    title: 'covariance',
    sort: families,
    scale: { domain: families },
  };
  const title = input.title ?? `${crit} by number of components`;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: notes.length > 0 ? { text: title, subtitle: notes } : title,
    width: 480,
    height: 300,
    background: 'white',
    layer: [
      { data: { values: points }, mark: { type: 'line', clip: true }, encoding: { x, y, color } },
      { data: { values: points }, mark: { type: 'point', filled: true, size: 40 }, encoding: { x, y, color } },
      ...(off.length === 0
        ? []
        : [
            {
              data: { values: off },
              mark: { type: 'point', shape: higher ? 'triangle-down' : 'triangle-up', filled: true, size: 120 },
              encoding: { x, y, color },
            },
            {
              data: { values: offLabels },
              mark: { type: 'text', dy: higher ? 14 : -12, fontSize: 9, color: '#444' },
              encoding: { x, y, text: { field: 'label', type: 'nominal' } },
            },
          ]),
      ...(failed.length === 0
        ? []
        : [
            {
              data: { values: failed },
              mark: { type: 'point', shape: 'cross', size: 90, filled: true, angle: 45 },
              encoding: { x, y, color },
            },
          ]),
      ...(degenerate.length === 0
        ? []
        : [
            {
              data: { values: degenerate },
              mark: { type: 'point', shape: 'triangle-down', size: 160, filled: false, strokeWidth: 2 },
              encoding: { x, y, color },
            },
            ...(degenerateLabels.length === 0
              ? []
              : [
                  {
                    data: { values: degenerateLabels },
                    mark: { type: 'text', dx: 14, fontSize: 9, color: '#444', align: 'left' as const },
                    encoding: { x, y, text: { field: 'label', type: 'nominal' } },
                  },
                ]),
          ]),
      {
        data: { values: bestRows },
        mark: { type: 'point', size: 260, strokeWidth: 2.5, color: 'black', filled: false },
        encoding: { x, y },
      },
      {
        data: { values: bestRows },
        mark: { type: 'text', dy: -16, fontWeight: 'bold', color: 'black' },
        encoding: { x, y, text: { field: 'label', type: 'nominal' } },
      },
    ],
  } as TopLevelSpec;
}
