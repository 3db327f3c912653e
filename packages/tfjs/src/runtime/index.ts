import {
  BackendUnavailableError,
  PluginRegistry,
  UnknownPluginError,
  createContainer,
  platform,
  pluginModule,
  type BackendProvider,
  type Container,
} from '@gmmkit/core';
import type { BackendName } from '../types.js';
import { builtinBackends } from './backends.js';
import { tf } from './tf.js';

export { tf } from './tf.js';
export * from './backends.js';

/** What initBackend chose. */
export interface BackendInfo {
  /** gmmkit's name for it: 'tensorflow', 'wasm', 'cpu', or a plugin's. */
  name: string;
  /** The tfjs backend that is now active. */
  tfBackend: string;
}

let active: BackendInfo | undefined;
let pending: Promise<BackendInfo> | undefined;

/** The backend gmmkit initialized, if any. */
export function currentBackend(): string | undefined {
  return active?.name;
}

/**
 * Chooses and initializes the tfjs backend. `name` defaults to the
 * GMM_BACKEND environment variable, else 'auto', which tries the registered
 * providers by priority (Node: tensorflow, wasm, cpu; browsers: wasm, cpu,
 * webgl, webgpu) and takes the first that
 * loads. An explicitly named backend that cannot load is an error naming
 * how to install it. Calling it again with 'auto' keeps what is active.
 */
export async function initBackend(name?: BackendName, container?: Container): Promise<BackendInfo> {
  const requested = (name ?? platform.env('GMM_BACKEND') ?? 'auto').trim() || 'auto';
  // Serialize concurrent calls: tf.setBackend is global state.
  const previous = pending ?? Promise.resolve(undefined);
  const next = previous.catch(() => undefined).then(() => choose(requested, container));
  pending = next;
  return next;
}

async function choose(requested: string, container: Container | undefined): Promise<BackendInfo> {
  if (active && (requested === 'auto' || requested === active.name) && tf.getBackend() === active.tfBackend) {
    return active;
  }
  const providers = providersOf(container);
  if (requested === 'auto') {
    const failures: string[] = [];
    for (const provider of providers) {
      const reason = await tryActivate(provider);
      if (reason === undefined) return (active = { name: provider.name, tfBackend: provider.tfBackendName });
      failures.push(`${provider.name}: ${reason}`);
    }
    throw new BackendUnavailableError(`no tfjs backend could be loaded (${failures.join('; ')})`);
  }
  const provider = providers.find((p) => p.name === requested);
  if (!provider) throw new UnknownPluginError('backend', requested, ['auto', ...providers.map((p) => p.name)]);
  const reason = await tryActivate(provider);
  if (reason !== undefined) {
    throw new BackendUnavailableError(`backend '${requested}' is not available (${reason}); ${provider.installHint}`);
  }
  return (active = { name: provider.name, tfBackend: provider.tfBackendName });
}

function providersOf(container: Container | undefined): BackendProvider[] {
  const c = container ?? createContainer(pluginModule({ backends: builtinBackends }));
  const providers = new PluginRegistry(c).backends();
  return providers.length > 0 ? providers : [...builtinBackends];
}

/** Loads and activates one provider; returns why it failed, or undefined on success. */
async function tryActivate(provider: BackendProvider): Promise<string | undefined> {
  try {
    await provider.load();
  } catch (error) {
    return firstLine(error);
  }
  try {
    if (!tf.findBackendFactory(provider.tfBackendName)) return `it registered no '${provider.tfBackendName}' backend`;
    const ok = await tf.setBackend(provider.tfBackendName);
    if (!ok) return `tfjs could not initialize '${provider.tfBackendName}'`;
    await tf.ready();
    return undefined;
  } catch (error) {
    return firstLine(error);
  }
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0]!.trim();
}
