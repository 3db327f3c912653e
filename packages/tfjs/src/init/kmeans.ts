import type { Initializer, InitializerInput, Rng } from '@gmmkit/core';

/** Squared Euclidean distance between row i of a [*, d] and row j of b [*, d]. */
function sqDist(a: Float64Array, i: number, b: Float64Array, j: number, d: number): number {
  let s = 0;
  const ai = i * d;
  const bj = j * d;
  for (let c = 0; c < d; c++) {
    const t = a[ai + c]! - b[bj + c]!;
    s += t * t;
  }
  return s;
}

/** Index i with cumulative[i-1] <= u < cumulative[i] (binary search). */
function searchSorted(cumulative: Float64Array, u: number): number {
  let lo = 0;
  let hi = cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cumulative[mid]! <= u) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Greedy k-means++ seeding as scikit-learn's `kmeans_plusplus`: the first
 * center uniformly, each next one the best (lowest potential) of
 * 2 + ⌊ln k⌋ candidates drawn with probability ∝ D(x)².
 * data [n, d] row-major; returns k distinct row indices.
 */
export function kmeansPlusPlusIndices(data: Float64Array, n: number, d: number, k: number, rng: Rng): number[] {
  const trials = 2 + Math.floor(Math.log(k));
  const indices: number[] = [rng.int(n)];
  const closest = new Float64Array(n);
  for (let i = 0; i < n; i++) closest[i] = sqDist(data, i, data, indices[0]!, d);
  const cumulative = new Float64Array(n);
  const candidateDist = new Float64Array(n);
  const bestDist = new Float64Array(n);
  const chosen = new Set(indices);
  for (let c = 1; c < k; c++) {
    let total = 0;
    for (let i = 0; i < n; i++) cumulative[i] = total += closest[i]!;
    let bestIndex = -1;
    let bestPotential = Infinity;
    for (let t = 0; t < trials; t++) {
      let cand: number;
      if (total > 0) cand = Math.min(searchSorted(cumulative, rng.next() * total), n - 1);
      else cand = rng.int(n); // all points coincide with centers: any row will do
      let potential = 0;
      for (let i = 0; i < n; i++) {
        const v = Math.min(closest[i]!, sqDist(data, i, data, cand, d));
        candidateDist[i] = v;
        potential += v;
      }
      // Prefer a row not already chosen so the k indices stay distinct (duplicate rows).
      const better = potential < bestPotential || (potential === bestPotential && chosen.has(bestIndex) && !chosen.has(cand));
      if (bestIndex === -1 || better) {
        bestIndex = cand;
        bestPotential = potential;
        bestDist.set(candidateDist);
      }
    }
    if (chosen.has(bestIndex)) {
      // Degenerate data (fewer distinct rows than k): take the first unused row.
      for (let i = 0; i < n; i++)
        if (!chosen.has(i)) {
          bestIndex = i;
          break;
        }
    }
    indices.push(bestIndex);
    chosen.add(bestIndex);
    closest.set(bestDist);
  }
  return indices;
}

/**
 * Nearest center of every row: labels [n] and squared distances [n] (written
 * in place); returns how many labels changed. Uses ‖x‖² - 2 x·c + ‖c‖² with
 * ‖x‖² precomputed; tight loops because this is the host's hot path.
 */
function assign(
  data: Float64Array,
  rowNorms: Float64Array,
  n: number,
  d: number,
  k: number,
  centers: Float64Array,
  labels: Int32Array,
  dist: Float64Array,
): number {
  const cNorm = new Float64Array(k);
  for (let j = 0; j < k; j++) {
    let s = 0;
    for (let c = 0; c < d; c++) s += centers[j * d + c]! * centers[j * d + c]!;
    cNorm[j] = s;
  }
  let changed = 0;
  for (let i = 0; i < n; i++) {
    const base = i * d;
    let best = 0;
    let bestD = Infinity;
    for (let j = 0; j < k; j++) {
      const cb = j * d;
      let dot = 0;
      for (let c = 0; c < d; c++) dot += data[base + c]! * centers[cb + c]!;
      const v = cNorm[j]! - 2 * dot;
      if (v < bestD) {
        bestD = v;
        best = j;
      }
    }
    dist[i] = Math.max(0, rowNorms[i]! + bestD);
    if (labels[i] !== best) {
      labels[i] = best;
      changed++;
    }
  }
  return changed;
}

