// mclust's default initialization: model-based agglomerative hierarchical
// clustering (Banfield & Raftery 1993, Fraley 1998) with the VVV criterion on
// SVD-transformed data (mclust's hc(modelName = "VVV", use = "SVD")), on a
// subset of 2000 rows when there are more. One agglomeration gives the
// starting partition of every k, so it is computed once per dataset and kept
// (a small cache keyed by the rows' content): a sweep's cells share it.
// 1-D data use mclust's quantile classes (qclass) instead, as mclust does.
import { InvalidArgumentError, createRng, symmetricEigen, type Initializer } from '@gmmkit/core';

/** mclust.options("subset"): hc runs on this many rows at most. */
export const HC_SUBSET = 2000;

/** A merge history: the initial groups and the merges, in order. */
export interface Agglomeration {
  /** Rows hc ran on (all rows, or the subset), increasing. */
  rows: Int32Array;
  /** Initial group of each of those rows (0-based): each row alone. */
  initial: Int32Array;
  /** Number of initial groups. */
  groups: number;
  /** Merges in order: [a, b] means group b joins group a (ids of the initial groups). */
  merges: Int32Array;
  /** The rows in the space hc ran in ([rows.length, d]): for assigning rows outside the subset. */
  z: Float64Array;
}

/**
 * mclust's "SVD" transformation: columns standardized (sd with n - 1), then
 * Z = X V D^(-1/2), X = U D Vᵀ the SVD (V and D from the eigen-decomposition
 * of XᵀX). Constant columns are dropped, as mclust's dropCols drops non-finite ones.
 */
export function svdTransform(data: Float64Array, n: number, d: number): { z: Float64Array; p: number } {
  const mean = new Float64Array(d);
  const sd = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let c = 0; c < d; c++) mean[c] += data[i * d + c]! / n;
  for (let i = 0; i < n; i++) for (let c = 0; c < d; c++) sd[c] += (data[i * d + c]! - mean[c]!) ** 2;
  const keep: number[] = [];
  for (let c = 0; c < d; c++) {
    sd[c] = Math.sqrt(sd[c]! / Math.max(1, n - 1));
    if (sd[c]! > 0 && Number.isFinite(sd[c])) keep.push(c);
  }
  const p = keep.length;
  const x = new Float64Array(n * p);
  for (let i = 0; i < n; i++) keep.forEach((c, j) => (x[i * p + j] = (data[i * d + c]! - mean[c]!) / sd[c]!));
  const xtx = new Float64Array(p * p);
  for (let i = 0; i < n; i++)
    for (let a = 0; a < p; a++) for (let b = 0; b < p; b++) xtx[a * p + b] += x[i * p + a]! * x[i * p + b]!;
  const { values, vectors } = symmetricEigen(xtx, p);
  // singular values s = sqrt(eigenvalues); columns scaled by s^(-1/2); rank-deficient directions dropped
  const rank = values.filter((v) => v > values[0]! * 1e-20).length;
  const z = new Float64Array(n * rank);
  for (let i = 0; i < n; i++)
    for (let c = 0; c < rank; c++) {
      let s = 0;
      for (let a = 0; a < p; a++) s += x[i * p + a]! * vectors[a * p + c]!;
      z[i * rank + c] = s / Math.sqrt(Math.sqrt(values[c]!));
    }
  return { z, p: rank };
}

/**
 * mclust's VVV merge term of a group with l rows, scatter W (about its mean)
 * and trace t (Fraley 1998; mclust's vvvtij): l ln(β (t + α) / l) while l <= p,
 * else l ln(|W / l| + β (t + α) / l), with β = 1 and α = tr of the data's
 * scatter / (n p). Merging the pair with the least increase of Σ terms.
 */
function term(l: number, p: number, w: Float64Array, t: number, alpha: number, scratch: Float64Array): number {
  const base = (t + alpha) / l;
  if (l <= p || t === 0) return l * Math.log(base);
  // log |W / l| by Cholesky; not positive definite counts as 0 (mclust: detlog = -FLMAX)
  scratch.set(w);
  let logDet = 0;
  for (let j = 0; j < p; j++) {
    let s = scratch[j * p + j]!;
    for (let c = 0; c < j; c++) s -= scratch[j * p + c]! ** 2;
    if (!(s > 0)) return l * Math.log(base);
    const r = Math.sqrt(s);
    scratch[j * p + j] = r;
    logDet += Math.log(r);
    for (let i = j + 1; i < p; i++) {
      let v = scratch[i * p + j]!;
      for (let c = 0; c < j; c++) v -= scratch[i * p + c]! * scratch[j * p + c]!;
      scratch[i * p + j] = v / r;
    }
  }
  const det = Math.exp(2 * logDet - p * Math.log(l));
  return l * Math.log(det + base);
}

