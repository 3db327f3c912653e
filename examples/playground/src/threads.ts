// Data-parallel EM in the page: GaussianMixture's `workers` option shards the
// rows across module Web Workers (the E-step runs there; this thread merges
// their statistics and takes the M-step), then the same fit runs on this
// thread alone. The page shows whether the two models agree and whether the
// page kept drawing frames and answering clicks while the workers computed.
import { createRng } from '@gmmkit/core';
import { GaussianMixture, activeShardWorkerCount, initBackend } from '@gmmkit/tfjs';
import { $ } from './dom.js';
import './wasm.js';

const ui = {
  rows: $<HTMLInputElement>('rows'),
  cols: $<HTMLInputElement>('cols'),
  k: $<HTMLInputElement>('k'),
  covariance: $<HTMLSelectElement>('covariance'),
  iterations: $<HTMLInputElement>('iterations'),
  chunk: $<HTMLInputElement>('chunk'),
  workers: $<HTMLSelectElement>('workers'),
  run: $<HTMLButtonElement>('run'),
  ping: $<HTMLButtonElement>('ping'),
  status: $('status'),
  message: $('message'),
  results: $('results'),
  result: $<HTMLTableElement>('result'),
};

// Frames the page has drawn since it loaded: requestAnimationFrame only runs when this thread is free.
let frames = 0;
const tick = (): void => {
  frames++;
  requestAnimationFrame(tick);
};
requestAnimationFrame(tick);

/** What the page is doing: 'sharded' | 'single' | 'done' | 'failed' (also body[data-phase]). */
let phase = 'idle';
/** EM iterations of the fit under way. */
let iteration = 0;

function setPhase(p: string): void {
  phase = p;
  iteration = 0;
  document.body.dataset['phase'] = p;
  delete document.body.dataset['iteration'];
}

// A click during the fit is answered at once, with what the page was doing at that moment; the first
// answered mid-way through the sharded fit (its first iteration reported) is also kept.
ui.ping.addEventListener('click', () => {
  const count = Number(ui.ping.dataset['count']) + 1;
  Object.assign(ui.ping.dataset, {
    count: String(count),
    phase,
    iteration: String(iteration),
    frames: String(frames),
  });
  if (phase === 'sharded' && iteration >= 1 && ui.ping.dataset['shardedIteration'] === undefined)
    Object.assign(ui.ping.dataset, { shardedIteration: String(iteration), shardedFrames: String(frames) });
  ui.ping.textContent = `clicked ${count}× (last: ${phase}, EM iteration ${iteration})`;
});

/** Rows from k well-separated spherical Gaussians, seeded: the same data every run. */
function blobs(n: number, d: number, k: number, seed: number): Float64Array {
  const rng = createRng(seed);
  const centers = Array.from({ length: k * d }, () => 10 * rng.next());
  const out = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    const j = i % k;
    for (let c = 0; c < d; c++) out[i * d + c] = centers[j * d + c]! + (0.5 + 0.5 * (j / k)) * rng.normal();
  }
  return out;
}

/** Max |a - b| / (1 + |b|) over all entries. */
function relDiff(a: Float64Array, b: Float64Array): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!) / (1 + Math.abs(b[i]!)));
  return m;
}

interface FitReport {
  seconds: number;
  nIter: number;
  lowerBound: number;
  framesStart: number;
  framesEnd: number;
  /** Most shard workers alive at an iteration (0 on one thread). */
  workersSeen: number;
  state: { weights: Float64Array; means: Float64Array; covariances: Float64Array };
}

async function fitOnce(
  X: { rows: number; cols: number; data: Float64Array },
  workers: number,
): Promise<FitReport> {
  let workersSeen = 0;
  const gm = new GaussianMixture({
    nComponents: Number(ui.k.value),
    covarianceType: ui.covariance.value,
    maxIter: Number(ui.iterations.value),
    tol: 0, // every fit runs the same number of iterations
    seed: 0,
    chunkSize: Number(ui.chunk.value),
    backend: 'wasm',
    workers,
    convergenceWarning: false,
    onIteration: (i) => {
      iteration = i;
      document.body.dataset['iteration'] = String(i);
      workersSeen = Math.max(workersSeen, activeShardWorkerCount());
    },
  });
  const framesStart = frames;
  const started = performance.now();
  try {
    await gm.fit(X);
    const { nIter, lowerBound, weights, means, covariances } = gm.state;
    return {
      seconds: (performance.now() - started) / 1000,
      nIter,
      lowerBound,
      framesStart,
      framesEnd: frames,
      workersSeen,
      state: { weights, means, covariances },
    };
  } finally {
    gm.dispose();
  }
}