/**
 * Lloyd's k-means from given centers (updated in place), on the host in
 * float64. Stops when no label changes, when the total squared center shift
 * is <= tol·(mean feature variance) (scikit-learn's rule, tol 1e-4), or after
 * maxIter. Empty clusters move to the row farthest from its center. Returns labels [n].
 */
export function lloyd(data: Float64Array, n: number, d: number, k: number, centers: Float64Array, maxIter = 300, tol = 1e-4): Int32Array {
  const labels = new Int32Array(n).fill(-1);
  const dist = new Float64Array(n);
  const rowNorms = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let c = 0; c < d; c++) s += data[i * d + c]! * data[i * d + c]!;
    rowNorms[i] = s;
  }
  // tolerance relative to the data's scale
  let varSum = 0;
  for (let c = 0; c < d; c++) {
    let m = 0;
    for (let i = 0; i < n; i++) m += data[i * d + c]!;
    m /= n;
    let v = 0;
    for (let i = 0; i < n; i++) v += (data[i * d + c]! - m) ** 2;
    varSum += v / n;
  }
  const shiftTol = tol * (varSum / d);
  const sums = new Float64Array(k * d);
  const counts = new Float64Array(k);
  for (let iter = 0; iter < maxIter; iter++) {
    if (assign(data, rowNorms, n, d, k, centers, labels, dist) === 0) break;
    sums.fill(0);
    counts.fill(0);
    for (let i = 0; i < n; i++) {
      const j = labels[i]!;
      counts[j]++;
      for (let c = 0; c < d; c++) sums[j * d + c] += data[i * d + c]!;
    }
    let shift = 0;
    for (let j = 0; j < k; j++) {
      if (counts[j] === 0) {
        // Relocate an empty cluster to the worst-fitted row.
        let far = 0;
        for (let i = 1; i < n; i++) if (dist[i]! > dist[far]!) far = i;
        dist[far] = 0;
        for (let c = 0; c < d; c++) {
          shift += (centers[j * d + c]! - data[far * d + c]!) ** 2;
          centers[j * d + c] = data[far * d + c]!;
        }
        continue;
      }
      for (let c = 0; c < d; c++) {
        const v = sums[j * d + c]! / counts[j]!;
        shift += (centers[j * d + c]! - v) ** 2;
        centers[j * d + c] = v;
      }
    }
    if (shift <= shiftTol) {
      assign(data, rowNorms, n, d, k, centers, labels, dist); // labels of the final centers
      break;
    }
  }
  return labels;
}

/** One-hot responsibilities [n, k] from labels. */
export function oneHot(labels: ArrayLike<number>, n: number, k: number): Float64Array {
  const resp = new Float64Array(n * k);
  for (let i = 0; i < n; i++) resp[i * k + labels[i]!] = 1;
  return resp;
}

/** Rows `indices` of data [n, d] as a [indices.length, d] matrix. */
export function gatherRows(data: Float64Array, d: number, indices: readonly number[]): Float64Array {
  const out = new Float64Array(indices.length * d);
  indices.forEach((r, j) => out.set(data.subarray(r * d, (r + 1) * d), j * d));
  return out;
}

/** 'kmeans': k-means++ seeding then Lloyd iterations on the host; one-hot responsibilities (scikit-learn's default). */
export const kmeansInitializer: Initializer = {
  name: 'kmeans',
  description: "k-means (k-means++ seeding, Lloyd iterations) labels as one-hot responsibilities (scikit-learn's default)",
  initialize({ data, n, d, k, rng }: InitializerInput) {
    const centers = gatherRows(data, d, kmeansPlusPlusIndices(data, n, d, k, rng));
    return { kind: 'responsibilities', resp: oneHot(lloyd(data, n, d, k, centers), n, k) };
  },
};

/** 'k-means++': as scikit-learn 1.2, responsibility 1 only on the k seeded rows (one per component), 0 elsewhere. */
export const kmeansPlusPlusInitializer: Initializer = {
  name: 'k-means++',
  description: 'k-means++ seeding only: each component starts from one seeded row (scikit-learn 1.2)',
  initialize({ data, n, d, k, rng }: InitializerInput) {
    const resp = new Float64Array(n * k);
    kmeansPlusPlusIndices(data, n, d, k, rng).forEach((row, j) => (resp[row * k + j] = 1));
    return { kind: 'responsibilities', resp };
  },
};
