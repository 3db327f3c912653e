import { createContainer, pluginModule, type Container, type ContainerModule, type PluginSet } from '@gmmkit/core';
import { diagCovariance, fullCovariance, sphericalCovariance, tiedCovariance } from './covariance/index.js';
import { ememInitializer, kmeansInitializer, kmeansPlusPlusInitializer, randomFromDataInitializer, randomInitializer, smemInitializer } from './init/index.js';
import { builtinBackends } from './runtime/backends.js';

/** The built-in plugins, bound exactly as a user's plugin set would be. */
export const builtinPlugins: PluginSet = {
  covarianceFamilies: [fullCovariance, tiedCovariance, diagCovariance, sphericalCovariance],
  initializers: [kmeansInitializer, kmeansPlusPlusInitializer, randomInitializer, randomFromDataInitializer, ememInitializer, smemInitializer],
  backends: builtinBackends,
};

/** A container with the built-ins, then `extraModules` (later bindings of a name win). */
export function createGmmContainer(...extraModules: ContainerModule[]): Container {
  return createContainer(pluginModule(builtinPlugins), ...extraModules);
}
