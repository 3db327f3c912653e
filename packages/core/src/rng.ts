/**
 * Seeded random numbers. One seed drives a whole fit; restarts, sweep cells
 * and workers derive their own seeds from it with `deriveSeed`, never from
 * scheduling, so results do not depend on timing or worker count.
 */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Integer in [0, n). */
  int(n: number): number;
  /** Standard normal. */
  normal(): number;
  /** A fresh 32-bit seed drawn from this stream (for tfjs ops that take a seed). */
  seed(): number;
}

/** Mix a master seed with a path of integers (restart index, cell index, ...) into a new 32-bit seed. */
export function deriveSeed(master: number, ...path: number[]): number {
  let h = splitmix32(master >>> 0);
  for (const p of path) h = splitmix32((h ^ Math.imul(p + 1, 0x9e3779b9)) >>> 0);
  return h >>> 0;
}

function splitmix32(a: number): number {
  a = (a + 0x9e3779b9) | 0;
  let t = a ^ (a >>> 16);
  t = Math.imul(t, 0x21f0aaad);
  t ^= t >>> 15;
  t = Math.imul(t, 0x735a2d97);
  t ^= t >>> 15;
  return t >>> 0;
}

/** sfc32 generator seeded through splitmix32: fast, 128-bit state, good statistical quality. */
export function createRng(seed: number): Rng {
  let a = splitmix32(seed >>> 0);
  let b = splitmix32(a);
  let c = splitmix32(b);
  let d = splitmix32(c) | 1;
  const u32 = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  for (let i = 0; i < 12; i++) u32();
  let spare: number | undefined;
  return {
    next: () => u32() / 4294967296,
    int: (n) => Math.floor((u32() / 4294967296) * n),
    normal: () => {
      if (spare !== undefined) {
        const s = spare;
        spare = undefined;
        return s;
      }
      // Box-Muller; 1 - u keeps log away from 0.
      const u = 1 - u32() / 4294967296;
      const v = u32() / 4294967296;
      const r = Math.sqrt(-2 * Math.log(u));
      spare = r * Math.sin(2 * Math.PI * v);
      return r * Math.cos(2 * Math.PI * v);
    },
    seed: () => u32(),
  };
}
