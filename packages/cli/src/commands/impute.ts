import { toCsv } from '../io/format.js';
import { checkWritable } from '../io/write-atomic.js';
import { undoStandardization } from '../model-file.js';
import {
  backendName,
  bool,
  loadModel,
  loadPlugins,
  modelInput,
  readOptions,
  readRawDataForModel,
  reportReadWarnings,
  str,
  writeOutputs,
  type Args,
  type Io,
} from './common.js';

/**
 * `gmm impute model.json data.csv -o out.csv`: the input table with every
 * missing cell of the model's columns (empty, NA, NaN, null) replaced by its
 * conditional mean given the row's observed cells, mixed over the
 * components (GaussianMixture.impute). Other columns, and observed cells,
 * are written as read, in the input's order.
 */
export async function imputeCommand(args: Args, io: Io): Promise<number> {
  const modelPath = str(args, 'model')!;
  const dataFile = str(args, 'data')!;
  const force = bool(args, 'force');
  const plugins = await loadPlugins(args);
  const backend = backendName(args, plugins);
  const inputs = [dataFile, modelPath];
  const target = checkWritable(str(args, 'output') ?? '-', { force, inputs });

  const model = await loadModel(modelPath, plugins, backend, true);
  const { raw, indices, table } = await readRawDataForModel(dataFile, model, { ...readOptions(args, io), missing: true });
  reportReadWarnings(io, table.warnings);
  const filled = model.gm.impute(modelInput(table, model));
  const values =
    model.standardize === null ? filled.data : undoStandardization(filled.data, table.d, model.standardize);
  let count = 0;
  const rows = raw.rows.map((row, i) => {
    const out = row.map((cell) => (cell === null || cell === undefined ? '' : typeof cell === 'object' ? JSON.stringify(cell) : String(cell)));
    indices.forEach((j, c) => {
      if (Number.isNaN(table.data[i * table.d + c])) {
        out[j] = String(values[i * table.d + c]);
        count++;
      }
    });
    return out;
  });
  // A header-less input gets no header line either (toCsv always writes one).
  const csv = raw.hasHeader ? toCsv(raw.columns, rows) : toCsv(raw.columns, rows).split('\n').slice(1).join('\n');
  return await writeOutputs(io, [[target, csv, `(${raw.rows.length} rows, ${count} cells imputed)`]], { force, inputs });
}
