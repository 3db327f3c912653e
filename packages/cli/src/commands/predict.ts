import { toCsv } from '../io/format.js';
import { checkWritable } from '../io/write-atomic.js';
import {
  backendName,
  bool,
  loadModel,
  loadPlugins,
  missingFlag,
  modelInput,
  readDataForModel,
  readOptions,
  reportReadWarnings,
  str,
  writeOutputs,
  type Args,
  type Io,
} from './common.js';

/** One row of `gmm predict --json`. */
export interface PredictJsonRow {
  /** The --id-column cell, as text. */
  id?: string;
  /** Most likely component, 0-based. */
  label: number;
  /** With --proba: the responsibility of every component. */
  proba?: number[];
  /** With --uncertainty: 1 - the largest responsibility (mclust's uncertainty). */
  uncertainty?: number;
}

export async function predictCommand(args: Args, io: Io): Promise<number> {
  const modelPath = str(args, 'model')!;
  const dataFile = str(args, 'data')!;
  const output = str(args, 'output');
  const force = bool(args, 'force');
  const withProba = bool(args, 'proba');
  const withUncertainty = bool(args, 'uncertainty');
  const idColumn = str(args, 'id-column');
  const plugins = await loadPlugins(args);
  const backend = backendName(args, plugins);
  const inputs = [dataFile, modelPath];
  const target = checkWritable(output ?? '-', { force, inputs });
  const read = readOptions(args, io);

  const missing = missingFlag(args);
  const model = await loadModel(modelPath, plugins, backend, missing);
  try {
    const table = await readDataForModel(dataFile, model, { ...read, missing }, idColumn);
    reportReadWarnings(io, table.warnings);
    const x = modelInput(table, model);
    // Labels are the argmax of the responsibilities: one E-step gives both.
    const p = model.gm.predictProba(x);
    const k = p.cols;
    const rows: PredictJsonRow[] = [];
    for (let i = 0; i < p.rows; i++) {
      const r = p.data.subarray(i * k, (i + 1) * k);
      let label = 0;
      for (let j = 1; j < k; j++) if (r[j]! > r[label]!) label = j;
      rows.push({
        ...(table.ids === undefined ? {} : { id: table.ids[i]! }),
        label,
        ...(withProba ? { proba: Array.from(r) } : {}),
        ...(withUncertainty ? { uncertainty: Math.max(0, 1 - r[label]!) } : {}),
      });
    }
    let text: string;
    if (bool(args, 'json')) {
      text = JSON.stringify(rows) + '\n';
    } else {
      const header = [
        ...(table.idName === undefined ? [] : [table.idName]),
        'label',
        ...(withProba ? Array.from({ length: k }, (_, j) => `p${j}`) : []),
        ...(withUncertainty ? ['uncertainty'] : []),
      ];
      text = toCsv(
        header,
        rows.map((r) => [
          ...(r.id === undefined ? [] : [r.id]),
          r.label,
          ...(r.proba ?? []),
          ...(r.uncertainty === undefined ? [] : [r.uncertainty]),
        ]),
      );
    }
    return await writeOutputs(io, [[target, text, `(${table.n} rows)`]], { force, inputs });
  } finally {
    model.gm.dispose();
  }
}
