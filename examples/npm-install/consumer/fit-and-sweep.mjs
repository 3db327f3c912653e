// An ES module using gmmkit as installed from npm: one fit, one sweep.
import { GaussianMixture } from '@gmmkit/tfjs';
import { sweep } from '@gmmkit/model-selection';

// Two well-separated Gaussian groups of 150 points each, from a seeded
// generator (a linear congruential one, then Box-Muller).
let state = 12345;
const uniform = () => ((state = (state * 1103515245 + 12345) % 2147483648) + 0.5) / 2147483648;
const normal = () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
const rows = [];
for (let i = 0; i < 300; i++) {
  const [cx, cy] = i % 2 === 0 ? [0, 0] : [8, 8];
  rows.push([cx + normal(), cy + 0.5 * normal()]);
}

const gm = new GaussianMixture({ nComponents: 2, covarianceType: 'full', seed: 0 });
await gm.fit(rows);
const labels = gm.predict(rows);
const result = await sweep({ data: rows, k: '1..4', seed: 0 });
console.log(
  JSON.stringify({
    converged: gm.state.converged,
    bic: gm.bic(rows),
    sameLabelForEachGroup: rows.every((_, i) => labels[i] === labels[i % 2]),
    groupsDiffer: labels[0] !== labels[1],
    bestK: result.best.k,
    cells: result.rows.length,
    backend: result.backend,
  }),
);
gm.dispose();
result.model.dispose();
