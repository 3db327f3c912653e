// Shard lists from the command line: paths (made absolute, so every worker
// reads the same file whatever its working directory), URLs, and wildcards
// in the file name ('data/part-*.csv'), expanded in a fixed order.
import { readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { InvalidArgumentError } from '@gmmkit/core';

const WILDCARD = /[*?[]/;

/** 'part-*.csv' as a RegExp over whole file names (* any run, ? one character, [abc] a class). */
function globRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 1);
      if (end < 0) throw new InvalidArgumentError(`unclosed '[' in shard pattern '${glob}'`);
      re += `[${glob
        .slice(i + 1, end)
        .replace(/^!/, '^')
        .replace(/\\/g, '\\\\')}]`;
      i = end;
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/**
 * Expands shard arguments into the fit's shard list, in order: URLs
 * (http://, https://, file://) as given, paths resolved against `cwd`, and
 * a wildcard in a file name replaced by the matching files sorted by name
 * (numbers compared as numbers: part-2 before part-10).
 */
export function expandShards(patterns: readonly string[], cwd = process.cwd()): string[] {
  const out: string[] = [];
  for (const p of patterns) {
    if (p.trim() === '') throw new InvalidArgumentError('an empty shard name');
    if (/^(https?|file):\/\//i.test(p)) {
      out.push(p);
      continue;
    }
    const path = resolve(cwd, p);
    const dir = dirname(path);
    if (WILDCARD.test(dirname(p)))
      throw new InvalidArgumentError(`shard pattern '${p}': wildcards are supported in the file name only`);
    if (!WILDCARD.test(basename(path))) {
      out.push(path);
      continue;
    }
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch (err) {
      throw new InvalidArgumentError(`shard pattern '${p}': cannot list ${dir}: ${(err as Error).message}`);
    }
    const re = globRegExp(basename(path));
    const matches = names
      .filter((name) => re.test(name) && statSync(join(dir, name)).isFile())
      .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
    if (matches.length === 0) throw new InvalidArgumentError(`no file matches the shard pattern '${p}'`);
    out.push(...matches.map((name) => join(dir, name)));
  }
  const seen = new Set<string>();
  for (const s of out) {
    if (seen.has(s)) throw new InvalidArgumentError(`shard ${s} is listed twice`);
    seen.add(s);
  }
  return out;
}
