import { UsageError } from '../errors.js';
import { formatNumber } from '../io/format.js';
import { checkWritable, writeFileAtomic } from '../io/write-atomic.js';
import { modelFile } from '../model-file.js';
import {
  backendName,
  bool,
  degenerateFlag,
  emSettings,
  fileOutput,
  optionFlag,
  loadPlugins,
  missingFlag,
  str,
  type Args,
  type Io,
} from './common.js';
import { fitResult, formatFit, reportFitWarnings } from './fit.js';
import { abortOnSigint } from './interrupt.js';

/** Where a distributed command runs: --distributed URL and --shards (both or neither). */
export interface ClusterArgs {
  redis: string;
  shards: string[];
}

/**
 * --distributed and --shards of fit and sweep, or undefined when neither is
 * given. The flags that need the data on this machine are refused.
 * @gmmkit/distributed (BullMQ, ioredis: ~0.5 s to load) is imported only
 * when the command runs distributed.
 */
export async function clusterArgs(args: Args, command: 'fit' | 'sweep'): Promise<ClusterArgs | undefined> {
  const redis = str(args, 'distributed');
  const raw = args['shards'];
  const given = raw === undefined ? [] : (Array.isArray(raw) ? raw : [raw]).map(String);
  if (redis === undefined && given.length === 0) return undefined;
  if (redis === undefined) throw new UsageError('--shards needs --distributed redis://host:port');
  if (given.length === 0)
    throw new UsageError(
      `--distributed needs the data as --shards (gmm ${command} --distributed URL --shards 'part-*.csv')`,
    );
  if (str(args, 'data') !== undefined)
    throw new UsageError(`give either a data file or --shards, not both (the workers read the shards)`);
  for (const flag of ['stream', 'standardize', 'bayesian'])
    if (bool(args, flag)) throw new UsageError(`--${flag} is not supported with --distributed`);
  if (str(args, 'prior') !== undefined) throw new UsageError('--prior is not supported with --distributed');
  if (str(args, 'plot') !== undefined && command === 'fit')
    throw new UsageError('--plot is not supported with --distributed (the rows stay on the workers)');
  if (args['workers'] !== undefined && command === 'sweep')
    throw new UsageError('--workers is not used with --distributed: start more gmm workers');
  if (str(args, 'weights') !== undefined) throw new UsageError('--weights is not supported with --distributed');
  if (missingFlag(args)) throw new UsageError('--missing marginalize is not supported with --distributed');
  if (args['patience'] !== undefined && command === 'sweep')
    throw new UsageError('--patience is not supported with --distributed');
  const { expandShards } = await import('@gmmkit/distributed');
  return { redis, shards: expandShards(given) };
}

/** A one-line description of the shards for the report. */
export function shardsSource(shards: readonly string[]): string {
  return shards.length === 1
    ? shards[0]!
    : `${shards.length} shards (${shards[0]} ... ${shards[shards.length - 1]})`;
}

/** `gmm fit --distributed URL --shards ...`: EM on the workers; the model is written only once the fit is complete. */
export async function fitDistributedCommand(args: Args, io: Io, cluster: ClusterArgs): Promise<number> {
  const k = optionFlag(args, 'k', 'nComponents') ?? 1;
  const covarianceType = str(args, 'covariance') ?? 'full';
  const initParams = str(args, 'init') ?? 'kmeans';
  const em = emSettings(args);
  const output = fileOutput(args, 'output');
  const force = bool(args, 'force');
  const plugins = await loadPlugins(args);
  plugins.registry.covarianceFamily(covarianceType);
  plugins.registry.initializer(initParams);
  const backend = backendName(args, plugins);
  if (output !== undefined) checkWritable(output, { force, inputs: cluster.shards });
  const columns = str(args, 'columns');

  const { fitDistributed } = await import('@gmmkit/distributed');
  const fit = await abortOnSigint(io, 'fit', (signal) =>
    fitDistributed({
      redis: cluster.redis,
      shards: cluster.shards,
      ...(columns === undefined ? {} : { columns }),
      nComponents: k,
      covarianceType,
      initParams,
      ...em,
      degenerate: degenerateFlag(args),
      plugins: plugins.specifiers,
      container: plugins.container,
      backend,
      signal,
      // The CLI words its own warning (reportFitWarnings), with its flags.
      convergenceWarning: false,
      onIteration: (it, lb) =>
        io.progress(`fitting on the workers: iteration ${it}, lower bound ${formatNumber(lb)}`),
      onEvent: (e) => {
        if (e.type === 'redis-lost')
          io.err('gmm: warning: lost the connection to Redis; waiting for it to come back');
        else if (e.type === 'redis-back') io.err('gmm: Redis is back');
        else if (e.type === 'resubmit') io.err(`gmm: resubmitting ${e.op} #${e.seq} (${e.reason})`);
      },
    }),
  );
  const gm = fit.model;
  try {
    const result = fitResult(gm, fit.logLikelihood, fit.n, fit.columns, null, fit.backends.join(','));
    // The data's scale from the scan: the largest column variance, and the largest column mean's
    // magnitude standing in for the largest value (what tells constant-up-to-rounding data apart).
    const maxVariance = Math.max(0, ...fit.dataVariance);
    const maxAbs = Math.max(0, ...Array.from(fit.center, Math.abs));
    reportFitWarnings(io, result, em, { n: fit.n, maxVariance, maxAbs });
    if (output !== undefined) {
      const file =
        JSON.stringify(modelFile(gm.toJSON(), fit.columns, null, plugins.specifiers), null, 2) + '\n';
      await writeFileAtomic(output, file, { force, inputs: cluster.shards });
      io.err(`wrote ${output}`);
    }
    io.out(
      bool(args, 'json')
        ? JSON.stringify({ ...result, shards: fit.shards, workers: fit.workers.length }, null, 2)
        : formatFit(result, { d: gm.state.d, source: shardsSource(cluster.shards), columns: fit.columns }),
    );
  } finally {
    gm.dispose();
  }
  return 0;
}
