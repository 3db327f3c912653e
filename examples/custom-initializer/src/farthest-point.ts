/**
 * Farthest-point seeding (Gonzalez, 1985) as a gmmkit initializer: the first
 * center is a random row, every next center is the row farthest from the
 * centers chosen so far. It spreads the starting means over the whole data
 * cloud in k passes, without randomness after the first pick; the price is
 * that it likes outliers.
 *
 * An initializer returns either responsibilities [n, k] or means [k, d]; this
 * one returns means, and the engine turns them into a first M-step (every row
 * to its nearest mean) before EM starts.
 */
import type { InitialGuess, Initializer, InitializerInput } from '@gmmkit/core';

/** Row indices picked by farthest-point seeding from a first row `first`. */
export function farthestPointIndices(
  data: Float64Array,
  n: number,
  d: number,
  k: number,
  first: number,
): number[] {
  const picked = [first];
  // squared distance of every row to its nearest picked row
  const nearest = new Float64Array(n).fill(Infinity);
  for (let c = 1; c <= k; c++) {
    const last = picked[picked.length - 1]!;
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let a = 0; a < d; a++) s += (data[i * d + a]! - data[last * d + a]!) ** 2;
      if (s < nearest[i]!) nearest[i] = s;
    }
    if (c === k) break;
    let far = 0;
    for (let i = 1; i < n; i++) if (nearest[i]! > nearest[far]!) far = i;
    picked.push(far);
  }
  return picked;
}

export const farthestPoint: Initializer = {
  name: 'farthest-point',
  description:
    'farthest-point (Gonzalez) seeding: a random first row, then each time the row farthest from the chosen ones',
  initialize({ data, n, d, k, rng }: InitializerInput): InitialGuess {
    const rows = farthestPointIndices(data, n, d, k, rng.int(n));
    const means = new Float64Array(k * d);
    // `data` is in the engine's centered coordinates, and so are the means we return.
    rows.forEach((r, j) => means.set(data.subarray(r * d, (r + 1) * d), j * d));
    return { kind: 'means', means };
  },
};
