import { platform } from '#platform';
import type { PluginSet } from './container.js';
import { InvalidArgumentError } from './errors.js';

/**
 * Loading plugin modules by name, for the CLI's `--plugin` and for sweep
 * workers (which cannot receive a container, only specifiers they re-import).
 *
 * A plugin module is an ES module whose default export, or named export
 * `plugins`, is a PluginSet:
 *
 * ```js
 * // my-plugins.js
 * export default { covarianceFamilies: [eei], criteria: [myCriterion] };
 * ```
 *
 * Specifiers (Node): a relative path (`./my-plugins.js`, or `dist/plugins.js` when
 * that file exists) or absolute path resolves against `baseDir` (default
 * `process.cwd()`); a `file:` URL is used as is; any other bare name (`gmmkit-plugin-eei`, `@me/plugins/sub`) resolves as a package
 * from `baseDir`, then from gmmkit's own install. In a browser a specifier
 * is a URL, absolute or relative to `baseDir` (default the page's address).
 */
export async function loadPluginModule(
  specifier: string,
  baseDir: string = platform.defaultBaseDir(),
): Promise<PluginSet> {
  if (typeof specifier !== 'string' || specifier.trim() === '') {
    throw new InvalidArgumentError('plugin module specifier must be a non-empty string');
  }
  let url: string;
  try {
    url = platform.resolvePluginUrl(specifier, baseDir);
  } catch (err) {
    throw new InvalidArgumentError(`plugin module '${specifier}' ${messageOf(err)}`);
  }
  let mod: Record<string, unknown>;
  try {
    mod = (await import(/* @vite-ignore */ url)) as Record<string, unknown>;
  } catch (err) {
    throw new InvalidArgumentError(
      `plugin module '${specifier}' failed to load (${url}): ${messageOf(err)}`,
      { cause: err },
    );
  }
  const candidates: [string, unknown][] = [
    ['default export', mod['default']],
    ["export 'plugins'", mod['plugins']],
  ];
  for (const [where, value] of candidates) {
    if (value === undefined) continue;
    const problem = pluginSetProblem(value);
    if (problem === undefined) return value as PluginSet;
    throw new InvalidArgumentError(
      `plugin module '${specifier}': its ${where} is not a PluginSet: ${problem}`,
    );
  }
  throw new InvalidArgumentError(
    `plugin module '${specifier}' exports no PluginSet: expected a default export or an export named 'plugins' ` +
      `of the form { covarianceFamilies?, initializers?, criteria?, backends? }`,
  );
}

/** Loads several plugin modules, in order (later modules' plugins win on name clashes once bound). */
export async function loadPluginModules(
  specifiers: readonly string[],
  baseDir?: string,
): Promise<PluginSet[]> {
  const sets: PluginSet[] = [];
  for (const s of specifiers) sets.push(await loadPluginModule(s, baseDir));
  return sets;
}

const KINDS: Record<keyof PluginSet, readonly string[]> = {
  covarianceFamilies: ['nCovarianceParameters', 'accumulate', 'merge', 'mStep', 'densityKernel'],
  initializers: ['initialize'],
  criteria: ['score'],
  backends: ['load'],
};

/** Why `value` is not a PluginSet, or undefined when it is one. */
function pluginSetProblem(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return `got ${describe(value)}`;
  const v = value as Record<string, unknown>;
  const present = (Object.keys(KINDS) as (keyof PluginSet)[]).filter((key) => v[key] !== undefined);
  if (present.length === 0) return `none of ${Object.keys(KINDS).join(', ')} is set`;
  for (const key of present) {
    const list = v[key];
    if (!Array.isArray(list)) return `${key} must be an array, got ${describe(list)}`;
    for (let i = 0; i < list.length; i++) {
      const p = list[i] as Record<string, unknown> | null;
      if (p === null || typeof p !== 'object') return `${key}[${i}] is ${describe(p)}`;
      if (typeof p['name'] !== 'string' || p['name'] === '') return `${key}[${i}] has no string 'name'`;
      for (const method of KINDS[key]) {
        if (typeof p[method] !== 'function') return `${key}[${i}] ('${p['name']}') has no method ${method}()`;
      }
    }
  }
  return undefined;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
