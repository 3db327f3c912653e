#!/usr/bin/env node
// Generates docs/figures/bayesian-weights.svg (docs/concepts.md, section 7):
// BayesianGaussianMixture (Dirichlet process, full covariance, 3 restarts) on
// iris (4 columns) and Old Faithful for an upper bound of K = 1..10
// components; every component's weight against K, with the 0.01 threshold.
// Run from the repository root after `pnpm build`:
//   node packages/cli/scripts/figure-bayesian-weights.mjs [out.svg]
import { readFileSync, writeFileSync } from 'node:fs';
import { BayesianGaussianMixture, initBackend } from '@gmmkit/tfjs';
import { renderSvg } from '../dist/plots/render.js';

const out = process.argv[2] ?? 'docs/figures/bayesian-weights.svg';
const read = (file, columns) => {
  const [head, ...lines] = readFileSync(file, 'utf8').trim().split('\n');
  const names = head.split(',').map((s) => s.replace(/"/g, ''));
  const idx = columns.map((c) => names.indexOf(c));
  return lines.map((l) => {
    const cells = l.split(',');
    return idx.map((i) => Number(cells[i]));
  });
};
const datasets = [
  ['iris (4 columns)', read('data/iris.csv', ['Sepal.Length', 'Sepal.Width', 'Petal.Length', 'Petal.Width'])],
  ['Old Faithful', read('data/faithful.csv', ['eruptions', 'waiting'])],
];
await initBackend(process.env.GMM_BACKEND ?? 'auto');
const values = [];
for (const [name, X] of datasets) {
  for (let K = 1; K <= 10; K++) {
    const m = await new BayesianGaussianMixture({ nComponents: K, nInit: 3, maxIter: 500, seed: 0, workers: 0 }).fit(X);
    const w = [...m.state.weights].sort((a, b) => b - a);
    w.forEach((weight, rank) => values.push({ dataset: name, K, weight: Math.max(weight, 1e-4), rank: rank + 1, effective: weight > 0.01 ? 'weight > 0.01' : 'switched off' }));
    console.log(`${name} K=${K}: effective ${m.effectiveComponents()} weights ${w.map((v) => v.toFixed(3)).join(' ')}`);
  }
}
const spec = {
  $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
  data: { values },
  facet: { column: { field: 'dataset', type: 'nominal', title: null } },
  spec: {
    width: 300,
    height: 220,
    layer: [
      {
        mark: { type: 'point', filled: true, size: 40 },
        encoding: {
          x: { field: 'K', type: 'ordinal', title: 'upper bound on the number of components (K)' },
          y: { field: 'weight', type: 'quantitative', scale: { type: 'log', domain: [1e-4, 1] }, title: 'component weight (log scale)' },
          color: { field: 'effective', type: 'nominal', title: null, scale: { domain: ['weight > 0.01', 'switched off'], range: ['#1f77b4', '#bbbbbb'] } },
        },
      },
      { mark: { type: 'rule', strokeDash: [4, 3], color: '#d62728' }, encoding: { y: { datum: 0.01 } } },
    ],
  },
  title: 'Dirichlet-process mixture: components beyond what the data support get weights near 0',
};
writeFileSync(out, await renderSvg(spec));
console.log(`wrote ${out}`);
