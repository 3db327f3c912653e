import { toCsv } from '../io/format.js';
import { checkWritable, writeFileAtomic } from '../io/write-atomic.js';
import {
  backendName,
  bool,
  csvOutput,
  loadModel,
  loadPlugins,
  missingFlag,
  modelInput,
  readDataForModel,
  str,
  type Args,
  type Io,
} from './common.js';

export async function predictCommand(args: Args, io: Io): Promise<number> {
  const modelPath = str(args, 'model')!;
  const dataFile = str(args, 'data')!;
  const output = csvOutput(args);
  const force = bool(args, 'force');
  const plugins = await loadPlugins(args);
  const backend = backendName(args, plugins);
  if (output !== undefined) checkWritable(output, { force, inputs: [dataFile, modelPath] });

  const missing = missingFlag(args);
  const model = await loadModel(modelPath, plugins, backend, missing);
  const table = await readDataForModel(dataFile, model, str(args, 'columns'), missing);
  const x = modelInput(table, model);

  let csv: string;
  if (bool(args, 'proba')) {
    const p = model.gm.predictProba(x);
    const rows: number[][] = [];
    for (let i = 0; i < p.rows; i++) rows.push(Array.from(p.data.subarray(i * p.cols, (i + 1) * p.cols)));
    csv = toCsv(
      Array.from({ length: p.cols }, (_, j) => `p${j}`),
      rows,
    );
  } else {
    csv = toCsv(
      ['label'],
      Array.from(model.gm.predict(x), (l) => [l]),
    );
  }
  if (output === undefined) {
    io.out(csv);
  } else {
    await writeFileAtomic(output, csv, { force, inputs: [dataFile, modelPath] });
    io.err(`wrote ${output} (${table.n} rows)`);
  }
  return 0;
}
