import { createRng } from '@gmmkit/core';

/** Gaussian blobs: n rows around the given centers (round-robin), isotropic scale; returns rows and true labels. */
export function blobs(n: number, centers: number[][], scale: number | number[], seed: number): { X: number[][]; labels: number[] } {
  const rng = createRng(seed);
  const X: number[][] = [];
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const j = i % centers.length;
    const s = Array.isArray(scale) ? scale[j]! : scale;
    X.push(centers[j]!.map((c) => c + s * rng.normal()));
    labels.push(j);
  }
  return { X, labels };
}

/** An iris-like 4-D data set: 3 groups of 50 with iris's group means and spreads. */
export function irisLike(seed = 7): { X: number[][]; labels: number[] } {
  const means = [
    [5.0, 3.4, 1.5, 0.25],
    [5.9, 2.8, 4.3, 1.3],
    [6.6, 3.0, 5.6, 2.0],
  ];
  const sds = [
    [0.35, 0.38, 0.17, 0.1],
    [0.5, 0.31, 0.47, 0.2],
    [0.64, 0.32, 0.55, 0.27],
  ];
  const rng = createRng(seed);
  const X: number[][] = [];
  const labels: number[] = [];
  for (let j = 0; j < 3; j++)
    for (let i = 0; i < 50; i++) {
      X.push(means[j]!.map((m, c) => m + sds[j]![c]! * rng.normal()));
      labels.push(j);
    }
  return { X, labels };
}

/** Fraction of rows whose predicted label matches the truth under the best label permutation (k <= 4). */
export function permutedAccuracy(pred: ArrayLike<number>, truth: ArrayLike<number>, k: number): number {
  const perms = (a: number[]): number[][] => (a.length <= 1 ? [a] : a.flatMap((x, i) => perms([...a.slice(0, i), ...a.slice(i + 1)]).map((p) => [x, ...p])));
  let best = 0;
  for (const p of perms([...Array(k).keys()])) {
    let ok = 0;
    for (let i = 0; i < truth.length; i++) if (p[pred[i]!] === truth[i]) ok++;
    best = Math.max(best, ok / truth.length);
  }
  return best;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Node warnings of type ConvergenceWarning emitted while `run` runs (emitWarning delivers them on the next tick). */
export async function convergenceWarnings(run: () => Promise<unknown>): Promise<string[]> {
  const seen: string[] = [];
  const listener = (w: Error) => {
    if (w.name === 'ConvergenceWarning') seen.push(w.message);
  };
  process.on('warning', listener);
  try {
    await run();
    // emitWarning queues the 'warning' event with process.nextTick: one macrotask turn delivers it.
    await new Promise((r) => setImmediate(r));
  } finally {
    process.off('warning', listener);
  }
  return seen;
}

/** A broad cluster with five tight ones around its edge: k-means splits the broad one, so EM from a k-means start often stays at a worse optimum. */
export function broadAndTight(seed: number): { data: Float64Array; shape: [number, number] } {
  const rng = createRng(seed);
  const rows: number[][] = [];
  for (let i = 0; i < 300; i++) rows.push([3 * rng.normal(), 3 * rng.normal()]);
  for (const [a, b] of [[6, 0], [-6, 0], [0, 6], [0, -6], [4.5, 4.5]] as const)
    for (let i = 0; i < 30; i++) rows.push([a + 0.3 * rng.normal(), b + 0.3 * rng.normal()]);
  return { data: Float64Array.from(rows.flat()), shape: [rows.length, 2] };
}
