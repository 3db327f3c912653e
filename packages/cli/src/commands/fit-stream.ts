import { InvalidArgumentError } from '@gmmkit/core';
import {
  BayesianGaussianMixture,
  fitStream,
  type GaussianMixture,
  type StreamFitOptions,
  initBackend,
  type BayesianGaussianMixtureOptions,
  type PriorOption,
  type RowSource,
} from '@gmmkit/tfjs';
import { UsageError } from '../errors.js';
import { formatNumber } from '../io/format.js';
import type { ReadTableOptions } from '../io/read-file.js';
import { openStreamTable } from '../io/stream-table.js';
import type { OutputTarget } from '../io/write-atomic.js';
import { applyStandardization, modelFile, totalLogJacobian, type Standardization } from '../model-file.js';
import {
  NonFiniteError,
  bool,
  checkFiniteFit,
  int,
  modelFileText,
  reportReadWarnings,
  resultIo,
  str,
  sum,
  writeOutputs,
  type Args,
  type EmSettings,
  type Io,
  type Plugins,
} from './common.js';
import { fitResult, formatFit, reportFitWarnings } from './fit.js';
import { abortOnSigint } from './interrupt.js';

/** Default rows per block read, uploaded and scored at a time with --stream. */
export const DEFAULT_CHUNK_ROWS = 8192;

export interface StreamSettings {
  chunkRows: number;
  sampleSize: number | undefined;
}

/** --stream's own flags and what it cannot do, checked before anything is read. */
export function streamSettings(args: Args, dataFile: string): StreamSettings {
  if (dataFile === '-') {
    throw new UsageError(
      "--stream reads the data once per pass and stdin ('-') can be read only once: give a file name, or drop --stream",
    );
  }
  for (const flag of ['plot', 'plot-columns', 'plot-kind']) {
    if (args[flag] !== undefined) {
      throw new UsageError(
        `--${flag} needs every row in memory and is not available with --stream; fit without --stream to plot`,
      );
    }
  }
  return {
    chunkRows: int(args, 'chunk-rows', 1) ?? DEFAULT_CHUNK_ROWS,
    sampleSize: int(args, 'sample-size', 1),
  };
}

export interface StreamedFit {
  dataFile: string;
  targets: { output: OutputTarget | undefined; plot: OutputTarget | undefined };
  read: ReadTableOptions;
  force: boolean;
  backend: string;
  plugins: Plugins;
  stream: StreamSettings;
  options: EmSettings & {
    nComponents: number;
    covarianceType: string;
    initParams: string;
    /** Applies to the fit on the initialization sample (the passes run on the main thread). */
    workers: number | 'auto' | undefined;
    missing?: 'marginalize';
    /** --prior: MAP EM in the passes. */
    prior?: PriorOption;
  };
  /** --bayesian: BayesianGaussianMixture's priors (the passes run variational inference). */
  bayesian: BayesianGaussianMixtureOptions | undefined;
}

/**
 * `gmm fit --stream`: the file is read in chunks, once per pass (a
 * statistics pass, one per EM iteration, and one more for the reported
 * log-likelihood, plus one first with --standardize), so memory stays at a
 * block and the initialization sample whatever the file's size. The
 * output is the same as `gmm fit`'s; logLikelihood is that of the final
 * parameters (the extra pass), as `gmm fit` reports.
 */
