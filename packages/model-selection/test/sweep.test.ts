import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadPluginModule, pluginModule, type Criterion } from '@gmmkit/core';
import { createSelectionContainer } from '../src/criteria.js';
import { formatSweepTable } from '../src/format.js';
import { activeWorkerCount } from '../src/pool.js';
import { sweep, type SweepResult, type SweepRow } from '../src/sweep.js';
import { faithful, fixtureData, iris, sklearnTable } from './helpers.js';

const packageDir = fileURLToPath(new URL('..', import.meta.url));

/** Everything but the timing: what must not depend on the worker count. */
const strip = (rows: SweepRow[]) => rows.map(({ seconds: _s, ...rest }) => rest);
const bestK = (r: SweepResult, family: string, key: 'bic' | 'icl' | 'aic' = 'bic') => {
  const rows = r.rows.filter((x) => x.covarianceType === family && x.error === undefined);
  return rows.reduce((a, b) => (b[key] < a[key] ? b : a)).k;
};

describe('sweep quality (against scikit-learn 1.2.1 reference tables)', () => {
  it('iris, 4 columns, full covariance: BIC picks k = 2, as scikit-learn', async () => {
    const ref = sklearnTable('iris');
    const r = await sweep({ data: iris(), k: '1..6', covarianceTypes: ['full'], nInit: 10, workers: 0 });
    try {
      expect(r.best.k).toBe(2);
      expect(r.best.covarianceType).toBe('full');
      expect(r.best.k).toBe(ref.best.bic.perCovarianceType['full']);
      // Same optimum as scikit-learn at the chosen cell.
      const refRow = ref.rows.find((x) => x.covarianceType === 'full' && x.k === 2)!;
      expect(r.best.bic).toBeCloseTo(refRow.bic, 1);
      expect(r.model.state.k).toBe(2);
    } finally {
      r.model.dispose();
    }
  });

  it('faithful: full picks k = 2 and tied k = 3, as scikit-learn and mclust; icl = bic + 2 entropy', async () => {
    const ref = sklearnTable('faithful');
    // nInit = 10 as the reference: tied k = 3 is a narrow optimum that one k-means start can miss.
    const r = await sweep({
      data: faithful(),
      k: '1..5',
      covarianceTypes: ['full', 'tied'],
      nInit: 10,
      workers: 0,
    });
    try {
      expect(bestK(r, 'full')).toBe(2);
      expect(bestK(r, 'tied')).toBe(3);
      expect(bestK(r, 'full')).toBe(ref.best.bic.perCovarianceType['full']);
      expect(bestK(r, 'tied')).toBe(ref.best.bic.perCovarianceType['tied']);
      expect(r.best).toMatchObject({ covarianceType: 'tied', k: 3 }); // sklearn's overall pick too
      // ICL penalizes the overlapping third component: both families pick k = 2, as the reference.
      expect(bestK(r, 'full', 'icl')).toBe(ref.best.icl.perCovarianceType['full']);
      expect(bestK(r, 'tied', 'icl')).toBe(ref.best.icl.perCovarianceType['tied']);
      expect(bestK(r, 'tied', 'icl')).toBe(2);
      for (const row of r.rows) {
        expect(row.error).toBeUndefined();
        expect(row.score).toBe(row.bic);
        expect(row.icl).toBeGreaterThanOrEqual(row.bic);
        expect(row.icl - row.bic).toBeCloseTo(2 * row.entropy, 6);
        const refRow = ref.rows.find((x) => x.covarianceType === row.covarianceType && x.k === row.k)!;
        expect(row.nParameters).toBe(refRow.nParameters);
      }
      for (const [family, k] of [
        ['full', 2],
        ['tied', 3],
      ] as const) {
        const mine = r.rows.find((x) => x.covarianceType === family && x.k === k)!;
        const theirs = ref.rows.find((x) => x.covarianceType === family && x.k === k)!;
        // Same optimum up to where EM stops (tol 1e-3 on the mean lower bound).
        expect(Math.abs(mine.bic - theirs.bic) / theirs.bic).toBeLessThan(1e-3);
      }
      const table = formatSweepTable(r);
      expect(table).toMatch(/^k \\ bic\s+full\s+tied$/m);
      expect(table).toMatch(/^3 .*\*$/m);
      expect(table).toContain('best: tied, k = 3');
    } finally {
      r.model.dispose();
    }
  });

  it.each([
    ['blobs2d', ['full', 'diag']],
    ['mix5d', ['full']],
  ] as const)('synthetic %s: BIC recovers the true k', async (name, families) => {
    const { X, k } = fixtureData(name);
    const r = await sweep({ data: X, k: '1..6', covarianceTypes: families, nInit: 2, workers: 0 });
    try {
      expect(r.best.k).toBe(k);
      expect(bestK(r, 'full')).toBe(sklearnTable(name).best.bic.perCovarianceType['full']);
    } finally {
      r.model.dispose();
    }
  });
});

