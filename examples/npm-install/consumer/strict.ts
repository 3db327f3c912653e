// A strict TypeScript consumer: tsc --noEmit with skipLibCheck false checks
// gmmkit's declarations and every declaration they pull in (tfjs-core's too).
import { deriveSeed, type CovarianceFamily, type PluginSet } from '@gmmkit/core';
import { GaussianMixture, tf, type GaussianMixtureJSON } from '@gmmkit/tfjs';
import { sweep, type SweepResult, type SweepRow } from '@gmmkit/model-selection';
import { modelFile, parseTable, sweepPlotSpec } from '@gmmkit/cli/portable';
import { mclustModelNames, mclustPlugins } from '@gmmkit/mclust';

export async function selectAndSave(csv: string): Promise<{ best: SweepRow; json: string }> {
  const table = parseTable(csv, { source: 'data.csv' });
  const rows: number[][] = table.rows.map((r) => r.map(Number));
  const result: SweepResult = await sweep({ data: rows, k: { min: 1, max: 3 }, seed: deriveSeed(0, 1) });
  const gm: GaussianMixture = result.model;
  const model: GaussianMixtureJSON = gm.toJSON();
  const spec = sweepPlotSpec({
    criterion: result.criterion,
    rows: result.rows.map((r) => ({ k: r.k, covarianceType: r.covarianceType, value: r.score })),
    best: { k: result.best.k, covarianceType: result.best.covarianceType, value: result.best.score },
  });
  const tensors: number = tf.memory().numTensors;
  gm.dispose();
  const families: PluginSet = { covarianceFamilies: [] as CovarianceFamily[] };
  const mclust: PluginSet = mclustPlugins;
  const models: string[] = mclustModelNames(2);
  void families;
  void mclust;
  void models;
  void spec;
  void tensors;
  return { best: result.best, json: JSON.stringify(modelFile(model, table.columns, null, [])) };
}
