import { startWorker, type WorkerEvent } from '@gmmkit/distributed';
import { readTable } from '../io/read-file.js';
import { UsageError } from '../errors.js';
import { backendName, int, loadPlugins, str, type Args, type Io } from './common.js';

/**
 * `gmm worker`: serves distributed fits until Ctrl-C or SIGTERM. Shards are
 * read with gmm's own table reader; families come from the built-ins and
 * this command's --plugin modules. One line per job on stdout.
 */
export async function workerCommand(args: Args, io: Io): Promise<number> {
  const redis = str(args, 'redis')!;
  const concurrency = int(args, 'concurrency', 1) ?? 1;
  const memory = args['memory'];
  if (memory !== undefined && (typeof memory !== 'number' || !(memory > 0)))
    throw new UsageError(`--memory must be a number of MiB > 0, got ${JSON.stringify(memory)}`);
  const lockDuration = int(args, 'lock-duration', 100) ?? 30_000;
  const plugins = await loadPlugins(args);
  const backend = backendName(args, plugins);
  const name = str(args, 'name');

  const print = (e: WorkerEvent): void => {
    if (e.type === 'job')
      io.out(`took job ${e.jobId}: fit ${e.fitId} ${e.op} shard ${e.shard} (${e.source})`);
    else if (e.type === 'done')
      io.out(`done job ${e.jobId}: ${e.ok ? 'ok' : `error: ${e.error}`} in ${Math.round(e.ms)} ms`);
    else if (e.type === 'warning') io.err(`gmm worker: warning: ${e.message}`);
  };
  const worker = await startWorker({
    redis,
    readShard: async (source, o) => {
      const t = await readTable(source, { columns: o.columns });
      return { rows: t.n, cols: t.d, data: t.data, columns: t.columns };
    },
    concurrency,
    ...(typeof memory === 'number' ? { memoryBudget: Math.floor(memory * 2 ** 20) } : {}),
    // @gmmkit/mclust's families (registered by default in gmm) and the --plugin modules
    plugins: plugins.workerSpecifiers,
    pluginBaseDir: process.cwd(),
    backend,
    lockDuration,
    ...(name === undefined ? {} : { name }),
    onEvent: print,
  });
  const { info } = worker;
  io.out(
    `gmm worker ${info.id}: backend ${info.backend}, concurrency ${info.concurrency}, memory budget ${Math.round(info.memoryBudget / 2 ** 20)} MiB` +
      `${info.plugins.length > 0 ? `, plugins ${info.plugins.join(' ')}` : ''}; ready for jobs`,
  );
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  io.err('gmm worker: stopping (finishing the jobs in hand)');
  await worker.close();
  return 0;
}
