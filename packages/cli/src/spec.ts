/**
 * Every command and flag of `gmm`, as data. main.ts builds the yargs parser
 * from this, and the docs test checks docs/cli.md against it, so the help
 * text, the parser and the reference cannot drift apart.
 */

export interface OptionSpec {
  /** Long name without dashes ('n-init'); a one-letter name is also written -k. */
  name: string;
  alias?: string;
  type: 'string' | 'number' | 'boolean';
  /** May be given more than once (collected into an array). */
  array?: boolean;
  description: string;
  default?: string | number | boolean;
  /** Fixed set of values; families, initializers and criteria are open (plugins) and so not listed here. */
  choices?: readonly string[];
  required?: boolean;
}

export interface PositionalSpec {
  name: string;
  description: string;
}

export interface CommandSpec {
  name: 'fit' | 'predict' | 'score' | 'sample' | 'sweep' | 'impute' | 'inspect' | 'worker';
  /** yargs command string, e.g. 'predict <model> <data>'. */
  usage: string;
  summary: string;
  positionals: readonly PositionalSpec[];
  options: readonly OptionSpec[];
  examples: readonly (readonly [command: string, description: string])[];
}

const DATA: PositionalSpec = {
  name: 'data',
  description:
    "Data file: CSV or TSV (header detected), JSON (array of arrays or of objects), NDJSON, Parquet or Arrow IPC/Feather; gzip-compressed or not (detected by content), UTF-8 or UTF-16; '-' reads stdin, a FIFO is read as it comes. Every selected column must be numeric.",
};
const MODEL: PositionalSpec = {
  name: 'model',
  description: 'Model file written by `gmm fit -o` or `gmm sweep -o`.',
};

