// gmmkit's sweep over mclust's models against mclust's own BIC tables
// (fixtures/generate-mclust.R): for every cell where both report a BIC,
// gmmkit's equals it or is better (a higher likelihood); the cells mclust
// reports NA are the ones gmmkit's degeneracy rules reject (the exceptions are
// asserted by kind and logged); the cells mclust reports that gmmkit rejects
// are compared under degenerate 'allow' from the same starts; and the best
// cell gmmkit does not reject is mclust's top model and k (or a better one).
// As mclust: no regularization (regCovar 0, so a collapsing component fails
// instead of scoring, and no re-seeding of a degenerate one), a tight tolerance, and its hc initialization; a second
// sweep from k-means starts covers cells where hc's path ends in a worse local
// optimum (gmmkit's M-steps are not mclust's at every step, so paths differ;
// VVE's differs on purpose). In both sweeps VVE's cells also start from the
// converged partitions of the four models one letter away (SweepOptions.startFrom):
// from hc and its own k-means start alone, diabetes VVE 8 ends below mclust's
// (-4832.61 against -4821.18); the seed of the sweep's cells changed (all
// families at one k share it) and with it VVE's k-means start, which had
// covered that cell.
import { pluginModule } from '@gmmkit/core';
import { createSelectionContainer, sweep, type SweepOptions, type SweepRow } from '@gmmkit/model-selection';
import { initBackend } from '@gmmkit/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { hcStats, mclustModelNames, mclustPlugins } from '../src/index.js';
import { DATASETS, loadFixture } from './fixtures.js';

beforeAll(async () => {
  await initBackend('wasm');
});

const CODE: Record<string, string> = { full: 'VVV', tied: 'EEE', diag: 'VVI', spherical: 'VII' };
const code = (family: string) => CODE[family] ?? family;
/** BIC units: float32 E-steps and convergence at tol leave ~1e-3; mclust prints 12 digits. */
const SLACK = 0.05;
/**
 * VVE's neighbours: the models one letter away (EVE, VEE, VVV, VVI). From hc
 * and k-means alone gmmkit's VVE ended below mclust's in banknote k = 5 and 7
 * (by 0.74 and 1.85); from EVE's partition it ends 11.5 and 18.7 above
 * (kmeans nInit 5 and emem reached k = 7, not 5). Measured in docs/plugins.md.
 */
const VVE_FROM = { VVE: ['EVE', 'VEE', 'full', 'diag'] };

