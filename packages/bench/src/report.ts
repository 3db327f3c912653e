/**
 * The results object (written as JSON) and its two renderings: plain-text
 * tables for stdout and docs/benchmarks.md.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH_ROOT, type MclustEnv, type SklearnEnv } from './external.js';
import type { Family } from './data.js';
import { rooflineMs } from './roofline.js';
import { ratio } from './stats.js';

export const SKLEARN = 'scikit-learn';
export const MCLUST = 'mclust';
export const PEER = 'gaussian-mixture-model';

/** One implementation's number in one section; `skipped` says why there is none. */
export interface Measurement {
  implementation: string;
  /** Median ms per EM iteration (per-iter, peer). */
  msPerIter?: number;
  /** Median total ms (sweep, large). */
  ms?: number;
  /** The per-repeat values the median was taken over. */
  runs?: number[];
  peakRssBytes?: number;
  /** Mean log-likelihood lower bound after the timed fit's iterations (checks that the same work was done). */
  lowerBound?: number;
  skipped?: string;
  note?: string;
}

export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryBytes: number;
  os: string;
  node: string;
  /** 1-minute load average when the run started and ended (other work on the machine makes numbers noisy). */
  loadAverage: { start: number; end: number };
}

export interface BenchResults {
  format: 'gmmkit.bench';
  version: 1;
  generatedAt: string;
  argv: string[];
  quick: boolean;
  repeats: number;
  machine: MachineInfo;
  references: {
    sklearn: SklearnEnv;
    mclust: MclustEnv;
    peer: { available: boolean; version?: string; reason?: string; choleskyTools?: string };
  };
  perIter?: {
    n: number;
    d: number;
    k: number;
    /** EM iterations per timed fit, by implementation. */
    iters: Record<string, number>;
    families: { family: string; mclustModel: string; entries: Measurement[] }[];
    /** The main backend's matMul throughput (roofline.ts), one thread. */
    roofline?: { backend: string; gflops: number; size: number };
  };
  peer?: { n: number; d: number; k: number; family: string; iters: number; entries: Measurement[] };
  sweep?: { n: number; d: number; ks: number[]; families: string[]; entries: Measurement[] };
  large?: {
    n: number;
    d: number;
    k: number;
    family: string;
    iters: number;
    goalBytes: number;
    entries: Measurement[];
  };
  notes: string[];
}

export interface Table {
  title: string;
  headers: string[];
  rows: string[][];
  /** Column alignment (default: first column left, the rest right). */
  align?: ('l' | 'r')[];
  /** A line printed under the table. */
  footnote?: string;
}

const fmtMs = (ms: number | undefined): string =>
  ms === undefined || !Number.isFinite(ms)
    ? '-'
    : ms >= 100
      ? ms.toFixed(0)
      : ms >= 10
        ? ms.toFixed(1)
        : ms.toFixed(2);
const fmtRatio = (r: number | null): string => (r === null ? '-' : `${r.toFixed(2)}x`);
export const fmtBytes = (b: number | undefined): string =>
  b === undefined
    ? '-'
    : b >= 2 ** 30
      ? `${(b / 2 ** 30).toFixed(2)} GiB`
      : `${(b / 2 ** 20).toFixed(0)} MiB`;

function cell(m: Measurement | undefined, key: 'msPerIter' | 'ms', ref: number | undefined): string {
  if (!m) return '-';
  if (m.skipped !== undefined) return 'skipped';
  const v = m[key];
  if (v === undefined) return '-';
  return m.implementation === SKLEARN ? fmtMs(v) : `${fmtMs(v)} (${fmtRatio(ratio(v, ref))})`;
}

/** Implementations in first-seen order across a list of entry lists. */
function implementations(lists: Measurement[][]): string[] {
  const seen: string[] = [];
  for (const list of lists)
    for (const m of list) if (!seen.includes(m.implementation)) seen.push(m.implementation);
  return seen;
}

