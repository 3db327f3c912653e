import {
  sweep,
  formatSweepTable,
  parseKSpec,
  type SweepResult,
  type SweepRow,
} from '@gmmkit/model-selection';
import { mclustModelNames } from '@gmmkit/mclust';
import { UsageError, libraryWords } from '../errors.js';
import { readTable } from '../io/read-file.js';
import type { OutputTarget } from '../io/write-atomic.js';
import {
  applyStandardization,
  computeStandardization,
  modelFile,
  totalLogJacobian,
  unstandardizeCovariances,
  type Standardization,
} from '../model-file.js';
import { clusterArgs, shardsSource } from './fit-distributed.js';
import { renderSvg } from '../plots/render.js';
import { sweepPlotSpec } from '../plots/sweep-plot.js';
import {
  backendName,
  bool,
  checkOutputs,
  fileOutput,
  int,
  loadPlugins,
  degenerateFlag,
  emSettings,
  priorSettings,
  missingFlag,
  modelFileText,
  NonFiniteError,
  readOptions,
  reportReadWarnings,
  trainingDataWarnings,
  resultIo,
  str,
  sum,
  writeOutputs,
  type Args,
  type Io,
  type Plugins,
} from './common.js';
import { abortOnSigint } from './interrupt.js';

/** The --json document of `gmm sweep` (the output contract). */
export interface SweepJson {
  criterion: string;
  best: { k: number; covarianceType: string; bic: number; aic: number; logLikelihood: number };
  results: {
    k: number;
    covarianceType: string;
    /** null where the fit failed (see error). */
    bic: number | null;
    aic: number | null;
    icl: number | null;
    logLikelihood: number | null;
    converged: boolean;
    iterations: number;
    seconds: number;
    error?: string;
    /** The cell's solution is degenerate (--degenerate); under 'reject' it is never chosen. */
    degenerate: boolean;
    degeneracy?: string;
    /** The family whose converged partition started the kept fit (--start-from). */
    startedFrom?: string;
  }[];
  backend: string;
  /** Σ of the --weights column (the n of BIC), else the number of rows. */
  n: number;
  /** Data rows read. */
  rows: number;
  /** The --weights column, or null. */
  weightColumn: string | null;
  columns: string[];
  standardized: boolean;
}

