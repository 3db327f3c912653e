// CommonJS: require() of gmmkit's ES modules (Node >= 20.19 loads ESM through require).
const { GaussianMixture, MODEL_FORMAT } = require('@gmmkit/tfjs');
const { sweep, bic } = require('@gmmkit/model-selection');
const { deriveSeed } = require('@gmmkit/core');
const { parseTable } = require('@gmmkit/cli/portable');
const { mclustModelNames } = require('@gmmkit/mclust');
const { fitDistributed } = require('@gmmkit/distributed');

const gm = new GaussianMixture({ nComponents: 1 });
console.log(
  JSON.stringify({
    GaussianMixture: typeof GaussianMixture,
    fit: typeof gm.fit,
    MODEL_FORMAT,
    sweep: typeof sweep,
    bic: bic.name,
    seed: deriveSeed(1, 2),
    columns: parseTable('a,b\n1,2\n', { source: 'x.csv' }).columns,
    mclustModels: mclustModelNames(2).length,
    fitDistributed: typeof fitDistributed,
  }),
);
