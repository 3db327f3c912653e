import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '@gmmkit/core';
import { cellSeed, parseKSpec } from '../src/sweep.js';

describe('parseKSpec', () => {
  it('reads numbers, lists, ranges and the CLI text forms', () => {
    expect(parseKSpec(3)).toEqual([3]);
    expect(parseKSpec([5, 2, 2, 3])).toEqual([2, 3, 5]);
    expect(parseKSpec({ min: 1, max: 4 })).toEqual([1, 2, 3, 4]);
    expect(parseKSpec('1..6')).toEqual([1, 2, 3, 4, 5, 6]);
    expect(parseKSpec('2-3')).toEqual([2, 3]);
    expect(parseKSpec('2, 3,5')).toEqual([2, 3, 5]);
    expect(parseKSpec('4')).toEqual([4]);
  });

  it.each([
    [[], /empty k list/],
    [{ min: 5, max: 2 }, /empty k range/],
    ['6..2', /empty k range/],
    [0, /positive integer/],
    [[1, 2.5], /positive integer/],
    ['a..b', /cannot read k/],
  ] as const)('rejects %j', (spec, message) => {
    expect(() => parseKSpec(spec as never)).toThrow(InvalidArgumentError);
    expect(() => parseKSpec(spec as never)).toThrow(message);
  });
});

describe('cellSeed', () => {
  it('depends on the master seed and k only: every family at one k shares it', () => {
    expect(cellSeed(0, 2)).toBe(cellSeed(0, 2));
    expect(new Set([cellSeed(0, 2), cellSeed(0, 3), cellSeed(1, 2)]).size).toBe(3);
  });
});
