import { deriveSeed } from '@gmmkit/core';
import { csvField } from '../io/format.js';
import { checkWritable, openOutput } from '../io/write-atomic.js';
import { undoStandardization } from '../model-file.js';
import {
  backendName,
  bool,
  int,
  loadModel,
  loadPlugins,
  stdoutWriter,
  str,
  type Args,
  type Io,
} from './common.js';

/** Rows drawn, formatted and written at a time: memory stays at one block whatever -n is. */
export const SAMPLE_BLOCK_ROWS = 1 << 16;

/**
 * `gmm sample`: rows drawn and written a block at a time, so -n 1e9 streams
 * in bounded memory; a reader that stops early (`| head`) ends it (EPIPE
 * exits 0, see process-io). The first block uses --seed itself, so up to
 * SAMPLE_BLOCK_ROWS rows are the library's sample(n, seed); block b > 0
 * draws with deriveSeed(seed, b).
 */
export async function sampleCommand(args: Args, io: Io): Promise<number> {
  const modelPath = str(args, 'model')!;
  const n = int(args, 'n', 1)!;
  const seed = int(args, 'seed', 0) ?? 0;
  const output = str(args, 'output');
  const force = bool(args, 'force');
  const plugins = await loadPlugins(args);
  const backend = backendName(args, plugins);
  const target = checkWritable(output ?? '-', { force, inputs: [modelPath] });

  const model = await loadModel(modelPath, plugins, backend);
  const d = model.gmm.d;
  const columns = model.columns ?? Array.from({ length: d }, (_, j) => String(j + 1));
  const withLabels = bool(args, 'labels');
  const out = await openOutput(target, { force, inputs: [modelPath], stdout: stdoutWriter(io) });
  try {
    await out.write((withLabels ? [...columns, 'component'] : columns).map(csvField).join(',') + '\n');
    for (let done = 0, b = 0; done < n; b++) {
      const m = Math.min(SAMPLE_BLOCK_ROWS, n - done);
      const { X, labels } = model.gm.sample(m, b === 0 ? seed : deriveSeed(seed, b));
      const data = model.standardize === null ? X.data : undoStandardization(X.data, d, model.standardize);
      const lines: string[] = [];
      for (let i = 0; i < m; i++) {
        let line = String(data[i * d]);
        for (let j = 1; j < d; j++) line += ',' + String(data[i * d + j]);
        if (withLabels) line += ',' + String(labels[i]);
        lines.push(line);
      }
      await out.write(lines.join('\n') + '\n');
      done += m;
      io.progress(`sample: ${done} of ${n} rows`);
    }
    io.endProgress();
    await out.commit();
  } catch (err) {
    io.endProgress();
    await out.abort();
    throw err;
  } finally {
    model.gm.dispose();
  }
  if (target.kind !== 'stdout') io.err(`wrote ${target.target} (${n} rows)`);
  return 0;
}
