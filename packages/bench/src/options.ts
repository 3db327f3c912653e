/** Command-line options of `pnpm bench` (node dist/run.js). */

export type Section = 'per-iter' | 'sweep' | 'peer' | 'large';
export const SECTIONS: readonly Section[] = ['per-iter', 'sweep', 'peer', 'large'];

export interface Sizes {
  perIter: { n: number; d: number; k: number };
  peer: { n: number; d: number; k: number };
  sweep: { n: number; d: number; kMax: number };
  large: { n: number; d: number; k: number; iters: number };
  /** EM iterations per timed fit (gmmkit on fast backends, scikit-learn, mclust, peer). */
  iters: number;
  /** Fewer for gmmkit's slow 'cpu' backend. */
  cpuIters: number;
}

export const FULL_SIZES: Sizes = {
  perIter: { n: 100_000, d: 16, k: 8 },
  peer: { n: 20_000, d: 8, k: 4 },
  sweep: { n: 20_000, d: 8, kMax: 10 },
  large: { n: 2_000_000, d: 16, k: 8, iters: 2 },
  iters: 10,
  cpuIters: 3,
};

export const QUICK_SIZES: Sizes = {
  perIter: { n: 20_000, d: 8, k: 4 },
  peer: { n: 5_000, d: 4, k: 3 },
  sweep: { n: 5_000, d: 4, kMax: 4 },
  large: { n: 200_000, d: 16, k: 8, iters: 2 },
  iters: 5,
  cpuIters: 3,
};

export interface BenchOptions {
  quick: boolean;
  sections: Section[];
  backends: string[];
  /** Repeats per measurement (medians are taken over them). */
  repeats: number;
  sizes: Sizes;
  /** Where the JSON goes (relative to packages/bench). */
  out: string;
  /** Regenerate docs/benchmarks.md. */
  docs: boolean;
  help: boolean;
}

export const USAGE = `Usage: pnpm bench [options]   (node dist/run.js in packages/bench)

  --quick               small sizes, 1 repeat (writes results/quick.json, leaves docs alone)
  --only LIST           sections to run, comma-separated: per-iter,sweep,peer,large
                        (default per-iter,sweep,peer; large only with --large or --only large)
  --large               also measure peak memory of a large fit (N=2,000,000, D=16, K=8, full; slow)
  --backends LIST       gmmkit backends for per-iteration times (default wasm,cpu,tensorflow;
                        tensorflow is reported as skipped where tfjs-node is not installed)
  --repeats N           repeats per measurement, medians taken (default 3; --quick 1)
  --out FILE            JSON output, relative to packages/bench (default results/latest.json)
  --docs / --no-docs    regenerate docs/benchmarks.md (default: yes unless --quick)
  --distributed         instead: distributed EM (redis-server + gmm workers) against the local fit,
                        N=1,000,000, D=16, K=8; see pnpm bench --distributed --help
  -h, --help            this text
`;

export function parseArgs(argv: readonly string[]): BenchOptions {
  let quick = false;
  let only: Section[] | undefined;
  let large = false;
  let backends = ['wasm', 'cpu', 'tensorflow'];
  let repeats: number | undefined;
  let out: string | undefined;
  let docs: boolean | undefined;
  let help = false;
  const value = (i: number, flag: string): string => {
    const v = argv[i];
    if (v === undefined || v.startsWith('--')) throw new Error(`${flag} needs a value`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i]!;
    const eq = raw.indexOf('=');
    const flag = raw.startsWith('--') && eq > 0 ? raw.slice(0, eq) : raw;
    const inline = raw.startsWith('--') && eq > 0 ? raw.slice(eq + 1) : undefined;
    const next = (): string => inline ?? value(++i, flag);
    switch (flag) {
      case '--quick':
        quick = true;
        break;
      case '--large':
        large = true;
        break;
      case '--only': {
        const list = next()
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
        for (const s of list)
          if (!SECTIONS.includes(s as Section))
            throw new Error(`--only: unknown section '${s}' (${SECTIONS.join(', ')})`);
        only = list as Section[];
        break;
      }
      case '--backends':
        backends = next()
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
        break;
      case '--repeats': {
        const n = Number(next());
        if (!Number.isInteger(n) || n < 1) throw new Error('--repeats needs a positive integer');
        repeats = n;
        break;
      }
      case '--out':
        out = next();
        break;
      case '--docs':
        docs = true;
        break;
      case '--no-docs':
        docs = false;
        break;
      case '-h':
      case '--help':
        help = true;
        break;
      default:
        throw new Error(`unknown option '${raw}'\n\n${USAGE}`);
    }
  }
  const sections = only ?? (['per-iter', 'sweep', 'peer'] as Section[]);
  if (large && !sections.includes('large')) sections.push('large');
  return {
    quick,
    sections,
    backends,
    repeats: repeats ?? (quick ? 1 : 3),
    sizes: quick ? QUICK_SIZES : FULL_SIZES,
    out: out ?? (quick ? 'results/quick.json' : 'results/latest.json'),
    docs: docs ?? !quick,
    help,
  };
}
