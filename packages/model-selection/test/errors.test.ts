import {
  AbortedError,
  InvalidArgumentError,
  InvalidDataError,
  PluginRegistry,
  UnknownPluginError,
  pluginModule,
  type Initializer,
} from '@gmmkit/core';
import { describe, expect, it, vi } from 'vitest';
import { createSelectionContainer } from '../src/criteria.js';
import { sweep, type SweepOptions } from '../src/sweep.js';
import { faithful } from './helpers.js';

const data = faithful();

// An initializer that counts its calls: any fit that starts goes through it.
function counting(): { container: ReturnType<typeof createSelectionContainer>; calls: () => number } {
  let calls = 0;
  const kmeans = new PluginRegistry(createSelectionContainer()).initializer('kmeans');
  const init: Initializer = {
    name: 'counting',
    description: 'kmeans, counted',
    initialize: (input) => {
      calls++;
      return kmeans.initialize(input);
    },
  };
  return { container: createSelectionContainer(pluginModule({ initializers: [init] })), calls: () => calls };
}

describe('sweep rejects bad input before any fit starts', () => {
  it.each<[string, Partial<SweepOptions>, new (...a: never[]) => Error, RegExp]>([
    ['an empty k range', { k: { min: 4, max: 2 } }, InvalidArgumentError, /empty k range/],
    ['an empty k list', { k: [] }, InvalidArgumentError, /empty k list/],
    [
      'k beyond the rows',
      { k: [2, 300] },
      InvalidArgumentError,
      /k = 300 exceeds the number of rows \(272\)/,
    ],
    [
      'an unknown family',
      { covarianceTypes: ['full', 'EEV'] },
      UnknownPluginError,
      /unknown covariance family 'EEV' \(available: full, tied, diag, spherical\)/,
    ],
    [
      'an unknown criterion',
      { criterion: 'hqic' },
      UnknownPluginError,
      /unknown criterion 'hqic' \(available: bic, aic, icl\)/,
    ],
    ['no families', { covarianceTypes: [] }, InvalidArgumentError, /covarianceTypes is empty/],
    ['bad nInit', { nInit: 0 }, InvalidArgumentError, /nInit must be an integer >= 1/],
    ['bad patience', { patience: 0 }, InvalidArgumentError, /patience must be an integer >= 1/],
    ['bad workers', { workers: -1 }, InvalidArgumentError, /workers must be an integer >= 0/],
    ['an unknown initializer', { initParams: 'nope' }, UnknownPluginError, /unknown initializer 'nope'/],
    [
      'a missing plugin module',
      { plugins: ['./no/such/plugin.js'] },
      InvalidArgumentError,
      /plugin module '.\/no\/such\/plugin.js' not found/,
    ],
  ])('%s', async (_name, bad, type, message) => {
    const { container, calls } = counting();
    const onProgress = vi.fn();
    const err = await sweep({
      data,
      k: '1..3',
      workers: 0,
      initParams: 'counting',
      container,
      onProgress,
      ...bad,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(type);
    expect((err as Error).message).toMatch(message);
    expect(calls()).toBe(0);
    expect(onProgress).not.toHaveBeenCalled();
  });

  it('bad data', async () => {
    await expect(
      sweep({
        data: [
          [1, 2],
          [3, Number.NaN],
        ],
        k: 1,
        workers: 0,
      }),
    ).rejects.toBeInstanceOf(InvalidDataError);
    await expect(sweep({ data: [], k: 1, workers: 0 })).rejects.toBeInstanceOf(InvalidDataError);
  });

  it('an already-aborted signal', async () => {
    const { container, calls } = counting();
    const ac = new AbortController();
    ac.abort();
    await expect(
      sweep({ data, k: '1..3', container, initParams: 'counting', signal: ac.signal }),
    ).rejects.toBeInstanceOf(AbortedError);
    expect(calls()).toBe(0);
  });
});
