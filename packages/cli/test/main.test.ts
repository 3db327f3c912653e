/**
 * main() in-process: the same code path as the binary (cli.test.ts runs that
 * as a subprocess), used here for the many error cases so each costs
 * milliseconds instead of a process start and a tfjs load.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BayesianGaussianMixture, GaussianMixture, type NUMBER_OPTIONS } from '@gmmkit/tfjs';
import { emSettings, optionFlag } from '../src/commands/common.js';
import { bayesianSettings } from '../src/commands/fit.js';
import { commandSpecs, globalOptions } from '../src/spec.js';
import { expectOneLineError } from './helpers/gmm-process.js';
import { run, tempWorkingDir, type Captured } from './helpers/in-process.js';

tempWorkingDir('gmm-main-');
const rows = Array.from({ length: 12 }, (_, i) => [
  (i % 2) * 10 + Math.sin(i),
  (i % 2) * 5 + Math.cos(3 * i),
]);

beforeAll(async () => {
  writeFileSync('data.csv', 'x,y\n' + rows.map((r) => r.join(',')).join('\n') + '\n');
  const fit = await run('fit', 'data.csv', '-k', '2', '-o', 'model.json');
  expect(fit.code, fit.stderr).toBe(0);
});

describe('data errors: file, row, column, value; exit 2', () => {
  const files: Record<string, string> = {
    'ragged.csv': 'a,b\n1,2\n3\n',
    'nan.csv': 'a,b\n1,2\n3,NaN\n',
    'inf.csv': 'a,b\n1,2\n3,-Infinity\n',
    'blank.csv': 'a,b\n1,2\n,4\n',
    'na.csv': 'a,b\n1,NA\n',
    'empty.csv': '',
    'header-only.csv': '"a","b"\n',
    'species.csv': '"s","w","Species"\n1,2,"setosa"\n3,4,"virginica"\n',
    'bad.json': '[{"a": 1}, {"a": "x"}]',
    'ragged.ndjson': '[1, 2]\n[3]\n',
    'ok.ndjson': '{"x": 1, "y": 2}\n{"x": 3, "y": 5}\n{"x": 4, "y": 1}\n',
  };
  beforeAll(() => {
    for (const [name, text] of Object.entries(files)) writeFileSync(name, text);
  });

  const cases: [string[], RegExp][] = [
    [['fit', 'missing.csv', '-k', '2'], /^gmm: error: cannot read missing\.csv: no such file$/],
    [['fit', '.', '-k', '2'], /cannot read \.: it is a directory/],
    [['fit', 'ragged.csv', '-k', '1'], /ragged\.csv: row 2 \(line 3\) has 1 field, expected 2/],
    [
      ['fit', 'nan.csv', '-k', '1'],
      /nan\.csv: row 2 \(line 3\), column 'b': value 'NaN' is not a finite number/,
    ],
    [
      ['fit', 'inf.csv', '-k', '1'],
      /inf\.csv: row 2 \(line 3\), column 'b': value '-Infinity' is not a finite number/,
    ],
    [['fit', 'blank.csv', '-k', '1'], /blank\.csv: row 2 \(line 3\), column 'a': empty or missing value/],
    [['fit', 'na.csv', '-k', '1'], /na\.csv: row 1 \(line 2\), column 'b': empty or missing value 'NA'/],
    [['fit', 'empty.csv', '-k', '1'], /empty\.csv: empty input/],
    [['fit', 'header-only.csv', '-k', '1'], /header-only\.csv: no data rows/],
    [
      ['fit', 'species.csv', '-k', '1'],
      /species\.csv: row 1 \(line 2\), column 'Species': value 'setosa' is not a number; .*--columns 1-2/,
    ],
    [['fit', 'bad.json', '-k', '1'], /bad\.json: row 2, column 'a': value 'x' is not a number/],
    [['fit', 'ragged.ndjson', '-k', '1'], /ragged\.ndjson: row 2 \(line 2\) has 1 values, expected 2/],
    [['predict', 'model.json', 'nan.csv', '--columns', '1,2'], /nan\.csv: row 2 \(line 3\), column 'b'/],
  ];
  it.each(cases)('gmm %j', async (argv, pattern) => {
    expectOneLineError(await run(...argv), 2, pattern);
  });

  it('reads NDJSON objects', async () => {
    const r = await run('fit', 'ok.ndjson', '-k', '1', '--json');
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { means: number[][]; columns: string[] };
    expect(out.columns).toEqual(['x', 'y']);
    // k=1: the mean of the column (EM runs in float32).
    expect(out.means[0]![0]).toBeCloseTo(8 / 3, 5);
  });
});

describe('usage errors: exit 2', () => {
  const cases: [string[], RegExp][] = [
    [['fit', 'data.csv', '-k', '0'], /-k must be an integer >= 1, got 0/],
    [['fit', 'data.csv', '-k', '1.5'], /-k must be an integer >= 1, got 1\.5/],
    [['fit', 'data.csv', '-k', 'many'], /-k must be an integer >= 1, got a non-number/],
    [
      ['fit', 'data.csv', '-k', '2', '--workers', 'many'],
      /--workers must be 'auto' or an integer >= 0, got "many"/,
    ],
    [['fit', 'data.csv', '-k', '2', '--workers', '-1'], /--workers must be 'auto' or an integer >= 0/],
    [['fit', 'data.csv', '-k', '13'], /-k 13 exceeds the number of rows \(12\) in data\.csv/],
    [['sweep', 'data.csv', '--k', '1..13'], /k = 13 exceeds the number of rows \(12\)/],
    [['sweep', 'data.csv', '--k', '0..3'], /k\.min must be a positive integer, got 0$/],
    [['fit', 'data.csv', '-k', '2', '--seed=-1'], /--seed must be an integer in \[0, 4294967295\], got -1$/],
    [['fit', 'data.csv', '-k', '2', '--seed', '4294967296'], /--seed must be an integer in \[0, 4294967295\]/],
    [['fit', 'data.csv', '-k', '2', '--max-iter=-1'], /--max-iter must be an integer >= 0, got -1$/],
    [['sweep', 'data.csv', '--n-init', '0'], /--n-init must be an integer >= 1, got 0$/],
    [
      ['fit', 'data.csv', '-k', '2', '--covariance', 'bogus'],
      // the built-ins, then @gmmkit/mclust's models (registered by default)
      /unknown covariance family 'bogus' \(available: full, tied, diag, spherical, EII, EEI, VEI, EVI, VEE, EVE, VVE, EEV, VEV, EVV, E, V\)/,
    ],
    [['sweep', 'data.csv', '--covariance', 'full,bogus'], /unknown covariance family 'bogus'/],
    [
      ['fit', 'data.csv', '-k', '2', '--init', 'bogus'],
      /unknown initializer 'bogus' \(available: kmeans, k-means\+\+, random, random-from-data, emem, smem, hc\)/,
    ],
    [['sweep', 'data.csv', '--criterion', 'bogus'], /unknown criterion 'bogus' \(available: bic, aic, icl\)/],
    [
      ['fit', 'data.csv', '-k', '2', '--backend', 'bogus'],
      /unknown backend 'bogus' \(available: auto, tensorflow, wasm, cpu\)/,
    ],
    [['fit', 'data.csv', '-k', '2', '--tol', '-1'], /--tol must be a finite number >= 0, got -1/],
    [
      ['fit', 'data.csv', '-k', '2', '--columns', 'z'],
      /--columns: no column named 'z' in data\.csv \(columns: "x", "y"\)/,
    ],
    [
      ['fit', 'data.csv', '-k', '2', '--columns', '3'],
      /--columns: column 3 is out of range: data\.csv has 2 columns/,
    ],
    [['fit', 'data.csv', '-k', '2', '-o', ''], /-o needs a file name, got an empty one/],
    [['fit', 'data.csv', '-k', '2', '--plot', ''], /--plot needs a file name, got an empty one/],
    [['fit', 'data.csv', '-k', '2', '-o', '-', '--plot', '/dev/stdout'], /-o and --plot both name stdout/],
    [
      ['fit', 'data.csv', '-k', '2', '-o', 'no/such/dir/m.json'],
      /-o no\/such\/dir\/m\.json: directory no\/such\/dir does not exist/,
    ],
    [['fit', 'data.csv', '-k', '2', '--plot-kind', 'density'], /--plot-kind needs --plot/],
    [['fit', 'data.csv', '-k', '2', '--plugin', './nope.js'], /plugin module '\.\/nope\.js' not found/],
    [['fit', 'data.csv'], /Missing required argument: k/],
    [['fit', '-k', '2'], /name a data file, or give --distributed URL --shards FILES/],
    [['fit', 'data.csv', '-k', '2', '--shards', 'part-1.csv'], /--shards needs --distributed/],
    [['fit', '-k', '2', '--distributed', 'redis://127.0.0.1:1'], /--distributed needs the data as --shards/],
    ...(
      [
        [['fit', '-k', '2', '--stream'], /--stream is not supported with --distributed/],
        [['fit', '-k', '2', '--standardize'], /--standardize is not supported with --distributed/],
        [['fit', '-k', '2', '--bayesian'], /--bayesian is not supported with --distributed/],
        [['fit', '-k', '2', '--prior', 'default'], /--prior is not supported with --distributed/],
        [['fit', '-k', '2', '--plot', 'p.svg'], /--plot is not supported with --distributed/],
        [['sweep', '--standardize'], /--standardize is not supported with --distributed/],
        [['sweep', '--workers', '2'], /--workers is not used with --distributed/],
        [['sweep', '--patience', '2'], /--patience is not supported with --distributed/],
        [['fit', '-k', '2', '--weights', 'w'], /--weights is not supported with --distributed/],
        [['sweep', '--weights', 'w'], /--weights is not supported with --distributed/],
        [['fit', '-k', '2', '--missing', 'marginalize'], /--missing marginalize is not supported with --distributed/],
        [['sweep', '--missing', 'marginalize'], /--missing marginalize is not supported with --distributed/],
      ] as [string[], RegExp][]
    ).map(([argv, pattern]): [string[], RegExp] => [
      [...argv, '--distributed', 'redis://127.0.0.1:1', '--shards', 'part-1.csv'],
      pattern,
    ]),
    [['sample', 'model.json'], /Missing required argument: n/],
    [['fit', 'data.csv', '-k', '2', '--bogus'], /Unknown argument: bogus/],
    [[], /name a command/],
  ];
  it.each(cases)('gmm %j', async (argv, pattern) => {
    expectOneLineError(await run(...argv), 2, pattern);
  });
});

describe('the CLI validates numbers as the library does (one rule table)', () => {
  // Each EM flag, the option it sets, and values on both sides of its rule.
  const flags: [string, keyof typeof NUMBER_OPTIONS][] = [
    ['n-init', 'nInit'],
    ['max-iter', 'maxIter'],
    ['seed', 'seed'],
    ['tol', 'tol'],
    ['reg-covar', 'regCovar'],
    ['k', 'nComponents'],
  ];
  const values = [-1, 0, 0.5, 1, 3, 2 ** 32 - 1, 2 ** 32, Number.NaN, Infinity, null];
  /** 'ok', or the error message without its value and with `name` replaced by <name>. */
  const outcome = (run: () => unknown, name: string): string => {
    try {
      run();
      return 'ok';
    } catch (e) {
      return (e as Error).message.replace(/, got .*$/, '').replace(name, '<name>');
    }
  };
  it.each(flags)('--%s accepts exactly what %s accepts', (flag, option) => {
    for (const v of values) {
      const api = outcome(() => new GaussianMixture({ [option]: v }), option);
      const cli = outcome(
        () => (flag === 'k' ? optionFlag({ k: v }, 'k', 'nComponents') : emSettings({ [flag]: v })),
        flag.length === 1 ? `-${flag}` : `--${flag}`,
      );
      expect(cli, `${flag} = ${String(v)}`).toBe(api);
    }
  });

  // The --bayesian prior flags and BayesianGaussianMixture's options.
  const bayesianFlags: [string, keyof typeof NUMBER_OPTIONS][] = [
    ['weight-concentration-prior', 'weightConcentrationPrior'],
    ['mean-precision-prior', 'meanPrecisionPrior'],
    ['degrees-of-freedom-prior', 'degreesOfFreedomPrior'],
  ];
  it.each(bayesianFlags)('--bayesian --%s accepts exactly what %s accepts', (flag, option) => {
    const outcomes: string[] = [];
    for (const v of [...values, 1e-300, -0]) {
      const api = outcome(() => new BayesianGaussianMixture({ [option]: v }), option);
      const cli = outcome(() => bayesianSettings({ bayesian: true, [flag]: v }), `--${flag}`);
      expect(cli, `${flag} = ${String(v)}`).toBe(api);
      outcomes.push(api);
    }
    // The rule is "> 0": 0 and -0 fail, the tiniest positive number passes.
    expect(outcomes).toContain('<name> must be a finite number > 0');
    expect(outcomes.filter((o) => o === 'ok')).toHaveLength(6);
  });

  it('--max-iter 0 reports the initialization: no iterations, not converged, no convergence warning', async () => {
    const r = await run('fit', 'data.csv', '-k', '2', '--max-iter', '0', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout) as { iterations: number; converged: boolean; warnings: string[] };
    expect(out.iterations).toBe(0);
    expect(out.converged).toBe(false);
    expect(out.warnings).toEqual([]);
  });

  it('a fit stopped by --max-iter warns once, with the CLI flags', async () => {
    const r = await run('fit', 'data.csv', '-k', '2', '--max-iter', '1', '--tol', '0', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr.trimEnd().split('\n')).toEqual([
      'warning: EM did not converge in 1 iterations (tol 0): raise --max-iter or --tol, or check the data and initialization',
    ]);
  });
});