/**
 * Agglomerates groups of rows z [n, p] until one is left, each time merging the
 * pair whose merge increases Σ term the least (ties: the later pair in mclust's
 * scan order). O(n²) memory and O(n² p³) time for n rows; n is at most HC_SUBSET.
 */
export function agglomerate(z: Float64Array, n: number, p: number): { initial: Int32Array; groups: number; merges: Int32Array } {
  // Every row starts as its own group, duplicates too: mclust's hc() documents
  // partition = dupPartition(data) but hands hcVVV none, so its agglomerations start
  // from singletons (duplicate rows then merge first, at the least cost).
  const g = n;
  const initial = Int32Array.from({ length: n }, (_, i) => i);
  const pp = p * p;
  // per group: size, mean, scatter, trace, term
  const size = new Float64Array(g);
  const mean = new Float64Array(g * p);
  const scatter = new Float64Array(g * pp);
  const trace = new Float64Array(g);
  for (let i = 0; i < n; i++) {
    const c = initial[i]!;
    size[c] += 1;
    if (size[c] === 1) mean.set(z.subarray(i * p, (i + 1) * p), c * p);
  }
  let total = 0;
  const grand = new Float64Array(p);
  for (let i = 0; i < n; i++) for (let c = 0; c < p; c++) grand[c] += z[i * p + c]! / n;
  for (let i = 0; i < n; i++) for (let c = 0; c < p; c++) total += (z[i * p + c]! - grand[c]!) ** 2;
  const alpha = Math.max(total / (n * p), Number.EPSILON);
  const scratch = new Float64Array(pp);
  const terms = new Float64Array(g);
  for (let c = 0; c < g; c++) terms[c] = term(size[c]!, p, scatter.subarray(c * pp, (c + 1) * pp), 0, alpha, scratch);

  const merged = new Float64Array(pp);
  const cost = (a: number, b: number): number => {
    const na = size[a]!;
    const nb = size[b]!;
    const f = (na * nb) / (na + nb);
    let t = trace[a]! + trace[b]!;
    for (let c = 0; c < p; c++) t += f * (mean[a * p + c]! - mean[b * p + c]!) ** 2;
    if (na + nb > p) {
      for (let r = 0; r < p; r++)
        for (let c = 0; c < p; c++)
          merged[r * p + c] =
            scatter[a * pp + r * p + c]! +
            scatter[b * pp + r * p + c]! +
            f * (mean[a * p + r]! - mean[b * p + r]!) * (mean[a * p + c]! - mean[b * p + c]!);
    }
    return term(na + nb, p, merged, t, alpha, scratch) - terms[a]! - terms[b]!;
  };

  // Groups sit in slots 0..live-1 (initially group i in slot i). Like mclust's hcvvv, the
  // pair to merge is the last minimum in the scan order (slot j ascending, then slot i < j),
  // the merged group keeps the lower slot and the last slot's group moves into the other:
  // that reproduces mclust's choice among tied costs (rounded data have many).
  const at = Int32Array.from({ length: g }, (_, i) => i); // group in each slot
  let live = g;
  const d = new Float64Array(g * g); // d[a * g + b] = d[b * g + a]: cost of merging groups a and b
  const best = new Int32Array(g).fill(-1); // per slot j: the slot i < j of its last minimum
  const bestCost = new Float64Array(g).fill(Infinity);
  const rescan = (j: number): void => {
    best[j] = -1;
    bestCost[j] = Infinity;
    const b = at[j]!;
    for (let i = 0; i < j; i++) {
      const c = d[b * g + at[i]!]!; // row b of the symmetric matrix: contiguous reads
      if (c <= bestCost[j]!) {
        bestCost[j] = c;
        best[j] = i;
      }
    }
  };
  // slot i's cost to slot j (> i) changed or appeared: update j's best without a rescan
  const offer = (i: number, j: number): void => {
    const c = d[at[i]! * g + at[j]!]!;
    if (best[j]! < i ? c <= bestCost[j]! : c < bestCost[j]!) {
      bestCost[j] = c;
      best[j] = i;
    }
  };
  for (let b = 1; b < g; b++) {
    for (let a = 0; a < b; a++) d[a * g + b] = d[b * g + a] = cost(a, b);
    rescan(b);
  }
  const merges = new Int32Array(2 * (g - 1));
  for (let m = 0; m < g - 1; m++) {
    let jopt = 1;
    for (let j = 2; j < live; j++) if (bestCost[j]! <= bestCost[jopt]!) jopt = j;
    const iopt = best[jopt]!;
    const a = at[iopt]!;
    const b = at[jopt]!;
    merges[2 * m] = a;
    merges[2 * m + 1] = b;
    // group a absorbs b
    const na = size[a]!;
    const nb = size[b]!;
    const f = (na * nb) / (na + nb);
    for (let r = 0; r < p; r++)
      for (let c = 0; c < p; c++)
        scatter[a * pp + r * p + c] += scatter[b * pp + r * p + c]! + f * (mean[a * p + r]! - mean[b * p + r]!) * (mean[a * p + c]! - mean[b * p + c]!);
    let t = trace[a]! + trace[b]!;
    for (let c = 0; c < p; c++) {
      t += f * (mean[a * p + c]! - mean[b * p + c]!) ** 2;
      mean[a * p + c] = (na * mean[a * p + c]! + nb * mean[b * p + c]!) / (na + nb);
    }
    trace[a] = t;
    size[a] = na + nb;
    terms[a] = term(size[a]!, p, scatter.subarray(a * pp, (a + 1) * pp), t, alpha, scratch);
    // the last slot's group moves into slot jopt
    live--;
    const moved = at[live]!;
    at[jopt] = moved;
    for (let j = 0; j < live; j++) {
      const o = at[j]!;
      if (o !== a) d[o * g + a] = d[a * g + o] = cost(o, a);
    }
    for (let j = 1; j < live; j++) {
      if (j === iopt || j === jopt || best[j] === iopt || best[j] === jopt) rescan(j);
      else if (j > iopt) offer(iopt, j);
    }
    for (let j = jopt + 1; j < live; j++) if (best[j] !== jopt) offer(jopt, j);
  }
  return { initial, groups: g, merges };
}

