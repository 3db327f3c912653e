import { BayesianGaussianMixture } from '@gmmkit/tfjs';
import { formatKeyValues, formatNumber } from '../io/format.js';
import { totalLogJacobian } from '../model-file.js';
import {
  backendName,
  bool,
  loadModel,
  loadPlugins,
  missingFlag,
  modelInput,
  readDataForModel,
  readOptions,
  reportReadWarnings,
  str,
  sum,
  type Args,
  type Io,
} from './common.js';

/** The --json document of `gmm score` (the output contract). */
export interface ScoreJson {
  /** Σ_i ln p(x_i), natural log, original units. */
  logLikelihood: number;
  meanLogLikelihood: number;
  /** null for a Bayesian mixture (its score is scikit-learn's, under the variational posterior: no BIC/AIC). */
  bic: number | null;
  aic: number | null;
  n: number;
}

export async function scoreCommand(args: Args, io: Io): Promise<number> {
  const plugins = await loadPlugins(args);
  const backend = backendName(args, plugins);
  const missing = missingFlag(args);
  const model = await loadModel(str(args, 'model')!, plugins, backend, missing);
  const table = await readDataForModel(str(args, 'data')!, model, { ...readOptions(args, io), missing });
  reportReadWarnings(io, table.warnings);
  const n = table.n;
  const logLikelihood =
    sum(model.gm.scoreSamples(modelInput(table, model))) + totalLogJacobian(table.data, table.d, model.standardize);
  const p = model.gm.nParameters();
  const bayesian = model.gm instanceof BayesianGaussianMixture;
  const result: ScoreJson = {
    logLikelihood,
    meanLogLikelihood: logLikelihood / n,
    bic: bayesian ? null : -2 * logLikelihood + p * Math.log(n),
    aic: bayesian ? null : -2 * logLikelihood + 2 * p,
    n,
  };
  io.out(
    bool(args, 'json')
      ? JSON.stringify(result, null, 2)
      : formatKeyValues([
          ['rows', String(n)],
          ['log-likelihood', formatNumber(result.logLikelihood)],
          ['mean per row', formatNumber(result.meanLogLikelihood)],
          ...(result.bic === null || result.aic === null
            ? ([['BIC/AIC', 'none (a Bayesian mixture)']] as [string, string][])
            : ([
                ['BIC', formatNumber(result.bic)],
                ['AIC', formatNumber(result.aic)],
              ] as [string, string][])),
        ]),
  );
  return 0;
}
