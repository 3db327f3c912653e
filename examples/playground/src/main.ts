/// <reference types="vite/client" />
import { fitPlotInput, fitPlotSpec, modelFile, sweepPlotSpec, type FitPlotInput } from '@gmmkit/cli/portable';
import type { SweepRow } from '@gmmkit/model-selection';
import { View, parse } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import faithfulCsv from '../../../data/faithful.csv?raw';
import irisCsv from '../../../data/iris.csv?raw';
import { matrixOf, readDataset, settingsProblem, type Dataset } from './data.js';
import { $ } from './dom.js';
import type { FromSweepWorker, ToSweepWorker } from './protocol.js';

const BUNDLED: Record<string, { text: string; file: string }> = {
  iris: { text: irisCsv, file: 'iris.csv' },
  faithful: { text: faithfulCsv, file: 'faithful.csv' },
};

const ui = {
  dataset: $<HTMLSelectElement>('dataset'),
  file: $<HTMLInputElement>('file'),
  summary: $('data-summary'),
  columns: $('columns'),
  kMin: $<HTMLInputElement>('k-min'),
  kMax: $<HTMLInputElement>('k-max'),
  criterion: $<HTMLSelectElement>('criterion'),
  nInit: $<HTMLInputElement>('n-init'),
  seed: $<HTMLInputElement>('seed'),
  backend: $<HTMLSelectElement>('backend'),
  workers: $<HTMLSelectElement>('workers'),
  run: $<HTMLButtonElement>('run'),
  cancel: $<HTMLButtonElement>('cancel'),
  progress: $<HTMLProgressElement>('progress'),
  status: $('status'),
  message: $('message'),
  results: $('results'),
  best: $('best'),
  sweepChart: $('sweep-chart'),
  fitChart: $('fit-chart'),
  xCol: $<HTMLSelectElement>('x-col'),
  yCol: $<HTMLSelectElement>('y-col'),
  uncertainAt: $<HTMLInputElement>('uncertain-at'),
  download: $<HTMLButtonElement>('download'),
  table: $<HTMLTableElement>('table'),
};

let dataset: Dataset | undefined;
let worker: Worker | undefined;
let running = false;
/** The last finished sweep and the data it was run on. */
let last:
  | { result: Extract<FromSweepWorker, { type: 'done' }>; columns: string[]; data: Float64Array; d: number }
  | undefined;
const views = new Map<HTMLElement, View>();

// ------------------------------------------------------------------ messages

function say(text: string, kind: 'error' | 'info' = 'error'): void {
  ui.message.textContent = text;
  ui.message.dataset['kind'] = kind;
  ui.message.hidden = false;
}
function unsay(): void {
  ui.message.hidden = true;
  ui.message.textContent = '';
  delete ui.message.dataset['kind'];
}
const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

// ---------------------------------------------------------------------- data

function useDataset(text: string, name: string): void {
  let ds: Dataset;
  try {
    ds = readDataset(text, name);
  } catch (err) {
    dataset = undefined;
    ui.columns.replaceChildren();
    ui.summary.textContent = '';
    clearResults();
    say(messageOf(err));
    return;
  }
  dataset = ds;
  clearResults();
  const { table, numeric } = ds;
  ui.summary.textContent = `${name}: ${table.rows.length} rows x ${table.columns.length} columns`;
  ui.columns.replaceChildren(
    ...table.columns.map((col, i) => {
      const label = document.createElement('label');
      const box = document.createElement('input');
      box.type = 'checkbox';
      box.name = 'column';
      box.value = String(i);
      box.checked = numeric[i]! && !table.indexColumns.includes(i);
      label.append(box, ` ${col}`);
      if (!numeric[i]) {
        label.classList.add('text');
        label.append(' (text)');
      }
      return label;
    }),
  );
  const textColumns = table.columns.filter((_, i) => !numeric[i]);
  if (textColumns.length > 0) {
    say(
      `${textColumns.map((c) => `'${c}'`).join(', ')} ${textColumns.length === 1 ? 'holds' : 'hold'} text, not numbers, ` +
        `so ${textColumns.length === 1 ? 'it is' : 'they are'} left out of the fit`,
      'info',
    );
  } else unsay();
  if (!numeric.some(Boolean)) say(`${name}: no column holds only numbers; nothing can be fitted`);
}

function chosenColumns(): number[] {
  return [...ui.columns.querySelectorAll<HTMLInputElement>('input[name=column]:checked')].map((b) =>
    Number(b.value),
  );
}

ui.dataset.addEventListener('change', () => {
  const b = BUNDLED[ui.dataset.value];
  if (b) useDataset(b.text, b.file);
});