/** 0-based labels of the hc rows at k clusters, numbered by first appearance. */
export function partitionAt(tree: Agglomeration, k: number): Int32Array {
  if (k > tree.groups)
    throw new InvalidArgumentError(`hc: k = ${k} exceeds the ${tree.groups} rows the agglomeration starts from`);
  const parent = Int32Array.from({ length: tree.groups }, (_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i]!]!;
    return i;
  };
  for (let m = 0; m < tree.groups - k; m++) parent[find(tree.merges[2 * m + 1]!)] = find(tree.merges[2 * m]!);
  const label = new Map<number, number>();
  return tree.initial.map((g) => {
    const root = find(g);
    let l = label.get(root);
    if (l === undefined) label.set(root, (l = label.size));
    return l;
  });
}

/** FNV-1a over the rows' bytes: the cache key of an agglomeration. */
function contentKey(data: Float64Array, n: number, d: number): string {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, n * d * 8);
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return `${n}x${d}:${(h >>> 0).toString(16)}`;
}

const cache = new Map<string, Agglomeration>();
const CACHE_SIZE = 4;

/** Agglomerations computed so far (tests: a sweep computes one per dataset). */
export const hcStats = { computed: 0 };

/**
 * The agglomeration of these rows (cached): SVD transform, a subset of
 * HC_SUBSET rows when n is larger (drawn from a seed derived from the data, so
 * every cell of a sweep gets the same), VVV merges.
 */
export function hcTree(data: Float64Array, n: number, d: number): Agglomeration {
  const key = contentKey(data, n, d);
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  const { z: all, p } = svdTransform(data, n, d);
  let rows = Int32Array.from({ length: n }, (_, i) => i);
  if (n > HC_SUBSET) {
    const rng = createRng(parseInt(key.slice(key.indexOf(':') + 1), 16));
    for (let i = 0; i < HC_SUBSET; i++) {
      const j = i + rng.int(n - i);
      [rows[i], rows[j]] = [rows[j]!, rows[i]!];
    }
    rows = rows.slice(0, HC_SUBSET).sort();
  }
  const z = new Float64Array(rows.length * p);
  rows.forEach((r, i) => z.set(all.subarray(r * p, (r + 1) * p), i * p));
  // every column constant (nothing left after the transform): all rows are one point, merged in order
  const merged =
    p === 0
      ? {
          initial: Int32Array.from({ length: rows.length }, (_, i) => i),
          groups: rows.length,
          merges: Int32Array.from({ length: 2 * (rows.length - 1) }, (_, i) => (i % 2 === 0 ? 0 : (i + 1) / 2)),
        }
      : agglomerate(z, rows.length, p);
  const tree: Agglomeration = { rows, ...merged, z };
  hcStats.computed++;
  cache.set(key, tree);
  if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value!);
  return tree;
}

/** k classes of (nearly) equal size by rank (ties by row order): for data too degenerate to cut. */
function rankClasses(x: Float64Array, k: number): Int32Array {
  const n = x.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => x[a]! - x[b]! || a - b);
  const out = new Int32Array(n);
  order.forEach((row, r) => (out[row] = Math.min(k - 1, Math.floor((r * k) / n))));
  return out;
}