export async function sweepCommand(args: Args, io: Io): Promise<number> {
  const cluster = await clusterArgs(args, 'sweep');
  const dataFile = str(args, 'data');
  if (dataFile === undefined && cluster === undefined)
    throw new UsageError('name a data file, or give --distributed URL --shards FILES');
  const kText = str(args, 'k');
  const ks = kText === undefined ? undefined : parseKSpec(kText);
  const criterion = str(args, 'criterion') ?? 'bic';
  const bicSign = str(args, 'bic-sign') ?? 'gmmkit';
  if (bicSign !== 'gmmkit' && bicSign !== 'mclust')
    throw new UsageError(`--bic-sign '${bicSign}': expected gmmkit or mclust`);
  const mclustSign = bicSign === 'mclust';
  if (mclustSign && !['bic', 'aic', 'icl'].includes(criterion))
    throw new UsageError(`--bic-sign mclust applies to bic, aic and icl, not to '${criterion}'`);
  const em = emSettings(args);
  const prior = priorSettings(args);
  const workers = int(args, 'workers', 0);
  const patience = int(args, 'patience', 1);
  const initParams = str(args, 'init') ?? 'kmeans';
  const degenerate = degenerateFlag(args);
  const output = fileOutput(args, 'output');
  const plot = fileOutput(args, 'plot');
  const force = bool(args, 'force');

  const plugins = await loadPlugins(args);
  const familiesFor = covarianceList(str(args, 'covariance') ?? 'full,tied,diag,spherical', plugins);
  for (const f of familiesFor(2)) plugins.registry.covarianceFamily(f);
  plugins.registry.initializer(initParams);
  plugins.registry.criterion(criterion);
  const backend = backendName(args, plugins);
  const inputs = cluster?.shards ?? [dataFile!];
  const targets = checkOutputs({ output, plot }, force, inputs);
  const out = { targets, force, inputs, plugins, mclustSign };
  const startFrom = startFromFlag(args, plugins);
  if (cluster !== undefined) {
    if (startFrom !== undefined) throw new UsageError('--start-from runs on this machine after the grid; it does not combine with --distributed');
    const columns = str(args, 'columns');
    const { sweepDistributed } = await import('@gmmkit/distributed');
    const result = await abortOnSigint(io, 'sweep', (signal) =>
      sweepDistributed({
        redis: cluster.redis,
        shards: cluster.shards,
        ...(columns === undefined ? {} : { columns }),
        ...(ks === undefined ? {} : { k: ks }),
        // Families that depend on d (mclust's univariate models) are known after the scan; the list is the d >= 2 one.
        covarianceTypes: familiesFor(2),
        criterion,
        initParams,
        degenerate,
        ...em,
        container: plugins.container,
        backend,
        signal,
        onProgress: ({ done, total, row }) =>
          io.progress(`sweep on the workers: ${done}/${total} fits (last: k=${row.k} ${row.covarianceType})`),
      }),
    );
    const table = { n: result.n, d: result.d, columns: result.columns, source: shardsSource(cluster.shards) };
    return reportSweep(args, io, { ...table, total: result.n, shift: 0 }, null, result, out);
  }

  const missing = missingFlag(args);
  const table = await abortOnSigint(io, 'sweep', (signal) =>
    readTable(dataFile!, readOptions(args, io, { signal, weights: str(args, 'weights'), missing })),
  );
  reportReadWarnings(io, [...table.warnings, ...trainingDataWarnings(table)]);
  // With --weights, n (of BIC and of the log-likelihood shift below) is Σ w.
  const weights = table.sampleWeight;
  const n = weights === undefined ? table.n : sum(weights);
  const tooBig = (ks ?? []).filter((k) => k > table.n);
  if (tooBig.length > 0)
    throw new UsageError(
      `--k ${kText!.length > 40 ? `${kText!.slice(0, 39)}…` : kText}: k = ${tooBig.length > 3 ? `${tooBig[0]}..${tooBig[tooBig.length - 1]} (${tooBig.length} values)` : tooBig.join(', ')} exceed${tooBig.length === 1 ? 's' : ''} the number of rows (${table.n}) in ${table.source}`,
    );
  const standardize = bool(args, 'standardize') ? computeStandardization(table.data, table.n, table.d) : null;
  const data = standardize === null ? table.data : applyStandardization(table.data, table.d, standardize);

  // Ctrl-C aborts the sweep (workers are terminated); a second one exits at once.
  const result: SweepResult = await abortOnSigint(io, 'sweep', (signal) => {
    // Shown until the first cell finishes (that can take a while).
    io.progress('sweep: started');
    return sweep({
      data: { data, shape: [table.n, table.d] },
      ...(weights === undefined ? {} : { sampleWeight: weights }),
      ...(missing ? { missing: 'marginalize' as const } : {}),
      ...(ks === undefined ? {} : { k: ks }),
      covarianceTypes: familiesFor(table.d),
      criterion,
      initParams,
      degenerate,
      ...em,
      ...(prior === undefined ? {} : { prior }),
      ...(workers === undefined ? {} : { workers }),
      ...(patience === undefined ? {} : { patience }),
      ...(startFrom === undefined ? {} : { startFrom: startFrom(familiesFor(table.d)) }),
      plugins: plugins.workerSpecifiers,
      pluginBaseDir: process.cwd(),
      backend,
      signal,
      onProgress: ({ done, total, row }) =>
        io.progress(`sweep: ${done}/${total} fits (last: k=${row.k} ${row.covarianceType})`),
    });
  });

  // Likelihood-based figures in original units: standardizing shifts every
  // log-likelihood by the same n·log|J|, so the ranking is unchanged.
  const shift = totalLogJacobian(table.data, table.d, standardize, weights);
  return reportSweep(args, io, { ...table, total: n, shift }, standardize, result, out);
}