ui.run.addEventListener('click', () => void run());

async function run(): Promise<void> {
  ui.run.disabled = true;
  ui.message.hidden = true;
  ui.results.hidden = true;
  try {
    const n = Number(ui.rows.value);
    const d = Number(ui.cols.value);
    const k = Number(ui.k.value);
    const workers = Number(ui.workers.value);
    if (!(Number.isInteger(n) && Number.isInteger(d) && Number.isInteger(k) && n >= k && d >= 1 && k >= 1))
      throw new Error(
        `rows (${ui.rows.value}), columns and components must be whole numbers, rows >= components`,
      );
    const X = { rows: n, cols: d, data: blobs(n, d, k, 1) };
    ui.status.textContent = 'starting the wasm backend…';
    await initBackend('wasm'); // neither fit pays for loading the binary
    setPhase('sharded');
    ui.status.textContent = `fitting on ${workers} Web Workers…`;
    const sharded = await fitOnce(X, workers);
    setPhase('single');
    ui.status.textContent = 'fitting on this thread…';
    const single = await fitOnce(X, 0);
    show(sharded, single);
    setPhase('done');
    ui.status.textContent = 'done';
  } catch (err) {
    ui.message.textContent = err instanceof Error ? err.message : String(err);
    ui.message.hidden = false;
    ui.status.textContent = 'failed';
    setPhase('failed');
  } finally {
    ui.run.disabled = false;
  }
}

function show(sharded: FitReport, single: FitReport): void {
  const diff = {
    weights: relDiff(sharded.state.weights, single.state.weights),
    means: relDiff(sharded.state.means, single.state.means),
    covariances: relDiff(sharded.state.covariances, single.state.covariances),
    lowerBound: Math.abs(sharded.lowerBound - single.lowerBound) / Math.abs(single.lowerBound),
  };
  Object.assign(ui.result.dataset, {
    workersSeen: String(sharded.workersSeen),
    singleWorkersSeen: String(single.workersSeen),
    nIterSharded: String(sharded.nIter),
    nIterSingle: String(single.nIter),
    diffWeights: String(diff.weights),
    diffMeans: String(diff.means),
    diffCovariances: String(diff.covariances),
    diffLowerBound: String(diff.lowerBound),
    framesStart: String(sharded.framesStart),
    framesEnd: String(sharded.framesEnd),
  });
  const rows: [string, string, string][] = [
    ['', `${sharded.workersSeen} Web Workers`, 'this thread'],
    ['seconds', sharded.seconds.toFixed(2), single.seconds.toFixed(2)],
    ['EM iterations', String(sharded.nIter), String(single.nIter)],
    ['lower bound', sharded.lowerBound.toFixed(6), single.lowerBound.toFixed(6)],
    [
      'frames drawn during the fit',
      String(sharded.framesEnd - sharded.framesStart),
      String(single.framesEnd - single.framesStart),
    ],
  ];
  ui.result.replaceChildren(
    ...rows.map((cells, r) => {
      const tr = document.createElement('tr');
      for (const c of cells) {
        const cell = document.createElement(r === 0 ? 'th' : 'td');
        cell.textContent = c;
        tr.append(cell);
      }
      return tr;
    }),
  );
  const caption = ui.result.createCaption();
  caption.textContent =
    `largest relative difference, sharded vs one thread: weights ${diff.weights.toExponential(1)}, ` +
    `means ${diff.means.toExponential(1)}, covariances ${diff.covariances.toExponential(1)}, ` +
    `lower bound ${diff.lowerBound.toExponential(1)}`;
  ui.results.hidden = false;
}

document.body.dataset['ready'] = 'true';