/** mclust's qclass: k classes of 1-D data cut at quantiles (the widest gaps kept when quantiles tie). */
export function quantileClasses(x: Float64Array, k: number): Int32Array {
  const n = x.length;
  const sorted = Float64Array.from(x).sort();
  let mean = 0;
  for (const v of x) mean += v / n;
  let ss = 0;
  for (const v of x) ss += (v - mean) ** 2;
  const eps = Math.sqrt(ss / Math.max(1, n - 1)) * Math.sqrt(Number.EPSILON);
  // R's quantile type 7 at m equally spaced probabilities, unique, until there are k + 1 cuts
  const quantile = (prob: number): number => {
    const h = (n - 1) * prob;
    const lo = Math.floor(h);
    return sorted[lo]! + (h - lo) * ((sorted[Math.min(lo + 1, n - 1)] ?? sorted[lo]!) - sorted[lo]!);
  };
  let q: number[] = [];
  for (let m = k + 1; q.length < k + 1; m++) {
    q = [...new Set(Array.from({ length: m }, (_, i) => quantile(i / (m - 1))))];
    if (m > n + k + 1) break;
  }
  if (q.length < k + 1) return rankClasses(x, k); // fewer than k distinct values
  if (q.length > k + 1) {
    // drop the cuts after the smallest gaps (mclust: q[-order(diff(q))[1:nr]])
    const gaps = q.slice(1).map((v, i) => ({ i, gap: v - q[i]! }));
    const drop = new Set(
      gaps
        .sort((a, b) => a.gap - b.gap || a.i - b.i)
        .slice(0, q.length - k - 1)
        .map((g) => g.i),
    );
    q = q.filter((_, i) => !drop.has(i));
  }
  q[0] = sorted[0]! - eps;
  q[q.length - 1] = sorted[n - 1]! + eps;
  // cl[x >= q[i] & x < q[i + 1]] = i (the last interval closed)
  return x.map((v) => {
    for (let i = 0; i < k; i++) if (v >= q[i]! && (v < q[i + 1]! || i === k - 1)) return i;
    return k - 1;
  }) as unknown as Int32Array;
}

/**
 * The 'hc' initializer: responsibilities from the hc partition at k. Rows
 * outside the subset (n > HC_SUBSET) join the class whose subset mean is
 * nearest in the SVD-transformed space (mclust instead runs its first M-step
 * on the subset alone).
 */
export const hcInitializer: Initializer = {
  name: 'hc',
  description:
    "mclust's default: model-based hierarchical agglomeration (VVV criterion, SVD-transformed data, a subset of 2000 rows when n is larger; quantile classes in 1-D), one agglomeration shared by every k",
  initialize({ data, n, d, k }) {
    const resp = new Float64Array(n * k);
    if (d === 1) {
      const labels = quantileClasses(data.subarray(0, n), k);
      for (let i = 0; i < n; i++) resp[i * k + labels[i]!] = 1;
      return { kind: 'responsibilities', resp };
    }
    const tree = hcTree(data, n, d);
    const labels = partitionAt(tree, k);
    const m = tree.rows.length;
    if (m === n) {
      for (let i = 0; i < n; i++) resp[i * k + labels[i]!] = 1;
      return { kind: 'responsibilities', resp };
    }
    // class means in the transformed space, then every row to its nearest one
    const { z: all, p } = svdTransform(data, n, d);
    const centers = new Float64Array(k * p);
    const counts = new Float64Array(k);
    for (let i = 0; i < m; i++) {
      counts[labels[i]!] += 1;
      for (let c = 0; c < p; c++) centers[labels[i]! * p + c] += tree.z[i * p + c]!;
    }
    for (let j = 0; j < k; j++) for (let c = 0; c < p; c++) centers[j * p + c] = centers[j * p + c]! / counts[j]!;
    const inSubset = new Int32Array(n).fill(-1);
    tree.rows.forEach((r, i) => (inSubset[r] = labels[i]!));
    for (let i = 0; i < n; i++) {
      if (inSubset[i]! >= 0) {
        resp[i * k + inSubset[i]!] = 1;
        continue;
      }
      let bestJ = 0;
      let bestD = Infinity;
      for (let j = 0; j < k; j++) {
        let s = 0;
        for (let c = 0; c < p; c++) s += (all[i * p + c]! - centers[j * p + c]!) ** 2;
        if (s < bestD) {
          bestD = s;
          bestJ = j;
        }
      }
      resp[i * k + bestJ] = 1;
    }
    return { kind: 'responsibilities', resp };
  },
};
