// The plugin module: `gmm --plugin @gmmkit/mclust` (the CLI registers it by
// default), `pluginModule(mclustPlugins)`, or `registerPlugins(container, mclustPlugins)`.
import type { PluginSet } from '@gmmkit/core';
import { mclustFamilies } from './families.js';
import { hcInitializer } from './hc.js';

export const mclustPlugins: PluginSet = { covarianceFamilies: mclustFamilies, initializers: [hcInitializer] };
export default mclustPlugins;