async function useFile(file: File): Promise<void> {
  const option = ui.dataset.querySelector<HTMLOptionElement>('option[value=file]')!;
  option.textContent = file.name;
  ui.dataset.value = 'file';
  useDataset(await file.text(), file.name);
}

ui.file.addEventListener('change', () => {
  const f = ui.file.files?.[0];
  if (f) void useFile(f);
});
document.addEventListener('dragover', (e) => {
  e.preventDefault();
  document.body.classList.add('dragging');
});
document.addEventListener('dragleave', () => document.body.classList.remove('dragging'));
document.addEventListener('drop', (e) => {
  e.preventDefault();
  document.body.classList.remove('dragging');
  const f = e.dataTransfer?.files[0];
  if (f) void useFile(f);
});

// --------------------------------------------------------------------- sweep

function sweepWorker(): Worker {
  if (!worker) {
    worker = new Worker(new URL('./sweep-worker.ts', import.meta.url), { type: 'module' });
    worker.addEventListener('message', (e: MessageEvent<FromSweepWorker>) => onWorker(e.data));
    worker.addEventListener('error', (e) => {
      e.preventDefault();
      finishRun(`the sweep worker failed: ${e.message || 'its script did not load'}`);
      worker = undefined;
    });
  }
  return worker;
}

ui.run.addEventListener('click', () => {
  if (running) return;
  if (!dataset) {
    say('load a data set first');
    return;
  }
  const columns = chosenColumns();
  const families = [...document.querySelectorAll<HTMLInputElement>('input[name=family]:checked')].map(
    (b) => b.value,
  );
  const settings = {
    kMin: Number(ui.kMin.value),
    kMax: Number(ui.kMax.value),
    families,
    nInit: Number(ui.nInit.value),
  };
  let m: { data: Float64Array; n: number; d: number };
  try {
    const problem = settingsProblem(dataset.table.rows.length, columns.length, settings);
    if (problem) throw new Error(problem);
    m = matrixOf(dataset, columns);
  } catch (err) {
    say(messageOf(err));
    return;
  }
  unsay();
  clearResults();
  running = true;
  ui.run.disabled = true;
  ui.cancel.disabled = false;
  ui.progress.value = 0;
  ui.status.textContent = 'starting…';
  document.body.dataset['state'] = 'running';
  const names = columns.map((j) => dataset!.table.columns[j]!);
  pending = { columns: names, data: m.data, d: m.d };
  const msg: ToSweepWorker = {
    type: 'run',
    data: m.data,
    n: m.n,
    d: m.d,
    ...settings,
    criterion: ui.criterion.value,
    seed: Number(ui.seed.value) || 0,
    backend: ui.backend.value,
    workers: ui.workers.value === 'auto' ? undefined : Number(ui.workers.value),
  };
  sweepWorker().postMessage(msg);
});

let pending: { columns: string[]; data: Float64Array; d: number } | undefined;

ui.cancel.addEventListener('click', () => {
  if (!running || !worker) return;
  ui.cancel.disabled = true;
  ui.status.textContent = 'cancelling…';
  worker.postMessage({ type: 'cancel' } satisfies ToSweepWorker);
});

function finishRun(error?: string): void {
  running = false;
  ui.run.disabled = false;
  ui.cancel.disabled = true;
  if (error !== undefined) {
    ui.status.textContent = 'failed';
    document.body.dataset['state'] = 'failed';
    say(error);
  }
}

function onWorker(msg: FromSweepWorker): void {
  switch (msg.type) {
    case 'progress':
      ui.progress.max = msg.total;
      ui.progress.value = msg.done;
      ui.status.textContent = `${msg.done} / ${msg.total} fits`;
      document.body.dataset['progress'] = String(msg.done);
      break;
    case 'cancelled':
      finishRun();
      ui.progress.value = 0;
      ui.status.textContent = 'cancelled';
      document.body.dataset['state'] = 'cancelled';
      break;
    case 'error':
      finishRun(msg.message);
      break;
    case 'done':
      finishRun();
      last = { result: msg, ...pending! };
      ui.progress.value = ui.progress.max;
      ui.status.textContent =
        `done in ${msg.seconds.toFixed(2)} s on ${msg.backend}` +
        (msg.workers > 0 ? `, ${msg.workers} Web Workers` : '');
      void showResults().then(() => (document.body.dataset['state'] = 'done'));
      break;
  }
}

// ------------------------------------------------------------------- results

function clearResults(): void {
  last = undefined;
  ui.results.hidden = true;
  for (const v of views.values()) v.finalize();
  views.clear();
  ui.sweepChart.replaceChildren();
  ui.fitChart.replaceChildren();
  delete document.body.dataset['state'];
}

