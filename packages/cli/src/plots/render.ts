import type { TopLevelSpec } from 'vega-lite';

export type { TopLevelSpec } from 'vega-lite';

/**
 * Compiles a Vega-Lite spec and renders it headless (no canvas, no DOM) to SVG text.
 * vega and vega-lite load on the first plot: most commands draw none, and
 * loading them took a noticeable part of a command's start-up.
 */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const [vega, { compile }] = await Promise.all([import('vega'), import('vega-lite')]);
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
