import { BayesianGaussianMixture, initBackend, GaussianMixture, type BayesianGaussianMixtureOptions, type PriorOption } from '@gmmkit/tfjs';
import { UsageError, libraryWords } from '../errors.js';
import { formatKeyValues, formatNumber, formatTable } from '../io/format.js';
import { readTable } from '../io/read-file.js';
import type { NumericTable } from '../io/read-table.js';
import {
  applyStandardization,
  computeStandardization,
  totalLogJacobian,
  modelFile,
  unstandardizeCovariances,
  unstandardizeMeans,
  type Standardization,
} from '../model-file.js';
import { splitColumnList } from '../io/read-table.js';
import { PLOT_KINDS, mixturePlotSpec, type PlotKind } from '../plots/mixture-plot.js';
import { clusterArgs, fitDistributedCommand } from './fit-distributed.js';
import { fitStreamed, streamSettings } from './fit-stream.js';
import { renderSvg } from '../plots/render.js';
import {
  backendName,
  bool,
  checkOutputs,
  fileOutput,
  loadPlugins,
  matrices,
  modelFileText,
  nested,
  degenerateFlag,
  emSettings,
  optionFlag,
  priorSettings,
  readOptions,
  reportReadWarnings,
  trainingDataWarnings,
  resultIo,
  str,
  sum,
  checkFiniteFit,
  cutList,
  workersFlag,
  missingFlag,
  writeOutputs,
  type Args,
  type Io,
} from './common.js';
import { abortOnSigint } from './interrupt.js';

/** The --json document of `gmm fit` (the output contract). */
export interface FitJson {
  k: number;
  covarianceType: string;
  weights: number[];
  /** [k][d], original units. */
  means: number[][];
  /** [k][d][d] full matrices whatever the family, original units. */
  covariances: number[][][];
  /** Σ_i ln p(x_i) in original units. */
  logLikelihood: number;
  meanLogLikelihood: number;
  /** null for --bayesian (a variational posterior has no BIC/AIC). With --prior, at the MAP log-likelihood. */
  bic: number | null;
  aic: number | null;
  converged: boolean;
  iterations: number;
  backend: string;
  /** Σ of the --weights column (the n of BIC), else the number of rows. */
  n: number;
  /** Data rows read. */
  rows: number;
  /** The --weights column, or null. */
  weightColumn: string | null;
  columns: string[];
  nParameters: number;
  standardized: boolean;
  /** Numerical warnings about the fitted model (GaussianMixture.warnings()). */
  warnings: string[];
  /** --prior: the prior option used (MAP EM). */
  prior?: PriorOption;
  /** --bayesian: the weight prior, the ELBO and how many components keep a weight above `threshold`. */
  bayesian?: { weightConcentrationPriorType: string; effectiveComponents: number; threshold: number; lowerBound: number };
}

/** The weight above which --bayesian counts a component as effective. */
export const EFFECTIVE_WEIGHT = 0.01;

/** --bayesian and its prior flags as BayesianGaussianMixture options (undefined without --bayesian). */
export function bayesianSettings(args: Args): BayesianGaussianMixtureOptions | undefined {
  const flags = ['weight-prior-type', 'weight-concentration-prior', 'mean-precision-prior', 'degrees-of-freedom-prior'];
  if (!bool(args, 'bayesian')) {
    const given = flags.filter((f) => args[f] !== undefined);
    if (given.length > 0) throw new UsageError(`${given.map((f) => `--${f}`).join(', ')} need${given.length === 1 ? 's' : ''} --bayesian`);
    return undefined;
  }
  const out: BayesianGaussianMixtureOptions = {};
  const type = str(args, 'weight-prior-type');
  if (type !== undefined) {
    if (type !== 'dirichlet-process' && type !== 'dirichlet-distribution')
      throw new UsageError(`--weight-prior-type must be dirichlet-process or dirichlet-distribution, got '${type}'`);
    out.weightConcentrationPriorType = type;
  }
  const wcp = optionFlag(args, 'weight-concentration-prior', 'weightConcentrationPrior');
  if (wcp !== undefined) out.weightConcentrationPrior = wcp;
  const mpp = optionFlag(args, 'mean-precision-prior', 'meanPrecisionPrior');
  if (mpp !== undefined) out.meanPrecisionPrior = mpp;
  const dof = optionFlag(args, 'degrees-of-freedom-prior', 'degreesOfFreedomPrior');
  if (dof !== undefined) out.degreesOfFreedomPrior = dof;
  return out;
}

