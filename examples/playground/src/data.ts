// Reading the user's table with the CLI's own parser (@gmmkit/cli/portable),
// so the page reports exactly what `gmm` would: ragged rows, text cells,
// empty files, each with its row, line and column.
import { parseNumber, parseTable, toNumeric, type RawTable } from '@gmmkit/cli/portable';

export interface Dataset {
  name: string;
  table: RawTable;
  /** Per column: every cell is a finite number, so the column can be fitted. */
  numeric: boolean[];
}

/** Parses a CSV/TSV/JSON text; throws the parser's one-line InvalidDataError for a bad file. */
export function readDataset(text: string, name: string): Dataset {
  const table = parseTable(text, { source: name });
  const numeric = table.columns.map((_, c) =>
    table.rows.every((row) => {
      const cell = row[c];
      if (typeof cell === 'number') return Number.isFinite(cell);
      return typeof cell === 'string' && parseNumber(cell) !== undefined;
    }),
  );
  return { name, table, numeric };
}

/** The chosen columns as a row-major matrix; a text cell throws the CLI's message naming row and column. */
export function matrixOf(
  ds: Dataset,
  columns: readonly number[],
): { data: Float64Array; n: number; d: number } {
  const t = toNumeric(ds.table, columns);
  return { data: t.data, n: t.n, d: t.d };
}

/** Why the sweep settings cannot run on n rows of d columns, or undefined when they can. */
export function settingsProblem(
  n: number,
  d: number,
  s: { kMin: number; kMax: number; families: readonly string[]; nInit: number },
): string | undefined {
  if (d === 0) return 'choose at least one numeric column';
  if (!Number.isInteger(s.kMin) || !Number.isInteger(s.kMax) || s.kMin < 1 || s.kMax < s.kMin)
    return `k range ${s.kMin}..${s.kMax} is not valid: need whole numbers 1 <= min <= max`;
  if (s.kMax > n)
    return `too few rows for k = ${s.kMax}: the data have ${n} row${n === 1 ? '' : 's'}, so k can be at most ${n}; lower the k range`;
  if (s.families.length === 0) return 'choose at least one covariance family';
  if (!Number.isInteger(s.nInit) || s.nInit < 1)
    return `restarts must be a whole number >= 1, got ${s.nInit}`;
  return undefined;
}
