// The packaging test: every public package of the workspace, packed the way
// it would be published, installed with npm into a fresh project outside the
// workspace (third-party dependencies from the npm registry, gmmkit only from
// the tarballs), then used as a user would: an ES module, a CommonJS
// require, a strict TypeScript check and the `gmm` binary.
import { execFile } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const execFileP = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const example = path.resolve(here, '..');
const repo = path.resolve(example, '../..');

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  [key: string]: unknown;
}
const readJson = <T>(file: string): T => JSON.parse(readFileSync(file, 'utf8')) as T;

/** The workspace's public packages: every packages/* whose package.json is not private. */
function publicPackages(): { dir: string; manifest: Manifest }[] {
  return readdirSync(path.join(repo, 'packages'))
    .map((name) => path.join(repo, 'packages', name))
    .filter((dir) => existsSync(path.join(dir, 'package.json')))
    .map((dir) => ({ dir, manifest: readJson<Manifest>(path.join(dir, 'package.json')) }))
    .filter((p) => p.manifest.private !== true)
    .sort((a, b) => a.manifest.name.localeCompare(b.manifest.name));
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}
async function sh(cmd: string, args: string[], cwd: string): Promise<Run> {
  try {
    const { stdout, stderr } = await execFileP(cmd, args, {
      cwd,
      maxBuffer: 64 * 1024 * 1024,
      env: cleanEnv(),
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}
const npm = (args: string[], cwd: string) => sh('npm', args, cwd);

/**
 * The environment of a user's shell: without the npm_config_* variables
 * pnpm sets for the scripts it runs (npm would warn about pnpm-only ones).
 */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^npm_/i.test(key) && !/^PNPM_/i.test(key)) env[key] = value;
  }
  return { ...env, NO_UPDATE_NOTIFIER: '1', npm_config_update_notifier: 'false', npm_config_fund: 'false' };
}

