import { describe, expect, it } from 'vitest';
import { shareable } from '../src/index.js';

describe('shareable', () => {
  it('keeps an array that spans a whole SharedArrayBuffer, and copies anything else onto one', () => {
    const whole = new Float64Array(new SharedArrayBuffer(4 * 8));
    whole.set([1, 2, 3, 4]);
    expect(shareable(whole)).toBe(whole);
    // a view of part of a shared buffer: workers would read the buffer from offset 0, so it is copied
    const part = whole.subarray(1, 3);
    const partCopy = shareable(part);
    expect(partCopy).not.toBe(part);
    expect(Array.from(partCopy)).toEqual([2, 3]);
    expect(partCopy.buffer).toBeInstanceOf(SharedArrayBuffer);
    const plain = Float64Array.from([5, 6]);
    const plainCopy = shareable(plain);
    expect(plainCopy).not.toBe(plain);
    expect(Array.from(plainCopy)).toEqual([5, 6]);
    expect(plainCopy.buffer).toBeInstanceOf(SharedArrayBuffer);
  });
});
