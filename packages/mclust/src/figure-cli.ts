// Writes docs/figures/mclust-shapes.svg: `node packages/mclust/dist/figure-cli.js <out.svg>`.
import { writeFileSync } from 'node:fs';
import { shapesFigure } from './figure.js';

const out = process.argv[2];
if (out === undefined) {
  process.stderr.write('usage: node figure-cli.js <out.svg>\n');
  process.exit(2);
}
writeFileSync(out, shapesFigure());
process.stderr.write(`wrote ${out}\n`);
