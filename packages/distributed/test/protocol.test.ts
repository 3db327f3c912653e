import { describe, expect, it } from 'vitest';
import {
  PROTOCOL_VERSION,
  checkResult,
  decodeF64,
  decodeStats,
  encodeF64,
  encodeStats,
  expandShards,
  parseRedisUrl,
  proportionalQuotas,
  rejectJob,
} from '../src/index.js';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

describe('wire format', () => {
  it('float64 arrays survive base64 bit for bit (NaN payloads, -0, denormals, extremes)', () => {
    const a = Float64Array.from([0, -0, 1 / 3, -1e-310, Number.MAX_VALUE, Number.MIN_VALUE, Math.PI * 1e300]);
    const b = decodeF64(encodeF64(a));
    expect(new Uint8Array(b.buffer)).toEqual(new Uint8Array(a.buffer));
    // a view into a larger buffer encodes only its own bytes
    const view = new Float64Array(a.buffer, 8, 2);
    expect(Array.from(decodeF64(encodeF64(view)))).toEqual([-0, 1 / 3]);
    expect(() => decodeF64(Buffer.from([1, 2, 3]).toString('base64'))).toThrow(/not a multiple of 8/);
  });

  it('statistics round-trip with and without a reference', () => {
    const s = {
      n: 3,
      nk: Float64Array.from([1.5, 1.5]),
      sumX: Float64Array.from([1, 2, 3, 4]),
      second: Float64Array.from([9, 8, 7, 6]),
    };
    expect(decodeStats(encodeStats(s))).toEqual(s);
    const r = { ...s, reference: Float64Array.from([0.5, 0.25, 0, -1]) };
    expect(decodeStats(encodeStats(r))).toEqual(r);
  });

  it('results of another fit, flow, shard, operation or version are rejected', () => {
    const good = {
      v: PROTOCOL_VERSION,
      fitId: 'f1',
      seq: 4,
      shard: 2,
      op: 'pass',
      ok: true,
      worker: 'w',
      backend: 'cpu',
    };
    const expected = { fitId: 'f1', seq: 4, shard: 2, op: 'pass' as const };
    expect(checkResult(good, expected)).toBe(good);
    expect(() => checkResult({ ...good, v: PROTOCOL_VERSION + 1 }, expected)).toThrow(/protocol version 2/);
    expect(() => checkResult({ ...good, fitId: 'f2' }, expected)).toThrow(/another fit \(f2, expected f1\)/);
    expect(() => checkResult({ ...good, seq: 3 }, expected)).toThrow(/expected pass #4 of shard 2/);
    expect(() => checkResult({ ...good, shard: 1 }, expected)).toThrow(/expected pass #4/);
    expect(() => checkResult({ ...good, op: 'scan' }, expected)).toThrow(/expected pass/);
    expect(() => checkResult('x', expected)).toThrow(/not an object/);
  });

  it('workers refuse jobs of another version, without a fit id or with an unknown operation', () => {
    const job = { v: PROTOCOL_VERSION, fitId: 'f', seq: 0, shard: 0, source: '/d.csv', op: 'scan' };
    expect(rejectJob(job)).toBeUndefined();
    expect(rejectJob({ ...job, v: 0 })).toMatch(/protocol version 0; this worker speaks version 1/);
    expect(rejectJob({ ...job, fitId: '' })).toMatch(/no fit id/);
    expect(rejectJob({ ...job, op: 'eval' })).toMatch(/unknown operation 'eval'/);
    expect(rejectJob(null)).toMatch(/not an object/);
  });
});

describe('parseRedisUrl', () => {
  it('reads host, port, user, password, database and TLS; masks the password', () => {
    expect(parseRedisUrl('redis://cache.internal').options).toMatchObject({
      host: 'cache.internal',
      port: 6379,
    });
    const t = parseRedisUrl('rediss://gmm:p%40ss%3Aword@10.0.0.5:6380/2');
    expect(t.options).toMatchObject({
      host: '10.0.0.5',
      port: 6380,
      username: 'gmm',
      password: 'p@ss:word',
      db: 2,
      tls: { servername: '10.0.0.5' },
    });
    expect(t.display).toBe('rediss://gmm@10.0.0.5:6380/2');
    expect(parseRedisUrl('redis://:secret@[::1]:7000').options).toMatchObject({
      host: '::1',
      port: 7000,
      password: 'secret',
    });
  });

  it('rejects what is not a Redis URL, in one line naming it (without the password)', () => {
    expect(() => parseRedisUrl('')).toThrow(/empty/);
    expect(() => parseRedisUrl('localhost:6379')).toThrow(/scheme must be redis:\/\/ or rediss:\/\//);
    expect(() => parseRedisUrl('http://h:1')).toThrow(/not http:\/\//);
    expect(() => parseRedisUrl('redis://h:1/cache')).toThrow(/database number/);
    expect(() => parseRedisUrl('redis://:hunter2@h:99999')).toThrow(
      /invalid Redis URL 'redis:\/\/:\*\*\*@h:99999'/,
    );
  });
});

describe('proportionalQuotas', () => {
  it('splits the sample over the shards by size, exactly, never more than a shard has', () => {
    expect(proportionalQuotas([100, 100, 100], 30)).toEqual([10, 10, 10]);
    expect(proportionalQuotas([1, 1000, 10], 100)).toEqual([0, 99, 1]);
    const q = proportionalQuotas([7, 3, 5, 11], 13);
    expect(q.reduce((a, b) => a + b, 0)).toBe(13);
    q.forEach((v, i) => expect(v).toBeLessThanOrEqual([7, 3, 5, 11][i]!));
  });
});

describe('expandShards', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gmm-expand-'));
  for (const name of ['part-10.csv', 'part-2.csv', 'part-1.csv', 'other.csv'])
    writeFileSync(join(dir, name), 'a\n1\n');
  mkdirSync(join(dir, 'part-3.csv')); // a directory is not a shard

  it('expands wildcards in file names in numeric order; keeps URLs; makes paths absolute', () => {
    expect(expandShards(['part-*.csv'], dir)).toEqual(
      ['part-1.csv', 'part-2.csv', 'part-10.csv'].map((n) => join(dir, n)),
    );
    expect(expandShards(['other.csv', 'https://data.example/p1.csv'], dir)).toEqual([
      join(dir, 'other.csv'),
      'https://data.example/p1.csv',
    ]);
    expect(expandShards(['part-?.csv'], dir)).toEqual([join(dir, 'part-1.csv'), join(dir, 'part-2.csv')]);
  });

  it('refuses patterns that match nothing, wildcards in directories and duplicates', () => {
    expect(() => expandShards(['nothing-*.csv'], dir)).toThrow(
      /no file matches the shard pattern 'nothing-\*.csv'/,
    );
    expect(() => expandShards(['*/part-1.csv'], dir)).toThrow(/file name only/);
    expect(() => expandShards(['part-1.csv', 'part-*.csv'], dir)).toThrow(/listed twice/);
  });
});