/** The table or JSON on stdout and the -o / --plot files of a finished sweep. */
async function reportSweep(
  args: Args,
  io: Io,
  /** total: n of BIC (Σ w with --weights); shift: the log-likelihood's standardization term. */
  table: { n: number; d: number; columns: string[]; source: string; weightColumn?: string | undefined; total: number; shift: number },
  standardize: Standardization | null,
  result: SweepResult,
  {
    targets,
    force,
    inputs,
    plugins,
    mclustSign,
  }: {
    targets: ReturnType<typeof checkOutputs>;
    force: boolean;
    inputs: string[];
    plugins: Plugins;
    mclustSign: boolean;
  },
): Promise<number> {
  try {
    if (![result.best.bic, result.best.aic, result.best.logLikelihood].every(Number.isFinite))
      throw new NonFiniteError(
        `every fit of the sweep gave non-finite results (best ${result.best.covarianceType} k=${result.best.k}: bic ${result.best.bic}): the data's values or spread overflow floating point (values near 1e300? rescale the columns); nothing written`,
      );
    // The best model in original units must be finite too (its covariances scale by the column variances).
    const bestCov = unstandardizeCovariances(result.model.fullCovariances(), table.d, standardize);
    if (!bestCov.every(Number.isFinite))
      throw new NonFiniteError(
        `the best model's covariances overflow floating point in original units (values near 1e300? rescale the columns); nothing written`,
      );
    const { shift, total: n } = table;
    const fix = (v: number, factor: number) => (Number.isFinite(v) ? v + factor * shift : null);
    const builtin = ['bic', 'aic', 'icl'].includes(result.criterion);
    const json: SweepJson = {
      criterion: result.criterion,
      best: {
        k: result.best.k,
        covarianceType: result.best.covarianceType,
        bic: fix(result.best.bic, -2)!,
        aic: fix(result.best.aic, -2)!,
        logLikelihood: fix(result.best.logLikelihood, 1)!,
      },
      results: result.rows.map((r) => ({
        k: r.k,
        covarianceType: r.covarianceType,
        bic: fix(r.bic, -2),
        aic: fix(r.aic, -2),
        icl: fix(r.icl, -2),
        logLikelihood: fix(r.logLikelihood, 1),
        converged: r.converged,
        iterations: r.iterations,
        seconds: r.seconds,
        ...(r.error === undefined ? {} : { error: libraryWords(r.error) }),
        degenerate: r.degenerate,
        ...(r.degeneracy === undefined ? {} : { degeneracy: libraryWords(r.degeneracy) }),
        ...(r.startedFrom === undefined ? {} : { startedFrom: r.startedFrom }),
      })),
      backend: result.backend,
      n,
      rows: table.n,
      weightColumn: table.weightColumn ?? null,
      columns: table.columns,
      standardized: standardize !== null,
    };

    const files: [OutputTarget, string][] = [];
    if (targets.output !== undefined) {
      files.push([
        targets.output,
        await modelFileText(
          modelFile(result.model.toJSON(), table.columns, standardize, plugins.specifiers),
          plugins,
        ),
      ]);
    }
    if (targets.plot !== undefined) {
      const valueOf = (r: SweepResult['rows'][number]) => {
        if (!builtin) return Number.isFinite(r.score) ? r.score : null;
        const v = fix(r[result.criterion as 'bic' | 'aic' | 'icl'], -2);
        return v === null || !mclustSign ? v : -v;
      };
      const svg = await renderSvg(
        sweepPlotSpec({
          criterion: result.criterion,
          rows: result.rows.map((r) => ({
            k: r.k,
            covarianceType: r.covarianceType,
            value: valueOf(r),
            status: r.error !== undefined ? ('failed' as const) : r.degenerate ? ('degenerate' as const) : ('ok' as const),
          })),
          degenerate: result.degenerate,
          best: {
            k: result.best.k,
            covarianceType: result.best.covarianceType,
            value: valueOf(result.best)!,
          },
          title: `${result.criterion.toUpperCase()} by number of components, ${table.source}`,
          higherIsBetter: mclustSign,
        }),
      );
      files.push([targets.plot, svg]);
    }

    // Results first: a file that cannot be written does not lose them.
    const report = resultIo(io, targets);
    if (bool(args, 'json')) {
      report(JSON.stringify(json, null, 2));
    } else {
      const inOriginalUnits = (r: SweepRow): SweepRow => ({
        ...r,
        bic: fix(r.bic, -2) ?? Number.NaN,
        aic: fix(r.aic, -2) ?? Number.NaN,
        icl: fix(r.icl, -2) ?? Number.NaN,
        logLikelihood: fix(r.logLikelihood, 1) ?? Number.NaN,
        score: builtin ? (fix(r.score, -2) ?? Number.NaN) : r.score,
      });
      const shifted: SweepResult =
        shift === 0
          ? result
          : { ...result, rows: result.rows.map(inOriginalUnits), best: inOriginalUnits(result.best) };
      report(
        [
          `${table.n} rows${table.weightColumn === undefined ? '' : ` (weighted by '${table.weightColumn}', total weight ${n})`} x ${table.d} columns of ${table.source}, backend ${result.backend}`,
          '',
          libraryWords(formatSweepTable(shifted, { higherIsBetter: mclustSign })),
        ].join('\n'),
      );
    }
    return await writeOutputs(io, files, { force, inputs });
  } finally {
    result.model.dispose();
  }
}