// The cross starts made banknote's case the slowest (about 225 s of CPU alone; VVE's M-step is the
// slowest); under two CI runs at once on 2 cores it took over 600 s, hence the 30-minute bound.
describe.each(DATASETS)('%s', (name) => {
  const fx = loadFixture(name);
  it('every cell equals or beats mclust, its NA cells are rejected, and the best is its top model', { timeout: 1_800_000 }, async () => {
    const container = createSelectionContainer(pluginModule(mclustPlugins));
    const run = async (initParams: string, more: Partial<SweepOptions> = {}) => {
      const result = await sweep({
        data: fx.X,
        k: '1..9',
        covarianceTypes: mclustModelNames(fx.d),
        initParams,
        ...more,
        tol: 1e-5,
        regCovar: 0,
        // mclust's EM does not re-seed a collapsing component: end such a fit, as mclust does
        reseeds: 0,
        maxIter: 1000,
        workers: 0,
        container,
      });
      result.model.dispose();
      return new Map(result.rows.map((r) => [`${code(r.covarianceType)} ${r.k}`, r]));
    };
    const before = hcStats.computed;
    const hc = await run('hc', fx.d === 1 ? {} : { startFrom: VVE_FROM });
    // one agglomeration served all 9 k x 14 models (0 for 1-D data: quantile classes)
    expect(hcStats.computed - before).toBe(fx.d === 1 ? 0 : 1);
    const km = await run('kmeans', fx.d === 1 ? {} : { startFrom: VVE_FROM });
    const rejected = (r: SweepRow | undefined) => r === undefined || r.error !== undefined || r.degenerate;
    const value = (r: SweepRow | undefined) => (rejected(r) ? -Infinity : -r!.bic);
    const why = (r: SweepRow) => r.error ?? r.degeneracy ?? '';

    const worse: string[] = [];
    let cells = 0;
    let hcBest = 0;
    const hcShort: string[] = [];
    // mclust's NA cells gmmkit rejects too, those it keeps, and cells mclust reports that gmmkit rejects
    let bothRefuse = 0;
    const keptNA: string[] = [];
    const refusedReported: string[] = [];
    const refusedCells: { cell: string; family: string; k: number; theirs: number }[] = [];
    let best = { cell: '', bic: -Infinity };
    for (const [cell, row] of hc) {
      const [model, k] = cell.split(' ');
      const theirs = fx.bic[model!]![Number(k) - 1];
      const ours = Math.max(value(row), value(km.get(cell)));
      // the choice is made over every cell gmmkit does not reject, as `gmm sweep` makes it
      if (ours > best.bic) best = { cell, bic: ours };
      if (theirs === null || theirs === undefined) {
        // the same start as mclust's (hc): does gmmkit refuse the fit mclust refuses?
        if (rejected(row)) bothRefuse++;
        else keptNA.push(`${cell} (mclust return code ${fx.returnCodes[model!]![Number(k) - 1]}): ${value(row).toFixed(2)}`);
        continue;
      }
      // mclust's value there is the fit gmmkit rejects from the same start: nothing to compare
      if (rejected(row)) {
        refusedReported.push(`${cell} (mclust ${theirs.toFixed(2)}): ${why(row)}`);
        refusedCells.push({ cell, family: row!.covarianceType, k: Number(k), theirs });
        continue;
      }
      cells++;
      if (value(row) >= ours - SLACK) hcBest++;
      if (!(value(row) >= theirs - SLACK)) hcShort.push(`${cell} ${value(row).toFixed(2)} < ${theirs.toFixed(2)}`);
      if (!(ours >= theirs - SLACK)) worse.push(`${cell}: ${ours.toFixed(3)} < mclust ${theirs.toFixed(3)}`);
    }
    // The cells mclust reports that gmmkit rejects, fitted again from the same starts without
    // the check ('allow'): gmmkit's fit there equals or beats mclust's too.
    const allowShort: string[] = [];
    const allowSingular: string[] = [];
    if (refusedCells.length > 0) {
      const more: Partial<SweepOptions> = {
        k: [...new Set(refusedCells.map((c) => c.k))],
        covarianceTypes: [...new Set(refusedCells.map((c) => c.family))],
        degenerate: 'allow',
      };
      const [hcAllow, kmAllow] = [await run('hc', more), await run('kmeans', more)];
      for (const { cell, theirs } of refusedCells) {
        const rows = [hcAllow.get(cell), kmAllow.get(cell)];
        const ours = Math.max(...rows.map(value), value(km.get(cell)));
        if (ours >= theirs - SLACK) continue;
        // Unchecked, EM from both starts climbs past mclust's value on into a collapsing
        // component (thyroid EVV 7 and 8, measured: from hc, -5250.23 at iteration 30 against
        // mclust's -5250.15, -5247.62 at 40, then a singular covariance): mclust's is a point on
        // that ascent where its tolerance stopped it, not a maximum. Only such cells may fall short.
        if (rows.every((r) => /SingularCovarianceError/.test(r?.error ?? ''))) allowSingular.push(cell);
        else allowShort.push(`${cell}: ${ours.toFixed(3)} < mclust ${theirs.toFixed(3)}`);
      }
    }
    const na = Object.values(fx.bic).flat().filter((b) => b === null).length;
    console.log(`${name}: ${cells} cells both report, hc alone as good as the best in ${hcBest}, short of mclust in ${hcShort.length} (${hcShort.join('; ')}); best ${best.cell} ${best.bic.toFixed(3)}, mclust ${fx.top.model} ${fx.top.k} ${fx.top.bic}`);
    console.log(`${name}: mclust NA in ${na} cells, gmmkit rejects ${bothRefuse} of them, keeps [${keptNA.join('; ')}]; rejects ${refusedReported.length} cells mclust reports [${refusedReported.join('; ')}]`);
    const started = [...hc.values()].filter((r) => r.startedFrom !== undefined).map((r) => `${code(r.covarianceType)} ${r.k} from ${code(r.startedFrom!)}`);
    console.log(`${name}: VVE cells kept a neighbour's start in [${started.join('; ')}]; under 'allow' ${refusedCells.length - allowShort.length - allowSingular.length} of the ${refusedCells.length} cells it rejects equal or beat mclust, short in [${allowShort.join('; ')}], singular past mclust's value in [${allowSingular.join('; ')}]`);
    expect(worse).toEqual([]);
    expect(allowShort).toEqual([]);
    // The NA cells gmmkit keeps are VEE fits with components of 2..d points: mclust's VEE
    // needs every component's scatter positive definite, the model only λ_k (2 points).
    expect(keptNA.filter((c) => !c.startsWith('VEE '))).toEqual([]);
    // The cells mclust reports that gmmkit rejects (compared above under 'allow'): a component
    // of fewer effective points (w_k n, soft) than its own parts need, as for the built-ins,
    // where mclust only asks for a positive definite scatter; or, where a cross start's fit
    // was kept (banknote VVE 8, from VVV), a variance pinned at the floor. None is mclust's choice.
    expect(refusedReported.filter((c) => !/effective points|pinned at the regCovar floor/.test(c))).toEqual([]);
    expect(refusedReported.some((c) => c.startsWith(`${fx.top.model} ${fx.top.k} `))).toBe(false);
    // the best cell gmmkit keeps is mclust's top, or one whose BIC beats it
    if (best.cell !== `${fx.top.model} ${fx.top.k}`) expect(best.bic).toBeGreaterThan(fx.top.bic + SLACK);
    expect(best.bic).toBeGreaterThanOrEqual(fx.top.bic - SLACK);
  });
});
