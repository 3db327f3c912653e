// The EM engine: chunked E-step + accumulation passes over row blocks held as
// tensors, float64 reductions on the host, the EM loop of scikit-learn's
// BaseMixture.fit_predict for one initialization.
import {
  SingularCovarianceError,
  type CovarianceFamily,
  type MixtureParameters,
  type PluginContext,
  type SufficientStatistics,
  type Tensor2D,
  type Tf,
} from '@gmmkit/core';

/** Default rows per block: large enough to amortize op dispatch, small enough to keep reductions over N short (tfjs-wasm). */
export const DEFAULT_CHUNK_SIZE = 16384;

/** Rows uploaded once as float32 blocks [rows_b, d], in the engine's centered coordinates. */
export interface RowBlocks {
  tensors: Tensor2D[];
  /** First row of each block. */
  starts: number[];
  n: number;
  d: number;
  dispose(): void;
}

/** Uploads data [n, d] minus `center` [d] in blocks of `chunkSize` rows. */
export function uploadBlocks(tf: Tf, data: Float64Array, n: number, d: number, center: Float64Array, chunkSize: number): RowBlocks {
  const tensors: Tensor2D[] = [];
  const starts: number[] = [];
  for (let start = 0; start < n; start += chunkSize) {
    const rows = Math.min(chunkSize, n - start);
    const buf = new Float32Array(rows * d);
    for (let i = 0; i < rows; i++)
      for (let j = 0; j < d; j++) buf[i * d + j] = data[(start + i) * d + j]! - center[j]!;
    tensors.push(tf.tensor2d(buf, [rows, d]));
    starts.push(start);
  }
  return {
    tensors,
    starts,
    n,
    d,
    dispose() {
      for (const t of tensors) t.dispose();
      tensors.length = 0;
    },
  };
}

/** Neumaier-compensated float64 accumulator for per-row log-likelihoods. */
class Sum {
  private s = 0;
  private c = 0;
  add(values: ArrayLike<number>): void {
    let { s, c } = this;
    for (let i = 0; i < values.length; i++) {
      const x = values[i]!;
      const t = s + x;
      c += Math.abs(s) >= Math.abs(x) ? s - t + x : x - t + s;
      s = t;
    }
    this.s = s;
    this.c = c;
  }
  get value(): number {
    return this.s + this.c;
  }
}

function logWeightsTensor(tf: Tf, weights: Float64Array): Tensor2D {
  return tf.tensor2d(Float32Array.from(weights, Math.log), [1, weights.length]);
}

/**
 * One fused pass: E-step under `params` and the statistics of the resulting
 * responsibilities. Returns the merged statistics and Σ_i log p(x_i) (float64).
 */
export function emPass(
  tf: Tf,
  family: CovarianceFamily,
  params: MixtureParameters,
  blocks: RowBlocks,
  ctx: PluginContext,
): { stats: SufficientStatistics; totalLogLikelihood: number } {
  const kernel = family.densityKernel(params, ctx);
  const logW = logWeightsTensor(tf, params.weights);
  const total = new Sum();
  let stats: SufficientStatistics | undefined;
  try {
    for (const x of blocks.tensors) {
      const [resp, lse] = tf.tidy(() => {
        const w = tf.add(kernel.logDensity(x), logW); // [rows, k]
        const lse = tf.logSumExp(w, 1, true); // [rows, 1]
        return [tf.exp(tf.sub(w, lse)) as Tensor2D, lse];
      });
      try {
        const s = family.accumulate(x, resp!, ctx);
        stats = stats === undefined ? s : family.merge(stats, s);
        total.add(lse!.dataSync());
      } finally {
        resp!.dispose();
        lse!.dispose();
      }
    }
  } finally {
    kernel.dispose();
    logW.dispose();
  }
  return { stats: stats!, totalLogLikelihood: total.value };
}

/** Statistics of given responsibilities resp [n, k] (float64 host) over the blocks. */
export function statsFromResponsibilities(
  tf: Tf,
  family: CovarianceFamily,
  blocks: RowBlocks,
  resp: Float64Array,
  ctx: PluginContext,
): SufficientStatistics {
  const { k } = ctx;
  let stats: SufficientStatistics | undefined;
  blocks.tensors.forEach((x, b) => {
    const start = blocks.starts[b]!;
    const rows = x.shape[0];
    const r = tf.tensor2d(Float32Array.from(resp.subarray(start * k, (start + rows) * k)), [rows, k]);
    try {
      const s = family.accumulate(x, r, ctx);
      stats = stats === undefined ? s : family.merge(stats, s);
    } finally {
      r.dispose();
    }
  });
  return stats!;
}

/** Weighted log-probabilities log w_k + log N(x_i | θ_k) for every row, [n, k] float64 on the host. */
export function weightedLogProb(tf: Tf, family: CovarianceFamily, params: MixtureParameters, blocks: RowBlocks, ctx: PluginContext): Float64Array {
  const { k } = ctx;
  const out = new Float64Array(blocks.n * k);
  const kernel = family.densityKernel(params, ctx);
  const logW = logWeightsTensor(tf, params.weights);
  try {
    blocks.tensors.forEach((x, b) => {
      const t = tf.tidy(() => tf.add(kernel.logDensity(x), logW));
      try {
        out.set(t.dataSync(), blocks.starts[b]! * k);
      } finally {
        t.dispose();
      }
    });
  } finally {
    kernel.dispose();
    logW.dispose();
  }
  return out;
}

export interface EmSettings {
  tol: number;
  maxIter: number;
  regCovar: number;
  onIteration?: ((iteration: number, lowerBound: number) => void) | undefined;
}

export interface EmResult {
  params: MixtureParameters;
  lowerBound: number;
  lowerBoundHistory: number[];
  nIter: number;
  converged: boolean;
}

/**
 * EM from initial parameters, as scikit-learn: each iteration scores the data
 * under the current parameters (lower bound = mean log-likelihood) and runs
 * the M-step; stop when the lower bound changes by less than tol.
 */
export function runEm(
  tf: Tf,
  family: CovarianceFamily,
  blocks: RowBlocks,
  init: MixtureParameters,
  settings: EmSettings,
  ctx: PluginContext,
): EmResult {
  let params = init;
  let lowerBound = -Infinity;
  const history: number[] = [];
  let converged = false;
  let nIter = 0;
  for (let iter = 1; iter <= settings.maxIter; iter++) {
    const previous = lowerBound;
    const { stats, totalLogLikelihood } = emPass(tf, family, params, blocks, ctx);
    lowerBound = totalLogLikelihood / blocks.n;
    if (!Number.isFinite(lowerBound)) {
      throw new SingularCovarianceError(
        `the log-likelihood became non-finite at iteration ${iter} with regCovar=${settings.regCovar}; increase regCovar`,
      );
    }
    params = family.mStep(stats, settings.regCovar, ctx);
    nIter = iter;
    history.push(lowerBound);
    settings.onIteration?.(iter, lowerBound);
    if (Math.abs(lowerBound - previous) < settings.tol) {
      converged = true;
      break;
    }
  }
  return { params, lowerBound, lowerBoundHistory: history, nIter, converged };
}
