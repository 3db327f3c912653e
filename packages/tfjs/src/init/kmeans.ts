import type { InitializerInput, Rng, SyncInitializer, Tensor2D, Tf } from '@gmmkit/core';
import { sampleWithoutReplacement } from './random.js';

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

/** A row drawn with probability ∝ weights[i] (weights >= 0, not all zero). */
function weightedRow(weights: Float64Array, rng: Rng): number {
  const cumulative = new Float64Array(weights.length);
  let total = 0;
  for (let i = 0; i < weights.length; i++) cumulative[i] = total += weights[i]!;
  let i = Math.min(searchSorted(cumulative, rng.next() * total), weights.length - 1);
  while (weights[i] === 0) i--; // u landed on the upper edge of a zero-width interval
  return i;
}

/**
 * Greedy k-means++ seeding as scikit-learn's `kmeans_plusplus`: the first
 * center uniformly, each next one the best (lowest potential) of
 * 2 + ⌊ln k⌋ candidates drawn with probability ∝ D(x)².
 * With sample weights [n] (scikit-learn's sample_weight): the first center
 * ∝ w, candidates ∝ w·D(x)², potentials Σ w·D²; a row of weight 0 is never chosen.
 * data [n, d] row-major; returns k distinct row indices.
 */
export function kmeansPlusPlusIndices(
  data: Float64Array,
  n: number,
  d: number,
  k: number,
  rng: Rng,
  weights?: Float64Array,
): number[] {
  const trials = 2 + Math.floor(Math.log(k));
  const w = (i: number): number => (weights === undefined ? 1 : weights[i]!);
  const indices: number[] = [weights === undefined ? rng.int(n) : weightedRow(weights, rng)];
  const closest = new Float64Array(n);
  for (let i = 0; i < n; i++) closest[i] = sqDist(data, i, data, indices[0]!, d);
  const cumulative = new Float64Array(n);
  let candidateDist = new Float64Array(n);
  let bestDist = new Float64Array(n);
  const chosen = new Set(indices);
  for (let c = 1; c < k; c++) {
    let total = 0;
    for (let i = 0; i < n; i++) cumulative[i] = total += w(i) * closest[i]!;
    let bestIndex = -1;
    let bestPotential = Infinity;
    for (let t = 0; t < trials; t++) {
      let cand: number;
      if (total > 0) {
        cand = Math.min(searchSorted(cumulative, rng.next() * total), n - 1);
        while (w(cand) === 0) cand--; // the upper edge of a zero-width interval
      } else cand = weights === undefined ? rng.int(n) : weightedRow(weights, rng); // all points coincide with centers
      // sqDist and w inlined: this loop is the seeding's cost (k · trials passes over the rows).
      let potential = 0;
      const at = cand * d;
      for (let i = 0, row = 0; i < n; i++, row += d) {
        let sq = 0;
        for (let c = 0; c < d; c++) {
          const t = data[row + c]! - data[at + c]!;
          sq += t * t;
        }
        const v = Math.min(closest[i]!, sq);
        candidateDist[i] = v;
        potential += weights === undefined ? v : weights[i]! * v;
      }
      // Prefer a row not already chosen so the k indices stay distinct (duplicate rows).
      const better =
        potential < bestPotential ||
        (potential === bestPotential && chosen.has(bestIndex) && !chosen.has(cand));
      if (bestIndex === -1 || better) {
        bestIndex = cand;
        bestPotential = potential;
        [bestDist, candidateDist] = [candidateDist, bestDist];
      }
    }
    if (chosen.has(bestIndex)) {
      // Degenerate data (fewer distinct rows than k): take the first unused row (of positive weight).
      for (let i = 0; i < n; i++)
        if (!chosen.has(i) && w(i) > 0) {
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

/** Euclidean distance between row i of data [*, d] and row j of centers [*, d]. */
function dist(data: Float64Array, i: number, centers: Float64Array, j: number, d: number): number {
  return Math.sqrt(sqDist(data, i, centers, j, d));
}

/**
 * Lloyd's k-means from given centers (updated in place), on the host in
 * float64. Stops when no label changes, when the total squared center shift
 * is <= tol·(mean feature variance) (scikit-learn's rule, tol 1e-4), or after
 * maxIter. Empty clusters move to the row farthest from its center. Returns labels [n].
 *
 * The assignment step is Hamerly's: per row an upper bound on the distance
 * to its center and a lower bound on the distance to any other center, moved
 * by how far the centers moved; a row is re-scored only when the bounds
 * overlap. Same labels as plain Lloyd (up to exact ties), most rows skipped
 * after the first iterations.
 *
 * With sample weights [n], centers are weighted means and the tolerance
 * uses the weighted variance (scikit-learn's KMeans sample_weight).
 */
export function lloyd(
  data: Float64Array,
  n: number,
  d: number,
  k: number,
  centers: Float64Array,
  maxIter = 300,
  tol = 1e-4,
  weights?: Float64Array,
): Int32Array {
  const labels = new Int32Array(n).fill(-1);
  const upper = new Float64Array(n);
  const lower = new Float64Array(n);
  const shiftTol = shiftTolerance(data, n, d, tol, weights);
  const clusters = clusterSums(data, n, d, k, weights);
  const half = new Float64Array(k); // half the distance from each center to its nearest other center
  const moved = new Float64Array(k);

  /** Scores row i against every center; returns 1 if its label changed. */
  const rescore = (i: number): number => {
    let best = -1;
    let bestD = Infinity;
    let second = Infinity;
    for (let j = 0; j < k; j++) {
      const v = sqDist(data, i, centers, j, d);
      if (v < bestD) {
        second = bestD;
        bestD = v;
        best = j;
      } else if (v < second) second = v;
    }
    upper[i] = Math.sqrt(bestD);
    lower[i] = Math.sqrt(second);
    if (labels[i] === best) return 0;
    clusters.move(i, labels[i]!, best);
    labels[i] = best;
    return 1;
  };

  const assign = (first: boolean): number => {
    let changed = 0;
    if (first) {
      for (let i = 0; i < n; i++) changed += rescore(i);
      return changed;
    }
    for (let a = 0; a < k; a++) {
      let m = Infinity;
      for (let b = 0; b < k; b++) if (b !== a) m = Math.min(m, dist(centers, a, centers, b, d));
      half[a] = m / 2;
    }
    for (let i = 0; i < n; i++) {
      const a = labels[i]!;
      const bound = Math.max(half[a]!, lower[i]!);
      if (upper[i]! <= bound) continue;
      upper[i] = dist(data, i, centers, a, d);
      if (upper[i]! <= bound) continue;
      changed += rescore(i);
    }
    return changed;
  };

  for (let iter = 0; iter < maxIter; iter++) {
    if (assign(iter === 0) === 0) break;
    const previous = clusters.update(labels, centers);
    let shift = 0;
    let most = 0;
    let mostAt = -1;
    let runnerUp = 0;
    for (let j = 0; j < k; j++) {
      const s2 = sqDist(previous, j, centers, j, d);
      shift += s2;
      moved[j] = Math.sqrt(s2);
      if (moved[j]! > most) {
        runnerUp = most;
        most = moved[j]!;
        mostAt = j;
      } else if (moved[j]! > runnerUp) runnerUp = moved[j]!;
    }
    for (let i = 0; i < n; i++) {
      const a = labels[i]!;
      upper[i]! += moved[a]!;
      lower[i]! -= a === mostAt ? runnerUp : most;
    }
    if (shift <= shiftTol) {
      assign(false); // labels of the final centers
      break;
    }
  }
  return labels;
}

/** tol · (mean feature variance): scikit-learn's k-means tolerance, relative to the data's scale (weighted variance with weights). */
function shiftTolerance(data: Float64Array, n: number, d: number, tol: number, weights?: Float64Array): number {
  // One pass: sums of x - x₀ and its square, x₀ the first row (a row of the data, so the
  // difference of the two terms keeps its digits where a shift by 0 could cancel them).
  let total = 0;
  const sum = new Float64Array(d);
  const squares = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const wi = weights === undefined ? 1 : weights[i]!;
    if (wi === 0) continue;
    total += wi;
    const xi = i * d;
    for (let c = 0; c < d; c++) {
      const t = data[xi + c]! - data[c]!;
      sum[c] += wi * t;
      squares[c] += wi * t * t;
    }
  }
  let varSum = 0;
  for (let c = 0; c < d; c++) varSum += Math.max(0, squares[c]! / total - (sum[c]! / total) ** 2);
  return tol * (varSum / d);
}

/**
 * Lloyd's update step (float64) on per-cluster sums kept between iterations:
 * `move(i, from, to)` moves row i's (weighted) sum from one cluster to
 * another as the assignment step relabels it (from -1: not yet counted), so
 * an iteration costs the rows that changed, not a pass over n rows (late
 * iterations relabel few); `recount(labels)` makes the sums afresh.
 * `update(labels, centers)` sets centers := the sums' means and returns the previous
 * centers; an empty cluster (no row of positive weight) moves to the row of
 * positive weight farthest from its center.
 */
function clusterSums(data: Float64Array, n: number, d: number, k: number, weights?: Float64Array) {
  const sums = new Float64Array(k * d);
  const counts = new Float64Array(k);
  const members = new Int32Array(k); // rows of positive weight: emptiness is exact, whatever the sums' rounding
  const previous = new Float64Array(k * d);
  const move = (i: number, from: number, to: number): void => {
    const w = weights === undefined ? 1 : weights[i]!;
    if (w === 0) return;
    const xi = i * d;
    if (from >= 0) {
      counts[from] -= w;
      members[from]--;
      for (let c = 0; c < d; c++) sums[from * d + c] -= w * data[xi + c]!;
    }
    counts[to] += w;
    members[to]++;
    for (let c = 0; c < d; c++) sums[to * d + c] += w * data[xi + c]!;
  };
  const recount = (labels: Int32Array): void => {
    sums.fill(0);
    counts.fill(0);
    members.fill(0);
    for (let i = 0; i < n; i++) move(i, -1, labels[i]!);
  };
  const update = (labels: Int32Array, centers: Float64Array): Float64Array => {
    previous.set(centers);
    let far: Float64Array | undefined;
    for (let j = 0; j < k; j++) {
      if (members[j] === 0) {
        // Relocate an empty cluster to the worst-fitted row (exact distances).
        if (far === undefined) {
          far = new Float64Array(n);
          for (let i = 0; i < n; i++) far[i] = weights !== undefined && weights[i] === 0 ? -1 : sqDist(data, i, previous, labels[i]!, d);
        }
        let at = 0;
        for (let i = 1; i < n; i++) if (far[i]! > far[at]!) at = i;
        far[at] = 0;
        for (let c = 0; c < d; c++) centers[j * d + c] = data[at * d + c]!;
        continue;
      }
      for (let c = 0; c < d; c++) centers[j * d + c] = sums[j * d + c]! / counts[j]!;
    }
    return previous;
  };
  return { move, recount, update };
}

/** Nearest center of every row by tfjs: argmin_j ‖c_j‖² - 2 x·c_j (‖x‖² is common to a row), in float32. */
function nearestCenters(tf: Tf, x: Tensor2D, centers: Float64Array, k: number, d: number): Int32Array {
  const cT = new Float32Array(d * k); // [d, k] of -2 c: a plain matMul (transposed operands are slow on wasm)
  const norms = new Float32Array(k);
  for (let j = 0; j < k; j++)
    for (let c = 0; c < d; c++) {
      const v = centers[j * d + c]!;
      cT[c * k + j] = -2 * v;
      norms[j]! += v * v;
    }
  // One fused kernel for x (-2 c)ᵀ + ‖c‖² (no [n, k] intermediates for the scaling and the bias).
  const t = tf.tidy(() => tf.argMin(tf.fused.matMul({ a: x, b: tf.tensor2d(cT, [d, k]), bias: tf.tensor1d(norms) }), 1));
  try {
    return Int32Array.from(t.dataSync());
  } finally {
    t.dispose();
  }
}

/**
 * Lloyd's k-means as `lloyd`, with the assignment step in tfjs on the rows
 * tensor x [n, d] (one matMul per iteration; float32 distances, so rows at a
 * near tie may go the other way than in float64) and the update in float64
 * on the host (weighted means with sample weights). Deterministic for given inputs and backend.
 */
export function lloydTensor(
  tf: Tf,
  x: Tensor2D,
  data: Float64Array,
  n: number,
  d: number,
  k: number,
  centers: Float64Array,
  maxIter = 300,
  tol = 1e-4,
  weights?: Float64Array,
): Int32Array {
  const shiftTol = shiftTolerance(data, n, d, tol, weights);
  const clusters = clusterSums(data, n, d, k, weights);
  let labels: Int32Array = new Int32Array(n).fill(-1);
  for (let iter = 0; iter < maxIter; iter++) {
    const next = nearestCenters(tf, x, centers, k, d);
    let changed = 0;
    for (let i = 0; i < n; i++) if (next[i] !== labels[i]) changed++;
    labels = next;
    if (changed === 0) break;
    clusters.recount(labels);
    const previous = clusters.update(labels, centers);
    let shift = 0;
    for (let j = 0; j < k; j++) shift += sqDist(previous, j, centers, j, d);
    if (shift <= shiftTol) {
      labels = nearestCenters(tf, x, centers, k, d); // labels of the final centers
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
export function gatherRows(data: Float64Array, d: number, indices: ArrayLike<number>): Float64Array {
  const out = new Float64Array(indices.length * d);
  for (let j = 0; j < indices.length; j++) {
    const from = indices[j]! * d;
    for (let c = 0; c < d; c++) out[j * d + c] = data[from + c]!;
  }
  return out;
}

/**
 * Above this many rows k-means++ and Lloyd first run on
 * a uniform sample of this many rows, and Lloyd on all rows then continues
 * from the sample's centers (usually one or two passes): the seeding's k · (2 + ln k)
 * passes and most of Lloyd's iterations cost the sample's size, not n.
 * mclust likewise starts large data from a subset; the sample's centers
 * are within about σ / sqrt(rows per component) of the full data's, and the
 * full passes end at a fixed point of Lloyd on all rows, as scikit-learn's do.
 */
export const KMEANS_SAMPLE_ROWS = 100_000;

/**
 * k-means' starting centers [k, d]: k-means++ seeds. Above `sampleRows` rows,
 * k-means++ and Lloyd run on a uniform sample of `sampleRows` of them (sample
 * weights kept) and their centers are returned, for Lloyd on all rows to
 * finish from.
 */
export function kmeansStartingCenters(
  data: Float64Array,
  n: number,
  d: number,
  k: number,
  rng: Rng,
  weights?: Float64Array,
  sampleRows = KMEANS_SAMPLE_ROWS,
): Float64Array {
  const seedAll = (): Float64Array => gatherRows(data, d, kmeansPlusPlusIndices(data, n, d, k, rng, weights));
  if (n <= sampleRows) return seedAll();
  const rows = Int32Array.from(sampleWithoutReplacement(n, sampleRows, () => rng.next())).sort();
  const sampleWeights = weights === undefined ? undefined : Float64Array.from(rows, (r) => weights[r]!);
  // Seeding needs k rows of positive weight among the sampled ones; else it seeds from all rows.
  if (sampleWeights !== undefined && sampleWeights.filter((w) => w > 0).length < k) return seedAll();
  const sample = gatherRows(data, d, rows);
  const centers = gatherRows(sample, d, kmeansPlusPlusIndices(sample, rows.length, d, k, rng, sampleWeights));
  lloyd(sample, rows.length, d, k, centers, 300, 1e-4, sampleWeights);
  return centers;
}

/**
 * Backends on which 'kmeans' runs Lloyd on the host: measured on wasm at
 * 1M x 8, k = 5 (150 against 213-222 ms with the rows' upload) and 500k x 32,
 * k = 16 (746 against 947 ms); cpu is tfjs in plain JavaScript.
 */
const HOST_LLOYD_BACKENDS = new Set(['wasm', 'cpu']);

/** 'kmeans': k-means++ seeding then Lloyd iterations (on the host, or on the rows tensor where the backend's matMul pays); its labels (hard responsibilities: scikit-learn's default). Weighted by the sample weights. */
export const kmeansInitializer: SyncInitializer = {
  name: 'kmeans',
  description:
    "k-means (k-means++ seeding, Lloyd iterations) labels as one-hot responsibilities (scikit-learn's default)",
  // The costly start, and a function of the rows, k and the random stream alone: a sweep shares it across families.
  reusable: true,
  initialize(input: InitializerInput) {
    const { tf, data, n, d, k, rng, weights } = input;
    const centers = kmeansStartingCenters(data, n, d, k, rng, weights);
    // Lloyd on the host (float64, Hamerly's bounds) unless a backend's matMul pays for the rows tensor
    // (input.x, uploaded when read): on wasm the host was faster even at 500k x 32, k = 16 (746 against 947 ms).
    const labels = HOST_LLOYD_BACKENDS.has(tf.getBackend())
      ? lloyd(data, n, d, k, centers, 300, 1e-4, weights)
      : lloydTensor(tf, input.x, data, n, d, k, centers, 300, 1e-4, weights);
    return { kind: 'labels', labels };
  },
};

/** 'k-means++': as scikit-learn 1.2, responsibility 1 only on the k seeded rows (one per component), 0 elsewhere. */
export const kmeansPlusPlusInitializer: SyncInitializer = {
  name: 'k-means++',
  description: 'k-means++ seeding only: each component starts from one seeded row (scikit-learn 1.2)',
  initialize({ data, n, d, k, rng, weights }: InitializerInput) {
    const resp = new Float64Array(n * k);
    kmeansPlusPlusIndices(data, n, d, k, rng, weights).forEach((row, j) => (resp[row * k + j] = 1));
    return { kind: 'responsibilities', resp };
  },
};