async function render(el: HTMLElement, spec: TopLevelSpec): Promise<void> {
  views.get(el)?.finalize();
  el.dataset['rendered'] = 'false';
  const view = new View(parse(compile(spec).spec), { renderer: 'svg', container: el, hover: true });
  views.set(el, view);
  await view.runAsync();
  el.dataset['rendered'] = 'true';
}

async function showResults(): Promise<void> {
  if (!last) return;
  const { result, columns } = last;
  const best = result.best;
  ui.results.hidden = false;
  ui.best.textContent =
    `best: ${best.covarianceType}, k = ${best.k} (${result.criterion} = ${best.score.toFixed(2)}, ` +
    `log-likelihood = ${best.logLikelihood.toFixed(2)}, ${best.nParameters} parameters)`;
  Object.assign(ui.best.dataset, {
    k: String(best.k),
    family: best.covarianceType,
    criterion: result.criterion,
    score: String(best.score),
    bic: String(best.bic),
    backend: result.backend,
    workers: String(result.workers),
  });
  ui.table.replaceChildren(
    tableHead(result.criterion),
    ...result.rows.map((r) => tableRow(r, r === best || sameCell(r, best))),
  );
  for (const sel of [ui.xCol, ui.yCol]) {
    sel.replaceChildren(...columns.map((c, i) => new Option(c, String(i))));
    sel.disabled = columns.length < 2;
  }
  ui.xCol.value = '0';
  ui.yCol.value = columns.length > 1 ? '1' : '0';
  await Promise.all([
    render(
      ui.sweepChart,
      sweepPlotSpec({
        criterion: result.criterion,
        rows: result.rows.map((r) => ({
          k: r.k,
          covarianceType: r.covarianceType,
          value: Number.isFinite(r.score) ? r.score : null,
          status: r.error !== undefined ? 'failed' : r.degenerate ? 'degenerate' : 'ok',
        })),
        degenerate: result.degenerate,
        best: { k: best.k, covarianceType: best.covarianceType, value: best.score },
      }),
    ),
    drawFit(),
  ]);
}

const sameCell = (a: SweepRow, b: SweepRow): boolean => a.k === b.k && a.covarianceType === b.covarianceType;

function tableHead(criterion: string): HTMLTableSectionElement {
  const head = document.createElement('thead');
  const tr = head.insertRow();
  for (const h of ['k', 'covariance', criterion.toUpperCase(), 'log-likelihood', 'parameters', 'converged'])
    tr.insertCell().outerHTML = `<th>${h}</th>`;
  return head;
}

function tableRow(r: SweepRow, best: boolean): HTMLTableRowElement {
  const tr = document.createElement('tr');
  if (best) tr.className = 'best';
  const cells = [
    String(r.k),
    r.covarianceType,
    r.error ? `failed: ${r.error}` : r.score.toFixed(2),
    Number.isFinite(r.logLikelihood) ? r.logLikelihood.toFixed(2) : '',
    Number.isFinite(r.nParameters) ? String(r.nParameters) : '',
    r.converged ? 'yes' : 'no',
  ];
  for (const c of cells) tr.insertCell().textContent = c;
  return tr;
}

async function drawFit(): Promise<void> {
  if (!last) return;
  const { result, columns, data, d } = last;
  const a = Number(ui.xCol.value);
  const b = columns.length > 1 ? Number(ui.yCol.value) : a;
  const at = Number(ui.uncertainAt.value) || 0.9;
  const uncertain = Array.from(result.maxProba, (p) => p < at);
  const input: FitPlotInput = fitPlotInput(
    {
      columns,
      data,
      d,
      means: result.model.means,
      covariances: result.covariances,
      labels: result.labels,
      uncertain,
      title: `${result.best.k}-component ${result.best.covarianceType} mixture`,
    },
    a,
    b,
  );
  ui.fitChart.dataset['uncertain'] = String(uncertain.filter(Boolean).length);
  await render(ui.fitChart, fitPlotSpec(input));
}

for (const el of [ui.xCol, ui.yCol]) el.addEventListener('change', () => void drawFit());
ui.uncertainAt.addEventListener('input', () => void drawFit());

ui.download.addEventListener('click', () => {
  if (!last) return;
  // The very file `gmm fit -o` / `gmm sweep -o` write, so `gmm predict` reads it.
  const file = modelFile(last.result.model, last.columns, null, []);
  const blob = new Blob([JSON.stringify(file, null, 2) + '\n'], { type: 'application/json' });
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = `gmm-${last.result.best.covarianceType}-k${last.result.best.k}.json`;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 0);
});

useDataset(BUNDLED['iris']!.text, BUNDLED['iris']!.file);
document.body.dataset['ready'] = 'true';