export async function fitCommand(args: Args, io: Io): Promise<number> {
  const cluster = await clusterArgs(args, 'fit');
  if (cluster !== undefined) return fitDistributedCommand(args, io, cluster);
  const dataFile = str(args, 'data');
  if (dataFile === undefined) throw new UsageError('name a data file, or give --distributed URL --shards FILES');
  const k = optionFlag(args, 'k', 'nComponents') ?? 1;
  const covarianceType = str(args, 'covariance') ?? 'full';
  const initParams = str(args, 'init') ?? 'kmeans';
  const em = emSettings(args);
  const degenerate = degenerateFlag(args);
  const output = fileOutput(args, 'output');
  const plot = fileOutput(args, 'plot');
  const force = bool(args, 'force');
  const workers = workersFlag(args);
  const missing = missingFlag(args);
  const stream = bool(args, 'stream') ? streamSettings(args, dataFile) : undefined;
  const prior = priorSettings(args);
  const bayesian = bayesianSettings(args);
  if (bayesian !== undefined && prior !== undefined)
    throw new UsageError('--bayesian and --prior are two different priors: give one (--bayesian has its own --weight-*/--mean-precision-prior/--degrees-of-freedom-prior)');
  if (stream === undefined && (args['chunk-rows'] !== undefined || args['sample-size'] !== undefined))
    throw new UsageError('--chunk-rows and --sample-size need --stream');

  // Everything that can be checked without the data, first.
  const plugins = await loadPlugins(args);
  plugins.registry.covarianceFamily(covarianceType);
  plugins.registry.initializer(initParams);
  const backend = backendName(args, plugins);
  const targets = checkOutputs({ output, plot }, force, [dataFile]);
  const read = readOptions(args, io);

  if (stream !== undefined) {
    const options = {
      nComponents: k,
      covarianceType,
      initParams,
      ...em,
      degenerate,
      workers,
      ...(missing ? { missing: 'marginalize' as const } : {}),
      ...(prior === undefined ? {} : { prior }),
    };
    return fitStreamed(args, io, { dataFile, targets, read, force, backend, plugins, stream, options, bayesian });
  }

  // From here Ctrl-C stops the command cleanly: EM (and its workers) stops at
  // its next iteration, nothing is written, exit 130.
  const { table, plotDims, kind, standardize, x, gm, backendUsed } = await abortOnSigint(
    io,
    'fit',
    async (signal) => {
      const table = await readTable(dataFile, { ...read, signal, weights: str(args, 'weights'), missing });
      io.endProgress();
      reportReadWarnings(io, [...table.warnings, ...trainingDataWarnings(table)]);
      if (k > table.n)
        throw new UsageError(
          `-k ${k} exceeds the number of rows (${table.n}) in ${table.source}: each component needs a row`,
        );
      if (plot === undefined && str(args, 'plot-columns') !== undefined)
        throw new UsageError('--plot-columns needs --plot');
      const plotDims = plot === undefined ? undefined : plotColumns(table, str(args, 'plot-columns'));
      const kind = plotKind(args);
      if (plot === undefined && args['plot-kind'] !== undefined) throw new UsageError('--plot-kind needs --plot');

      const standardize = bool(args, 'standardize')
        ? computeStandardization(table.data, table.n, table.d)
        : null;
      const x = {
        data: standardize === null ? table.data : applyStandardization(table.data, table.d, standardize),
        shape: [table.n, table.d] as [number, number],
      };

      const info = await initBackend(backend, plugins.container);
      const options = {
        nComponents: k,
        covarianceType,
        initParams,
        ...em,
        degenerate,
        ...(workers === undefined ? {} : { workers }),
        ...(missing ? { missing: 'marginalize' as const } : {}),
        // Shard workers load the same plugin modules (paths against the working directory).
        plugins: plugins.workerSpecifiers,
        container: plugins.container,
        backend: info.name,
        onIteration: (it: number, lb: number) => io.progress(`fitting: iteration ${it}, lower bound ${formatNumber(lb)}`),
        signal,
        // The CLI words its own warning (reportFitWarnings), with its flags.
        convergenceWarning: false,
      };
      const model =
        bayesian === undefined
          ? new GaussianMixture({ ...options, ...(prior === undefined ? {} : { prior }) })
          : new BayesianGaussianMixture({ ...options, ...bayesian });
      // score: the log-likelihood reported is the fit's own final E-step (on its blocks or shard workers), no second upload.
      const fitted = await model.fit(x, { score: true, ...(table.sampleWeight === undefined ? {} : { sampleWeight: table.sampleWeight }) });
      return { table, plotDims, kind, standardize, x, gm: fitted, backendUsed: info.name };
    },
  );

  try {
    const result = summarize(gm, table, standardize, backendUsed);
    checkFiniteFit(result);
    reportFitWarnings(io, result, em, fitContext(table.n, x));

    // Every output is rendered (and the model read back) before any is written.
    const files: [NonNullable<typeof targets.output>, string][] = [];
    if (targets.output !== undefined) {
      files.push([
        targets.output,
        await modelFileText(modelFile(gm.toJSON(), table.columns, standardize, plugins.specifiers), plugins),
      ]);
    }
    if (targets.plot !== undefined && plotDims !== undefined) {
      files.push([targets.plot, await renderFitPlot(gm, x, table, result, plotDims, kind)]);
    }
    // Results first: a file that cannot be written does not lose them.
    resultIo(io, targets)(bool(args, 'json') ? JSON.stringify(result, null, 2) : formatFit(result, table));
    return await writeOutputs(io, files, { force, inputs: [dataFile] });
  } finally {
    gm.dispose();
  }
}

