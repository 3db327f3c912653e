/**
 * Child process of `pnpm bench --large`: generates the large data set, fits
 * it with gmmkit, prints {"peakRssBytes", "ms", "nIter"} as JSON. A process of
 * its own so that its peak resident set size is the fit's alone.
 *
 *   node dist/large-child.js '{"n":2000000,"d":16,"k":8,"iters":2,"seed":4,"backend":"wasm"}'
 */
import { generateDataset, initialParameters } from './data.js';
import { loadTfjs, useBackend } from './gmmkit.js';

interface LargeArgs {
  n: number;
  d: number;
  k: number;
  iters: number;
  seed: number;
  backend: string;
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2] ?? '{}') as LargeArgs;
  const tfjs = await loadTfjs();
  if (!tfjs.ok) throw new Error(tfjs.reason);
  await useBackend(tfjs.mod, args.backend);
  const ds = generateDataset(args.n, args.d, args.k, args.seed);
  const init = initialParameters(ds, args.k, 'full', args.seed);
  const gm = new tfjs.mod.GaussianMixture({
    nComponents: args.k,
    covarianceType: 'full',
    tol: 0,
    maxIter: args.iters,
    weightsInit: init.weights,
    meansInit: init.means,
    precisionsInit: init.precisions,
    backend: args.backend,
    convergenceWarning: false, // tol 0: a fixed number of iterations, by design
  });
  const t0 = performance.now();
  await gm.fit({ data: ds.data, shape: [ds.n, ds.d] });
  const ms = performance.now() - t0;
  const nIter = gm.state?.nIter ?? null;
  gm.dispose();
  // maxRSS is in KiB.
  const peakRssBytes = process.resourceUsage().maxRSS * 1024;
  process.stdout.write(JSON.stringify({ peakRssBytes, ms, nIter }) + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