const columns: OptionSpec = {
  name: 'columns',
  alias: 'c',
  type: 'string',
  array: true,
  description:
    'Columns to use, comma separated: names, or 1-based indices and ranges like cut(1) ("1-4", "2,petal"). A name that matches a header wins over an index. Repeatable; a name holding commas is given in double quotes (\'"a,b",c\') or as a whole -c value. Default: all columns (an unnamed first column of row names is skipped); a non-numeric column is an error naming it.',
};
// ---- reading delimited text (fit, predict, score, sweep)
const delimiter: OptionSpec = {
  name: 'delimiter',
  type: 'string',
  description:
    "CSV field delimiter, one character or 'tab'. Default: tab when the first line has tabs, ';' when it has more semicolons than commas (or with --decimal ,), else ','.",
};
const decimal: OptionSpec = {
  name: 'decimal',
  type: 'string',
  choices: ['.', ','],
  description: "Decimal separator of numbers in CSV/TSV text: ',' reads 1,5 as 1.5 (then '.' is not allowed in numbers).",
};
const header: OptionSpec = {
  name: 'header',
  type: 'boolean',
  description:
    'The first CSV/TSV line is a header (--header) or data (--no-header). Default: detected (a first line with text over numbers is a header); a numeric first line that looks like names (whole numbers over columns of fractions) is read as data with a warning.',
};
const comment: OptionSpec = {
  name: 'comment',
  type: 'string',
  description: "Skip CSV/TSV lines starting with this character (e.g. '#'). Default: none.",
};
const textFlags: readonly OptionSpec[] = [delimiter, decimal, header, comment];
const backend: OptionSpec = {
  name: 'backend',
  type: 'string',
  description:
    'tfjs backend: auto, tensorflow, wasm, cpu, or a registered one. Default: $GMM_BACKEND, else auto (tensorflow, then wasm, then cpu).',
};
const seed: OptionSpec = {
  name: 'seed',
  type: 'number',
  default: 0,
  description:
    'Seed for every random choice (0 to 4294967295); same seed, backend and data give the same result.',
};
const nInit: OptionSpec = {
  name: 'n-init',
  type: 'number',
  default: 1,
  description: 'Initializations per fit; the best lower bound is kept.',
};
const maxIter: OptionSpec = {
  name: 'max-iter',
  type: 'number',
  default: 100,
  description: 'EM iterations per initialization; 0 reports the initialization itself.',
};
const tol: OptionSpec = {
  name: 'tol',
  type: 'number',
  default: 1e-3,
  description: 'Convergence threshold on the change of the mean log-likelihood lower bound.',
};
const regCovar: OptionSpec = {
  name: 'reg-covar',
  type: 'number',
  default: 1e-6,
  description: 'Added to the diagonal of every covariance.',
};
const init: OptionSpec = {
  name: 'init',
  type: 'string',
  default: 'kmeans',
  description: "Initializer: kmeans, k-means++, random, random-from-data, emem (emEM: the best of several k-means starts after a short EM run), smem (k-means restarts, then split-and-merge moves from the best; both in docs/initialization.md), hc (mclust's hierarchical agglomeration), or one registered by --plugin.",
};
const degenerate: OptionSpec = {
  name: 'degenerate',
  type: 'string',
  default: 'reject',
  choices: ['reject', 'warn', 'allow'],
  description:
    'Degenerate solutions (a component on too few points or with a variance pinned at --reg-covar, see docs/degenerate-solutions.md): reject (never chosen), warn (flagged), allow (not checked).',
};
const reseeds: OptionSpec = {
  name: 'reseeds',
  type: 'number',
  default: 3,
  description:
    'Under --degenerate reject: how many times one restart re-seeds a degenerate component (splitting the heaviest component along its main axis) before it ends; 0 ends it at once, as mclust does.',
};
const standardize: OptionSpec = {
  name: 'standardize',
  type: 'boolean',
  default: false,
  description:
    'Z-score each column before fitting. The column means and standard deviations are saved in the model file and applied by predict, score and sample; reported means, covariances and likelihoods are in the original units.',
};
const json: OptionSpec = {
  name: 'json',
  type: 'boolean',
  default: false,
  description: 'Print one JSON document on stdout instead of tables.',
};
const weights: OptionSpec = {
  name: 'weights',
  type: 'string',
  description:
    'A column (name or 1-based index) of sample weights, excluded from the features: frequency weights, a row of weight w counts as w copies of it (numbers >= 0, not all zero). The log-likelihood, BIC and AIC are those of the replicated rows: n in BIC is the sum of the weights.',
};
const missing: OptionSpec = {
  name: 'missing',
  type: 'string',
  default: 'error',
  choices: ['error', 'marginalize'],
  description:
    'Missing cells (empty, NA, NaN, JSON null): error (the default), or marginalize: treat them as missing at random, each row scored by the marginal over its observed columns and fitted by exact EM (conditional expectations of the missing cells). Every row needs one observed value.',
};
const distributed: OptionSpec = {
  name: 'distributed',
  type: 'string',
  description:
    'Run on gmm workers through Redis at this URL (redis://[user:password@]host:port[/db], rediss:// for TLS) instead of in this process; the data are --shards, not a data file. See docs/distributed.md.',
};
const shards: OptionSpec = {
  name: 'shards',
  type: 'string',
  array: true,
  description:
    "With --distributed: the data as shard files every worker can read (shared filesystem paths, made absolute here, or http(s) URLs), merged in the order given; a wildcard in a file name ('data/part-*.csv', quoted) expands to the matching files sorted by name. Repeatable.",
};
const force: OptionSpec = {
  name: 'force',
  alias: 'f',
  type: 'boolean',
  default: false,
  description:
    'Overwrite existing output files (without it an existing file is never replaced; an input file never is).',
};