export async function fitStreamed(args: Args, io: Io, f: StreamedFit): Promise<number> {
  const table = await openStreamTable(f.dataFile, {
    ...f.read,
    weights: str(args, 'weights'),
    missing: f.options.missing === 'marginalize',
    chunkRows: f.stream.chunkRows,
  });
  reportReadWarnings(io, table.warnings);
  const d = table.d;
  let pass = 0;
  const counted = <S extends { blocks(): unknown }>(src: S): S => ({
    ...src,
    blocks: () => {
      pass++;
      return src.blocks();
    },
  });
  let standardize: Standardization | null = null;
  if (bool(args, 'standardize')) {
    io.progress('streaming: pass 1, column means and standard deviations');
    standardize = await streamStandardization(counted({ d, blocks: () => table.blocks() }));
  }
  const s = standardize;
  /** The rows the model sees (standardized with --standardize), with their --weights. */
  const modelBlocks = async function* () {
    for await (const b of table.weightedBlocks())
      yield { data: s === null ? b.data : applyStandardization(b.data, d, s), weights: b.weights };
  };
  const rows: RowSource = {
    d,
    blocks:
      table.weightColumn === undefined
        ? async function* () {
            for await (const b of modelBlocks()) yield b.data;
          }
        : async function* () {
            for await (const b of modelBlocks()) yield { data: b.data, weights: b.weights! };
          },
  };

  const info = await initBackend(f.backend, f.plugins.container);
  const { workers, ...o } = f.options;
  // Ctrl-C stops the passes (checked before every block) before anything is written.
  const gm = await abortOnSigint(io, 'fit', (signal): Promise<GaussianMixture | BayesianGaussianMixture> => {
    const options: StreamFitOptions = {
      ...o,
      ...(workers === undefined ? {} : { workers }),
      ...(f.stream.sampleSize === undefined ? {} : { sampleSize: f.stream.sampleSize }),
      chunkSize: f.stream.chunkRows,
      plugins: f.plugins.workerSpecifiers,
      container: f.plugins.container,
      backend: info.name,
      convergenceWarning: false, // reportFitWarnings words it with the CLI's flags
      onPass: (_p, purpose, n) =>
        io.progress(
          `streaming: pass ${pass} (${purpose === 'statistics' ? 'statistics' : 'EM'}) read ${n} rows`,
        ),
      onIteration: (it, lb) =>
        io.progress(`streaming: pass ${pass + 1}, after iteration ${it} lower bound ${formatNumber(lb)}`),
      signal,
    };
    const source = counted(rows);
    return (
      f.bayesian === undefined
        ? fitStream(source, options)
        : fitStream(source, { ...options, ...f.bayesian }, BayesianGaussianMixture)
    ).catch((err: unknown) => {
      throw sizeError(err, o.nComponents, table.source);
    });
  });

  try {
    // The log-likelihood of the final parameters, and the largest column
    // variance (for the --reg-covar warning): one more pass, block by block.
    io.progress(`streaming: pass ${pass + 1}, final log-likelihood`);
    // With --weights: Σ w ln p and n = Σ w, as gmm fit.
    let logLikelihood = 0;
    let n = 0;
    let rowCount = 0;
    const moments = new RunningVariance(d);
    for await (const { data, weights } of modelBlocks()) {
      const r = data.length / d;
      const scores = gm.scoreSamples({ data, shape: [r, d] });
      logLikelihood += sum(weights === undefined ? scores : scores.map((v, i) => (weights[i] === 0 ? 0 : weights[i]! * v)));
      n += weights === undefined ? r : sum(weights);
      rowCount += r;
      // Original units: each row's observed columns' Jacobian (data is the standardized block; NaN stays NaN).
      logLikelihood += totalLogJacobian(data, d, standardize, weights);
      moments.add(data);
    }
    io.endProgress();

    const result = fitResult(gm, logLikelihood, n, table.columns, standardize, info.name, {
      rows: rowCount,
      weightColumn: table.weightColumn,
    });
    checkFiniteFit(result);
    reportFitWarnings(io, result, o, { n, maxVariance: moments.maxVariance(), maxAbs: moments.maxAbs });
    const files: [OutputTarget, string][] = [];
    if (f.targets.output !== undefined) {
      files.push([
        f.targets.output,
        await modelFileText(modelFile(gm.toJSON(), table.columns, standardize, f.plugins.specifiers), f.plugins),
      ]);
    }
    resultIo(io, f.targets)(bool(args, 'json') ? JSON.stringify(result, null, 2) : formatFit(result, table));
    return await writeOutputs(io, files, { force: f.force, inputs: [f.dataFile] });
  } finally {
    gm.dispose();
  }
}

/** Column variances of blocks of rows (Welford, merged per block); missing cells (NaN) are skipped. */
class RunningVariance {
  private readonly n: Float64Array;
  maxAbs = 0;
  private readonly mean: Float64Array;
  private readonly m2: Float64Array;
  constructor(private readonly d: number) {
    this.n = new Float64Array(d);
    this.mean = new Float64Array(d);
    this.m2 = new Float64Array(d);
  }
  add(block: Float64Array): void {
    const d = this.d;
    for (let i = 0; i < block.length; i += d) {
      for (let j = 0; j < d; j++) {
        const v = block[i + j]!;
        if (Number.isNaN(v)) continue;
        this.maxAbs = Math.max(this.maxAbs, Math.abs(v));
        const c = ++this.n[j]!;
        const delta = v - this.mean[j]!;
        this.mean[j] += delta / c;
        this.m2[j] += delta * (v - this.mean[j]!);
      }
    }
  }
  maxVariance(): number {
    let max = 0;
    for (let j = 0; j < this.d; j++) if (this.n[j]! > 0) max = Math.max(max, this.m2[j]! / this.n[j]!);
    return max;
  }
}

/** fitStream's k checks in the words of `gmm fit`. */
function sizeError(err: unknown, k: number, source: string): unknown {
  if (!(err instanceof InvalidArgumentError)) return err;
  const rows = /must be <= the number of samples \((\d+)\)/.exec(err.message);
  if (rows !== null)
    return new UsageError(
      `-k ${k} exceeds the number of rows (${rows[1]}) in ${source}: each component needs a row`,
    );
  const sample = /must be <= sampleSize \((\d+)\)/.exec(err.message);
  if (sample !== null)
    return new UsageError(
      `-k ${k} exceeds --sample-size ${sample[1]}: the initialization needs a row per component`,
    );
  return err;
}

/**
 * Column means and population standard deviations (as computeStandardization)
 * in one pass: sums of deviations from the first row, which keeps the
 * variance accurate when the mean is large against the spread.
 */
async function streamStandardization(rows: { d: number; blocks(): AsyncIterable<Float64Array> }): Promise<Standardization> {
  const d = rows.d;
  let shift: Float64Array | undefined;
  const s1 = new Float64Array(d);
  const s2 = new Float64Array(d);
  let n = 0;
  for await (const block of rows.blocks()) {
    shift ??= block.slice(0, d);
    for (let i = 0; i < block.length; i += d) {
      for (let j = 0; j < d; j++) {
        const t = block[i + j]! - shift[j]!;
        s1[j] += t;
        s2[j] += t * t;
      }
    }
    n += block.length / d;
  }
  const mean: number[] = [];
  const scale: number[] = [];
  for (let j = 0; j < d; j++) {
    const m = s1[j]! / n;
    mean.push(shift![j]! + m);
    // A constant column keeps scale 1 so it stays finite (it is then all zeros).
    scale.push(Math.sqrt(Math.max(s2[j]! / n - m * m, 0)) || 1);
  }
  if (![...mean, ...scale].every(Number.isFinite))
    throw new NonFiniteError(
      "--standardize: a column's mean or standard deviation overflows floating point (values near 1e300? rescale the columns)",
    );
  return { mean, scale };
}