/** What the fit warnings look at besides the result: rows, and the data's variance scale in the model's units. */
export interface FitContext {
  n: number;
  /** Largest column variance of the data the model saw (standardized when --standardize). */
  maxVariance: number;
  /** Largest magnitude in that data (to tell a constant column from a small spread). */
  maxAbs: number;
}

function fitContext(n: number, x: { data: Float64Array; shape: [number, number] }): FitContext {
  const d = x.shape[1];
  const { data } = x;
  let maxVariance = 0;
  let maxAbs = 0;
  // One pass over the rows: sums of x - x₀ and its square, x₀ the first row (so the
  // two terms of the variance keep their digits, as a shift by the mean would).
  const sum = new Float64Array(d);
  const sq = new Float64Array(d);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < d; j++) {
      const v = data[i * d + j]!;
      if (Math.abs(v) > maxAbs) maxAbs = Math.abs(v);
      const t = v - data[j]!;
      sum[j] += t;
      sq[j] += t * t;
    }
  for (let j = 0; j < d; j++) maxVariance = Math.max(maxVariance, sq[j]! / n - (sum[j]! / n) ** 2);
  return { n, maxVariance, maxAbs };
}

/** The --json document of a model fitted with `score: true` (its trainingScore is the log-likelihood). */
function summarize(
  gm: GaussianMixture | BayesianGaussianMixture,
  table: NumericTable,
  s: Standardization | null,
  backend: string,
): FitJson {
  // With --weights (frequency weights): Σ w ln p(x) and n = Σ w, the figures of the replicated rows.
  const w = table.sampleWeight;
  const scored = gm.trainingScore;
  if (scored === undefined) throw new Error('summarize: the model was fitted without score: true');
  const n = w === undefined ? table.n : sum(w);
  const logLikelihood = scored.logLikelihood + totalLogJacobian(table.data, table.d, s, w);
  return fitResult(gm, logLikelihood, n, table.columns, s, backend, { rows: table.n, weightColumn: table.weightColumn });
}

/**
 * The --json document from a fitted model and its total log-likelihood
 * (original units) over n rows (n = Σ w with --weights; `data.rows` the rows read).
 */
