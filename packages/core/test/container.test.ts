import { describe, expect, it } from 'vitest';
import { PluginRegistry, TOKENS, createContainer, pluginModule, registerPlugins } from '../src/container.js';
import type { CovarianceFamily } from '../src/contracts/covariance.js';
import type { Criterion } from '../src/contracts/criterion.js';
import { UnknownPluginError } from '../src/errors.js';

const criterion = (name: string, offset = 0): Criterion => ({
  name,
  description: `${name} for tests`,
  score: ({ logLikelihood }) => -2 * logLikelihood + offset,
});

describe('plugin container', () => {
  it('resolves plugins by name through one binding path', () => {
    const container = createContainer(pluginModule({ criteria: [criterion('a'), criterion('b')] }));
    const registry = new PluginRegistry(container);
    expect(registry.criterionNames()).toEqual(['a', 'b']);
    expect(registry.criterion('b').name).toBe('b');
    expect(container.getAll(TOKENS.Criterion)).toHaveLength(2);
  });

  it('lets a later registration replace a plugin of the same name', () => {
    const container = createContainer(pluginModule({ criteria: [criterion('a', 0)] }));
    registerPlugins(container, { criteria: [criterion('a', 100)] });
    const registry = new PluginRegistry(container);
    expect(registry.criterion('a').score({ logLikelihood: 0, n: 1, nParameters: 1, entropy: 0 })).toBe(100);
    expect(registry.criterionNames()).toEqual(['a']);
  });

  it('names what is available when a plugin is unknown', () => {
    const registry = new PluginRegistry(createContainer(pluginModule({ criteria: [criterion('bic')] })));
    expect(() => registry.criterion('nope')).toThrow(UnknownPluginError);
    expect(() => registry.criterion('nope')).toThrow("unknown criterion 'nope' (available: bic)");
    expect(() => registry.covarianceFamily('x')).toThrow('(available: none)');
  });

  it('finds a covariance family by its mclust name when no family has that name', () => {
    const family = (name: string, mclustName?: string) =>
      ({ name, description: name, ...(mclustName === undefined ? {} : { mclustName }) }) as unknown as CovarianceFamily;
    const registry = new PluginRegistry(
      createContainer(pluginModule({ covarianceFamilies: [family('full', 'VVV'), family('vvv'), family('EEV', 'EEV')] })),
    );
    expect(registry.covarianceFamily('VVV').name).toBe('full'); // by mclust name
    expect(registry.covarianceFamily('vvv').name).toBe('vvv'); // an exact name wins
    expect(() => registry.covarianceFamily('eev')).toThrow(UnknownPluginError); // codes are upper case
    expect(() => registry.covarianceFamily('VEV')).toThrow("unknown covariance family 'VEV' (available: full, vvv, EEV)");
  });

  it('orders backends by priority for auto selection', () => {
    const backend = (name: string, priority: number) => ({
      name,
      tfBackendName: name,
      priority,
      installHint: '',
      load: async () => {},
    });
    const registry = new PluginRegistry(
      createContainer(pluginModule({ backends: [backend('slow', 1), backend('fast', 9), backend('mid', 5)] })),
    );
    expect(registry.backends().map((b) => b.name)).toEqual(['fast', 'mid', 'slow']);
  });
});
