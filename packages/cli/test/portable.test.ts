/**
 * `@gmmkit/cli/portable` runs in browsers (examples/playground bundles it):
 * nothing it reaches may import Node built-ins or the Node-only readers
 * (gzip, FIFOs, Parquet, Arrow), nor use Node globals.
 */
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const src = fileURLToPath(new URL('../src/', import.meta.url));
const NODE_ONLY_PACKAGES = ['hyparquet', 'hyparquet-compressors', 'apache-arrow', 'yargs'];

/** Every src file portable.ts reaches through relative imports, with the bare specifiers each imports. */
function reach(entry: string): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    const text = readFileSync(file, 'utf8');
    const specifiers = [...text.matchAll(/^\s*(?:import|export)\b[^'"]*?\bfrom\s+['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/gm)].map(
      (m) => (m[1] ?? m[2] ?? m[3])!,
    );
    seen.set(file, specifiers.filter((s) => !s.startsWith('.')));
    for (const s of specifiers.filter((x) => x.startsWith('.')))
      visit(path.resolve(path.dirname(file), s.replace(/\.js$/, '.ts')));
  };
  visit(entry);
  return seen;
}

describe('@gmmkit/cli/portable', () => {
  const files = reach(path.join(src, 'portable.ts'));

  it('reaches the parser, the model file and the plot specs', () => {
    const names = [...files.keys()].map((f) => path.relative(src, f));
    for (const expected of ['io/read-table.ts', 'model-file.ts', 'plots/sweep-plot.ts', 'plots/fit-plot.ts'])
      expect(names).toContain(expected);
  });

  it('imports no Node built-in and no Node-only reader', () => {
    const builtins = new Set(builtinModules);
    for (const [file, specifiers] of files) {
      for (const s of specifiers) {
        const bare = s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : s.split('/')[0]!;
        expect(s.startsWith('node:') || builtins.has(bare), `${path.relative(src, file)} imports ${s}`).toBe(false);
        expect(NODE_ONLY_PACKAGES.includes(bare), `${path.relative(src, file)} imports ${s}`).toBe(false);
      }
    }
    // The Node-side modules exist and are left out.
    const names = [...files.keys()].map((f) => path.relative(src, f));
    for (const nodeOnly of ['io/read-file.ts', 'io/input.ts', 'io/binary-table.ts', 'io/stream-table.ts'])
      expect(names).not.toContain(nodeOnly);
  });

  it('uses no Node globals', () => {
    for (const [file] of files) {
      const code = readFileSync(file, 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/\/\/.*$/gm, '');
      expect(code, path.relative(src, file)).not.toMatch(/\b(process|Buffer|__dirname|require)\s*[.(]/);
    }
  });
});
