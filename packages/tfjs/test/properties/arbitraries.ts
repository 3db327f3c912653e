// fast-check arbitraries for the property suite: datasets and fit options.
//
// A dataset is generated from a small structural spec (sizes, separation,
// shape, scale, offset, degeneracies) plus a seed for the values. fast-check
// shrinks the spec (fewer rows, fewer dimensions, no offset, ...), which gives
// far more readable counterexamples than shrinking n*d raw floats, and the
// printed spec replays the exact rows through `makeDataset`.
import { createRng, type Rng } from '@gmmkit/core';
import fc from 'fast-check';

export interface DatasetSpec {
  /** Rows. */
  n: number;
  /** Features. */
  d: number;
  /** Clusters the data is drawn from (the fitted k is chosen separately). */
  clusters: number;
  /** 'well': centres ~10 cluster-sd apart; 'bad': ~0.7 sd apart (heavily overlapping). */
  separation: 'well' | 'bad';
  /** 'round': isotropic clusters; 'elongated': axis-aligned sd ratios up to ~20; 'rotated': elongated and randomly rotated. */
  shape: 'round' | 'elongated' | 'rotated';
  /** Cluster sd unit, 1e-3 .. 1e3 ("tiny and huge scales"). */
  scale: number;
  /** Offset of the whole cloud from the origin, in multiples of `scale` (0, or 1e2 .. 1e4: "far from the origin"). */
  offset: number;
  /** Fraction of rows replaced by copies of other rows. */
  duplicates: number;
  /** One column set to a single value. */
  constantColumn: boolean;
  /**
   * Last column = first column + 0.05 sd noise, when d >= 2: a near-singular
   * covariance, condition number up to ~1e5 with well-separated clusters. Much
   * closer to singular and float32 itself cannot resolve the small eigenvalue
   * (eps32 * κ ~ 0.1 at κ ~ 1e6; EM's lower bound then jumps by nats).
   */
  nearSingular: boolean;
  /** Seed of the values. */
  seed: number;
  /** Noise sd of the near-singular column (default 0.05); not generated, for replaying findings. */
  nearSingularNoise?: number;
}

export interface Dataset {
  spec: DatasetSpec;
  n: number;
  d: number;
  /** Rows, float64. */
  rows: number[][];
  /** Typical spread of the data (the cluster sd unit): regCovar and tolerances are expressed relative to scale^2 / scale. */
  scale: number;
  /** True when some covariance can be singular without regularization (constant column, duplicates). */
  degenerate: boolean;
}

// Log-uniform 10^lo .. 10^hi; integers so shrinking lands on round powers of ten.
const powerOfTen = (lo: number, hi: number) =>
  fc.integer({ min: lo * 4, max: hi * 4 }).map((e) => 10 ** (e / 4));

export const datasetSpecArb = (
  bounds: { maxN?: number; maxD?: number; maxClusters?: number } = {},
): fc.Arbitrary<DatasetSpec> =>
  fc.record({
    n: fc.integer({ min: 12, max: bounds.maxN ?? 160 }),
    d: fc.integer({ min: 1, max: bounds.maxD ?? 4 }),
    clusters: fc.integer({ min: 1, max: bounds.maxClusters ?? 4 }),
    separation: fc.constantFrom('well' as const, 'bad' as const),
    shape: fc.constantFrom('round' as const, 'elongated' as const, 'rotated' as const),
    scale: fc.oneof(fc.constant(1), powerOfTen(-3, 3)),
    offset: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: powerOfTen(2, 4) }),
    duplicates: fc.oneof(
      { weight: 3, arbitrary: fc.constant(0) },
      { weight: 1, arbitrary: fc.constantFrom(0.1, 0.3, 0.5) },
    ),
    constantColumn: fc.boolean(),
    nearSingular: fc.boolean(),
    seed: fc.integer({ min: 0, max: 0x7fffffff }),
  });

function randomRotation(d: number, rng: Rng): number[][] {
  // Gram-Schmidt on a Gaussian matrix: a uniformly random orthogonal matrix.
  const q: number[][] = [];
  while (q.length < d) {
    const v = Array.from({ length: d }, () => rng.normal());
    for (const u of q) {
      const dot = v.reduce((s, vi, i) => s + vi * u[i]!, 0);
      for (let i = 0; i < d; i++) v[i]! -= dot * u[i]!;
    }
    const norm = Math.hypot(...v);
    if (norm > 1e-6) q.push(v.map((x) => x / norm));
  }
  return q;
}