/** The tables of a results object, in report order. */
export function buildTables(res: BenchResults): Table[] {
  const tables: Table[] = [];
  if (res.perIter) {
    const p = res.perIter;
    const impls = implementations(p.families.map((f) => f.entries));
    const iters = Object.entries(p.iters)
      .map(([impl, n]) => `${impl}: ${n}`)
      .join(', ');
    const r = p.roofline;
    const rooflineNote =
      r === undefined
        ? ''
        : ` Roofline: the iteration's flops (packages/bench/src/roofline.ts: the E-step, posterior and M-step statistics as the engine computes them) at the ${r.backend} backend's measured ${r.size} x ${r.size} matMul throughput on one thread, ${r.gflops.toFixed(1)} GFLOP/s: a floor for the "1 thread" column.`;
    tables.push({
      title: `Per-iteration EM time, ms (ratio vs ${SKLEARN}): N=${p.n}, D=${p.d}, K=${p.k}`,
      footnote: `EM iterations per timed fit: ${iters}.${rooflineNote}`,
      headers: ['family', ...impls, ...(r === undefined ? [] : ['roofline, 1 thread'])],
      rows: p.families.map((f) => {
        const ref = f.entries.find((m) => m.implementation === SKLEARN)?.msPerIter;
        const label = `${f.family} (${f.mclustModel})`;
        return [
          label,
          ...impls.map((impl) =>
            cell(
              f.entries.find((m) => m.implementation === impl),
              'msPerIter',
              ref,
            ),
          ),
          ...(r === undefined ? [] : [fmtMs(rooflineMs(f.family as Family, p.n, p.d, p.k, r.gflops))]),
        ];
      }),
    });
  }
  if (res.peer) {
    const p = res.peer;
    const ref = p.entries.find((m) => m.implementation === SKLEARN)?.msPerIter;
    tables.push({
      title: `JS peer, ${p.family} covariance, ms per EM iteration: N=${p.n}, D=${p.d}, K=${p.k}`,
      headers: ['implementation', 'ms/iteration', `vs ${SKLEARN}`],
      rows: p.entries.map((m) => [
        m.implementation,
        m.skipped !== undefined ? `skipped: ${m.skipped}` : fmtMs(m.msPerIter),
        fmtRatio(ratio(m.msPerIter, ref)),
      ]),
    });
  }
  if (res.sweep) {
    const s = res.sweep;
    const ref = s.entries.find((m) => m.implementation === SKLEARN)?.ms;
    tables.push({
      title: `Sweep k=${s.ks[0]}..${s.ks[s.ks.length - 1]} x ${s.families.length} families (BIC): N=${s.n}, D=${s.d}`,
      headers: ['implementation', 'total ms', `vs ${SKLEARN}`, 'note'],
      align: ['l', 'r', 'r', 'l'],
      rows: s.entries.map((m) => [
        m.implementation,
        m.skipped !== undefined ? `skipped: ${m.skipped}` : fmtMs(m.ms),
        fmtRatio(ratio(m.ms, ref)),
        m.note ?? '',
      ]),
    });
  }
  if (res.large) {
    const l = res.large;
    tables.push({
      title: `Peak resident memory, ${l.family} fit: N=${l.n}, D=${l.d}, K=${l.k}, ${l.iters} iterations (goal < ${fmtBytes(l.goalBytes)})`,
      headers: ['implementation', 'peak RSS', 'fit ms', 'note'],
      align: ['l', 'r', 'r', 'l'],
      rows: l.entries.map((m) => [
        m.implementation,
        m.skipped !== undefined ? `skipped: ${m.skipped}` : fmtBytes(m.peakRssBytes),
        fmtMs(m.ms),
        m.note ?? '',
      ]),
    });
  }
  return tables;
}

export function renderText(table: Table): string {
  const widths = table.headers.map((h, i) =>
    Math.max(h.length, ...table.rows.map((r) => (r[i] ?? '').length)),
  );
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [
    table.title,
    line(table.headers),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...table.rows.map(line),
  ].join('\n');
}

export function renderMarkdownTable(table: Table): string {
  const esc = (s: string): string => s.replace(/\|/g, '\\|');
  return [
    `| ${table.headers.map(esc).join(' | ')} |`,
    `|${table.headers.map((_, i) => ((table.align?.[i] ?? (i === 0 ? 'l' : 'r')) === 'l' ? ' --- ' : ' ---: ')).join('|')}|`,
    ...table.rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ].join('\n');
}

