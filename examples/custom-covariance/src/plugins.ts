/**
 * The plugin module: what `gmm --plugin examples/custom-covariance/dist/plugins.js`
 * (or `sweep({ plugins: [...] })`, for worker threads) loads. Its default
 * export is a PluginSet.
 */
import type { PluginSet } from '@gmmkit/core';
import { eei } from './eei.js';

const plugins: PluginSet = { covarianceFamilies: [eei] };
export default plugins;
