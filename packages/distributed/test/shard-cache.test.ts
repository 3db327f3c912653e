import { describe, expect, it } from 'vitest';
import { initBackend, tf } from '@gmmkit/tfjs';
import { ShardCache, type ShardTable } from '../src/index.js';

/** A reader that counts its reads: shard `name` has `rows` rows of 2 columns. */
function countingReader() {
  const reads: string[] = [];
  const read = async (source: string): Promise<ShardTable> => {
    reads.push(source);
    const rows = Number(source.split(':')[1]);
    return { rows, cols: 2, data: Float64Array.from({ length: rows * 2 }, (_, i) => i), columns: ['a', 'b'] };
  };
  return { reads, read };
}

describe('ShardCache', () => {
  it('reads a shard once, keeps shards within the budget, drops the least recently used first', async () => {
    const { reads, read } = countingReader();
    // 100 rows x 2 columns x 8 bytes = 1600 bytes per shard; room for two.
    const cache = new ShardCache(3500, read);
    await cache.table('a:100', undefined);
    await cache.table('b:100', undefined);
    await cache.table('a:100', undefined); // hit: a becomes the most recent
    expect(reads).toEqual(['a:100', 'b:100']);
    await cache.table('c:100', undefined); // evicts b, the least recently used
    expect(cache.size).toBe(2);
    expect(cache.bytes).toBeLessThanOrEqual(3500);
    await cache.table('a:100', undefined);
    await cache.table('b:100', undefined);
    expect(reads).toEqual(['a:100', 'b:100', 'c:100', 'b:100']);
    // the same file with another column selection is another entry
    await cache.table('a:100', 'b');
    expect(reads.at(-1)).toBe('a:100');
  });

  it('concurrent jobs on one shard share one read', async () => {
    const { reads, read } = countingReader();
    const cache = new ShardCache(1e6, read);
    await Promise.all([
      cache.table('a:10', undefined),
      cache.table('a:10', undefined),
      cache.table('a:10', undefined),
    ]);
    expect(reads).toEqual(['a:10']);
  });

  it('uploads blocks once per center, frees them on eviction and clear(), and hands a shard larger than the budget to the caller', async () => {
    await initBackend('cpu');
    const { read } = countingReader();
    const before = tf.memory().numTensors;
    const cache = new ShardCache(1e6, read);
    const table = await cache.table('a:100', undefined);
    const center = new Float64Array([1, 2]);
    const first = cache.blocks(table, 'a:100', undefined, 'c1', center, 32);
    expect(first.owned).toBe(false);
    expect(first.blocks.tensors).toHaveLength(4);
    expect(Array.from(first.blocks.hostData.subarray(0, 2))).toEqual([
      table.data[0]! - 1,
      table.data[1]! - 2,
    ]);
    expect(cache.blocks(table, 'a:100', undefined, 'c1', center, 32).blocks).toBe(first.blocks);
    const moved = cache.blocks(table, 'a:100', undefined, 'c2', new Float64Array([0, 0]), 32);
    expect(moved.blocks).not.toBe(first.blocks);
    expect(tf.memory().numTensors).toBe(before + 4); // the first upload was freed
    cache.clear();
    expect(tf.memory().numTensors).toBe(before);

    const tiny = new ShardCache(100, read); // smaller than one shard
    const big = await tiny.table('a:100', undefined);
    expect(tiny.size).toBe(0);
    const own = tiny.blocks(big, 'a:100', undefined, 'c1', center, 32);
    expect(own.owned).toBe(true);
    own.blocks.dispose();
    tiny.clear();
    expect(tf.memory().numTensors).toBe(before);
  });
});
