import { toCsv } from '../io/format.js';
import { checkWritable, writeFileAtomic } from '../io/write-atomic.js';
import { undoStandardization } from '../model-file.js';
import {
  backendName,
  bool,
  csvOutput,
  int,
  loadModel,
  loadPlugins,
  str,
  type Args,
  type Io,
} from './common.js';

export async function sampleCommand(args: Args, io: Io): Promise<number> {
  const modelPath = str(args, 'model')!;
  const n = int(args, 'n', 1)!;
  const seed = int(args, 'seed', 0);
  const output = csvOutput(args);
  const force = bool(args, 'force');
  const plugins = await loadPlugins(args);
  const backend = backendName(args, plugins);
  if (output !== undefined) checkWritable(output, { force, inputs: [modelPath] });

  const model = await loadModel(modelPath, plugins, backend);
  const { X, labels } = model.gm.sample(n, seed ?? 0);
  const d = X.cols;
  const data = model.standardize === null ? X.data : undoStandardization(X.data, d, model.standardize);
  const columns = model.columns ?? Array.from({ length: d }, (_, j) => String(j + 1));
  const withLabels = bool(args, 'labels');
  const rows: number[][] = [];
  for (let i = 0; i < n; i++) {
    const row = Array.from(data.subarray(i * d, (i + 1) * d));
    if (withLabels) row.push(labels[i]!);
    rows.push(row);
  }
  const csv = toCsv(withLabels ? [...columns, 'component'] : columns, rows);
  if (output === undefined) {
    io.out(csv);
  } else {
    await writeFileAtomic(output, csv, { force, inputs: [modelPath] });
    io.err(`wrote ${output} (${n} rows)`);
  }
  return 0;
}