describe('model file errors: exit 2', () => {
  beforeAll(async () => {
    const { readFileSync } = await import('node:fs');
    const model = JSON.parse(readFileSync('model.json', 'utf8')) as { gmm: Record<string, unknown> } & Record<
      string,
      unknown
    >;
    writeFileSync('corrupt.json', '{"format": "gmmkit.cli-model", "vers');
    writeFileSync('newer.json', JSON.stringify({ ...model, version: 2 }));
    writeFileSync('newer-gmm.json', JSON.stringify({ ...model, gmm: { ...model.gmm, version: 7 } }));
    writeFileSync('notmodel.json', JSON.stringify({ hello: 1 }));
    writeFileSync('badcols.json', JSON.stringify({ ...model, columns: ['x'] }));
    writeFileSync('badweights.json', JSON.stringify({ ...model, gmm: { ...model.gmm, weights: [0.5] } }));
    writeFileSync(
      'eei.json',
      JSON.stringify({ ...model, gmm: { ...model.gmm, covarianceType: 'eei' }, plugins: ['./eei.js'] }),
    );
    writeFileSync('wide.csv', 'p,q,r\n1,2,3\n');
  });
  const cases: [string[], RegExp][] = [
    [['predict', 'missing.json', 'data.csv'], /cannot read missing\.json: no such file/],
    [['predict', 'corrupt.json', 'data.csv'], /corrupt\.json: not a model file: invalid JSON/],
    [
      ['score', 'newer.json', 'data.csv'],
      /newer\.json: model file schema version 2 is newer than this gmm supports \(1\)/,
    ],
    [['score', 'newer-gmm.json', 'data.csv'], /newer-gmm\.json: .*7/],
    [['inspect', 'notmodel.json'], /notmodel\.json: not a gmmkit model file/],
    [['inspect', 'badcols.json'], /badcols\.json: corrupt model file: 'columns' must be 2 column names/],
    [['inspect', 'badweights.json'], /badweights\.json: .*weights/],
    [['inspect', 'eei.json'], /eei\.json: .*'eei'.*--plugin \.\/eei\.js/],
    [
      ['score', 'model.json', 'wide.csv'],
      /model\.json expects 2 columns \(x, y\) but wide\.csv has 3 columns \(p, q, r\); choose them with --columns/,
    ],
    [
      ['predict', 'model.json', 'wide.csv', '--columns', '1'],
      /model\.json expects 2 columns .* but wide\.csv has 1 selected columns/,
    ],
  ];
  it.each(cases)('gmm %j', async (argv, pattern) => {
    expectOneLineError(await run(...argv), 2, pattern);
  });

  it('picks the model columns by name from wider data', async () => {
    writeFileSync('wider.csv', 'extra,y,x\n' + rows.map((r) => `7,${r[1]},${r[0]}`).join('\n') + '\n');
    const [a, b] = [
      await run('score', 'model.json', 'wider.csv', '--json'),
      await run('score', 'model.json', 'data.csv', '--json'),
    ];
    expect(a.code, a.stderr).toBe(0);
    expect(JSON.parse(a.stdout)).toEqual(JSON.parse(b.stdout));
  });
});

