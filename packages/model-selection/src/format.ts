import type { SweepResult, SweepRow } from './sweep.js';

export interface FormatOptions {
  /** Significant decimals of the scores (default 2). */
  decimals?: number;
  /**
   * Print the scores negated, higher is better: mclust's sign convention
   * (BIC = 2 LL - p ln n). The best cell is the same.
   */
  higherIsBetter?: boolean;
}

/**
 * An aligned text table of a sweep, read like mclust's BIC table: one row per
 * k, one column per covariance family, the chosen criterion in the cells,
 * the best cell marked `*`. Failed cells read `failed` and their reasons follow
 * the table; degenerate cells read `degenerate` under 'reject' (never chosen)
 * and are marked `!` under 'warn', their reasons following the table; cells a
 * family never reached (patience) are blank.
 */
export function formatSweepTable(result: SweepResult, options: FormatOptions = {}): string {
  const decimals = options.decimals ?? 2;
  const sign = options.higherIsBetter === true ? -1 : 1;
  const show = (v: number): string => (sign * v).toFixed(decimals);
  const families: string[] = [];
  const ks: number[] = [];
  const byCell = new Map<string, SweepRow>();
  for (const row of result.rows) {
    if (!families.includes(row.covarianceType)) families.push(row.covarianceType);
    if (!ks.includes(row.k)) ks.push(row.k);
    byCell.set(`${row.k}\u0000${row.covarianceType}`, row);
  }
  ks.sort((a, b) => a - b);

  const header = [`k \\ ${result.criterion}`, ...families];
  const body = ks.map((k) => [
    String(k),
    ...families.map((f) => {
      const row = byCell.get(`${k}\u0000${f}`);
      if (!row) return '';
      if (row.error !== undefined) return 'failed';
      if (row.degenerate && result.degenerate === 'reject') return 'degenerate';
      const mark = row === result.best ? '*' : row.degenerate ? '!' : ' ';
      return `${show(row.score)}${mark}`;
    }),
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...body.map((r) => r[c]!.length)));
  // Numbers right-aligned; the trailing mark column keeps decimals aligned.
  const line = (cells: string[]): string =>
    cells
      .map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!)))
      .join('  ')
      .trimEnd();

  const out = [line(header), line(header.map((_, c) => '-'.repeat(widths[c]!))), ...body.map(line)];
  const b = result.best;
  out.push('');
  out.push(
    `best: ${b.covarianceType}, k = ${b.k} (${result.criterion} = ${show(b.score)}, ` +
      `log-likelihood = ${b.logLikelihood.toFixed(decimals)}, ${b.nParameters} parameters)`,
  );
  // One line per distinct reason, naming the cells it failed (at most 8, then a count).
  const byReason = new Map<string, string[]>();
  for (const r of result.rows) {
    if (r.error === undefined) continue;
    const cells = byReason.get(r.error) ?? [];
    cells.push(`${r.covarianceType} k=${r.k}`);
    byReason.set(r.error, cells);
  }
  for (const [reason, cells] of byReason) {
    const shown = cells.length > 8 ? `${cells.slice(0, 8).join(', ')} and ${cells.length - 8} more` : cells.join(', ');
    out.push(`failed (${shown}): ${reason}`);
  }
  for (const r of result.rows.filter((row) => row.error === undefined && row.degenerate)) {
    out.push(`degenerate: ${r.covarianceType}, k = ${r.k}: ${r.degeneracy}`);
  }
  const unconverged = result.rows.filter((r) => r.error === undefined && !r.converged);
  if (unconverged.length > 0) {
    out.push(
      `not converged: ${unconverged.map((r) => `${r.covarianceType} k=${r.k}`).join(', ')} (raise maxIter or tol)`,
    );
  }
  out.push(
    sign === 1
      ? `${result.criterion}: lower is better`
      : `${result.criterion}: higher is better (mclust's sign: 2 LL - p ln n)`,
  );
  return out.join('\n');
}
