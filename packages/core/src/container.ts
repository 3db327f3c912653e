import { Container, ContainerModule } from 'inversify';
import type { BackendProvider } from './contracts/backend.js';
import type { CovarianceFamily } from './contracts/covariance.js';
import type { Criterion } from './contracts/criterion.js';
import type { Initializer } from './contracts/initializer.js';
import { UnknownPluginError } from './errors.js';

/**
 * Service identifiers. Plugins are bound as constant values under these
 * tokens (many per token); no decorators, no reflect-metadata.
 */
export const TOKENS = {
  CovarianceFamily: Symbol.for('gmmkit.CovarianceFamily'),
  Initializer: Symbol.for('gmmkit.Initializer'),
  Criterion: Symbol.for('gmmkit.Criterion'),
  BackendProvider: Symbol.for('gmmkit.BackendProvider'),
} as const;

/** The plugins one module contributes. */
export interface PluginSet {
  covarianceFamilies?: readonly CovarianceFamily[];
  initializers?: readonly Initializer[];
  criteria?: readonly Criterion[];
  backends?: readonly BackendProvider[];
}

/**
 * A ContainerModule binding a set of plugins. The built-ins are packaged
 * this way too, so a user's plugin takes exactly the path the built-ins take.
 */
export function pluginModule(plugins: PluginSet): ContainerModule {
  return new ContainerModule(({ bind }) => {
    for (const f of plugins.covarianceFamilies ?? []) bind<CovarianceFamily>(TOKENS.CovarianceFamily).toConstantValue(f);
    for (const i of plugins.initializers ?? []) bind<Initializer>(TOKENS.Initializer).toConstantValue(i);
    for (const c of plugins.criteria ?? []) bind<Criterion>(TOKENS.Criterion).toConstantValue(c);
    for (const b of plugins.backends ?? []) bind<BackendProvider>(TOKENS.BackendProvider).toConstantValue(b);
  });
}

/** A fresh, empty plugin container. @gmmkit/tfjs's `createGmmContainer()` returns one with the built-ins loaded. */
export function createContainer(...modules: ContainerModule[]): Container {
  const container = new Container();
  container.loadSync(...modules);
  return container;
}

/**
 * A container that resolves what `parent` binds, except the tokens the
 * modules bind, which it resolves from the modules alone (a one-off
 * initializer over a user's container, say).
 */
export function childContainer(parent: Container, ...modules: ContainerModule[]): Container {
  const container = new Container({ parent });
  container.loadSync(...modules);
  return container;
}

/** Registers plugins in one call: `registerPlugins(container, { covarianceFamilies: [eei] })`. */
export function registerPlugins(container: Container, plugins: PluginSet): void {
  container.loadSync(pluginModule(plugins));
}

function all<T>(container: Container, token: symbol): T[] {
  return container.isBound(token) ? container.getAll<T>(token) : [];
}

/** Last binding of a name wins, so a user can replace a built-in by binding one with the same name. */
function byName<T extends { name: string }>(container: Container, token: symbol, kind: string, name: string): T {
  const found = all<T>(container, token);
  for (let i = found.length - 1; i >= 0; i--) if (found[i]!.name === name) return found[i]!;
  throw new UnknownPluginError(kind, name, namesOf(found));
}

function namesOf(items: readonly { name: string }[]): string[] {
  return [...new Set(items.map((i) => i.name))];
}

/** Typed lookups over a container, with errors that list what is available. */
export class PluginRegistry {
  constructor(readonly container: Container) {}

  /**
   * A family by name, else by its mclust model name, so 'VVV', 'EEE', 'VVI'
   * and 'VII' find full, tied, diag and spherical.
   */
  covarianceFamily(name: string): CovarianceFamily {
    const found = all<CovarianceFamily>(this.container, TOKENS.CovarianceFamily);
    if (!found.some((f) => f.name === name)) {
      for (let i = found.length - 1; i >= 0; i--) if (found[i]!.mclustName === name) return found[i]!;
    }
    return byName(this.container, TOKENS.CovarianceFamily, 'covariance family', name);
  }
  initializer(name: string): Initializer {
    return byName(this.container, TOKENS.Initializer, 'initializer', name);
  }
  criterion(name: string): Criterion {
    return byName(this.container, TOKENS.Criterion, 'criterion', name);
  }
  backend(name: string): BackendProvider {
    return byName(this.container, TOKENS.BackendProvider, 'backend', name);
  }

  covarianceFamilyNames(): string[] {
    return namesOf(all(this.container, TOKENS.CovarianceFamily));
  }
  initializerNames(): string[] {
    return namesOf(all(this.container, TOKENS.Initializer));
  }
  criterionNames(): string[] {
    return namesOf(all(this.container, TOKENS.Criterion));
  }
  /** Backends in the order 'auto' tries them. */
  backends(): BackendProvider[] {
    const list = all<BackendProvider>(this.container, TOKENS.BackendProvider);
    const unique = new Map<string, BackendProvider>();
    for (const b of list) unique.set(b.name, b);
    return [...unique.values()].sort((a, b) => b.priority - a.priority);
  }
}
