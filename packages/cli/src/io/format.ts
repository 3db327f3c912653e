/**
 * Text output for people (aligned tables, compact numbers) and CSV output
 * for machines.
 */

export type Align = 'left' | 'right';

/** Aligned columns: text left, numbers right, a rule under the header. */
export function formatTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  align?: readonly Align[],
): string {
  const widths = headers.map((h, j) => Math.max(h.length, ...rows.map((r) => (r[j] ?? '').length)));
  const alignOf = (j: number): Align =>
    align?.[j] ?? (rows.every((r) => isNumeric(r[j] ?? '')) ? 'right' : 'left');
  const pad = (s: string, j: number) =>
    alignOf(j) === 'right' ? s.padStart(widths[j]!) : s.padEnd(widths[j]!);
  const line = (cells: readonly string[]) =>
    cells
      .map((c, j) => pad(c, j))
      .join('  ')
      .trimEnd();
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map((r) => line(r))].join('\n');
}

function isNumeric(s: string): boolean {
  return s === '' || /^[+-]?(\d|\.\d|inf|nan)/i.test(s.trim());
}

/** A number for people: `digits` significant digits, no exponent for ordinary magnitudes. */
export function formatNumber(v: number, digits = 6): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  const abs = Math.abs(v);
  if (abs >= 1e-4 && abs < 1e9) {
    const decimals = Math.max(0, digits - 1 - Math.floor(Math.log10(abs)));
    return trimZeros(v.toFixed(Math.min(decimals, 20)));
  }
  return v.toExponential(digits - 1).replace(/\.?0+e/, 'e');
}

function trimZeros(s: string): string {
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}

/** Key/value lines with the keys padded to one width. */
export function formatKeyValues(pairs: readonly (readonly [string, string])[]): string {
  const w = Math.max(...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${(k + ':').padEnd(w + 1)} ${v}`).join('\n');
}

/** One CSV field, quoted when it must be (RFC 4180). */
export function csvField(s: string): string {
  return /[",\r\n]/.test(s) || s !== s.trim() ? `"${s.replace(/"/g, '""')}"` : s;
}

/** CSV text with a header; numbers written in full precision (shortest round-trip form). */
export function toCsv(headers: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const out = [headers.map(csvField).join(',')];
  for (const r of rows) out.push(r.map((v) => (typeof v === 'number' ? String(v) : csvField(v))).join(','));
  return out.join('\n') + '\n';
}
