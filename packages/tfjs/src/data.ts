import { InvalidDataError, type Tensor2D } from '@gmmkit/core';
import type { DataInput } from './types.js';

/** A dense float64 matrix, row-major: element (i, j) is data[i * cols + j]. */
export interface Matrix {
  rows: number;
  cols: number;
  data: Float64Array;
}

function isTensor(x: unknown): x is Tensor2D {
  return typeof x === 'object' && x !== null && 'dataSync' in x && 'shape' in x && 'rank' in x;
}

/**
 * Converts any DataInput to a float64 Matrix and validates it: non-empty,
 * rectangular, every value finite. Errors are InvalidDataError naming the
 * 1-based row and column and the offending value. A tensor input is read,
 * not disposed. With `missing: true`, NaN (and null in nested arrays) are
 * missing cells, kept as NaN; infinities are still errors. With `borrow:
 * true` a Float64Array `data` (flat input or Matrix) is used as it is, not
 * copied: for callers that only read it (fit).
 */
export function toMatrix(X: DataInput, options: { missing?: boolean; borrow?: boolean } = {}): Matrix {
  const missing = options.missing === true;
  const values = (data: ArrayLike<number>): Float64Array =>
    options.borrow === true && data instanceof Float64Array ? data : Float64Array.from(data);
  const checked = (m: Matrix): Matrix => checkValues(m, missing);
  if (isTensor(X)) {
    if (X.rank !== 2) throw new InvalidDataError(`expected a 2-D tensor [n, d], got rank ${X.rank}`);
    const [rows, cols] = X.shape;
    return checked({ rows, cols, data: Float64Array.from(X.dataSync()) });
  }
  if (Array.isArray(X)) {
    const rowsArr = X as readonly (readonly (number | null)[])[];
    const rows = rowsArr.length;
    if (rows === 0) throw new InvalidDataError('data is empty: no rows');
    const first = rowsArr[0];
    if (!Array.isArray(first)) throw new InvalidDataError('expected rows as arrays of numbers', { row: 1 });
    const cols = first.length;
    if (cols === 0) throw new InvalidDataError('data has no columns', { row: 1 });
    const data = new Float64Array(rows * cols);
    for (let i = 0; i < rows; i++) {
      const row = rowsArr[i];
      if (!Array.isArray(row)) throw new InvalidDataError(`row ${i + 1} is not an array`, { row: i + 1 });
      if (row.length !== cols) {
        throw new InvalidDataError(`row ${i + 1} has ${row.length} values, expected ${cols} (as row 1)`, { row: i + 1 });
      }
      for (let j = 0; j < cols; j++) {
        const v: unknown = row[j];
        if (missing && (v === null || Number.isNaN(v))) data[i * cols + j] = Number.NaN;
        else if (typeof v !== 'number' || !Number.isFinite(v)) throw badValue(i, j, v);
        else data[i * cols + j] = v;
      }
    }
    return { rows, cols, data };
  }
  if (typeof X === 'object' && X !== null && 'shape' in X && 'data' in X) {
    const shape = X.shape;
    if (!Array.isArray(shape) || shape.length !== 2) throw new InvalidDataError('shape must be [rows, cols]');
    const [rows, cols] = shape as [number, number];
    if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0) {
      throw new InvalidDataError(`invalid shape [${rows}, ${cols}]`);
    }
    if (X.data.length !== rows * cols) {
      throw new InvalidDataError(`data has ${X.data.length} values but shape [${rows}, ${cols}] needs ${rows * cols}`);
    }
    return checked({ rows, cols, data: values(X.data as ArrayLike<number>) });
  }
  if (typeof X === 'object' && X !== null && 'rows' in X && 'cols' in X && 'data' in X) {
    // A Matrix, e.g. sample(n).X or predictProba's result: copied, so the caller's stays untouched.
    const { rows, cols, data } = X;
    if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0) {
      throw new InvalidDataError(`invalid matrix size ${String(rows)} x ${String(cols)}`);
    }
    if (data === null || typeof data !== 'object' || typeof (data as ArrayLike<number>).length !== 'number') {
      throw new InvalidDataError('matrix data must be an array of numbers');
    }
    if (data.length !== rows * cols) {
      throw new InvalidDataError(
        `matrix data has ${data.length} values but rows x cols = ${rows} x ${cols} needs ${rows * cols}`,
      );
    }
    return checked({ rows, cols, data: values(data as ArrayLike<number>) });
  }
  throw new InvalidDataError(
    'unsupported data: expected number[][], { data, shape }, a Matrix { rows, cols, data } or a 2-D tensor',
  );
}

function badValue(i: number, j: number, v: unknown): InvalidDataError {
  const hint = v === null || Number.isNaN(v) ? " (missing values need the option missing: 'marginalize')" : '';
  return new InvalidDataError(`non-finite value ${String(v)} at row ${i + 1}, column ${j + 1}${hint}`, {
    row: i + 1,
    column: j + 1,
    value: String(v),
  });
}

function checkValues(m: Matrix, missing: boolean): Matrix {
  if (m.rows === 0) throw new InvalidDataError('data is empty: no rows');
  if (m.cols === 0) throw new InvalidDataError('data has no columns');
  if (!missing) {
    // v * 0 is 0 for every finite v and NaN for ±Infinity and NaN: one sum tells, the loop below names the cell.
    let probe = 0;
    for (let i = 0; i < m.data.length; i++) probe += m.data[i]! * 0;
    if (probe === 0) return m;
  }
  for (let i = 0; i < m.data.length; i++) {
    const v = m.data[i]!;
    if (!Number.isFinite(v) && !(missing && Number.isNaN(v))) throw badValue(Math.floor(i / m.cols), i % m.cols, v);
  }
  return m;
}

/** Throws InvalidDataError when a row (or, with `columns`, a column) has no observed (non-NaN) value. */
export function checkObserved(m: Matrix, columns: boolean): void {
  const seen = new Uint8Array(m.cols);
  for (let i = 0; i < m.rows; i++) {
    let any = false;
    for (let j = 0; j < m.cols; j++)
      if (!Number.isNaN(m.data[i * m.cols + j])) {
        any = true;
        seen[j] = 1;
      }
    if (!any) throw new InvalidDataError(`row ${i + 1} has no observed value: every row needs at least one`, { row: i + 1 });
  }
  if (columns) {
    const j = seen.indexOf(0);
    if (j >= 0) throw new InvalidDataError(`column ${j + 1} has no observed value`, { column: j + 1 });
  }
}

/**
 * Column means of a matrix, [cols]; weighted means Σ w_i x_ij / Σ w_i with
 * weights [rows]. Missing cells (NaN) are skipped: the mean of the observed values.
 */
export function columnMeans(m: Matrix, weights?: Float64Array): Float64Array {
  const mean = new Float64Array(m.cols);
  const total = new Float64Array(m.cols);
  for (let i = 0; i < m.rows; i++) {
    const w = weights === undefined ? 1 : weights[i]!;
    if (w === 0) continue;
    for (let j = 0; j < m.cols; j++) {
      const v = m.data[i * m.cols + j]!;
      if (Number.isNaN(v)) continue;
      mean[j] += w * v;
      total[j] += w;
    }
  }
  for (let j = 0; j < m.cols; j++) mean[j]! /= total[j]!;
  return mean;
}