export function fitResult(
  gm: GaussianMixture | BayesianGaussianMixture,
  logLikelihood: number,
  n: number,
  columns: string[],
  s: Standardization | null,
  backend: string,
  data: { rows: number; weightColumn: string | undefined } = { rows: n, weightColumn: undefined },
): FitJson {
  const st = gm.state;
  const p = gm.nParameters();
  const bayesian = gm instanceof BayesianGaussianMixture;
  const prior = gm instanceof GaussianMixture ? gm.toJSON().options.prior : undefined;
  return {
    k: st.k,
    covarianceType: st.covarianceType,
    weights: Array.from(st.weights),
    means: nested(unstandardizeMeans(st.means, st.d, s), st.k, st.d),
    covariances: matrices(unstandardizeCovariances(gm.fullCovariances(), st.d, s), st.k, st.d),
    logLikelihood,
    meanLogLikelihood: logLikelihood / n,
    bic: bayesian ? null : -2 * logLikelihood + p * Math.log(n),
    aic: bayesian ? null : -2 * logLikelihood + 2 * p,
    converged: st.converged,
    iterations: st.nIter,
    backend,
    n,
    rows: data.rows,
    weightColumn: data.weightColumn ?? null,
    columns,
    nParameters: p,
    standardized: s !== null,
    warnings: gm.warnings(),
    ...(prior === undefined ? {} : { prior }),
    ...(gm instanceof BayesianGaussianMixture
      ? {
          bayesian: {
            weightConcentrationPriorType: gm.state.weightConcentrationPriorType,
            effectiveComponents: gm.effectiveComponents(EFFECTIVE_WEIGHT),
            threshold: EFFECTIVE_WEIGHT,
            lowerBound: gm.state.lowerBound,
          },
        }
      : {}),
  };
}

/**
 * Warnings about a fit, one line each on stderr and in the --json
 * `warnings` list: the library's (non-convergence, conditioning,
 * degeneracy; in CLI words), components with less than one row's weight,
 * and a --reg-covar that swamps the data's variance.
 */
export function reportFitWarnings(
  io: { err(line: string): void },
  result: FitJson,
  em: { regCovar?: number | undefined },
  context: FitContext,
): void {
  // The library's warnings (non-convergence among them) in this CLI's words and flags.
  const lines = result.warnings.map(libraryWords);
  const tiny = result.weights.flatMap((w, j) => (w * context.n < 1 ? [j] : []));
  if (tiny.length > 0) {
    lines.push(
      `component${tiny.length === 1 ? '' : 's'} ${tiny.join(', ')} ${tiny.length === 1 ? 'has' : 'have'} weight ${tiny.map((j) => result.weights[j]!.toExponential(1)).join(', ')}, less than one row of ${context.n}: the data support fewer than ${result.k} components (duplicate rows?); try a smaller -k`,
    );
  }
  const reg = em.regCovar ?? 1e-6;
  // Data constant up to rounding has no spread for --reg-covar to swamp.
  const spread = context.maxVariance > (1e3 * Number.EPSILON * Math.max(1, context.maxAbs)) ** 2;
  if (spread && reg > context.maxVariance) {
    lines.push(
      `--reg-covar ${reg} exceeds the largest column variance of the data (${formatNumber(context.maxVariance, 3)}${result.standardized ? ', standardized' : ''}): the covariances are mostly regularization; use a value well below it (default 1e-6)`,
    );
  }
  // --json lists the same lines as stderr.
  result.warnings = lines;
  for (const l of lines) io.err(`warning: ${l}`);
}

/** Most columns a pairs plot shows. */
const MAX_PAIRS = 6;

/**
 * Which fitted columns a fit plot shows (0-based positions among them): all
 * of them up to MAX_PAIRS (one: a histogram, two: a scatter, more: a pairs
 * plot), or 1 to MAX_PAIRS named by --plot-columns.
 */
function plotColumns(table: NumericTable, spec: string | undefined): number[] {
  if (spec === undefined) return Array.from({ length: Math.min(table.d, MAX_PAIRS) }, (_, j) => j);
  const picks = splitColumnList(spec);
  if (picks.length > MAX_PAIRS)
    throw new UsageError(`--plot-columns: at most ${MAX_PAIRS} columns in a pairs plot, got ${picks.length}`);
  const pos = picks.map((t) => {
    const byName = table.columns.indexOf(t);
    if (byName >= 0) return byName;
    if (/^\d+$/.test(t) && Number(t) >= 1 && Number(t) <= table.d) return Number(t) - 1;
    throw new UsageError(
      `--plot-columns: '${t}' is not one of the fitted columns (${cutList(table.columns)}) or a position 1..${table.d}`,
    );
  });
  if (new Set(pos).size !== pos.length) throw new UsageError('--plot-columns: a column is listed twice');
  return pos;
}

/** --plot-kind: classification (default), uncertainty or density. */
function plotKind(args: Args): PlotKind {
  const v = str(args, 'plot-kind') ?? 'classification';
  if (!(PLOT_KINDS as readonly string[]).includes(v))
    throw new UsageError(`--plot-kind must be one of ${PLOT_KINDS.join(', ')}, got '${v}'`);
  return v as PlotKind;
}