/** The project's goals, checked against this run's numbers. */
export function targetLines(res: BenchResults): string[] {
  const lines: string[] = [];
  if (res.perIter) {
    const impls = implementations(res.perIter.families.map((f) => f.entries)).filter((i) =>
      i.startsWith('gmmkit'),
    );
    for (const impl of impls) {
      const parts: string[] = [];
      let measured = 0;
      let met = 0;
      for (const f of res.perIter.families) {
        const r = ratio(
          f.entries.find((m) => m.implementation === impl)?.msPerIter,
          f.entries.find((m) => m.implementation === SKLEARN)?.msPerIter,
        );
        if (r === null) continue;
        measured++;
        if (r <= 2) met++;
        parts.push(`${f.family} ${fmtRatio(r)}`);
      }
      if (measured > 0) {
        lines.push(
          `Per-iteration within 2x of ${SKLEARN} (${impl}): ${met} of ${measured} families (${parts.join(', ')}).`,
        );
      }
    }
  }
  if (res.sweep) {
    const ref = res.sweep.entries.find((m) => m.implementation === SKLEARN)?.ms;
    const best = res.sweep.entries
      .filter((m) => m.implementation.startsWith('gmmkit') && m.ms !== undefined)
      .map((m) => ({ impl: m.implementation, r: ratio(m.ms, ref) }))
      .filter((x): x is { impl: string; r: number } => x.r !== null)
      .sort((a, b) => a.r - b.r)[0];
    if (best)
      lines.push(
        `Sweep at most 1.0x of ${SKLEARN}: ${best.r <= 1 ? 'met' : 'not met'} (best: ${best.impl}, ${fmtRatio(best.r)}).`,
      );
  }
  if (res.large) {
    for (const m of res.large.entries.filter(
      (e) => e.implementation.startsWith('gmmkit') && e.peakRssBytes !== undefined,
    )) {
      lines.push(
        `Large fit under ${fmtBytes(res.large.goalBytes)} (${m.implementation}): ${m.peakRssBytes! < res.large.goalBytes ? 'met' : 'not met'} (${fmtBytes(m.peakRssBytes)}).`,
      );
    }
  }
  return lines;
}

function machineTable(res: BenchResults): Table {
  const m = res.machine;
  const sk = res.references.sklearn;
  const mc = res.references.mclust;
  const blas = sk.blas
    ?.map(
      (b) =>
        `${b.library ?? '?'} ${b.version ?? ''} kernel ${b.kernel ?? 'unknown'}, ${b.threads ?? '?'} threads`,
    )
    .join('; ');
  const rows: string[][] = [
    ['CPU', m.cpu],
    ['cores', String(m.cores)],
    ['memory', fmtBytes(m.memoryBytes)],
    ['OS', m.os],
    ['Node', m.node],
    [
      'load average (1 min) at start / end',
      `${m.loadAverage.start.toFixed(2)} / ${m.loadAverage.end.toFixed(2)}`,
    ],
    [
      SKLEARN,
      sk.available
        ? `${sk.sklearn} (numpy ${sk.numpy}, python ${sk.python})`
        : `not available: ${sk.reason ?? ''}`,
    ],
    ['BLAS (numpy)', sk.available ? (blas ?? 'unknown') : '-'],
    [MCLUST, mc.available ? `${mc.mclust} (R ${mc.r})` : (mc.reason ?? 'not available')],
    [
      PEER,
      res.references.peer.available
        ? `${res.references.peer.version ?? ''}${res.references.peer.choleskyTools ? ` (with ${res.references.peer.choleskyTools})` : ''}`
        : `not available: ${res.references.peer.reason ?? ''}`,
    ],
  ];
  if (sk.unsetForPython && sk.unsetForPython.length > 0)
    rows.push(['unset for python only', sk.unsetForPython.join(', ')]);
  return { title: 'Machine', headers: ['', ''], align: ['l', 'l'], rows };
}

export function renderStdout(res: BenchResults): string {
  const parts = [renderText(machineTable(res)), ...buildTables(res).map(renderText)];
  const targets = targetLines(res);
  if (targets.length > 0) parts.push(['Targets', ...targets.map((t) => `- ${t}`)].join('\n'));
  if (res.notes.length > 0) parts.push(['Notes', ...res.notes.map((n) => `- ${n}`)].join('\n'));
  return parts.join('\n\n') + '\n';
}

