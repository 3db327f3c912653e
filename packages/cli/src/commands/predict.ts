import { csvField } from '../io/format.js';
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
    // Labels alone are the argmax of the weighted log-densities (predict: no normalizing pass);
    // with probabilities they are the argmax of the responsibilities, from the same E-step.
    const p = withProba || withUncertainty ? model.gm.predictProba(x) : undefined;
    const k = model.gm.state.k;
    const labels = p === undefined ? model.gm.predict(x) : new Int32Array(p.rows);
    if (p !== undefined)
      for (let i = 0; i < p.rows; i++) {
        let label = 0;
        for (let j = 1; j < k; j++) if (p.data[i * k + j]! > p.data[i * k + label]!) label = j;
        labels[i] = label;
      }
    const probability = (i: number, j: number): number => p!.data[i * k + j]!;
    const uncertainty = (i: number) => Math.max(0, 1 - probability(i, labels[i]!));
    let text: string | Uint8Array;
    if (!bool(args, 'json') && table.ids === undefined && !withProba && !withUncertainty) text = labelLines(labels);
    else if (bool(args, 'json')) {
      const rows: PredictJsonRow[] = Array.from(labels, (label, i) => ({
        ...(table.ids === undefined ? {} : { id: table.ids[i]! }),
        label,
        ...(withProba ? { proba: Array.from(p!.data.subarray(i * k, (i + 1) * k)) } : {}),
        ...(withUncertainty ? { uncertainty: uncertainty(i) } : {}),
      }));
      text = JSON.stringify(rows) + '\n';
    } else {
      const header = [
        ...(table.idName === undefined ? [] : [table.idName]),
        'label',
        ...(withProba ? Array.from({ length: k }, (_, j) => `p${j}`) : []),
        ...(withUncertainty ? ['uncertainty'] : []),
      ];
      // Line by line, no row objects: a million rows are a million short strings, not ten million values.
      const lines: string[] = [header.map(csvField).join(',')];
      for (let i = 0; i < labels.length; i++) {
        let line = table.ids === undefined ? String(labels[i]) : `${csvField(table.ids[i]!)},${labels[i]}`;
        if (withProba) for (let j = 0; j < k; j++) line += `,${probability(i, j)}`;
        if (withUncertainty) line += `,${uncertainty(i)}`;
        lines.push(line);
      }
      text = lines.join('\n') + '\n';
    }
    return await writeOutputs(io, [[target, text, `(${table.n} rows)`]], { force, inputs });
  } finally {
    model.gm.dispose();
  }
}

/**
 * The CSV of labels alone ("label", then one per row) as bytes, written
 * digit by digit: the text the general path builds from a million strings,
 * without them (~0.1 s less at 1M rows). Labels are component indices (>= 0).
 */
export function labelLines(labels: Int32Array): Uint8Array {
  const header = 'label\n';
  let largest = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i]! > largest) largest = labels[i]!;
  const out = new Uint8Array(header.length + labels.length * (String(largest).length + 1));
  let at = 0;
  for (let c = 0; c < header.length; c++) out[at++] = header.charCodeAt(c);
  for (let i = 0; i < labels.length; i++) {
    const v = labels[i]!;
    if (v < 10) out[at++] = 48 + v;
    else for (const c of String(v)) out[at++] = c.charCodeAt(0);
    out[at++] = 10;
  }
  return out.subarray(0, at);
}