async function renderFitPlot(
  gm: GaussianMixture | BayesianGaussianMixture,
  x: { data: Float64Array; shape: [number, number] },
  table: NumericTable,
  result: FitJson,
  dims: number[],
  kind: PlotKind,
): Promise<string> {
  const d = table.d;
  const points: number[][] = [];
  for (let i = 0; i < table.n; i++) points.push(dims.map((a) => table.data[i * d + a]!));
  // Labels and uncertainty from one E-step.
  const p = gm.predictProba(x);
  const labels = new Int32Array(p.rows);
  const uncertainty = new Float64Array(p.rows);
  for (let i = 0; i < p.rows; i++) {
    let best = 0;
    for (let j = 1; j < p.cols; j++) if (p.data[i * p.cols + j]! > p.data[i * p.cols + best]!) best = j;
    labels[i] = best;
    uncertainty[i] = Math.max(0, 1 - p.data[i * p.cols + best]!);
  }
  const shownNote =
    dims.length < d || dims.length > 2
      ? `columns ${cutList(dims.map((a) => table.columns[a]!))}${dims.length < d ? ` (${dims.length} of ${d})` : ''}`
      : undefined;
  // The marginal of a Gaussian on some coordinates is the matching block.
  return renderSvg(
    mixturePlotSpec({
      kind,
      columns: dims.map((a) => table.columns[a]!),
      points,
      labels,
      uncertainty,
      weights: result.weights,
      means: result.means.map((m) => dims.map((a) => m[a]!)),
      covariances: result.covariances.map((c) => dims.map((a) => dims.map((b) => c[a]![b]!))),
      title: `${result.k}-component ${result.covarianceType} mixture, ${table.source}${kind === 'classification' ? '' : ` (${kind})`}`,
      note: shownNote,
    }),
  );
}

export function formatFit(
  r: FitJson,
  table: { d: number; source: string; columns: readonly string[] },
): string {
  const rows =
    r.weightColumn === null
      ? `${r.n} rows`
      : `${r.rows} rows (weighted by '${r.weightColumn}', total weight ${formatNumber(r.n)})`;
  const head =
    r.bayesian === undefined
      ? `${r.k}-component '${r.covarianceType}' Gaussian mixture fitted to ${rows} x ${table.d} columns of ${table.source}${r.prior === undefined ? '' : " (MAP EM, mclust's conjugate prior)"}`
      : `Bayesian '${r.covarianceType}' Gaussian mixture (at most ${r.k} components, ${r.bayesian.weightConcentrationPriorType} prior) fitted to ${rows} x ${table.d} columns of ${table.source}`;
  const summary = formatKeyValues([
    ['backend', r.backend],
    [
      'converged',
      `${r.converged ? 'yes' : 'NO'} after ${r.iterations} iteration${r.iterations === 1 ? '' : 's'}`,
    ],
    [
      'log-likelihood',
      `${formatNumber(r.logLikelihood)} (mean ${formatNumber(r.meanLogLikelihood)} per row)`,
    ],
    ...(r.bayesian === undefined
      ? ([
          ['BIC', formatNumber(r.bic ?? Number.NaN)],
          ['AIC', formatNumber(r.aic ?? Number.NaN)],
        ] as [string, string][])
      : ([
          ['effective components', `${r.bayesian.effectiveComponents} of ${r.k} (weight > ${r.bayesian.threshold})`],
          ['lower bound (ELBO)', formatNumber(r.bayesian.lowerBound)],
        ] as [string, string][])),
    ['parameters', String(r.nParameters)],
    ...(r.standardized ? ([['standardized', 'yes (figures in original units)']] as [string, string][]) : []),
  ]);
  return [
    head,
    '',
    summary,
    '',
    'Means',
    componentTable(r.weights, r.means, table.columns),
    '',
    'Standard deviations',
    sdTable(r, table.columns),
  ].join('\n');
}

export function componentTable(
  weights: readonly number[],
  means: readonly (readonly number[])[],
  columns: readonly string[],
): string {
  return formatTable(
    ['component', 'weight', ...columns],
    means.map((m, j) => [String(j), formatNumber(weights[j]!, 4), ...m.map((v) => formatNumber(v, 5))]),
  );
}

function sdTable(r: FitJson, columns: readonly string[]): string {
  return formatTable(
    ['component', ...columns],
    r.covariances.map((c, j) => [String(j), ...c.map((row, a) => formatNumber(Math.sqrt(row[a]!), 5))]),
  );
}