/** The rows a spec describes (deterministic in the spec). */
export function makeDataset(spec: DatasetSpec): Dataset {
  const { n, d, clusters, scale } = spec;
  const rng = createRng(spec.seed);
  const spread = spec.separation === 'well' ? 10 : 0.7;
  const centres = Array.from({ length: clusters }, () =>
    Array.from({ length: d }, () => spread * rng.normal()),
  );
  const sds = Array.from({ length: clusters }, () =>
    Array.from({ length: d }, () => (spec.shape === 'round' ? 1 : Math.exp(3 * (rng.next() - 0.5)))),
  );
  const rotations = Array.from({ length: clusters }, () =>
    spec.shape === 'rotated' ? randomRotation(d, rng) : undefined,
  );
  const offset = Array.from(
    { length: d },
    () => (rng.next() < 0.5 ? -1 : 1) * spec.offset * (0.5 + rng.next()),
  );

  const rows: number[][] = [];
  for (let i = 0; i < n; i++) {
    const c = i % clusters;
    const z = sds[c]!.map((s) => s * rng.normal());
    const rot = rotations[c];
    const y = rot ? rot.map((_, r) => z.reduce((s, zj, j) => s + rot[j]![r]! * zj, 0)) : z;
    rows.push(y.map((v, j) => (centres[c]![j]! + v + offset[j]!) * scale));
  }
  if (spec.nearSingular && d >= 2) {
    for (const row of rows) row[d - 1] = row[0]! + (spec.nearSingularNoise ?? 0.05) * scale * rng.normal();
  }
  if (spec.constantColumn) {
    const j = rng.int(d);
    const value = (offset[j]! + 3.7) * scale;
    for (const row of rows) row[j] = value;
  }
  const nDup = Math.floor(spec.duplicates * n);
  for (let t = 0; t < nDup; t++) {
    const src = rng.int(n);
    let dst = rng.int(n);
    if (dst === src) dst = (dst + 1) % n;
    rows[dst] = [...rows[src]!];
  }
  return {
    spec,
    n,
    d,
    rows,
    scale,
    degenerate: spec.constantColumn || nDup > 0,
    // Counterexamples print the spec, which replays the rows, not n*d numbers.
    [fc.toStringMethod]: () => `makeDataset(${JSON.stringify(spec)})`,
  } as Dataset;
}

export const datasetArb = (bounds?: Parameters<typeof datasetSpecArb>[0]): fc.Arbitrary<Dataset> =>
  datasetSpecArb(bounds).map(makeDataset, (value) => {
    // Lets fast-check shrink values it did not generate itself (e.g. in `fc.check` replays).
    if (typeof value !== 'object' || value === null || !('spec' in value)) throw new Error('not a Dataset');
    return (value as Dataset).spec;
  });

/** Fit options the properties vary (the family and initializer are fixed per test so every combination is covered). */
export interface FitChoice {
  nComponents: number;
  /** regCovar relative to scale^2 (0 only for non-degenerate data). */
  regCovarRelative: number;
  nInit: number;
  seed: number;
}

export const fitChoiceArb = (
  ds: Dataset,
  opts: { maxK?: number; maxNInit?: number } = {},
): fc.Arbitrary<FitChoice> =>
  fc.record({
    nComponents: fc.integer({ min: 1, max: Math.min(opts.maxK ?? 4, ds.n) }),
    // Exact EM (regCovar = 0) needs every covariance non-singular, which
    // duplicated rows and constant columns do not guarantee.
    regCovarRelative: ds.degenerate ? fc.constantFrom(1e-6, 1e-4) : fc.constantFrom(0, 1e-6, 1e-4),
    nInit: fc.integer({ min: 1, max: opts.maxNInit ?? 2 }),
    seed: fc.integer({ min: 0, max: 0x7fffffff }),
  });

/** A dataset with fit choices drawn for it. */
export const caseArb = (
  bounds?: Parameters<typeof datasetSpecArb>[0],
  fitOpts?: Parameters<typeof fitChoiceArb>[1],
): fc.Arbitrary<{ ds: Dataset; fit: FitChoice }> =>
  datasetArb(bounds).chain((ds) => fitChoiceArb(ds, fitOpts).map((fit) => ({ ds, fit })));

/** A permutation of 0..n-1 driven by a seed (Fisher-Yates). */
export function permutation(n: number, seed: number): number[] {
  const rng = createRng(seed);
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [p[i], p[j]] = [p[j]!, p[i]!];
  }
  return p;
}