/** How fit and sweep read the data they are fitted to. */
const trainingData: readonly OptionSpec[] = [columns, ...textFlags, weights, missing, standardize];
/** MAP EM under mclust's conjugate prior (fit and sweep). */
const priorOptions: readonly OptionSpec[] = [
  {
    name: 'prior',
    type: 'string',
    choices: ['default'],
    description:
      "MAP EM under mclust's conjugate prior (priorControl()): 'default' is mclust's defaultPrior (shrinkage 0.01, the data mean, dof d + 2, the data covariance / k^(2/d)); the --prior-shrinkage, --prior-mean, --prior-dof and --prior-scale flags override its fields. BIC and AIC are then at the MAP log-likelihood, as mclustBIC(..., prior = priorControl()). Families full, tied, diag, spherical.",
  },
  { name: 'prior-shrinkage', type: 'number', description: 'With --prior: the prior weight on the means (0 = none; default 0.01).' },
  { name: 'prior-mean', type: 'string', description: 'With --prior: the prior mean, comma-separated, one value per column (default the data mean).' },
  { name: 'prior-dof', type: 'number', description: 'With --prior: the degrees of freedom (default d + 2).' },
  {
    name: 'prior-scale',
    type: 'number',
    description: 'With --prior: the scale, a number (times the identity for full and tied; default from the data covariance, as mclust).',
  },
];

/** scikit-learn's BayesianGaussianMixture (fit --bayesian). */
const bayesianOptions: readonly OptionSpec[] = [
  {
    name: 'bayesian',
    type: 'boolean',
    default: false,
    description:
      "Variational Bayesian mixture (scikit-learn's BayesianGaussianMixture): -k is an upper bound and the data switch surplus components off; the output reports the effective number of components (weights above 0.01). Families full, tied, diag, spherical.",
  },
  {
    name: 'weight-prior-type',
    type: 'string',
    choices: ['dirichlet-process', 'dirichlet-distribution'],
    description: 'With --bayesian: the weight prior (default dirichlet-process, stick-breaking).',
  },
  { name: 'weight-concentration-prior', type: 'number', description: 'With --bayesian: the weight concentration, > 0 (default 1/k).' },
  { name: 'mean-precision-prior', type: 'number', description: 'With --bayesian: the precision prior on the means, > 0 (default 1).' },
  { name: 'degrees-of-freedom-prior', type: 'number', description: 'With --bayesian: the Wishart degrees of freedom, > d - 1 (default d).' },
];

export const globalOptions: readonly OptionSpec[] = [
  {
    name: 'plugin',
    type: 'string',
    array: true,
    description:
      'Load a plugin module (path or package name; repeatable) whose default export or `plugins` export registers covariance families, initializers, criteria or backends, usable by name in the other flags.',
  },
  { name: 'debug', type: 'boolean', default: false, description: 'Print stack traces of errors.' },
];

