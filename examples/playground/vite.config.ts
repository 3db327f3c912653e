import { defineConfig } from 'vite';

export default defineConfig({
  // Relative asset URLs: the built page works from any directory or sub-path.
  base: './',
  worker: { format: 'es' },
  build: { target: 'es2022', chunkSizeWarningLimit: 4096 },
  // gmmkit's packages start their own Web Workers with `new Worker(new URL(...))`;
  // esbuild's dev pre-bundling would hide those files from Vite's worker plugin.
  optimizeDeps: { exclude: ['@gmmkit/core', '@gmmkit/tfjs', '@gmmkit/model-selection'] },
  server: { fs: { allow: ['../..'] } },
});