describe('outputs', () => {
  it('leaves no partial file when the command fails, and rejects clashing outputs', async () => {
    const { existsSync } = await import('node:fs');
    writeFileSync('nan2.csv', 'a,b\n1,2\n3,NaN\n');
    expectOneLineError(
      await run('fit', 'nan2.csv', '-k', '1', '-o', 'partial.json', '--plot', 'partial.svg'),
      2,
      /nan2\.csv/,
    );
    expect(existsSync('partial.json') || existsSync('partial.svg')).toBe(false);
    expectOneLineError(
      await run('fit', 'data.csv', '-k', '2', '-o', 'same.svg', '--plot', './same.svg'),
      2,
      /-o and --plot both name \.\/same\.svg/,
    );
  });

  it('sample: same seed, same rows; --labels appends the component; -o - is stdout', async () => {
    const a = await run('sample', 'model.json', '-n', '4', '--seed', '9');
    const b = await run('sample', 'model.json', '-n', '4', '--seed', '9', '--labels', '-o', '-');
    const c = await run('sample', 'model.json', '-n', '4', '--seed', '10');
    for (const r of [a, b, c]) expect(r.code, r.stderr).toBe(0);
    const rowsA = a.stdout.trim().split('\n');
    expect(rowsA[0]).toBe('x,y');
    expect(
      b.stdout
        .trim()
        .split('\n')
        .map((l) => l.split(',').slice(0, 2).join(',')),
    ).toEqual(rowsA);
    expect(b.stdout.split('\n')[0]).toBe('x,y,component');
    expect(c.stdout).not.toBe(a.stdout);
  });

  it('fit --plot draws a pairs plot of more than two columns, two named by --plot-columns, a histogram of one', async () => {
    writeFileSync(
      'three.csv',
      'a,b,c\n' + rows.map((r) => `${r[0]},${r[1]},${r[0]! - r[1]!}`).join('\n') + '\n',
    );
    const { readFileSync } = await import('node:fs');
    const pairs = await run('fit', 'three.csv', '-k', '2', '--plot', 'pairs.svg');
    expect(pairs.code, pairs.stderr).toBe(0);
    const pairsSvg = readFileSync('pairs.svg', 'utf8');
    expect(pairsSvg).toContain('columns a, b, c');
    // 3 x 3 panels: 6 scatters with 2 components x 2 contours of ellipses each.
    expect(pairsSvg.match(/class="mark-line role-mark/g)!.length).toBeGreaterThanOrEqual(6);
    const ok = await run('fit', 'three.csv', '-k', '2', '--plot', 'three.svg', '--plot-columns', 'c,1');
    expect(ok.code, ok.stderr).toBe(0);
    const svg = readFileSync('three.svg', 'utf8');
    expect(svg).toContain('>c<');
    expect(svg).toContain('>a<');
    const one = await run('fit', 'data.csv', '-k', '2', '--plot', 'one.svg', '--columns', 'x');
    expect(one.code, one.stderr).toBe(0);
    expect(readFileSync('one.svg', 'utf8')).toContain('>density<');
  });
});

describe('--standardize in sweep', () => {
  it('reports the best model in original units, as score computes them from the saved file', async () => {
    const r = await run(
      'sweep',
      'data.csv',
      '--k',
      '1..2',
      '--covariance',
      'diag,spherical',
      '--standardize',
      '--workers',
      '0',
      '--json',
      '-o',
      'swstd.json',
    );
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { best: { bic: number; logLikelihood: number } };
    const score = await run('score', 'swstd.json', 'data.csv', '--json');
    expect(score.code, score.stderr).toBe(0);
    const s = JSON.parse(score.stdout) as { bic: number; logLikelihood: number };
    expect(s.logLikelihood).toBeCloseTo(out.best.logLikelihood, 3);
    expect(s.bic).toBeCloseTo(out.best.bic, 3);
  });
});

describe('--plugin', () => {
  beforeAll(() => {
    writeFileSync(
      'plugin.mjs',
      `export default {
        initializers: [{ name: 'first-rows', description: 'the first k rows as means', initialize: ({ data, k, d }) => ({ kind: 'means', means: data.slice(0, k * d) }) }],
        criteria: [{ name: 'half-bic', description: 'BIC / 2', score: ({ logLikelihood, n, nParameters }) => (-2 * logLikelihood + nParameters * Math.log(n)) / 2 }],
      };`,
    );
  });

  it('registers an initializer usable by fit --init, recorded in the model file', async () => {
    const without = await run('fit', 'data.csv', '-k', '2', '--init', 'first-rows');
    expectOneLineError(without, 2, /unknown initializer 'first-rows'/);
    const r = await run(
      'fit',
      'data.csv',
      '-k',
      '2',
      '--init',
      'first-rows',
      '--plugin',
      './plugin.mjs',
      '-o',
      'plugged.json',
      '--json',
    );
    expect(r.code, r.stderr).toBe(0);
    const { readFileSync } = await import('node:fs');
    expect(JSON.parse(readFileSync('plugged.json', 'utf8'))).toMatchObject({
      plugins: ['./plugin.mjs'],
      gmm: { options: { initParams: 'first-rows' } },
    });
  });

  it('registers a criterion and an initializer that sweep workers load too', async () => {
    const r = await run(
      'sweep',
      'data.csv',
      '--k',
      '1..2',
      '--covariance',
      'full',
      '--criterion',
      'half-bic',
      '--init',
      'first-rows',
      '--workers',
      '2',
      '--plugin',
      './plugin.mjs',
      '--json',
    );
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { criterion: string; results: { bic: number }[] };
    expect(out.criterion).toBe('half-bic');
    expect(out.results).toHaveLength(2);
  });
});

describe('commandSpecs', () => {
  it('every spec option is accepted by the parser (docs can enumerate them)', async () => {
    const names = new Set<string>();
    for (const spec of commandSpecs) {
      for (const o of spec.options) names.add(`${spec.name} --${o.name}`);
      const help = await run(spec.name, '--help');
      expect(help.code).toBe(0);
      for (const o of spec.options)
        expect(help.stdout, `${spec.name} --${o.name}`).toContain(
          o.name.length === 1 ? `-${o.name}` : `--${o.name}`,
        );
      for (const g of globalOptions) expect(help.stdout).toContain(`--${g.name}`);
    }
    expect(names.size).toBeGreaterThan(30);
  });
});

describe('numerical warnings', () => {
  it('warns on stderr, and in --json, when float32 cannot resolve a covariance', async () => {
    // y = x + noise 1e3 times smaller: condition number about 4e6 with --reg-covar 0.
    const lines = Array.from({ length: 200 }, (_, i) => {
      const x = Math.sin(i * 12.9898);
      return `${x},${x + 1e-3 * Math.cos(i * 78.233)}`;
    });
    writeFileSync('ill.csv', 'x,y\n' + lines.join('\n') + '\n');
    const r = await run('fit', 'ill.csv', '-k', '1', '--reg-covar', '0', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(
      /^warning: component 0's covariance has condition number .* use --standardize or raise --reg-covar \(now 0\)$/m,
    );
    expect((JSON.parse(r.stdout) as { warnings: string[] }).warnings).toHaveLength(1);
    const quiet = await run('fit', 'data.csv', '-k', '2', '--json');
    expect(quiet.stderr).toBe('');
    expect((JSON.parse(quiet.stdout) as { warnings: string[] }).warnings).toEqual([]);
  });
});

describe('gmm fit --degenerate', () => {
  // thyroid diag k = 5, seed 4: the best restart puts 4 rows on one T3 value (docs/degenerate-solutions.md's figure)
  const thyroid = path.join(path.dirname(new URL(import.meta.url).pathname), '..', '..', '..', 'data', 'thyroid.csv');
  const fit = (mode: string) =>
    run('fit', thyroid, '-c', 'RT3U,T4,T3,TSH,DTSH', '-k', '5', '--covariance', 'diag', '--n-init', '10', '--seed', '4', '--degenerate', mode, '--json');
  const pinned = (r: Captured) => (JSON.parse(r.stdout) as { warnings: string[] }).warnings.filter((w) => w.includes('pinned'));

  it('warn keeps the best restart and says it is degenerate; reject keeps a healthy one; allow does not check', async () => {
    const [warn, reject, allow] = [await fit('warn'), await fit('reject'), await fit('allow')];
    for (const r of [warn, reject, allow]) expect(r.code).toBe(0);
    expect(pinned(warn)).toHaveLength(1);
    expect(pinned(reject)).toHaveLength(0);
    expect(pinned(allow)).toHaveLength(0);
    // the degenerate solution has the higher likelihood: that is why 'reject' must not keep it
    const ll = (r: Captured) => (JSON.parse(r.stdout) as { logLikelihood: number }).logLikelihood;
    expect(ll(warn)).toBeGreaterThan(ll(reject));
    expect(ll(allow)).toBe(ll(warn));
  }, 120_000);

  it('--reseeds 0 ends a collapsing restart where the default re-seeds its component and ends healthy', async () => {
    // full k = 8: k-means starts leave components of 2 to 5 rows, fewer than the 6 a 5-D full covariance needs
    const full8 = (...extra: string[]) => run('fit', thyroid, '-c', 'RT3U,T4,T3,TSH,DTSH', '-k', '8', '--n-init', '3', '--json', ...extra);
    const [ended, reseeded] = [await full8('--reseeds', '0'), await full8()];
    for (const r of [ended, reseeded]) expect(r.code, r.stderr).toBe(0);
    const warnings = (r: Captured) => (JSON.parse(r.stdout) as { warnings: string[] }).warnings;
    expect(warnings(ended).some((w) => /degenerate solution: .*effective points/.test(w))).toBe(true);
    expect(warnings(reseeded)).toEqual([]);
    const bad = await run('fit', thyroid, '-k', '2', '--reseeds', '-1');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--reseeds must be an integer >= 0, got -1/);
  }, 120_000);

  it('an unknown mode is a usage error naming the choices', async () => {
    const r = await run('fit', thyroid, '-k', '2', '--degenerate', 'maybe');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/degenerate.*reject.*warn.*allow/s);
  });
});
