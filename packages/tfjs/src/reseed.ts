/**
 * Re-seeding a degenerate component (degenerate: 'reject', GaussianMixtureOptions.reseeds).
 *
 * When EM collapses component j onto a few tied rows, the restart need not
 * end: j is given new responsibilities by splitting the heaviest other
 * component h in two along its main axis (the rows of h on the far side of
 * h's mean go to j), and EM goes on from the M-step on those. This works in
 * responsibility space, so it serves every covariance family, built in or
 * plugged in, through the family's own M-step; ending the restart instead was
 * measured against it in docs/degenerate-solutions.md.
 */

/**
 * Responsibilities [n, k] for a restart whose component `j` degenerated:
 * `logProb` [n, k] are the rows' weighted log-probabilities under the
 * degenerate state (overwritten: the result is written there and returned),
 * `data` [n, d] the rows (centered), `weights` the sample
 * weights. j's old shares go back to the other components in proportion; then
 * the heaviest component h keeps its rows on the near side of its principal
 * axis and gives j those on the far side. Undefined when there is no other
 * component to split (k = 1) or h has no spread to split along.
 */
export function reseedResponsibilities(
  logProb: Float64Array,
  data: Float64Array,
  n: number,
  d: number,
  k: number,
  j: number,
  weights?: ArrayLike<number>,
): Float64Array | undefined {
  if (k < 2) return undefined;
  // the posterior without j: a softmax over the other components, written over logProb (one [n, k] array, not two)
  const resp = responsibilities(logProb, n, k, j, logProb);
  const mass = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    const w = weights === undefined ? 1 : weights[i]!;
    for (let c = 0; c < k; c++) mass[c] += w * resp[i * k + c]!;
  }
  // Ties are broken to the lowest index and decided with a relative margin, so that float rounding
  // (rows replicated or weighted, permuted, scaled) does not change the choice.
  let h = j === 0 ? 1 : 0;
  for (let c = 0; c < k; c++) if (c !== j && mass[c]! > mass[h]! * (1 + TIE_MARGIN)) h = c;
  return splitAlongMainAxis(resp, data, n, d, k, h, j, weights) ? resp : undefined;
}

/**
 * Responsibilities [n, k] from weighted log-probabilities [n, k]: the
 * row-wise softmax, over every column but `exclude` (which gets 0) when it is
 * given. A row with no finite entry goes wholly to column (exclude + 1) % k.
 * Written to `out`, which may be logProb itself (each row is read before it is written).
 */
export function responsibilities(logProb: Float64Array, n: number, k: number, exclude = -1, out: Float64Array = new Float64Array(n * k)): Float64Array {
  for (let i = 0; i < n; i++) {
    let max = -Infinity;
    for (let c = 0; c < k; c++) if (c !== exclude && logProb[i * k + c]! > max) max = logProb[i * k + c]!;
    let sum = 0;
    for (let c = 0; c < k; c++) {
      const r = c === exclude || max === -Infinity ? 0 : Math.exp(logProb[i * k + c]! - max);
      out[i * k + c] = r;
      sum += r;
    }
    if (sum > 0) for (let c = 0; c < k; c++) out[i * k + c]! /= sum;
    else out[i * k + ((exclude + 1) % k)] = 1;
  }
  return out;
}

/**
 * Splits component `from` of `resp` [n, k] (in place) in two along its main
 * axis: its rows on the far side of its principal axis, through its
 * (sample-weighted) mean, move their share of `from` to column `to`; rows on
 * the mean (within rounding of its spread along the axis) stay. `to`'s own
 * shares are left as they are (the caller empties it first). Re-seeding a
 * degenerate component and split-and-merge's split both use it. False (resp
 * untouched) when `from` has no mass or no spread to split along.
 */
export function splitAlongMainAxis(
  resp: Float64Array,
  data: Float64Array,
  n: number,
  d: number,
  k: number,
  from: number,
  to: number,
  weights?: ArrayLike<number>,
): boolean {
  // from's weighted mean and scatter, then its principal axis by power iteration
  const mean = new Float64Array(d);
  let mass = 0;
  for (let i = 0; i < n; i++) {
    const r = (weights === undefined ? 1 : weights[i]!) * resp[i * k + from]!;
    mass += r;
    for (let a = 0; a < d; a++) mean[a] += r * data[i * d + a]!;
  }
  if (!(mass > 0)) return false;
  for (let a = 0; a < d; a++) mean[a] /= mass;
  const scatter = new Float64Array(d * d);
  const diff = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const r = (weights === undefined ? 1 : weights[i]!) * resp[i * k + from]!;
    if (r === 0) continue;
    for (let a = 0; a < d; a++) diff[a] = data[i * d + a]! - mean[a]!;
    for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) scatter[a * d + b] += r * diff[a]! * diff[b]!;
  }
  const principal = principalAxis(scatter, d);
  if (principal === undefined) return false;
  const { axis, variance } = principal;
  const margin = TIE_MARGIN * Math.sqrt(variance / mass);
  for (let i = 0; i < n; i++) {
    let side = 0;
    for (let a = 0; a < d; a++) side += (data[i * d + a]! - mean[a]!) * axis[a]!;
    if (side > margin) {
      resp[i * k + to] += resp[i * k + from]!;
      resp[i * k + from] = 0;
    }
  }
  return true;
}

/** Relative margin of the choices above. */
const TIE_MARGIN = 1e-9;

/**
 * The leading eigenvector of a symmetric positive semi-definite d x d matrix
 * and its eigenvalue (power iteration), with its sign fixed (largest entry
 * positive); undefined when the matrix is 0.
 */
function principalAxis(m: Float64Array, d: number): { axis: Float64Array; variance: number } | undefined {
  // start from the column of largest norm: not orthogonal to the leading eigenvector unless m is degenerate itself
  let start = 0;
  let best = -1;
  for (let b = 0; b < d; b++) {
    let s = 0;
    for (let a = 0; a < d; a++) s += m[a * d + b]! ** 2;
    if (s > best) [best, start] = [s, b];
  }
  if (!(best > 0)) return undefined;
  let v = new Float64Array(d);
  for (let a = 0; a < d; a++) v[a] = m[a * d + start]!;
  let eigenvalue = 0;
  for (let iter = 0; iter < 100; iter++) {
    const next = new Float64Array(d);
    let norm = 0;
    for (let a = 0; a < d; a++) {
      let s = 0;
      for (let b = 0; b < d; b++) s += m[a * d + b]! * v[b]!;
      next[a] = s;
      norm += s * s;
    }
    norm = Math.sqrt(norm);
    if (!(norm > 0)) return undefined;
    eigenvalue = norm;
    let change = 0;
    for (let a = 0; a < d; a++) {
      next[a] /= norm;
      change += Math.abs(next[a]! - v[a]!);
    }
    v = next;
    if (change < 1e-10) break;
  }
  let largest = 0;
  for (let a = 1; a < d; a++) if (Math.abs(v[a]!) > Math.abs(v[largest]!) * (1 + TIE_MARGIN)) largest = a;
  if (v[largest]! < 0) for (let a = 0; a < d; a++) v[a] = -v[a]!;
  return { axis: v, variance: eigenvalue };
}
