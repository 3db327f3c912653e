import { BayesianGaussianMixture } from '@gmmkit/tfjs';
import { formatKeyValues, formatNumber, formatTable } from '../io/format.js';
import { unstandardizeCovariances, unstandardizeMeans } from '../model-file.js';
import { componentTable } from './fit.js';
import { bool, loadModel, loadPlugins, matrices, nested, str, type Args, type Io } from './common.js';

/** `gmm inspect --json`: the model in original units, whatever the family. */
export interface InspectJson {
  file: string;
  covarianceType: string;
  k: number;
  d: number;
  columns: string[];
  standardize: { mean: number[]; scale: number[] } | null;
  weights: number[];
  means: number[][];
  covariances: number[][][];
  converged: boolean;
  iterations: number;
  nSamples: number;
  lowerBound: number;
  nParameters: number;
  options: Record<string, unknown>;
  plugins: string[];
  /** A Bayesian mixture's weight prior and effective number of components (weights > 0.01); absent otherwise. */
  bayesian?: { weightConcentrationPriorType: string; effectiveComponents: number };
}

export async function inspectCommand(args: Args, io: Io): Promise<number> {
  const file = str(args, 'model')!;
  const plugins = await loadPlugins(args);
  // Reading a model needs no particular backend: take whatever loads.
  const model = await loadModel(file, plugins, process.env['GMM_BACKEND'] ?? 'auto');
  const gm = model.gm;
  const st = gm.state;
  const s = model.standardize;
  const columns = model.columns ?? Array.from({ length: st.d }, (_, j) => String(j + 1));
  const info: InspectJson = {
    file,
    covarianceType: st.covarianceType,
    k: st.k,
    d: st.d,
    columns,
    standardize: s,
    weights: Array.from(st.weights),
    means: nested(unstandardizeMeans(st.means, st.d, s), st.k, st.d),
    covariances: matrices(unstandardizeCovariances(gm.fullCovariances(), st.d, s), st.k, st.d),
    converged: st.converged,
    iterations: st.nIter,
    nSamples: st.nSamples,
    lowerBound: st.lowerBound,
    nParameters: gm.nParameters(),
    options: { ...model.gmm.options },
    plugins: model.plugins,
  };
  if (gm instanceof BayesianGaussianMixture) {
    info.bayesian = { weightConcentrationPriorType: gm.state.weightConcentrationPriorType, effectiveComponents: gm.effectiveComponents() };
  }
  if (bool(args, 'json')) {
    io.out(JSON.stringify(info, null, 2));
    return 0;
  }
  const family = gm.family;
  const o = model.gmm.options;
  const parts = [
    formatKeyValues([
      ['model', file],
      [
        'covariance',
        `${family.name}${family.mclustName === undefined || family.description.includes(family.mclustName) ? '' : ` (mclust ${family.mclustName})`}: ${family.description}`,
      ],
      ['components', info.bayesian === undefined ? String(st.k) : `${st.k} (Bayesian, ${info.bayesian.weightConcentrationPriorType} prior: ${info.bayesian.effectiveComponents} with weight > 0.01)`],
      ['columns', `${st.d}: ${columns.join(', ')}`],
      [
        'standardized',
        s === null ? 'no' : 'yes (z-scored before the model; figures below in original units)',
      ],
      ['fitted on', `${st.nSamples} rows`],
      ['converged', `${st.converged ? 'yes' : 'NO'} after ${st.nIter} iteration${st.nIter === 1 ? '' : 's'}`],
      [
        'lower bound',
        `${formatNumber(st.lowerBound)}${info.bayesian === undefined ? ' per row' : ' (ELBO, total)'}${s === null ? '' : ' (standardized units)'}`,
      ],
      ['parameters', String(info.nParameters)],
      [
        'options',
        `tol ${o.tol}, reg-covar ${o.regCovar}, max-iter ${o.maxIter}, n-init ${o.nInit}, init ${o.initParams}, seed ${o.seed}`,
      ],
      ...(model.plugins.length > 0 ? ([['plugins', model.plugins.join(', ')]] as [string, string][]) : []),
    ]),
    '',
    'Weights and means',
    componentTable(info.weights, info.means, columns),
  ];
  info.covariances.forEach((c, j) => {
    parts.push('', `Covariance of component ${j}`);
    parts.push(
      formatTable(
        ['', ...columns],
        c.map((row, a) => [columns[a]!, ...row.map((v) => formatNumber(v, 5))]),
        ['left', ...columns.map(() => 'right' as const)],
      ),
    );
  });
  io.out(parts.join('\n'));
  return 0;
}
