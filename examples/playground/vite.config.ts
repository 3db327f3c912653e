import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// gmmkit's packages start their own Web Workers with `new Worker(new URL(...))`;
// esbuild's dev pre-bundling would hide those files from Vite's worker plugin,
// so they are excluded from it.
const unbundled = ['@gmmkit/core', '@gmmkit/tfjs', '@gmmkit/model-selection'];

/**
 * Their own dependencies (tfjs, inversify), pre-bundled from the start: the
 * dependency scan does not look inside excluded packages, so the first dev run
 * would find them only in the workers, re-bundle, reload the page, and the
 * workers' imports of the stale bundles would fail.
 */
function dependenciesOf(packages: string[]): string[] {
  const require = createRequire(import.meta.url);
  return packages.flatMap((name) => {
    const manifest = JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')) as {
      dependencies?: Record<string, string>;
    };
    return Object.keys(manifest.dependencies ?? {})
      .filter((dep) => !unbundled.includes(dep) && !dep.startsWith('@types/'))
      .map((dep) => `${name} > ${dep}`);
  });
}

export default defineConfig({
  // Relative asset URLs: the built page works from any directory or sub-path.
  base: './',
  worker: { format: 'es' },
  build: {
    target: 'es2022',
    chunkSizeWarningLimit: 4096,
    // Two pages: the playground, and data-parallel EM (one fit sharded across Web Workers).
    rollupOptions: {
      input: {
        main: fileURLToPath(new URL('./index.html', import.meta.url)),
        threads: fileURLToPath(new URL('./threads.html', import.meta.url)),
      },
    },
  },
  optimizeDeps: { exclude: unbundled, include: dependenciesOf(unbundled) },
  server: { fs: { allow: ['../..'] } },
});
