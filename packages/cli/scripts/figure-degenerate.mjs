#!/usr/bin/env node
// Generates docs/figures/thyroid-degenerate.svg (docs/degenerate-solutions.md):
// the diagonal-covariance k = 5 fit of mclust's thyroid data (5 measurements,
// 10 restarts, seed 4) under degenerate: 'warn', which keeps the best lower
// bound whether degenerate or not, drawn on the collapsed component's pinned
// column against the column where it is widest: the component sits on a few
// rows sharing one value, a line, not an ellipse.
// Run from the repository root after `pnpm build`:
//   node packages/cli/scripts/figure-degenerate.mjs [out.svg]
import { readFileSync, writeFileSync } from 'node:fs';
import { GaussianMixture, initBackend } from '@gmmkit/tfjs';
import { fitPlotInput, fitPlotSpec } from '../dist/plots/fit-plot.js';
import { renderSvg } from '../dist/plots/render.js';

const out = process.argv[2] ?? 'docs/figures/thyroid-degenerate.svg';
const [head, ...lines] = readFileSync('data/thyroid.csv', 'utf8').trim().split('\n');
const columns = head.split(',').map((s) => s.replace(/"/g, '')).slice(1);
const rows = lines.map((l) => l.split(',').slice(1).map(Number));
const n = rows.length;
const d = columns.length;
await initBackend(process.env.GMM_BACKEND ?? 'auto');
const k = 5;
const gm = await new GaussianMixture({ nComponents: k, covarianceType: 'diag', nInit: 10, seed: 4, degenerate: 'warn', workers: 0 }).fit(rows);
const { state } = gm;
if (state.degeneracy === undefined) throw new Error('expected a degenerate fit (thyroid diag k = 5)');
const labels = gm.predict(rows);
const variance = (c) => {
  let m = 0;
  let s = 0;
  for (const r of rows) m += r[c] / n;
  for (const r of rows) s += (r[c] - m) ** 2 / n;
  return s;
};
// The collapsed component: the smallest variance relative to the data's, and its column.
let worst = { j: 0, c: 0, ratio: Infinity };
for (let j = 0; j < k; j++)
  for (let c = 0; c < d; c++) {
    const ratio = state.covariances[j * d + c] / variance(c);
    if (ratio < worst.ratio) worst = { j, c, ratio };
  }
const size = labels.reduce((s, l) => s + (l === worst.j ? 1 : 0), 0);
// The other axis: the column where the collapsed component is widest relative to the data.
let other = worst.c === 0 ? 1 : 0;
for (let c = 0; c < d; c++)
  if (c !== worst.c && state.covariances[worst.j * d + c] / variance(c) > state.covariances[worst.j * d + other] / variance(other)) other = c;
const view = {
  columns,
  data: Float64Array.from(rows.flat()),
  d,
  means: Array.from({ length: k }, (_, j) => Array.from(state.means.subarray(j * d, (j + 1) * d))),
  covariances: Array.from({ length: k }, (_, j) =>
    Array.from({ length: d }, (_, a) => Array.from({ length: d }, (_, b) => (a === b ? state.covariances[j * d + a] : 0))),
  ),
  labels,
  title: `thyroid, diag, k = ${k}: component ${worst.j} is ${size} rows on one ${columns[worst.c]} value (variance ${state.covariances[worst.j * d + worst.c].toExponential(1)})`,
};
writeFileSync(out, await renderSvg(fitPlotSpec(fitPlotInput(view, other, worst.c))));
console.log(`${out}: ${view.title}; ${state.degeneracy}`);
