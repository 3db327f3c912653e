/**
 * The per-iteration table's roofline: the arithmetic of one EM iteration as
 * the engine does it, divided by the machine's measured matMul throughput.
 * It is the time an iteration would take if every flop ran at the speed of
 * a large matMul on one thread: a floor, which per-op overhead, memory
 * traffic and the non-matMul kernels (softmax, exp) keep the measured time above.
 */
import type { Family } from './data.js';
import { median } from './stats.js';

/**
 * Floating-point operations (a multiply-add is 2) of one EM iteration over n
 * rows: the E-step's log-densities, the posterior (about 10 per cell of the
 * [n, k] responsibilities: softmax, flush, log-sum-exp) and the M-step's
 * statistics, as packages/tfjs computes them.
 */
export function emIterationFlops(family: Family, n: number, d: number, k: number): number {
  const posterior = 10 * n * k;
  switch (family) {
    case 'full':
      // [x, 1] @ [U; -μU] ([n, k·d]), squared and summed per component; (respᵀ ⊗ xᵀ) @ x ([k·d, d]) and Σ r x.
      return 2 * n * (d + 1) * k * d + 2 * n * k * d + (n * k * d + 2 * n * k * d * d) + 2 * n * k * d + posterior;
    case 'tied':
      // z = x U ([n, d]), z² @ W₁ + z @ W₂ ([n, k]); Σ r x and the shared Σ x xᵀ.
      return 2 * n * d * d + 4 * n * d * k + 2 * n * k * d + 2 * n * d * d + posterior;
    case 'diag':
    case 'spherical':
      // [1, x, x²] @ W ([n, k]) for the log-densities, respᵀ @ [1, x, x²] for the statistics.
      return 2 * 2 * n * (2 * d + 1) * k + posterior;
  }
}

/** What the roofline needs from a tfjs namespace. */
export interface MatMulTf {
  tensor2d(values: Float32Array, shape: [number, number]): unknown;
  matMul(a: unknown, b: unknown): { dataSync(): ArrayLike<number>; dispose(): void };
  dispose(t: unknown): void;
}

/**
 * GFLOP/s of a [size, size] @ [size, size] float32 matMul on the active
 * backend, one thread (the median of `repeats` after a warm-up).
 */
export function matMulGflops(tf: MatMulTf, size = 1024, repeats = 5): number {
  const random = (): unknown => tf.tensor2d(Float32Array.from({ length: size * size }, () => Math.random()), [size, size]);
  const a = random();
  const b = random();
  const once = (): number => {
    const t0 = performance.now();
    // Not inside tf.tidy: tidy walks a returned typed array element by element (8x this matMul's time at 1024).
    const c = tf.matMul(a, b);
    c.dataSync();
    c.dispose();
    return performance.now() - t0;
  };
  try {
    once();
    const ms = median(Array.from({ length: repeats }, once));
    return (2 * size ** 3) / (ms * 1e6);
  } finally {
    tf.dispose([a, b]);
  }
}

/** The roofline time of one iteration, ms. */
export function rooflineMs(family: Family, n: number, d: number, k: number, gflops: number): number {
  return emIterationFlops(family, n, d, k) / (gflops * 1e6);
}
