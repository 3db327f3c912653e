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
 * degenerate state, `data` [n, d] the rows (centered), `weights` the sample
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
  const resp = new Float64Array(n * k);
  const mass = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    const row = logProb.subarray(i * k, (i + 1) * k);
    // the posterior without j: a softmax over the other components
    let max = -Infinity;
    for (let c = 0; c < k; c++) if (c !== j && row[c]! > max) max = row[c]!;
    let sum = 0;
    for (let c = 0; c < k; c++) {
      const r = c === j || max === -Infinity ? 0 : Math.exp(row[c]! - max);
      resp[i * k + c] = r;
      sum += r;
    }
    const w = weights === undefined ? 1 : weights[i]!;
    for (let c = 0; c < k; c++) {
      const r = sum > 0 ? resp[i * k + c]! / sum : c === (j + 1) % k ? 1 : 0;
      resp[i * k + c] = r;
      mass[c] += w * r;
    }
  }
  // Ties are broken to the lowest index and decided with a relative margin, so that float rounding
  // (rows replicated or weighted, permuted, scaled) does not change the choice.
  let h = j === 0 ? 1 : 0;
  for (let c = 0; c < k; c++) if (c !== j && mass[c]! > mass[h]! * (1 + TIE_MARGIN)) h = c;
  if (!(mass[h]! > 0)) return undefined;

  // h's weighted mean and scatter, then its principal axis by power iteration
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const r = (weights === undefined ? 1 : weights[i]!) * resp[i * k + h]!;
    for (let a = 0; a < d; a++) mean[a] += r * data[i * d + a]!;
  }
  for (let a = 0; a < d; a++) mean[a] /= mass[h]!;
  const scatter = new Float64Array(d * d);
  const diff = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const r = (weights === undefined ? 1 : weights[i]!) * resp[i * k + h]!;
    if (r === 0) continue;
    for (let a = 0; a < d; a++) diff[a] = data[i * d + a]! - mean[a]!;
    for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) scatter[a * d + b] += r * diff[a]! * diff[b]!;
  }
  const principal = principalAxis(scatter, d);
  if (principal === undefined) return undefined;
  const { axis, variance } = principal;
  // rows on h's mean (within rounding of its spread along the axis) stay with h
  const margin = TIE_MARGIN * Math.sqrt(variance / mass[h]!);
  for (let i = 0; i < n; i++) {
    let side = 0;
    for (let a = 0; a < d; a++) side += (data[i * d + a]! - mean[a]!) * axis[a]!;
    if (side > margin) {
      resp[i * k + j] = resp[i * k + h]!;
      resp[i * k + h] = 0;
    }
  }
  return resp;
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
