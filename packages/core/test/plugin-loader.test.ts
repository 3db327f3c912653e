import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../src/errors.js';
import { createContainer, pluginModule, PluginRegistry } from '../src/container.js';
import { loadPluginModule, loadPluginModules } from '../src/plugin-loader.js';

// Plugin modules are plain ESM files written to a temp directory, as a user would.
let dir: string;
const criterionSrc = (name: string) =>
  `{ name: '${name}', description: 'test criterion', score: (i) => -2 * i.logLikelihood + 3 * i.nParameters }`;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'gmmkit-plugins-'));
  writeFileSync(path.join(dir, 'default.mjs'), `export default { criteria: [${criterionSrc('aic3')}] };\n`);
  writeFileSync(
    path.join(dir, 'named.mjs'),
    `export const plugins = { criteria: [${criterionSrc('named')}] };\n`,
  );
  writeFileSync(path.join(dir, 'nothing.mjs'), `export const x = 1;\n`);
  writeFileSync(path.join(dir, 'empty-set.mjs'), `export default { foo: [] };\n`);
  writeFileSync(path.join(dir, 'bad-entry.mjs'), `export default { criteria: [{ name: 'c' }] };\n`);
  writeFileSync(path.join(dir, 'not-array.mjs'), `export default { initializers: { name: 'x' } };\n`);
  writeFileSync(path.join(dir, 'throws.mjs'), `throw new Error('boom at import');\n`);
  // A bare-name package installed under baseDir/node_modules.
  const pkg = path.join(dir, 'node_modules', 'gmmkit-plugin-test');
  mkdirSync(pkg, { recursive: true });
  writeFileSync(
    path.join(pkg, 'package.json'),
    JSON.stringify({ name: 'gmmkit-plugin-test', type: 'module', exports: { '.': './index.js' } }),
  );
  writeFileSync(
    path.join(pkg, 'index.js'),
    `export default { criteria: [${criterionSrc('from-package')}] };\n`,
  );
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('loadPluginModule', () => {
  it('loads a default-exported PluginSet from a relative path against baseDir', async () => {
    const set = await loadPluginModule('./default.mjs', dir);
    expect(set.criteria?.map((c) => c.name)).toEqual(['aic3']);
    // The set binds through the same path as the built-ins.
    const registry = new PluginRegistry(createContainer(pluginModule(set)));
    expect(registry.criterion('aic3').score({ logLikelihood: -10, n: 5, nParameters: 2, entropy: 0 })).toBe(
      26,
    );
  });

  it('loads a named `plugins` export, absolute paths and file: URLs', async () => {
    expect((await loadPluginModule(path.join(dir, 'named.mjs'))).criteria?.[0]?.name).toBe('named');
    expect(
      (await loadPluginModule(pathToFileURL(path.join(dir, 'default.mjs')).href)).criteria?.[0]?.name,
    ).toBe('aic3');
  });

  it('resolves a bare name as a package from baseDir', async () => {
    const set = await loadPluginModule('gmmkit-plugin-test', dir);
    expect(set.criteria?.[0]?.name).toBe('from-package');
  });

  it('takes a bare specifier naming an existing file as that file', async () => {
    const set = await loadPluginModule('default.mjs', dir);
    expect(set.criteria?.[0]?.name).toBe('aic3');
  });

  it('loads several modules in order', async () => {
    const sets = await loadPluginModules(['./default.mjs', './named.mjs'], dir);
    expect(sets.map((s) => s.criteria?.[0]?.name)).toEqual(['aic3', 'named']);
  });

  it('defaults baseDir to the working directory', async () => {
    const rel = path.relative(process.cwd(), path.join(dir, 'default.mjs'));
    const spec = rel.startsWith('.') ? rel : `./${rel}`;
    expect((await loadPluginModule(spec)).criteria?.[0]?.name).toBe('aic3');
  });

  it.each([
    ['./missing.mjs', /not found: no file .*missing\.mjs/],
    ['no-such-gmmkit-plugin-package', /not found: no package/],
    ['./nothing.mjs', /exports no PluginSet/],
    ['./empty-set.mjs', /not a PluginSet: none of covarianceFamilies/],
    ['./bad-entry.mjs', /criteria\[0\] \('c'\) has no method score\(\)/],
    ['./not-array.mjs', /initializers must be an array/],
    ['./throws.mjs', /failed to load .*boom at import/],
    ['', /non-empty string/],
  ])('rejects %s with a clear InvalidArgumentError', async (spec, message) => {
    const err = await loadPluginModule(spec, dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as Error).message).toMatch(message);
  });
});
