/**
 * The plugin module `gmm --plugin examples/custom-initializer/dist/plugins.js`
 * loads: a PluginSet as the default export.
 */
import type { PluginSet } from '@gmmkit/core';
import { farthestPoint } from './farthest-point.js';

const plugins: PluginSet = { initializers: [farthestPoint] };
export default plugins;