export const commandSpecs: readonly CommandSpec[] = [
  {
    name: 'fit',
    usage: 'fit [data]',
    summary: 'Fit a Gaussian mixture with k components',
    positionals: [DATA],
    options: [
      { name: 'k', type: 'number', required: true, description: 'Number of components (1 <= k <= rows).' },
      {
        name: 'covariance',
        type: 'string',
        default: 'full',
        description: 'Covariance family: full, tied, diag, spherical, or one registered by --plugin.',
      },
      init,
      nInit,
      maxIter,
      tol,
      regCovar,
      degenerate,
      reseeds,
      seed,
      backend,
      {
        name: 'workers',
        type: 'string',
        default: 'auto',
        description:
          'Data-parallel EM across worker threads: a count (0 = one thread) or auto (workers only when it pays: at least 50,000 rows, rows x columns x k >= 4e6 and 2 cores; one per core, at most 4). The result equals a single-thread fit up to float rounding. With --stream it applies to the fit on the initialization sample.',
      },
      ...trainingData,
      {
        name: 'output',
        alias: 'o',
        type: 'string',
        description:
          "Write the fitted model (JSON) to this file; '-' or /dev/stdout writes it to stdout (the summary then goes to stderr), a FIFO or device is written into.",
      },
      {
        name: 'plot',
        type: 'string',
        description:
          'Write an SVG of the fit: for one column a histogram with the mixture density and the weighted components; for two the points by component with 1- and 2-sigma ellipses; for more a pairs plot (the first 6 columns, named in the title). Above 5000 rows a seeded random subsample of 5000 is drawn (the caption says so). Colours never repeat; beyond 10 components shapes tell them apart too.',
      },
      {
        name: 'plot-columns',
        type: 'string',
        description:
          'The fitted columns to plot (1 to 6 names or 1-based positions among the fitted columns, comma separated; default: all, up to 6).',
      },
      {
        name: 'plot-kind',
        type: 'string',
        choices: ['classification', 'uncertainty', 'density'],
        description:
          'What --plot shows, as mclust: points by component (classification, the default), points sized by their uncertainty 1 - max responsibility (uncertainty), or the mixture density shaded (density).',
      },
      {
        name: 'stream',
        type: 'boolean',
        default: false,
        description:
          'Fit data that does not fit in memory: read the CSV/TSV (gzip or not), Parquet or Arrow file in chunks, once per pass (statistics and sample, each EM iteration, the final log-likelihood). Initializes on a random sample of rows (--sample-size); not for stdin, JSON or --plot.',
      },
      {
        name: 'chunk-rows',
        type: 'number',
        description: 'With --stream: rows read, uploaded and scored at a time (default 8192).',
      },
      {
        name: 'sample-size',
        type: 'number',
        description:
          'With --stream: rows sampled (seeded reservoir) for the initialization (default 10000, or 200 x k x columns when larger, at most 100000). When the file has more rows, the initialization is fitted on the sample with max(--n-init, 5) restarts (cheap next to a pass over the file), so streaming reaches the in-memory fit\'s quality.',
      },
      ...priorOptions,
      ...bayesianOptions,
      distributed,
      shards,
      json,
      force,
    ],
    examples: [
      ['gmm fit data/faithful.csv -k 2 -o model.json', 'fit two components, save the model'],
      [
        'gmm fit data/iris.csv -k 3 --columns 1-4 --covariance diag --n-init 5 --json',
        'iris without its Species column, JSON on stdout',
      ],
      ['gmm fit data/faithful.csv -k 2 --standardize --plot fit.svg', 'z-score the columns, plot the fit'],
      ['gmm fit data/faithful.csv -k 6 --bayesian --json', 'at most 6 components; the data switch the surplus off'],
      ['gmm fit data/iris.csv -k 3 --columns 1-4 --prior default', "MAP EM under mclust's default conjugate prior"],
      [
        'gmm fit big.csv -k 5 --stream --chunk-rows 50000 -o model.json',
        'a file larger than memory, read in chunks',
      ],
      [
        "gmm fit --distributed redis://10.0.0.5:6379 --shards 'data/part-*.csv' -k 8 -o model.json",
        'EM across the gmm workers connected to that Redis',
      ],
    ],
  },
  {
    name: 'predict',
    usage: 'predict <model> <data>',
    summary: 'Label rows with their most likely component (0-based), or give every probability',
    positionals: [MODEL, DATA],
    options: [
      {
        name: 'proba',
        type: 'boolean',
        default: false,
        description: 'After the label, one probability column per component (p0, p1, ...).',
      },
      {
        name: 'uncertainty',
        type: 'boolean',
        default: false,
        description: "An 'uncertainty' column: 1 - the largest probability, as mclust reports.",
      },
      {
        name: 'id-column',
        type: 'string',
        description:
          'Carry this input column (name or 1-based index) through as the first output column, e.g. a row id; it is not used as a feature.',
      },
      {
        name: 'json',
        type: 'boolean',
        default: false,
        description: 'Print a JSON array of rows ({id?, label, proba?, uncertainty?}) instead of CSV.',
      },
      {
        name: 'columns',
        alias: 'c',
        type: 'string',
        array: true,
        description:
          "Columns to use (as in fit). Default: the model's columns by name when the data has them, else all columns but --id-column.",
      },
      ...textFlags,
      {
        name: 'output',
        alias: 'o',
        type: 'string',
        description: 'Write the CSV (or JSON) here instead of stdout; a FIFO or device is written into.',
      },
      missing,
      backend,
      force,
    ],
    examples: [
      ['gmm predict model.json data/faithful.csv', 'a "label" column on stdout'],
      [
        'gmm predict model.json data/faithful.csv --proba --uncertainty -o proba.csv',
        'labels, responsibilities and uncertainty to a file',
      ],
      ['gmm predict model.json data/iris.csv --columns 1-4 --id-column Species --json', 'JSON rows keyed by an id'],
    ],
  },
  {
    name: 'score',
    usage: 'score <model> <data>',
    summary: 'Log-likelihood, BIC and AIC of a model on data',
    positionals: [MODEL, DATA],
    options: [
      { name: 'columns', alias: 'c', type: 'string', array: true, description: 'Columns to use (as in predict).' },
      ...textFlags,
      missing,
      backend,
      json,
    ],
    examples: [
      ['gmm score model.json data/faithful.csv --json', 'total and mean log-likelihood, bic, aic, n'],
    ],
  },
  {
    name: 'sample',
    usage: 'sample <model>',
    summary: 'Draw rows from a fitted model',
    positionals: [MODEL],
    options: [
      { name: 'n', type: 'number', required: true, description: 'Number of rows to draw.' },
      seed,
      {
        name: 'labels',
        type: 'boolean',
        default: false,
        description: 'Append a "component" column with the component each row came from.',
      },
      {
        name: 'output',
        alias: 'o',
        type: 'string',
        description:
          'Write the CSV here instead of stdout. Rows are drawn and written in blocks of 65536, so any -n streams in bounded memory.',
      },
      backend,
      force,
    ],
    examples: [
      ['gmm sample model.json -n 500 --seed 1 -o synthetic.csv', "500 rows with the model's column names"],
    ],
  },
  {
    name: 'sweep',
    usage: 'sweep [data]',
    summary: 'Fit every k and covariance family, pick the best by a criterion',
    positionals: [DATA],
    options: [
      {
        name: 'k',
        type: 'string',
        description:
          'Values of k: a range "1..9" or a list "2,3,5" (default 1..9, capped at the number of rows).',
      },
      {
        name: 'covariance',
        type: 'string',
        default: 'full,tied,diag,spherical',
        description:
          'Comma-separated covariance families (mclust codes such as EEV work; VVV, EEE, VVI, VII are full, tied, diag, spherical), "mclust" (its 14 models, or E and V for 1-D data) or "all" (every registered family, plugins included).',
      },
      {
        name: 'criterion',
        type: 'string',
        default: 'bic',
        description: 'Selection criterion, lower is better: bic, aic, icl, or one registered by --plugin.',
      },
      {
        name: 'start-from',
        type: 'string',
        array: true,
        description:
          "FAMILY=SOURCE,SOURCE (repeatable): also start FAMILY's cells from the converged partitions of the SOURCE families at the same k, and keep the better fit (every name must be in --covariance; runs after the grid, on this machine). mclust's VVE needs VVE=EVE,VEE,VVV,VVI to reach mclust's optima (docs/plugins.md).",
      },
      {
        name: 'bic-sign',
        type: 'string',
        default: 'gmmkit',
        choices: ['gmmkit', 'mclust'],
        description:
          "Sign of bic/aic/icl in the table and plot: gmmkit's -2 LL + p ln n (lower is better) or mclust's 2 LL - p ln n (higher is better). The choice of model is the same.",
      },
      nInit,
      maxIter,
      tol,
      regCovar,
      init,
      seed,
      {
        name: 'workers',
        type: 'number',
        description:
          'Fits run at once (default: one per core, at most the number of fits): this thread and N - 1 worker threads; in-process, one at a time, for sweeps small enough that starting workers costs more (under 1e6 rows x columns x fits x n-init) and for 0 or 1.',
      },
      {
        name: 'patience',
        type: 'number',
        description:
          'Stop increasing k for a family after this many consecutive k without improvement of the criterion.',
      },
      degenerate,
      reseeds,
      backend,
      ...trainingData,
      {
        name: 'output',
        alias: 'o',
        type: 'string',
        description: "Write the best model (JSON) to this file ('-' for stdout: the table then goes to stderr).",
      },
      {
        name: 'plot',
        type: 'string',
        description:
          'Write an SVG of the criterion against k, one line per family (in the table\'s order), the best ringed. The y range focuses on the competitive region (far values, typically k = 1, are arrows at the edge with their value); failed fits are crosses, degenerate ones hollow triangles (apart from the family\'s line under --degenerate reject, on it under warn); a best k at the edge of the range gets a note suggesting a larger range.',
      },
      ...priorOptions,
      distributed,
      shards,
      json,
      force,
    ],
    examples: [
      ['gmm sweep data/iris.csv --k 1..6 --columns 1-4', 'BIC table for k = 1..6 and the four families'],
      ['gmm sweep data/faithful.csv --prior default', "BIC with mclust's conjugate prior, as mclustBIC(..., prior = priorControl())"],
      [
        'gmm sweep data/iris.csv --columns 1-4 --covariance mclust --bic-sign mclust',
        "mclust's 14 models, k = 1..9, BIC read as mclust prints it",
      ],
      [
        'gmm sweep data/faithful.csv --k 1..5 --covariance full,diag --criterion icl --plot sweep.svg -o best.json',
        'ICL, plot, save the winner',
      ],
    ],
  },
  {
    name: 'impute',
    usage: 'impute <model> <data>',
    summary: "Fill the missing cells of the model's columns with their conditional means",
    positionals: [MODEL, DATA],
    options: [
      {
        name: 'columns',
        alias: 'c',
        type: 'string',
        array: true,
        description: 'Columns the model was fitted to (as in predict).',
      },
      ...textFlags,
      {
        name: 'output',
        alias: 'o',
        type: 'string',
        description:
          "Write the CSV here instead of stdout ('-' is stdout; a FIFO or device is written into): every column of the input in its order, the model's columns with each missing cell replaced by E[x_missing | x_observed] mixed over the components by posterior probability.",
      },
      backend,
      force,
    ],
    examples: [['gmm impute model.json holes.csv -o filled.csv', 'the same table with its gaps filled']],
  },
  {
    name: 'inspect',
    usage: 'inspect <model>',
    summary: 'A readable summary of a saved model',
    positionals: [MODEL],
    options: [
      {
        name: 'json',
        type: 'boolean',
        default: false,
        description: 'Print the summary as JSON (weights, means, full covariances).',
      },
    ],
    examples: [['gmm inspect model.json', 'weights, means and covariances per component']],
  },
  {
    name: 'worker',
    usage: 'worker',
    summary: 'Serve distributed fits and sweeps: compute shard statistics for coordinators on a Redis',
    positionals: [],
    options: [
      {
        name: 'redis',
        type: 'string',
        required: true,
        description: 'Redis URL to take jobs from: redis://[user:password@]host:port[/db], or rediss:// for TLS.',
      },
      {
        name: 'concurrency',
        type: 'number',
        default: 1,
        description: 'Jobs run at once (more than 1 overlaps reading shards with computing).',
      },
      {
        name: 'memory',
        type: 'number',
        description:
          'MiB of parsed shards kept in memory, so each shard is read once rather than every iteration (default a quarter of the memory, at most 4096); least recently used shards go first.',
      },
      backend,
      {
        name: 'lock-duration',
        type: 'number',
        default: 30000,
        description:
          'Milliseconds a job stays locked to this worker without renewal; when a worker dies, another takes its job over after about this long.',
      },
      { name: 'name', type: 'string', description: 'Worker id shown in logs (default host-pid-random).' },
    ],
    examples: [
      ['gmm worker --redis redis://10.0.0.5:6379 --concurrency 2', 'one worker per machine, two jobs at once'],
    ],
  },
];

/** The spec of one command. */
export function commandSpec(name: CommandSpec['name']): CommandSpec {
  return commandSpecs.find((c) => c.name === name)!;
}
