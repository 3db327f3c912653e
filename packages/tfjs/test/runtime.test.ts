import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { BackendUnavailableError, UnknownPluginError, createContainer, pluginModule, type BackendProvider } from '@gmmkit/core';
import { afterEach, describe, expect, it } from 'vitest';
import { cpuBackend, currentBackend, initBackend, tensorflowBackend, tf, wasmBackend } from '../src/runtime/index.js';

// A provider standing in for tfjs-node on a machine where its native library is missing.
const brokenNative: BackendProvider = {
  ...tensorflowBackend,
  async load() {
    throw new Error("Cannot find module '@tensorflow/tfjs-node'");
  },
};

const withBrokenNative = () => createContainer(pluginModule({ backends: [brokenNative, wasmBackend, cpuBackend] }));

describe('backend selection', () => {
  const savedEnv = process.env['GMM_BACKEND'];
  afterEach(() => {
    if (savedEnv === undefined) delete process.env['GMM_BACKEND'];
    else process.env['GMM_BACKEND'] = savedEnv;
  });

  it("'auto' falls back to wasm when tfjs-node cannot load", async () => {
    const info = await initBackend('auto', withBrokenNative());
    expect(info).toEqual({ name: 'wasm', tfBackend: 'wasm' });
    expect(tf.getBackend()).toBe('wasm');
    expect(currentBackend()).toBe('wasm');
  });

  it("'auto' falls back to cpu when wasm cannot load either", async () => {
    const brokenWasm = { ...wasmBackend, load: () => Promise.reject(new Error('no wasm')) };
    const container = createContainer(pluginModule({ backends: [brokenNative, brokenWasm, cpuBackend] }));
    await initBackend('cpu'); // leave wasm so 'auto' has to choose again
    expect(await initBackend('auto', container)).toEqual({ name: 'cpu', tfBackend: 'cpu' });
  });

  it('an explicitly requested backend that cannot load is a one-line error saying how to install it', async () => {
    const error = await initBackend('tensorflow', withBrokenNative()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackendUnavailableError);
    const message = (error as Error).message;
    expect(message).toContain("backend 'tensorflow' is not available");
    expect(message).toContain('pnpm add @tensorflow/tfjs-node');
    expect(message).not.toContain('\n');
  });

  it('the real tfjs-node loads exactly when it can be imported here, else fails with the install hint', async () => {
    // An independent oracle: can a fresh Node process import @tensorflow/tfjs-node from this package?
    const probe = spawnSync(process.execPath, ['--input-type=module', '-e', "await import('@tensorflow/tfjs-node')"], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      stdio: 'ignore',
    });
    const importable = probe.status === 0;
    const result = await initBackend('tensorflow').catch((e: unknown) => e);
    if (importable) {
      expect(result).toEqual({ name: 'tensorflow', tfBackend: 'tensorflow' });
    } else {
      expect(result).toBeInstanceOf(BackendUnavailableError);
      expect((result as Error).message).toContain('pnpm add @tensorflow/tfjs-node');
      // Installed without its binding (its install script could not download libtensorflow): said so,
      // found before loading the package.
      const installed = spawnSync(process.execPath, ['-e', "require.resolve('@tensorflow/tfjs-node/package.json')"], {
        cwd: fileURLToPath(new URL('..', import.meta.url)),
        stdio: 'ignore',
      });
      if (installed.status === 0) expect((result as Error).message).toContain('@tensorflow/tfjs-node has no native binding');
    }
  });

  it('an unknown backend name lists the available ones', async () => {
    await expect(initBackend('quantum')).rejects.toThrow(UnknownPluginError);
    await expect(initBackend('quantum')).rejects.toThrow(/available: auto, tensorflow, wasm, cpu/);
  });

  it('GMM_BACKEND chooses the backend when none is named', async () => {
    process.env['GMM_BACKEND'] = 'cpu';
    expect((await initBackend()).name).toBe('cpu');
    process.env['GMM_BACKEND'] = 'wasm';
    expect((await initBackend()).name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
  });

  it('explicit cpu and wasm both compute', async () => {
    for (const name of ['cpu', 'wasm'] as const) {
      await initBackend(name);
      const sum = tf.tidy(() => tf.sum(tf.tensor1d([1, 2, 3])).dataSync()[0]);
      expect(sum).toBe(6);
    }
  });
});