/**
 * --start-from FAMILY=SOURCE,SOURCE (repeatable) as SweepOptions.startFrom
 * for a --covariance list: each name becomes the list's entry for the same
 * family (VVV and full are one family), so either spelling works.
 */
function startFromFlag(args: Args, plugins: Plugins): ((listed: string[]) => Record<string, string[]>) | undefined {
  const given = args['start-from'];
  if (given === undefined) return undefined;
  const pairs: [string, string[]][] = [];
  for (const entry of (Array.isArray(given) ? given : [given]).map(String)) {
    const m = /^([^=,]+)=([^=]+)$/.exec(entry.trim());
    if (m === null) throw new UsageError(`--start-from '${entry}': expected FAMILY=SOURCE[,SOURCE...], e.g. VVE=EVE,VEE,VVV,VVI`);
    pairs.push([m[1]!.trim(), m[2]!.split(',').map((s) => s.trim())]);
  }
  const family = (s: string) => plugins.registry.covarianceFamily(s).name;
  for (const [target, sources] of pairs) [target, ...sources].forEach(family); // unknown names fail before any work
  return (listed) => {
    const entry = (s: string) => {
      const found = listed.find((f) => family(f) === family(s));
      if (found === undefined) throw new UsageError(`--start-from names '${s}', which is not in --covariance (${listed.join(', ')})`);
      return found;
    };
    const out: Record<string, string[]> = {};
    for (const [target, sources] of pairs) out[entry(target)] = [...(out[entry(target)] ?? []), ...sources.map(entry)];
    return out;
  };
}

/**
 * --covariance: a comma list, 'mclust' (mclust's 14 models, or E and V for
 * 1-D data) or 'all' (every registered family that fits the data's
 * dimension), as a function of the number of columns.
 */
function covarianceList(spec: string, plugins: Plugins): (d: number) => string[] {
  const trimmed = spec.trim();
  if (trimmed === 'mclust') return mclustModelNames;
  if (trimmed === 'all') {
    const registered = plugins.registry.covarianceFamilyNames();
    const univariate = (name: string) => plugins.registry.covarianceFamily(name).mclustName?.length === 1;
    return (d) => registered.filter((f) => d === 1 || !univariate(f));
  }
  const list = spec.split(',').map((s) => s.trim());
  if (list.some((s) => s === '')) throw new UsageError(`--covariance '${spec}': empty entry`);
  if (new Set(list).size !== list.length)
    throw new UsageError(`--covariance '${spec}': a family is listed twice`);
  return () => list;
}
