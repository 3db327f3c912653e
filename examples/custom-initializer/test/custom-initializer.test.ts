import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createRng, registerPlugins, type Initializer } from '@gmmkit/core';
import { GaussianMixture, createGmmContainer, initBackend, tf } from '@gmmkit/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { farthestPoint, farthestPointIndices } from '../src/farthest-point.js';
import { run } from '../src/main.js';

const exec = promisify(execFile);
const exampleDir = fileURLToPath(new URL('..', import.meta.url));

// Three tight groups on a line: rows 0-2 near 0, rows 3-5 near 10, rows 6-8 near 100.
const groups = Float64Array.from([0, 0.1, 0.2, 10, 10.1, 10.2, 100, 100.1, 100.2]);

beforeAll(async () => {
  await initBackend('auto');
});

describe('farthest-point seeding', () => {
  it('takes one row from each well-separated group, whatever the first row', () => {
    for (let first = 0; first < 9; first++) {
      const picked = farthestPointIndices(groups, 9, 1, 3, first);
      expect(picked[0]).toBe(first);
      expect(new Set(picked.map((i) => Math.floor(i / 3))).size).toBe(3);
    }
  });

  it('returns those rows as the initial means', async () => {
    const x = tf.tensor2d(Float32Array.from(groups), [9, 1]);
    try {
      // Initializer.initialize may be async (InitializerInput.shortEm); this one is not, await is harmless.
      const guess = await farthestPoint.initialize({ tf, x, data: groups, n: 9, d: 1, k: 3, rng: createRng(1) });
      expect(guess.kind).toBe('means');
      const means = guess.kind === 'means' ? Array.from(guess.means) : [];
      expect(means.every((m) => groups.includes(m))).toBe(true);
      expect(new Set(means.map((m) => Math.floor(m / 10))).size).toBe(3);
    } finally {
      x.dispose();
    }
  });

  it('is called by the engine once per initialization when named in initParams', async () => {
    let calls = 0;
    const counting: Initializer = {
      ...farthestPoint,
      initialize: (input) => {
        calls++;
        return farthestPoint.initialize(input);
      },
    };
    const container = createGmmContainer();
    registerPlugins(container, { initializers: [counting] });
    const rows = [0, 0.1, 0.2, 10, 10.1, 10.2, 100, 100.1, 100.2].map((v) => [v]);
    const gmm = await new GaussianMixture({
      nComponents: 3,
      initParams: 'farthest-point',
      nInit: 3,
      container,
    }).fit(rows);
    expect(calls).toBe(3);
    expect(Array.from(gmm.state.means).sort((a, b) => a - b)).toEqual([
      expect.closeTo(0.1, 6),
      expect.closeTo(10.1, 6),
      expect.closeTo(100.1, 6),
    ]);
  });
});

describe('examples/custom-initializer', () => {
  it('fits iris with the plugin initializer from the API and from the CLI', async () => {
    const r = await run({ print: () => {}, withCli: true });
    const fp1 = r.rows.find((row) => row.initParams === 'farthest-point' && row.nInit === 1)!;
    const fp5 = r.rows.find((row) => row.initParams === 'farthest-point' && row.nInit === 5)!;
    for (const row of r.rows) {
      expect(row.recorded).toBe(row.initParams);
      expect(row.converged).toBe(true);
    }
    // more initializations keep the best lower bound; restart 0 is the same in both runs
    expect(fp5.lowerBound).toBeGreaterThanOrEqual(fp1.lowerBound - 1e-9);
    expect(r.cli?.initParams).toBe('farthest-point');
    expect(r.cli!.lowerBound).toBeCloseTo(fp1.lowerBound, 3);
  });

  it('runs as `node dist/main.js` (the start script)', async () => {
    const { stdout } = await exec(process.execPath, ['dist/main.js'], { cwd: exampleDir });
    expect(stdout).toMatch(/^farthest-point\s+1\s+\d+\s+true/m);
    expect(stdout).toContain("model.json: initParams 'farthest-point'");
  });
});