describe('sweep mechanics', () => {
  it('gives identical tables and models with 1 or 2 workers (seeds per cell, not per schedule)', async () => {
    const opts = {
      data: faithful(),
      k: '1..4',
      covarianceTypes: ['full', 'tied', 'diag', 'spherical'],
      criterion: 'icl',
      seed: 11,
    };
    const a = await sweep({ ...opts, workers: 1 });
    const b = await sweep({ ...opts, workers: 2 });
    // By default a sweep this small (272 x 2 x 16 cells) stays in-process: workers would cost more than they save.
    const c = await sweep(opts);
    try {
      expect(a.workers).toBe(0);
      expect(b.workers).toBe(2);
      expect(c.workers).toBe(0);
      expect(strip(c.rows)).toEqual(strip(a.rows));
      expect(activeWorkerCount()).toBe(0); // a finished sweep leaves no thread behind
      expect(strip(b.rows)).toEqual(strip(a.rows));
      expect(b.best).toMatchObject({
        k: a.best.k,
        covarianceType: a.best.covarianceType,
        score: a.best.score,
      });
      expect(b.model.toJSON()).toEqual(a.model.toJSON());
    } finally {
      a.model.dispose();
      b.model.dispose();
    }
  });

  it('shares rows given on a SharedArrayBuffer with the workers as they are, and leaves them unchanged', async () => {
    const rows = faithful();
    const flat = new Float64Array(new SharedArrayBuffer(rows.length * 2 * 8));
    flat.set(rows.flat());
    const before = Float64Array.from(flat);
    const opts = { k: '1..3', covarianceTypes: ['full', 'diag'], seed: 3 };
    const a = await sweep({ ...opts, data: rows, workers: 0 });
    // three lanes: the calling thread and two workers, or three workers
    const b = await sweep({ ...opts, data: { data: flat, shape: [rows.length, 2] }, workers: 3 });
    const c = await sweep({ ...opts, data: { data: flat, shape: [rows.length, 2] }, workers: 3, callingThread: false });
    try {
      expect([b.workers, c.workers]).toEqual([3, 3]);
      expect(strip(b.rows)).toEqual(strip(a.rows));
      expect(strip(c.rows)).toEqual(strip(a.rows));
      expect(flat).toEqual(before);
      expect(activeWorkerCount()).toBe(0);
    } finally {
      a.model.dispose();
      b.model.dispose();
      c.model.dispose();
    }
  });

  it('startFrom refits a family from other families\' converged partitions at the same k and keeps the better fit', async () => {
    const opts = { data: iris(), k: '2..5', covarianceTypes: ['full', 'tied', 'diag', 'spherical'], seed: 3, tol: 1e-5 };
    const plain = await sweep({ ...opts, workers: 0 });
    const from = await sweep({ ...opts, workers: 0, startFrom: { spherical: ['full', 'tied', 'diag'] } });
    const pooled = await sweep({ ...opts, workers: 2, startFrom: { spherical: ['full', 'tied', 'diag'] } });
    try {
      expect(pooled.workers).toBe(2);
      expect(strip(pooled.rows)).toEqual(strip(from.rows)); // the cross starts do not depend on workers
      const other = (r: SweepResult) => strip(r.rows.filter((x) => x.covarianceType !== 'spherical'));
      expect(other(from)).toEqual(other(plain));
      let taken = 0;
      for (const row of from.rows.filter((x) => x.covarianceType === 'spherical')) {
        const base = plain.rows.find((x) => x.covarianceType === 'spherical' && x.k === row.k)!;
        expect(row.logLikelihood).toBeGreaterThanOrEqual(base.logLikelihood);
        if (row.startedFrom === undefined) expect(strip([row])).toEqual(strip([base]));
        else {
          taken++;
          expect(['full', 'tied', 'diag']).toContain(row.startedFrom);
          expect(row.logLikelihood).toBeGreaterThan(base.logLikelihood);
        }
      }
      expect(taken).toBeGreaterThan(0);
      await expect(sweep({ ...opts, startFrom: { spherical: ['VVE'] } })).rejects.toThrow(/startFrom names 'VVE', which is not in covarianceTypes/);
    } finally {
      plain.model.dispose();
      from.model.dispose();
      pooled.model.dispose();
    }
  });

  it('reports progress cell by cell', async () => {
    const seen: [number, number][] = [];
    const r = await sweep({
      data: faithful(),
      k: [1, 2],
      covarianceTypes: ['diag', 'spherical'],
      workers: 0,
      onProgress: (p) => seen.push([p.done, p.total]),
    });
    r.model.dispose();
    expect(seen).toEqual([
      [1, 4],
      [2, 4],
      [3, 4],
      [4, 4],
    ]);
  });

  it('patience stops a family after that many k without improvement; the kept rows equal the full sweep', async () => {
    const { X } = fixtureData('blobs2d');
    const base = { data: X, k: '1..8', covarianceTypes: ['full', 'spherical'], seed: 3 };
    const full = await sweep({ ...base, workers: 0 });
    const early = await sweep({ ...base, patience: 2, workers: 0 });
    const earlyPool = await sweep({ ...base, patience: 2, workers: 2 });
    try {
      for (const family of ['full', 'spherical']) {
        const all = full.rows.filter((r) => r.covarianceType === family);
        // Where the rule says the family stops, computed from the full table.
        let best = Infinity;
        let worse = 0;
        let stop = all[all.length - 1]!.k;
        for (const r of all) {
          if (r.score < best) [best, worse] = [r.score, 0];
          else if (++worse >= 2) {
            stop = r.k;
            break;
          }
        }
        const kept = early.rows.filter((r) => r.covarianceType === family);
        expect(kept.map((r) => r.k)).toEqual(all.filter((r) => r.k <= stop).map((r) => r.k));
        expect(strip(kept)).toEqual(strip(all.filter((r) => r.k <= stop)));
      }
      // blobs2d has 3 clusters: full covariance stops well before k = 8.
      expect(Math.max(...early.rows.filter((r) => r.covarianceType === 'full').map((r) => r.k))).toBeLessThan(
        8,
      );
      expect(earlyPool.workers).toBe(2);
      expect(strip(earlyPool.rows)).toEqual(strip(early.rows));
      expect(early.best).toMatchObject({ k: 3, covarianceType: 'full' });
    } finally {
      for (const r of [full, early, earlyPool]) r.model.dispose();
    }
  });

  it('reports a failing cell in its row and goes on, in-process and on workers (plugin by specifier)', async () => {
    for (const workers of [0, 2]) {
      const r = await sweep({
        data: faithful(),
        k: '1..4',
        covarianceTypes: ['fragile', 'tied'],
        plugins: ['./test/fixtures/fragile-plugin.js'],
        pluginBaseDir: packageDir,
        workers,
      });
      try {
        expect(r.workers).toBe(workers);
        expect(r.rows).toHaveLength(8);
        const failed = r.rows.filter((x) => x.error !== undefined);
        expect(failed.map((x) => [x.covarianceType, x.k])).toEqual([
          ['fragile', 3],
          ['fragile', 4],
        ]);
        for (const f of failed) {
          expect(f.error).toMatch(/^SingularCovarianceError: fragile: .*raise regCovar/);
          expect(f.score).toBeNaN();
          expect(f.bic).toBeNaN();
        }
        const ok = r.rows.filter((x) => x.error === undefined);
        expect(r.best).toBe(ok.reduce((a, b) => (b.score < a.score ? b : a)));
        // One line per distinct reason, naming every cell that failed with it.
        const failedLines = formatSweepTable(r)
          .split('\n')
          .filter((l) => l.startsWith('failed'));
        const reasons = new Set(failed.map((x) => x.error));
        expect(failedLines).toHaveLength(reasons.size);
        expect(failedLines.join('\n')).toMatch(/^failed \(fragile k=3(, fragile k=4)?\): SingularCovarianceError/);
        expect(failedLines.join('\n')).toContain('fragile k=4');
      } finally {
        r.model.dispose();
      }
    }
  });

  it('runs in-process when a custom container binds families the workers cannot see; takes a Criterion object', async () => {
    const fragile = (await loadPluginModule('./test/fixtures/fragile-plugin.js', packageDir))
      .covarianceFamilies![0]!;
    const container = createSelectionContainer(pluginModule({ covarianceFamilies: [fragile] }));
    const aic3: Criterion = {
      name: 'aic3',
      description: 'AIC with 3 per parameter',
      score: (i) => -2 * i.logLikelihood + 3 * i.nParameters,
    };
    const r = await sweep({
      data: faithful(),
      k: [1, 2],
      covarianceTypes: ['fragile', 'diag'],
      container,
      criterion: aic3,
      workers: 2,
    });
    try {
      expect(r.workers).toBe(0);
      expect(r.criterion).toBe('aic3');
      for (const row of r.rows) expect(row.score).toBeCloseTo(row.aic + row.nParameters, 9);
    } finally {
      r.model.dispose();
    }
    // Built-in families in a custom container are the very same objects: workers are fine.
    const builtins = await sweep({
      data: faithful(),
      k: [1, 2],
      covarianceTypes: ['diag'],
      container,
      workers: 2,
    });
    expect(builtins.workers).toBe(2);
    builtins.model.dispose();
  });

  it('a worker that dies mid-cell fails that cell only; a replacement takes the rest', async () => {
    const r = await sweep({
      data: faithful(),
      k: '1..3',
      covarianceTypes: ['crashy', 'diag'],
      plugins: ['./test/fixtures/crashy-plugin.js'],
      pluginBaseDir: packageDir,
      workers: 2,
      // every cell on a worker thread, so the crashing cell is on one
      callingThread: false,
    });
    try {
      expect(r.workers).toBe(2);
      expect(r.rows).toHaveLength(6);
      const failed = r.rows.filter((x) => x.error !== undefined);
      expect(failed.map((x) => [x.covarianceType, x.k])).toEqual([['crashy', 2]]);
      expect(failed[0]!.error).toMatch(/worker exited unexpectedly \(exit code 7\)/);
      expect(r.rows.find((x) => x.covarianceType === 'crashy' && x.k === 3)!.error).toBeUndefined();
      expect(activeWorkerCount()).toBe(0);
    } finally {
      r.model.dispose();
    }
  });
});