export function renderMarkdown(res: BenchResults): string {
  const date = res.generatedAt.slice(0, 10);
  const out: string[] = [
    '# Benchmarks',
    '',
    `<!-- Generated by \`pnpm bench\` on ${res.generatedAt}; do not edit by hand. -->`,
    `_Generated by \`pnpm bench\` on ${date}${res.argv.length > 0 ? ` (flags: \`${res.argv.join(' ')}\`)` : ''}. Rerun it to refresh this page; the raw numbers are in \`packages/bench/results/latest.json\`._`,
    '',
    '## Machine',
    '',
    renderMarkdownTable(machineTable(res)),
    '',
    '## Method',
    '',
    '- One run measures every implementation on the same synthetic data: rows drawn in JS from a Gaussian mixture',
    "  with core's `createRng` (fixed seed), written to a temporary float64 file that scikit-learn and mclust read.",
    '- **Per-iteration time** starts every implementation from the same fixed parameters (uniform weights, k rows',
    '  of the data as means, precisions = 1 / column variance) and runs EM with tol = 0:',
    '  - gmmkit: `GaussianMixture({ tol: 0, maxIter, weightsInit, meansInit, precisionsInit, onIteration })` with the',
    "    engine's default threading (`workers: 'auto'`, which shards rows across worker threads when it pays) and, in",
    '    the columns marked "1 thread", with `workers: 0`; the',
    '    time of an iteration is the gap between consecutive `onIteration` calls (the first iteration, with its setup,',
    `    is skipped); median over the iterations of a fit, then median over ${res.repeats} fit(s). gmmkit computes in float32.`,
    '  - scikit-learn: after a 1-iteration `fit` from the same initial parameters, `_e_step` + `_m_step` timed',
    '    directly (what one iteration of `fit` does), first iteration skipped, median; float64.',
    '  - mclust: `me()` from the hard assignment of rows to the nearest initial mean, tol = 0;',
    '    (time of M iterations - time of 1) / (M - 1), median.',
    '  - `gaussian-mixture-model` (npm; full covariance only, plain JS, one row at a time): `runEM(1)` timed,',
    '    first skipped, median; at a smaller size it can finish, next to scikit-learn at that size.',
    '  - roofline: the flops of one iteration as the engine computes it (E-step, posterior, M-step statistics;',
    '    `emIterationFlops` in packages/bench/src/roofline.ts) over the main backend\'s measured 1024 x 1024 matMul',
    '    throughput on one thread: the time if every flop ran at large-matMul speed, a floor for the 1-thread column.',
    '- **Sweep**: every k x family cell fitted once (nInit 1, default tol 1e-3 and maxIter 100, k-means init) and',
    '  scored by BIC; total wall time. gmmkit: `sweep()` of @gmmkit/model-selection with its default worker count and',
    '  with `workers: 1`; scikit-learn: the same loop over `GaussianMixture(...).fit(X).bic(X)`; mclust:',
    '  `Mclust(X, G, modelNames)` (its own hierarchical-clustering initialization, so its iteration counts differ).',
    '- Ratios are against scikit-learn measured in the same run (below 1.00x = faster than scikit-learn).',
    '- Peak memory: a separate process per implementation fits the large data set; its peak resident set size',
    '  (`maxRSS` / `ru_maxrss`) includes the float64 data itself.',
    '',
  ];
  for (const t of buildTables(res)) {
    out.push(`## ${t.title}`, '', renderMarkdownTable(t), '');
    if (t.footnote !== undefined) out.push(t.footnote, '');
  }
  const targets = targetLines(res);
  if (targets.length > 0) out.push('## Targets', '', ...targets.map((t) => `- ${t}`), '');
  if (res.notes.length > 0) {
    out.push('## Notes', '', ...res.notes.map((n) => `- ${n}`), '');
  }
  // Written by `bench:mclust` (src/mclust-sweep.ts), a separate run: kept across `pnpm bench` runs.
  const mclustSweep = join(BENCH_ROOT, 'results', 'mclust-sweep.md');
  if (existsSync(mclustSweep)) out.push(readFileSync(mclustSweep, 'utf8').trimEnd(), '');
  // Written by `bench:commands` (src/commands.ts), likewise.
  const commands = join(BENCH_ROOT, 'results', 'commands.md');
  if (existsSync(commands)) out.push(readFileSync(commands, 'utf8').trimEnd(), '');
  return out.join('\n');
}
