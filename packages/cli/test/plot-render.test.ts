/**
 * Every plot kind through the built binary, rendered to PNG by a real SVG
 * renderer (resvg), with its structure checked: marks, legend entries in
 * component order, distinct colours, captions for subsampling and
 * pairs plots, and the sweep plot's marks for failed cells, off-scale
 * values, a single k and a best k at the edge of the range.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Resvg } from '@resvg/resvg-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sweepPlotSpec } from '../src/plots/sweep-plot.js';
import { renderSvg } from '../src/plots/render.js';
import { all, gmm as run, type RunOptions } from './helpers/gmm-process.js';

const dir = mkdtempSync(path.join(tmpdir(), 'gmm-plots-'));
const f = (name: string) => path.join(dir, name);
const gmm = (args: string[], opts: Omit<RunOptions, 'cwd'> = {}) => run(args, { cwd: dir, ...opts });

let s = 99;
const u = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) + 0.5) / 2 ** 32;
const normal = () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());

beforeAll(() => {
  // 12 clusters on a ring, 12,000 rows in cycling order (a stride subsample would alias).
  const ring = ['x,y'];
  for (let i = 0; i < 12_000; i++) {
    const c = i % 12;
    ring.push(`${(10 * Math.cos((c / 12) * 2 * Math.PI) + normal()).toFixed(4)},${(10 * Math.sin((c / 12) * 2 * Math.PI) + normal()).toFixed(4)}`);
  }
  writeFileSync(f('ring.csv'), ring.join('\n') + '\n');
  const three = ['a,b,c'];
  for (let i = 0; i < 300; i++) {
    const c = i % 3;
    three.push([c * 4 + normal(), c * 2 + normal(), (c === 1 ? 5 : 0) + normal()].map((v) => v.toFixed(4)).join(','));
  }
  writeFileSync(f('three.csv'), three.join('\n') + '\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Renders with resvg; returns the PNG's size and how many distinct colours it has. */
function rasterize(svg: string): { width: number; height: number; colours: number } {
  const image = new Resvg(svg, { fitTo: { mode: 'width', value: 600 } }).render();
  const px = image.pixels;
  const seen = new Set<number>();
  for (let i = 0; i < px.length; i += 4 * 7) seen.add((px[i]! << 16) | (px[i + 1]! << 8) | px[i + 2]!);
  return { width: image.width, height: image.height, colours: seen.size };
}

