import { describe, expect, it } from 'vitest';
import { ellipsePoints, fitPlotSpec } from '../src/plots/fit-plot.js';
import { renderSvg } from '../src/plots/render.js';
import { sweepPlotSpec } from '../src/plots/sweep-plot.js';

describe('plots', () => {
  it('ellipse points lie at the requested Mahalanobis radius', () => {
    const cov = [
      [4, 1.2],
      [1.2, 1],
    ] as const;
    const det = cov[0][0] * cov[1][1] - cov[0][1] ** 2;
    for (const r of [1, 2]) {
      for (const [x, y] of ellipsePoints([3, -1], cov, r, 16)) {
        const dx = x - 3;
        const dy = y + 1;
        const m = (cov[1][1] * dx * dx - 2 * cov[0][1] * dx * dy + cov[0][0] * dy * dy) / det;
        expect(Math.sqrt(m)).toBeCloseTo(r, 10);
      }
    }
  });

  it('renders a fit plot to SVG with one ellipse path per component and sigma', async () => {
    const svg = await renderSvg(
      fitPlotSpec({
        xName: 'eruptions',
        yName: 'waiting',
        points: [
          [1, 2],
          [1.5, 2.5],
          [5, 6],
        ],
        labels: [0, 0, 1],
        means: [
          [1.25, 2.25],
          [5, 6],
        ],
        covariances: [
          [
            [0.1, 0.05],
            [0.05, 0.1],
          ],
          [
            [0.2, 0],
            [0, 0.3],
          ],
        ],
      }),
    );
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('eruptions');
    expect(svg).toContain('waiting');
    // 2 components x 2 contours = 4 ellipse lines; points and means drawn once each.
    expect(svg.match(/class="mark-line role-mark/g)?.length).toBe(4);
    expect(svg.match(/class="mark-symbol role-mark/g)?.length).toBe(2);
  });

  it('renders a sweep plot marking the best model', async () => {
    const rows = [1, 2, 3].flatMap((k) =>
      ['full', 'diag'].map((f) => ({ k, covarianceType: f, value: (k - 2) ** 2 + (f === 'full' ? 0 : 1) })),
    );
    const svg = await renderSvg(
      sweepPlotSpec({ criterion: 'bic', rows, best: { k: 2, covarianceType: 'full', value: 0 } }),
    );
    expect(svg).toContain('best: k=2, full');
    expect(svg).toContain('BIC (lower is better)');
    expect(svg).toContain('diag');
  });
});
