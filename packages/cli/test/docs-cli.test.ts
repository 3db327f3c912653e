// docs/cli.md is the CLI reference. This test keeps it in step with the
// command specs the parser and --help are built from: every command has a
// section, every flag of a command is in that command's section, the global
// options are documented, and the page names no flag that does not exist.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { commandSpecs, globalOptions, type OptionSpec } from '../src/spec.js';

const doc = readFileSync(new URL('../../../docs/cli.md', import.meta.url), 'utf8');

/** Level-2 sections: heading text -> body (up to the next level-2 heading). */
function sections(markdown: string): Map<string, string> {
  const out = new Map<string, string>();
  let current: string | undefined;
  let inFence = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) inFence = !inFence;
    if (!inFence && line.startsWith('## ')) {
      current = line.slice(3).trim();
      out.set(current, '');
    } else if (current !== undefined) {
      out.set(current, `${out.get(current)}${line}\n`);
    }
  }
  return out;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** How a flag is written: --long-name, or -k for a one-letter name. */
const written = (name: string) => (name.length === 1 ? `-${name}` : `--${name}`);
const mentions = (text: string, flag: string) =>
  new RegExp(`(?<![\\w-])${escape(flag)}(?![\\w-])`).test(text);
/** Every --long-flag written in a text. */
const longFlags = (text: string) => [...text.matchAll(/(?<![\w-])--([a-z][a-z0-9-]*)/g)].map((m) => m[1]!);

const sectionOf = (name: string) => sections(doc).get(`gmm ${name}`);
const names = (options: readonly OptionSpec[]) =>
  options.flatMap((o) => [o.name, ...(o.alias ? [o.alias] : [])]);
// yargs adds these to every command
const builtins = ['help', 'version'];

describe('docs/cli.md', () => {
  it('has a section per command', () => {
    for (const c of commandSpecs) expect(sectionOf(c.name), `section "## gmm ${c.name}"`).toBeDefined();
    const commandSections = [...sections(doc).keys()].filter((h) => /^gmm \w+$/.test(h));
    expect(commandSections.sort()).toEqual(commandSpecs.map((c) => `gmm ${c.name}`).sort());
  });

  it('documents every flag (and its short alias) in its command section', () => {
    for (const c of commandSpecs) {
      const section = sectionOf(c.name) ?? '';
      expect(section, `usage line of ${c.name}`).toContain(`gmm ${c.usage}`);
      for (const o of c.options) {
        expect(mentions(section, written(o.name)), `${written(o.name)} in "## gmm ${c.name}"`).toBe(true);
        if (o.alias !== undefined)
          expect(mentions(section, `-${o.alias}`), `-${o.alias} in "## gmm ${c.name}"`).toBe(true);
      }
    }
  });

  it("gives every flag's default as the specs do", () => {
    const check = (section: string, o: OptionSpec, where: string) => {
      // the table row of the flag: | `-o`, `--output` | type | default | meaning |
      const row = section.split('\n').find((l) => l.startsWith('|') && l.includes(`\`${written(o.name)}\``));
      expect(row, `table row of ${written(o.name)} in ${where}`).toBeDefined();
      const cells = row!.split(/(?<!\\)\|/).map((c) => c.trim());
      const documented = cells[3];
      expect(documented, `default of ${written(o.name)} in ${where}`).toBe(
        o.default === undefined ? '' : `\`${JSON.stringify(o.default)}\``,
      );
    };
    for (const c of commandSpecs)
      for (const o of c.options) check(sectionOf(c.name) ?? '', o, `gmm ${c.name}`);
    for (const o of globalOptions) check(sections(doc).get('Global options') ?? '', o, 'Global options');
  });

  it('documents the global options', () => {
    const section = sections(doc).get('Global options') ?? '';
    for (const o of globalOptions) expect(mentions(section, written(o.name)), written(o.name)).toBe(true);
  });

  it('names no flag that does not exist, and none under a command that lacks it', () => {
    const global = [...names(globalOptions), ...builtins];
    // yargs negates every boolean flag: --no-header.
    const negations = (options: readonly OptionSpec[]) =>
      options.filter((o) => o.type === 'boolean').map((o) => `no-${o.name}`);
    const everywhere = new Set([
      ...global,
      ...commandSpecs.flatMap((c) => [...names(c.options), ...negations(c.options)]),
    ]);
    for (const flag of longFlags(doc)) expect(everywhere.has(flag), `--${flag} is not a gmm flag`).toBe(true);
    for (const c of commandSpecs) {
      const allowed = new Set([...global, ...names(c.options), ...negations(c.options)]);
      for (const flag of longFlags(sectionOf(c.name) ?? '')) {
        expect(allowed.has(flag), `--${flag} is not a flag of gmm ${c.name}`).toBe(true);
      }
    }
  });

  it('the checks have teeth', () => {
    expect(longFlags('use `--n-init 5` and --k 1..6, not ---')).toEqual(['n-init', 'k']);
    expect(mentions('gmm fit -k 3', '-k')).toBe(true);
    expect(mentions('gmm fit --keep', '-k')).toBe(false);
    expect(mentions('--plot-columns a,b', '--plot')).toBe(false);
  });
});
