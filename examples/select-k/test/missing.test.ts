import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../src/missing.js';

describe('examples/select-k missing values on Old Faithful', () => {
  it('marginalization stays near the complete-data fit, mean imputation does not; the figure is written', async () => {
    const out = await mkdtemp(path.join(tmpdir(), 'faithful-missing-'));
    try {
      const lines: string[] = [];
      const r = await run({ outDir: out, print: (l) => lines.push(l) });
      expect(r.removed).toBeGreaterThan(100);
      // Mean imputation drags both components toward the column means and stretches them along the axes.
      expect(r.marginalized.error).toBeLessThan(r.meanImputed.error / 10);
      expect(r.marginalized.means[0]![0]).toBeCloseTo(r.complete.means[0]![0]!, 0);
      const svg = await readFile(r.svgPath, 'utf8');
      expect(svg.startsWith('<svg')).toBe(true);
      expect(svg).toContain('mean imputation');
      expect(svg).toContain('marginalization');
      expect(lines.join('\n')).toMatch(/mean imputation: \d/);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});
