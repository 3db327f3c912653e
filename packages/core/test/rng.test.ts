import { describe, expect, it } from 'vitest';
import { createRng, deriveSeed } from '../src/rng.js';

describe('createRng', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    const a = createRng(42);
    const b = createRng(42);
    const c = createRng(43);
    const sa = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(sa);
    expect(Array.from({ length: 5 }, () => c.next())).not.toEqual(sa);
  });

  it('draws uniforms in [0, 1) with the right mean, and integers in range', () => {
    const rng = createRng(7);
    const u = Array.from({ length: 20000 }, () => rng.next());
    expect(Math.min(...u)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...u)).toBeLessThan(1);
    expect(u.reduce((a, b) => a + b, 0) / u.length).toBeCloseTo(0.5, 2);
    const ints = new Set(Array.from({ length: 1000 }, () => rng.int(3)));
    expect([...ints].sort()).toEqual([0, 1, 2]);
  });

  it('draws standard normals (mean 0, variance 1)', () => {
    const rng = createRng(11);
    const n = 40000;
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < n; i++) {
      const z = rng.normal();
      s += z;
      s2 += z * z;
    }
    expect(Math.abs(s / n)).toBeLessThan(0.03);
    expect(Math.abs(s2 / n - 1)).toBeLessThan(0.03);
  });
});

describe('deriveSeed', () => {
  it('depends on the master seed and on every path element, deterministically', () => {
    expect(deriveSeed(1, 2, 3)).toBe(deriveSeed(1, 2, 3));
    const seeds = new Set([deriveSeed(1), deriveSeed(2), deriveSeed(1, 0), deriveSeed(1, 1), deriveSeed(1, 0, 1), deriveSeed(1, 1, 0)]);
    expect(seeds.size).toBe(6);
    for (const s of seeds) expect(Number.isInteger(s) && s >= 0 && s < 2 ** 32).toBe(true);
  });
});
