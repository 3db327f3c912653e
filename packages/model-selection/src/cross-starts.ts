import { AbortedError, childContainer, pluginModule, type Container, type Initializer } from '@gmmkit/core';
import { GaussianMixture, type GaussianMixtureJSON } from '@gmmkit/tfjs';
import { fitCell, type CellResult, type CellSpec, type FitSettings, type MatrixData } from './cell.js';

/**
 * SweepOptions.startFrom: after the grid, each cell (k, F) of a family F
 * named as a key is fitted again from the converged responsibilities (one
 * E-step of the fitted model) of each listed family's cell at the same k, and
 * keeps the better fit: a healthy one before a degenerate one under 'reject',
 * then the higher log-likelihood. Runs in-process, in grid order, one fit per
 * (cell, source) pair whose source fitted; results do not depend on workers.
 */
export async function crossStarts(
  x: MatrixData,
  cells: readonly CellSpec[],
  results: Map<number, CellResult>,
  startFrom: Readonly<Record<string, readonly string[]>>,
  settings: FitSettings,
  container: Container,
  backend: string,
  signal?: AbortSignal,
): Promise<void> {
  let resp: Float64Array | undefined;
  const fromPartition: Initializer = {
    name: 'sweep-start-from',
    description: "another cell's converged responsibilities (SweepOptions.startFrom)",
    initialize: () => ({ kind: 'responsibilities', resp: resp! }),
  };
  const child = childContainer(container, pluginModule({ initializers: [fromPartition] }));
  const refit: FitSettings = { ...settings, initParams: fromPartition.name, nInit: 1 };
  const input = { data: x.data, shape: [x.rows, x.cols] as const };
  const cellAt = new Map(cells.map((c) => [`${c.covarianceType} ${c.k}`, c]));
  const rank = (r: CellResult): [number, number] => [
    r.error !== undefined ? 0 : settings.degenerate === 'reject' && r.degeneracy !== undefined ? 1 : 2,
    Number.isNaN(r.logLikelihood) ? -Infinity : r.logLikelihood,
  ];
  for (const cell of cells) {
    const sources = startFrom[cell.covarianceType];
    if (sources === undefined || !results.has(cell.id)) continue;
    for (const source of sources) {
      const from = cellAt.get(`${source} ${cell.k}`);
      const json = from === undefined ? undefined : results.get(from.id)?.model;
      if (json === undefined) continue; // not in the grid, or it failed
      if (signal?.aborted) throw new AbortedError('sweep aborted');
      const gm = await GaussianMixture.fromJSON(json as GaussianMixtureJSON, { container, backend });
      try {
        resp = Float64Array.from(gm.predictProba(input).data);
      } finally {
        gm.dispose();
      }
      const candidate = await fitCell(x, cell, refit, child, signal);
      const [health, ll] = rank(candidate);
      const [bestHealth, bestLl] = rank(results.get(cell.id)!);
      if (health > bestHealth || (health === bestHealth && ll > bestLl)) {
        // The model file names the sweep's initializer: the one-off one exists only in `child`.
        const model = candidate.model as GaussianMixtureJSON;
        const options = { ...model.options, initParams: settings.initParams ?? 'kmeans' };
        results.set(cell.id, { ...candidate, model: { ...model, options }, startedFrom: source });
      }
    }
  }
}