const legendLabels = (svg: string) =>
  [...svg.matchAll(/role-legend-label"[^>]*><text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]!);
const legendSymbolFills = (svg: string) =>
  [...svg.matchAll(/role-legend-symbol"[^>]*><path[^>]*fill="(#[0-9a-f]{6})"/g)].map((m) => m[1]!);
const legendSymbolShapes = (svg: string) =>
  [...svg.matchAll(/role-legend-symbol"[^>]*><path[^>]* d="([^"]*)"/g)].map((m) => m[1]!);

describe('gmm fit --plot, rendered', () => {
  it('12 components over 12,000 rows: distinct colours and shapes, legend 0..11 in order, a subsample caption, a small file', async () => {
    const r = await gmm(['fit', 'ring.csv', '-k', '12', '--plot', 'ring.svg']);
    expect(r.code, r.stderr).toBe(0);
    const svg = readFileSync(f('ring.svg'), 'utf8');
    expect(statSync(f('ring.svg')).size).toBeLessThan(3_000_000);
    expect(svg).toContain('showing 5,000 of 12,000 rows (seeded random subsample)');
    const labels = legendLabels(svg);
    const components = labels.filter((l) => /^\d+$/.test(l));
    expect(components).toEqual(Array.from({ length: 12 }, (_, j) => String(j)));
    const fills = legendSymbolFills(svg).slice(0, 12);
    expect(new Set(fills).size).toBe(12);
    expect(new Set(legendSymbolShapes(svg).slice(0, 12)).size).toBeGreaterThan(4);
    // Every component has points in the subsample (drawn with its colour).
    for (const c of fills) expect(svg.split(`fill="${c}"`).length - 1).toBeGreaterThan(50);
    // One path per component and contour (1 and 2 sigma).
    expect(svg.match(/class="mark-line role-mark/g)).toHaveLength(24);
    const png = rasterize(svg);
    expect(png.width).toBe(600);
    expect(png.colours).toBeGreaterThan(12);
  });

  it('each --plot-kind for 1, 2 and 3 columns (histogram, scatter, pairs) renders with its marks', async () => {
    const cases: [string, string[], string][] = [];
    for (const kind of ['classification', 'uncertainty', 'density'])
      for (const [cols, name] of [
        [['-c', 'a'], '1d'],
        [['-c', 'a,b'], '2d'],
        [[], 'pairs'],
      ] as const)
        cases.push([`${name}-${kind}`, [...cols, '--plot-kind', kind], kind]);
    const runs = await all(
      cases.map(([name, extra]) => () => gmm(['fit', 'three.csv', '-k', '3', '--plot', `${name}.svg`, ...extra])),
      3,
    );
    runs.forEach((r, i) => expect(r.code, `${cases[i]![0]}: ${r.stderr}`).toBe(0));
    for (const [name, , kind] of cases) {
      const svg = readFileSync(f(`${name}.svg`), 'utf8');
      const png = rasterize(svg);
      expect(png.colours, name).toBeGreaterThan(8);
      expect(statSync(f(`${name}.svg`)).size, name).toBeLessThan(3_000_000);
      if (name.startsWith('1d')) {
        if (kind === 'uncertainty') expect(svg, name).toContain('uncertainty (1 − max p)');
        else {
          expect(svg.match(/class="mark-rect role-mark/g)!.length, name).toBeGreaterThanOrEqual(1); // the histogram
          expect(svg, name).toContain('>density<');
        }
      } else {
        if (kind === 'density') expect(svg, name).toContain('mixture density');
        if (kind === 'uncertainty') expect(svg, name).toContain('uncertainty (1 − max p)');
        // 1- and 2-sigma ellipses of 3 components: 6 paths per scatter panel.
        const panels = name.startsWith('pairs') ? 6 : 1;
        expect(svg.match(/class="mark-line role-mark/g)!.length, name).toBeGreaterThanOrEqual(6 * panels);
      }
      if (name.startsWith('pairs')) expect(svg, name).toContain('columns a, b, c');
      if (kind !== 'density' || name.startsWith('1d'))
        expect(legendLabels(svg).filter((l) => /^\d$/.test(l)), name).toEqual(['0', '1', '2']);
    }
  });
});

describe('sweep plot, rendered', () => {
  it('marks failed cells, keeps the family order, notes a best k at the edge, puts far values off-scale, shows a single k', async () => {
    const rows = [1, 2, 3, 4].flatMap((k) =>
      ['tied', 'full', 'diag'].map((family) => ({
        k,
        covarianceType: family,
        value: family === 'diag' && k === 3 ? null : k === 1 ? 5000 : 1000 - 10 * k + (family === 'full' ? 0 : 3),
        status: family === 'diag' && k === 3 ? ('failed' as const) : ('ok' as const),
      })),
    );
    const svg = await renderSvg(
      sweepPlotSpec({ criterion: 'bic', rows, best: { k: 4, covarianceType: 'full', value: 960 } }),
    );
    expect(legendLabels(svg)).toEqual(['tied', 'full', 'diag']);
    expect(svg).toContain('the best k (4) is the largest tried: try a larger --k range');
    expect(svg).toContain('× failed fit: diag k=3');
    expect(svg).toContain('3 values off the scale');
    expect(svg).toContain('best: k=4, full');
    // The focused range: the axis does not reach the k = 1 values.
    const ticks = [...svg.matchAll(/role-axis-label"[^>]*>((?:<text[^>]*>[^<]*<\/text>)+)/g)]
      .flatMap((m) => [...m[1]!.matchAll(/>([^<]*)</g)].map((t) => Number(t[1]!.replace(/,/g, ''))))
      .filter(Number.isFinite);
    expect(Math.max(...ticks)).toBeLessThan(2000);
    expect(rasterize(svg).colours).toBeGreaterThan(5);

    const single = await renderSvg(
      sweepPlotSpec({
        criterion: 'bic',
        rows: [{ k: 3, covarianceType: 'full', value: 100 }],
        best: { k: 3, covarianceType: 'full', value: 100 },
      }),
    );
    expect(single.match(/class="mark-symbol role-mark/g)!.length).toBeGreaterThanOrEqual(2);
    expect(single).toContain('best: k=3, full');
  });

  it('gmm sweep --plot marks degenerate cells ▽: apart from the lines under reject, on them under warn; components counted from 0', async () => {
    // thyroid's tied T3 values: full k = 5 collapses a component onto 5 rows in every restart; diag k = 7 pins a variance
    // (--reseeds 0: the restarts end there instead of re-seeding the component, which heals these cells).
    const thyroid = fileURLToPath(new URL('../../../data/thyroid.csv', import.meta.url));
    const args = ['sweep', thyroid, '-c', 'RT3U,T4,T3,TSH,DTSH', '-k', '3,5,7', '--covariance', 'diag,full', '--n-init', '3', '--reseeds', '0'];
    const [reject, warn] = await all(
      (['reject', 'warn'] as const).map((mode) => () => gmm([...args, '--degenerate', mode, '--plot', `${mode}.svg`, '--json'])),
    );
    for (const [mode, r] of [['reject', reject!], ['warn', warn!]] as const) {
      expect(r.code, r.stderr).toBe(0);
      const json = JSON.parse(r.stdout) as { results: { k: number; covarianceType: string; degenerate: boolean; degeneracy?: string }[] };
      const flagged = json.results.filter((c) => c.degenerate);
      expect(flagged.length, mode).toBeGreaterThan(0);
      for (const c of flagged) {
        // The library counts from 1; the CLI's messages, like its tables and labels, from 0.
        for (const m of c.degeneracy!.matchAll(/\bcomponent (\d+)/g)) expect(Number(m[1])).toBeLessThan(c.k);
      }
      const svg = readFileSync(f(`${mode}.svg`), 'utf8');
      expect(svg).toContain(`▽ degenerate fit (a collapsed component)${mode === 'reject' ? ', never chosen' : ''}: `);
      for (const c of flagged) expect(svg).toContain(`${c.covarianceType} k=${c.k}`);
      // One hollow triangle per flagged cell: a three-vertex path with a stroke and no fill.
      const hollow = [...svg.matchAll(/<path(?![^>]*\bfill=)[^>]* d="M[^"L]*L[^"L]*L[^"L]*Z"[^>]*stroke-width="2"/g)];
      expect(hollow.length, mode).toBe(flagged.length);
    }
    // Under reject the degenerate cells leave their family's line: fewer line vertices than under warn.
    const vertices = (svg: string) =>
      [...svg.matchAll(/class="mark-line role-mark[^"]*"[^>]*>(.*?)<\/g>/gs)]
        .flatMap((m) => [...m[1]!.matchAll(/<path[^>]* d="([^"]*)"/g)])
        .reduce((sum, m) => sum + (m[1]!.match(/[ML]/g)?.length ?? 0), 0);
    expect(vertices(readFileSync(f('reject.svg'), 'utf8'))).toBeLessThan(vertices(readFileSync(f('warn.svg'), 'utf8')));
  });

  it('through the binary: failed cells (× and one line per reason), an edge best k, an off-scale k = 1, a single k', async () => {
    // An initializer with no start for k = 3 makes every k = 3 cell fail.
    writeFileSync(
      f('fails.mjs'),
      `export default { initializers: [{ name: 'fails-at-3', description: 'first k rows; none for k = 3',
        initialize({ data, d, k }) {
          if (k === 3) throw new Error('no start for k = 3');
          return { kind: 'means', means: Float64Array.from(data.subarray(0, k * d)) };
        } }] };\n`,
    );
    const [failed, edge, single] = await all([
      () => gmm(['sweep', 'three.csv', '--k', '1..4', '--covariance', 'spherical,diag,full', '--plugin', './fails.mjs', '--init', 'fails-at-3', '--plot', 'failed.svg']),
      () => gmm(['sweep', 'three.csv', '--k', '1..3', '--covariance', 'spherical,full', '--plot', 'edge.svg', '--json']),
      () => gmm(['sweep', 'three.csv', '-k', '3', '--covariance', 'full', '--plot', 'single.svg']),
    ]);
    for (const r of [failed!, edge!, single!]) expect(r.code, r.stderr).toBe(0);

    const cells = 'spherical k=3, diag k=3, full k=3';
    expect(failed!.stdout.split('\n').filter((l) => l.includes('no start for k = 3'))).toEqual([`failed (${cells}): Error: no start for k = 3`]);
    const failedSvg = readFileSync(f('failed.svg'), 'utf8');
    expect(failedSvg).toContain(`× failed fits: ${cells}`);
    const crosses = [...failedSvg.matchAll(/aria-label="k \(components\): 3;[^"]*; covariance: (\w+)"/g)].map((m) => m[1]);
    expect(crosses.sort()).toEqual(['diag', 'full', 'spherical']);

    // Three clusters, k up to 3: the best k is the edge of the range, and k = 1 is far off.
    const json = JSON.parse(edge!.stdout) as { best: { k: number }; results: { k: number; covarianceType: string; bic: number }[] };
    expect(json.best.k).toBe(3);
    const edgeSvg = readFileSync(f('edge.svg'), 'utf8');
    expect(edgeSvg).toContain('the best k (3) is the largest tried: try a larger --k range');
    expect(edgeSvg).toMatch(/\d+ values? off the scale \(arrows, with their value\)/);
    const worst = Math.max(...json.results.map((r) => r.bic));
    const plotted = [...edgeSvg.matchAll(/aria-label="k \(components\): \d+; BIC \(lower is better\): ([\d.]+); covariance/g)].map((m) => Number(m[1]));
    expect(Math.max(...plotted)).toBeLessThan(worst);
    expect(edgeSvg).toContain(`label: ${Number(worst.toPrecision(5))}`);

    // A single k still shows its point (and the best ring).
    const singleSvg = readFileSync(f('single.svg'), 'utf8');
    expect(singleSvg).toMatch(/class="mark-symbol role-mark layer_1_marks"[^>]*><path aria-label="k \(components\): 3; BIC/);
    expect(singleSvg).toContain('best: k=3, full');
  });

  it('gmm sweep --plot through the binary writes the plot', async () => {
    const r = await gmm(['sweep', 'three.csv', '--k', '1..3', '--covariance', 'spherical,full', '--plot', 'sweep.svg']);
    expect(r.code, r.stderr).toBe(0);
    const svg = readFileSync(f('sweep.svg'), 'utf8');
    expect(legendLabels(svg)).toEqual(['spherical', 'full']);
    expect(rasterize(svg).colours).toBeGreaterThan(5);
  });
});
