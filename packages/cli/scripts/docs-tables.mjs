#!/usr/bin/env node
// Regenerates the flag tables (and the positional lists) of docs/cli.md from
// the command specs in dist/spec.js (build first). The prose around them is
// left as it is. docs-cli.test.ts checks the result against the specs.
//   node packages/cli/scripts/docs-tables.mjs
import { readFileSync, writeFileSync } from 'node:fs';
import { commandSpecs, globalOptions } from '../dist/spec.js';

const file = new URL('../../../docs/cli.md', import.meta.url);
const lines = readFileSync(file, 'utf8').split('\n');

const written = (name) => (name.length === 1 ? `-${name}` : `--${name}`);
const cell = (s) => s.replace(/\|/g, '\\|');

function table(options) {
  const rows = options.map((o) => [
    [...(o.alias === undefined ? [] : [`\`-${o.alias}\``]), `\`${written(o.name)}\``].join(', '),
    [o.type, ...(o.array ? ['repeatable'] : []), ...(o.required ? ['required'] : [])].join(', '),
    o.default === undefined ? '' : `\`${JSON.stringify(o.default)}\``,
    cell(o.description),
  ]);
  const header = ['flag', 'type', 'default', 'meaning'];
  const widths = header.map((h, j) => Math.max(h.length, ...rows.map((r) => r[j].length)));
  const line = (cells) => `| ${cells.map((c, j) => c.padEnd(widths[j])).join(' | ')} |`;
  return [line(header), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...rows.map(line)];
}

/** Replaces the first table after the heading `heading` (and, for commands, the positional list before it). */
function replaceIn(heading, options, positionals) {
  const start = lines.indexOf(heading);
  if (start < 0) throw new Error(`no heading ${heading}`);
  let t = start + 1;
  while (!lines[t].startsWith('| flag')) t++;
  let end = t;
  while (end < lines.length && lines[end].startsWith('|')) end++;
  lines.splice(t, end - t, ...table(options));
  if (positionals !== undefined) {
    let p = start + 1;
    while (p < t && !lines[p].startsWith('- `<')) p++;
    let q = p;
    while (q < t && lines[q].startsWith('- `<')) q++;
    lines.splice(p, q - p, ...positionals.map((x) => `- \`<${x.name}>\`: ${x.description}`));
  }
}

replaceIn('## Global options', globalOptions);
for (const c of commandSpecs) replaceIn(`## gmm ${c.name}`, c.options, c.positionals);
writeFileSync(file, lines.join('\n'));