const packages = publicPackages();
/** The root manifest's `repository` (undefined while the project has no public remote). */
const rootRepository = readJson<{ repository?: { type: string; url: string } }>(
  path.join(repo, 'package.json'),
).repository;
let work: string;
let project: string;
const tarballs = new Map<string, string>();

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'gmmkit-npm-install-'));
  const packed = path.join(work, 'tarballs');
  mkdirSync(packed);
  for (const { dir, manifest } of packages) {
    if (!existsSync(path.join(dir, 'dist')))
      throw new Error(
        `${manifest.name} is not built (no dist/): add it to this example's devDependencies so turbo builds it first`,
      );
    const r = await sh('pnpm', ['pack', '--pack-destination', packed], dir);
    if (r.code !== 0) throw new Error(`pnpm pack ${manifest.name} failed: ${r.stderr}`);
    const file = `${manifest.name.replace(/^@/, '').replace('/', '-')}-${manifest.version}.tgz`;
    if (!existsSync(path.join(packed, file)))
      throw new Error(`pnpm pack ${manifest.name} wrote no ${file}: ${r.stdout}`);
    tarballs.set(manifest.name, path.join(packed, file));
  }

  project = path.join(work, 'project');
  mkdirSync(project);
  writeFileSync(
    path.join(project, 'package.json'),
    JSON.stringify({ name: 'gmmkit-consumer', private: true, type: 'module' }, null, 2),
  );
  for (const f of readdirSync(path.join(example, 'consumer')))
    copyFileSync(path.join(example, 'consumer', f), path.join(project, f));
  copyFileSync(path.join(repo, 'data/iris.csv'), path.join(project, 'iris.csv'));
  const typescript = readJson<{ devDependencies: Record<string, string> }>(path.join(repo, 'package.json'))
    .devDependencies['typescript']!;
  // Optional dependencies are left out: @tensorflow/tfjs-node's install
  // script downloads libtensorflow, which a registry-only machine cannot.
  const r = await npm(
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--omit=optional',
      '--prefer-offline',
      ...tarballs.values(),
      `typescript@${typescript}`,
    ],
    project,
  );
  if (r.code !== 0) throw new Error(`npm install failed:\n${r.stderr}`);
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('packages anyone can install', () => {
  it('covers every public package, and this example builds them all first', () => {
    const names = packages.map((p) => p.manifest.name);
    expect(names).toEqual(
      expect.arrayContaining(['@gmmkit/core', '@gmmkit/tfjs', '@gmmkit/model-selection', '@gmmkit/cli']),
    );
    const own = readJson<{ devDependencies?: Record<string, string> }>(path.join(example, 'package.json'));
    expect(Object.keys(own.devDependencies ?? {})).toEqual(expect.arrayContaining(names));
  });

  it.each(packages.map((p) => [p.manifest.name, p] as const))(
    '%s: a complete manifest, packed without workspace: ranges',
    async (name, { dir }) => {
      const tgz = tarballs.get(name)!;
      const list = (await sh('tar', ['-tzf', tgz], dir)).stdout.split('\n');
      expect(list).toContain('package/README.md');
      expect(list).toContain('package/LICENSE');
      expect(list).toContain('package/dist/index.js');
      expect(list).toContain('package/dist/index.d.ts');
      const text = (await sh('tar', ['-xzOf', tgz, 'package/package.json'], dir)).stdout;
      expect(text).not.toContain('workspace:');
      const m = JSON.parse(text) as Record<string, unknown>;
      expect(m['license']).toBe('MIT');
      expect(m['engines']).toEqual({ node: expect.stringMatching(/^>=20/) });
      // One project address for all: the root manifest's `repository`, each package's with its
      // folder. The project has no public remote yet, so neither carries one (no made-up URL).
      if (rootRepository === undefined) {
        expect(m['repository']).toBeUndefined();
        expect(m['homepage']).toBeUndefined();
      } else expect(m['repository']).toEqual({ ...rootRepository, directory: path.relative(repo, dir) });
      expect(m['name']).toBe(name);
      // A README of its own, not a stub: it names the package and says how to install it.
      const readme = (await sh('tar', ['-xzOf', tgz, 'package/README.md'], dir)).stdout;
      expect(readme.split('\n')[0]).toContain(name);
      expect(readme).toMatch(new RegExp(`npm install (-g )?${name.replace('/', '\\/')}`));
      expect(Array.isArray(m['files'])).toBe(true);
      expect(m['sideEffects'] === false || Array.isArray(m['sideEffects'])).toBe(true);
      // Files named as having side effects are shipped (a stale name would let bundlers drop real ones).
      for (const f of Array.isArray(m['sideEffects']) ? (m['sideEffects'] as string[]) : [])
        expect(list, `${name} sideEffects`).toContain(`package/${f.replace(/^\.\//, '')}`);
      expect(m['description']).toEqual(expect.any(String));
      // Every export has its types, first, and points at a shipped file.
      const exportsMap = m['exports'] as Record<string, string | { types?: string; default?: string }>;
      for (const [sub, target] of Object.entries(exportsMap)) {
        if (sub === './package.json') continue;
        expect(typeof target === 'object' && Object.keys(target)[0], `${name} exports['${sub}']`).toBe(
          'types',
        );
        const t = target as { types: string; default: string };
        expect(list).toContain(`package/${t.types.replace(/^\.\//, '')}`);
        expect(list).toContain(`package/${t.default.replace(/^\.\//, '')}`);
      }
      // What npm would publish, with no warnings (a normalized field, a bad bin, a missing file).
      const r = await npm(['publish', '--dry-run', '--tag', 'dry-run', tgz], path.dirname(tgz));
      expect(r.code, r.stderr).toBe(0);
      expect(
        r.stderr.split('\n').filter((l) => /npm warn/i.test(l) && !/dry-run|--dry-run/i.test(l)),
      ).toEqual([]);
    },
  );

  it('an ES module fits and sweeps', async () => {
    const r = await sh(process.execPath, ['fit-and-sweep.mjs'], project);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(out).toMatchObject({
      converged: true,
      sameLabelForEachGroup: true,
      groupsDiffer: true,
      bestK: 2,
      cells: 16,
    });
    expect(Number.isFinite(out['bic'])).toBe(true);
    expect(['wasm', 'cpu', 'tensorflow']).toContain(out['backend']);
  });

  it('CommonJS require() works (Node >= 20.19 loads the ES modules)', async () => {
    const r = await sh(process.execPath, ['require.cjs'], project);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      GaussianMixture: 'function',
      fit: 'function',
      MODEL_FORMAT: 'gmmkit.gaussian-mixture',
      sweep: 'function',
      bic: 'bic',
      seed: expect.any(Number),
      columns: ['a', 'b'],
      mclustModels: expect.any(Number),
      fitDistributed: 'function',
    });
  });

  it('tsc --noEmit passes on strict files with skipLibCheck false: without Node types, then distributed with them', async () => {
    const tsc = path.join(project, 'node_modules/typescript/bin/tsc');
    // core, tfjs, model-selection, mclust and cli/portable need no Node types (browser projects have none).
    const r = await sh(process.execPath, [tsc, '-p', 'tsconfig.json'], project);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    // @gmmkit/distributed is Node-only: its declarations (through ioredis) need @types/node, as any Node project has
    // (and, since ioredis 6.1, the types of redis-errors, which @gmmkit/distributed depends on for its users).
    const types = readJson<{ devDependencies: Record<string, string> }>(path.join(repo, 'package.json'))
      .devDependencies['@types/node']!;
    const i = await npm(
      ['install', '--no-audit', '--no-fund', '--prefer-offline', `@types/node@${types}`],
      project,
    );
    expect(i.code, i.stderr).toBe(0);
    const node = await sh(process.execPath, [tsc, '-p', 'tsconfig.node.json'], project);
    expect(node.code, node.stdout + node.stderr).toBe(0);
  });

  it('npx gmm sweep runs on the bundled iris data, and names a missing file in one line', async () => {
    const r = await sh(
      'npx',
      ['--no-install', 'gmm', 'sweep', 'iris.csv', '--columns', '1-4', '--k', '1..3', '--json'],
      project,
    );
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { best: { k: number; covarianceType: string; bic: number } };
    expect(out.best).toMatchObject({ k: 2, covarianceType: 'full' });
    expect(out.best.bic).toBeCloseTo(574.02, 1);
    const bad = await sh('npx', ['--no-install', 'gmm', 'sweep', 'missing.csv'], project);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toEqual([expect.stringContaining('missing.csv')]);
  });
});
