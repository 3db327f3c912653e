// The figure of docs/concepts.md: the 14 mclust models as three 2-D
// components each, drawn as 1-standard-deviation ellipses of
// Σ_k = λ_k D_k A_k D_kᵀ. Plain SVG text, no dependencies:
// `node packages/mclust/dist/figure-cli.js docs/figures/mclust-shapes.svg`.
import { MCLUST_MODELS } from './families.js';

/** One component's volume λ, shape (a₁, a₂) with a₁a₂ = 1, and orientation angle (degrees). */
export interface Ellipse {
  volume: number;
  shape: [number, number];
  angle: number;
}

const VOLUMES = [1, 0.45, 1.8];
const SHAPES: [number, number][] = [
  [3, 1 / 3],
  [1.5, 1 / 1.5],
  [5, 1 / 5],
];
const ANGLES = [25, 80, 140];

/** The three components a model's letters allow: Equal (all as the first), Variable, or Identity. */
export function componentsOf(model: string): Ellipse[] {
  const [v, s, o] = model.split('') as [string, string, string];
  return [0, 1, 2].map((j) => ({
    volume: v === 'E' ? 1 : VOLUMES[j]!,
    shape: s === 'I' ? [1, 1] : s === 'E' ? SHAPES[0]! : SHAPES[j]!,
    angle: o === 'I' ? 0 : o === 'E' ? ANGLES[0]! : ANGLES[j]!,
  }));
}

/** Σ = λ R diag(a) Rᵀ as [s11, s12, s22]. */
export function covarianceOf(e: Ellipse): [number, number, number] {
  const t = (e.angle * Math.PI) / 180;
  const c = Math.cos(t);
  const s = Math.sin(t);
  const [a1, a2] = e.shape;
  return [e.volume * (a1 * c * c + a2 * s * s), e.volume * (a1 - a2) * c * s, e.volume * (a1 * s * s + a2 * c * c)];
}

const COLORS = ['#1b9e77', '#d95f02', '#7570b3'];
const PANEL = 130;
const SCALE = 12; // pixels per unit standard deviation

/** The SVG: one panel per model, spherical and diagonal models on the first row, ellipsoidal on the second. */
export function shapesFigure(): string {
  const rows = [MCLUST_MODELS.filter((m) => m[2] === 'I'), MCLUST_MODELS.filter((m) => m[2] !== 'I')];
  const width = 8 * PANEL + 20;
  const height = 2 * (PANEL + 30) + 50;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="10" y="22" font-size="15">mclust's models: Σ_k = λ_k D_k A_k D_kᵀ, volume λ, shape A, orientation D each Equal, Variable or Identity (three components each, 1-sd ellipses)</text>`,
  ];
  rows.forEach((models, r) => {
    models.forEach((model, c) => {
      const x0 = 10 + c * PANEL;
      const y0 = 40 + r * (PANEL + 30);
      const group = model[1] === 'I' ? 'spherical' : model[2] === 'I' ? 'diagonal' : 'ellipsoidal';
      out.push(`<g transform="translate(${x0},${y0})">`);
      out.push(`<rect x="2" y="2" width="${PANEL - 4}" height="${PANEL - 4}" fill="none" stroke="#ccc"/>`);
      const centres = [
        [PANEL * 0.3, PANEL * 0.35],
        [PANEL * 0.7, PANEL * 0.35],
        [PANEL * 0.5, PANEL * 0.72],
      ];
      componentsOf(model).forEach((e, j) => {
        const [cx, cy] = centres[j]!;
        const rx = SCALE * Math.sqrt(e.volume * e.shape[0]);
        const ry = SCALE * Math.sqrt(e.volume * e.shape[1]);
        out.push(
          `<ellipse cx="${cx!.toFixed(1)}" cy="${cy!.toFixed(1)}" rx="${rx.toFixed(2)}" ry="${ry.toFixed(2)}" transform="rotate(${-e.angle} ${cx!.toFixed(1)} ${cy!.toFixed(1)})" fill="${COLORS[j]}" fill-opacity="0.35" stroke="${COLORS[j]}"/>`,
        );
      });
      out.push(`<text x="${PANEL / 2}" y="${PANEL + 16}" font-size="14" text-anchor="middle" font-weight="bold">${model}</text>`);
      out.push(`<text x="${PANEL / 2}" y="${PANEL + 28}" font-size="10" text-anchor="middle" fill="#555">${group}</text>`);
      out.push('</g>');
    });
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
