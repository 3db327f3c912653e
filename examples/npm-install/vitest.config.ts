import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Packing and an npm install from the registry: minutes on a slow network.
    testTimeout: 300_000,
    hookTimeout: 1_200_000,
  },
});
