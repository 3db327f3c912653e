// End to end in a real browser: the built page (vite build, run by turbo
// before this test) served by `vite preview` on a free localhost port, driven
// in Debian's chromium through playwright-core. Every wait is for an event or
// a selector, never a fixed delay.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { createServer as createViteServer, preview, type PreviewServer, type ViteDevServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const repo = path.resolve(root, '../..');
const gmmBin = path.join(repo, 'packages/cli/bin/gmm.js');
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const run = promisify(execFile);

/** Screenshots land here (git-ignored); docs/figures/playground.png is a committed copy. */
const shots = path.join(root, 'test-results');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

let server: PreviewServer;
let context: BrowserContext;
let origin: string;
/** Origins the page may load from: the preview server's, and the dev server's once it runs. */
const origins: string[] = [];
let profile: string;
/** Every URL the page asked for: all must be this server's (the page runs offline). */
const requested: string[] = [];
const consoleErrors: string[] = [];
/** The first test's best BIC (in-process sweep), for the worker-pool test. */
let inProcessBic: number | undefined;

beforeAll(async () => {
  if (!existsSync(path.join(root, 'dist/index.html')))
    throw new Error(
      'examples/playground/dist is missing: build it first (pnpm --filter @gmmkit/example-playground build)',
    );
  if (!existsSync(CHROMIUM))
    throw new Error(`no chromium at ${CHROMIUM}: apt-get install chromium (.ci/setup does)`);
  const port = await freePort();
  server = await preview({
    root,
    configFile: path.join(root, 'vite.config.ts'),
    logLevel: 'silent',
    preview: { host: '127.0.0.1', port, strictPort: true, open: false },
  });
  origin = `http://127.0.0.1:${port}`;
  origins.push(origin);
  profile = mkdtempSync(path.join(tmpdir(), 'gmmkit-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    acceptDownloads: true,
    viewport: { width: 1280, height: 1000 },
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  context.on('request', (r) => requested.push(r.url()));
  mkdirSync(shots, { recursive: true });
});

afterAll(async () => {
  await context?.close();
  await new Promise<void>((resolve) => (server ? server.httpServer.close(() => resolve()) : resolve()));
  if (profile) rmSync(profile, { recursive: true, force: true });
});

async function openPage(url = `${origin}/`): Promise<Page> {
  const page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(e.message));
  await page.goto(url);
  await page.waitForSelector('body[data-ready=true]');
  return page;
}

describe('playground in headless chromium', () => {
  it('sweeps iris to the CLI’s best model (full, k = 2, same BIC), draws both charts, downloads a model gmm predict reads', async () => {
    const page = await openPage();
    // Species is text: named in an info message and left unchecked.
    await expect(page.locator('#message[data-kind=info]').textContent()).resolves.toContain(
      "'Species' holds text",
    );
    await page.click('#run');
    await page.waitForSelector('body[data-state=done]', { timeout: 180_000 });

    const best = await page.locator('#best').evaluate((el) => ({ ...(el as HTMLElement).dataset }));
    const cli = JSON.parse(
      (
        await run(process.execPath, [
          gmmBin,
          'sweep',
          path.join(repo, 'data/iris.csv'),
          '--columns',
          '1,2,3,4',
          '--json',
        ])
      ).stdout,
    ) as { best: { k: number; covarianceType: string; bic: number } };
    expect(cli.best.k).toBe(2);
    expect(cli.best.covarianceType).toBe('full');
    expect(Number(best['k'])).toBe(cli.best.k);
    expect(best['family']).toBe(cli.best.covarianceType);
    expect(best['criterion']).toBe('bic');
    // float32 arithmetic on both sides: agree to float32's relative precision over 150 rows.
    const bic = Number(best['bic']);
    inProcessBic = bic;
    expect(best['workers']).toBe('0');
    expect(Math.abs(bic - cli.best.bic) / Math.abs(cli.best.bic)).toBeLessThan(1e-5);
    expect(Number(best['score'])).toBe(bic);

    // Criterion-vs-k chart: one line per family, the best ringed and labelled.
    const sweepSvg = page.locator('#sweep-chart[data-rendered=true] svg');
    await expect(sweepSvg.locator('g.mark-line path').count()).resolves.toBe(4);
    await expect(sweepSvg.textContent()).resolves.toContain('best: k=2, full');
    // Fitted view: 150 points, 1σ and 2σ ellipses for both components, two means.
    const fitSvg = page.locator('#fit-chart[data-rendered=true] svg');
    await expect(fitSvg.locator('g.mark-symbol.role-mark').first().locator('path').count()).resolves.toBe(
      150,
    );
    await expect(fitSvg.locator('g.mark-line path').count()).resolves.toBe(4);
    await expect(fitSvg.textContent()).resolves.toContain('Sepal.Length');

    // Choosing other columns redraws the fitted view on them.
    await page.selectOption('#x-col', { label: 'Petal.Length' });
    await page.selectOption('#y-col', { label: 'Petal.Width' });
    await page.waitForSelector('#fit-chart[data-rendered=true]');
    await expect(fitSvg.textContent()).resolves.toContain('Petal.Width');
    await expect(fitSvg.locator('g.mark-line path').count()).resolves.toBe(4);

    // Uncertain points (largest responsibility under the threshold) are ringed: none at 0.9 on
    // iris's clean split, some at 1.
    await expect(page.locator('#fit-chart').getAttribute('data-uncertain')).resolves.toBe('0');
    await expect(fitSvg.locator('g.mark-symbol.role-mark').count()).resolves.toBe(2);
    await page.fill('#uncertain-at', '1');
    await page.waitForSelector('#fit-chart[data-rendered=true]');
    const uncertain = Number(await page.locator('#fit-chart').getAttribute('data-uncertain'));
    expect(uncertain).toBeGreaterThan(0);
    expect(uncertain).toBeLessThan(150);
    await expect(fitSvg.locator('g.mark-symbol.role-mark').count()).resolves.toBe(3);
    await expect(fitSvg.locator('g.mark-symbol.role-mark').nth(1).locator('path').count()).resolves.toBe(
      uncertain,
    );
    await page.fill('#uncertain-at', '0.9');
    await page.waitForSelector('#fit-chart[data-rendered=true][data-uncertain="0"]');

    await page.screenshot({ path: path.join(shots, 'playground.png'), fullPage: true });
    expect(readFileSync(path.join(shots, 'playground.png')).subarray(1, 4).toString()).toBe('PNG');

    // The downloaded model is the CLI's model file: gmm predict labels iris with it.
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
    const modelPath = path.join(shots, 'model.json');
    await download.saveAs(modelPath);
    const model = JSON.parse(readFileSync(modelPath, 'utf8')) as {
      format: string;
      columns: string[];
      gmm: { k: number };
    };
    expect(model.format).toBe('gmmkit.cli-model');
    expect(model.columns).toEqual(['Sepal.Length', 'Sepal.Width', 'Petal.Length', 'Petal.Width']);
    const predicted = (
      await run(process.execPath, [gmmBin, 'predict', modelPath, path.join(repo, 'data/iris.csv')])
    ).stdout
      .trim()
      .split('\n');
    expect(predicted[0]).toBe('label');
    expect(predicted).toHaveLength(151);
    expect(new Set(predicted.slice(1))).toEqual(new Set(['0', '1']));
    await page.close();
  });

  it('runs the sweep on a pool of Web Workers with the same result', async () => {
    const page = await openPage();
    await page.selectOption('#workers', '2');
    await page.click('#run');
    await page.waitForSelector('body[data-state=done]', { timeout: 180_000 });
    const best = await page.locator('#best').evaluate((el) => ({ ...(el as HTMLElement).dataset }));
    expect(best['workers']).toBe('2');
    expect(best).toMatchObject({ k: '2', family: 'full' });
    // Same cell seeds whatever the worker count: the in-process sweep's BIC, within float32.
    expect(inProcessBic).toBeDefined();
    expect(Math.abs(Number(best['bic']) - inProcessBic!) / inProcessBic!).toBeLessThan(1e-5);
    await page.close();
  });

  it('cancels a running sweep', async () => {
    const page = await openPage();
    await page.selectOption('#dataset', 'faithful');
    await page.fill('#n-init', '40');
    await page.click('#run');
    // Cancel once the first fits are in (the sweep has hundreds of restarts left).
    await page.waitForSelector('body[data-progress]', { timeout: 120_000 });
    await page.click('#cancel');
    await page.waitForSelector('body[data-state=cancelled]', { timeout: 120_000 });
    await expect(page.locator('#status').textContent()).resolves.toBe('cancelled');
    await expect(page.locator('#results').isHidden()).resolves.toBe(true);
    await expect(page.locator('#run').isEnabled()).resolves.toBe(true);
    await page.close();
  });

  it('names the problem in the page: ragged rows, a text column chosen, too few rows for k', async () => {
    const page = await openPage();
    await page.setInputFiles('#file', {
      name: 'ragged.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from('a,b\n1,2\n3\n4,5\n'),
    });
    await page.waitForSelector('#message[data-kind=error]');
    await expect(page.locator('#message').textContent()).resolves.toBe(
      'ragged.csv: row 2 (line 3) has 1 field, expected 2',
    );

    await page.selectOption('#dataset', 'iris');
    await page.check('#columns input[value="4"]'); // Species
    await page.click('#run');
    await page.waitForSelector('#message[data-kind=error]');
    await expect(page.locator('#message').textContent()).resolves.toMatch(
      /column 'Species'.*'setosa' is not a number/,
    );

    await page.setInputFiles('#file', {
      name: 'tiny.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from('x,y\n1,2\n2,1\n3,3\n'),
    });
    await page.waitForSelector('#data-summary:has-text("tiny.csv: 3 rows")');
    await page.click('#run');
    await page.waitForSelector('#message[data-kind=error]');
    await expect(page.locator('#message').textContent()).resolves.toContain('too few rows for k = 9');
    await page.close();
  });

  it('takes a CSV dropped on the page: its columns listed, the sweep run on its rows', async () => {
    const page = await openPage();
    // Three well-separated groups (iris, the page's default, is best at k = 2) and a text column.
    const lines = ['x,y,group'];
    const centres = [
      [0, 0],
      [10, 0],
      [0, 10],
    ];
    for (let i = 0; i < 90; i++) {
      const [cx, cy] = centres[i % 3]!;
      lines.push(`${cx! + ((i * 7) % 11) / 10 - 0.5},${cy! + ((i * 3) % 13) / 10 - 0.6},${'abc'[i % 3]}`);
    }
    const csv = lines.join('\n') + '\n';
    const dataTransfer = await page.evaluateHandle((text) => {
      const dt = new DataTransfer();
      dt.items.add(new File([text], 'three.csv', { type: 'text/csv' }));
      return dt;
    }, csv);
    await page.dispatchEvent('body', 'dragover', { dataTransfer });
    await expect(page.locator('body').getAttribute('class')).resolves.toContain('dragging');
    await page.dispatchEvent('body', 'drop', { dataTransfer });
    await page.waitForSelector('#data-summary:has-text("three.csv: 90 rows x 3 columns")');
    await expect(page.locator('body').getAttribute('class')).resolves.not.toContain('dragging');
    await expect(page.locator('#dataset option:checked').textContent()).resolves.toBe('three.csv');
    await expect(page.locator('#columns label').allTextContents()).resolves.toEqual([
      ' x',
      ' y',
      ' group (text)',
    ]);
    await expect(
      page
        .locator('#columns input:checked')
        .evaluateAll((bs) => bs.map((b) => (b as HTMLInputElement).value)),
    ).resolves.toEqual(['0', '1']);
    await expect(page.locator('#message[data-kind=info]').textContent()).resolves.toContain(
      "'group' holds text",
    );

    // Two families of the four, AIC: the sweep runs what was chosen.
    await page.fill('#k-max', '5');
    await page.uncheck('#families input[value=tied]');
    await page.uncheck('#families input[value=spherical]');
    await page.selectOption('#criterion', 'aic');
    await page.click('#run');
    await page.waitForSelector('body[data-state=done]', { timeout: 180_000 });
    await expect(page.locator('#best').getAttribute('data-k')).resolves.toBe('3');
    await expect(page.locator('#best').getAttribute('data-criterion')).resolves.toBe('aic');
    await expect(page.locator('#table > tr').count()).resolves.toBe(10); // k = 1..5 x 2 families
    await expect(
      page
        .locator('#table > tr > td:nth-child(2)')
        .allTextContents()
        .then((t) => [...new Set(t)].sort()),
    ).resolves.toEqual(['diag', 'full']);
    await expect(page.locator('#sweep-chart[data-rendered=true] svg g.mark-line path').count()).resolves.toBe(
      2,
    );
    const fitSvg = page.locator('#fit-chart[data-rendered=true] svg');
    await expect(fitSvg.locator('g.mark-symbol.role-mark').first().locator('path').count()).resolves.toBe(90);
    await page.close();
  });

  it('fits one model sharded across Web Workers from the page: the single-thread model, and the page keeps drawing and answering clicks', async () => {
    const page = await openPage(`${origin}/threads.html`);
    await page.fill('#rows', '100000');
    await page.click('#run');
    // Clicks, as DOM events the page's own thread runs as soon as it is free, one after another from the
    // start to the end of both fits: no transient state of the page to catch (waiting for the sharded
    // phase to show, then clicking, once missed it under load). The page keeps the first click it
    // answered mid-way through the sharded fit.
    let clicking = true;
    const clicks = (async () => {
      while (clicking) await page.locator('#ping').dispatchEvent('click');
    })();
    await page.waitForSelector('body[data-phase=done]', { timeout: 180_000 });
    clicking = false;
    await clicks;
    const ping = await page.locator('#ping').evaluate((el) => ({ ...(el as HTMLElement).dataset }));
    const r = await page.locator('#result').evaluate((el) => ({ ...(el as HTMLElement).dataset }));
    expect(r['workersSeen']).toBe('2'); // it really ran on 2 shard workers
    expect(r['singleWorkersSeen']).toBe('0');
    expect(r['nIterSharded']).toBe('40');
    expect(r['nIterSingle']).toBe('40');
    // Same blocks on both sides; only the float64 order of summing block statistics differs.
    for (const key of ['diffWeights', 'diffMeans', 'diffCovariances', 'diffLowerBound'])
      expect(Number(r[key]), key).toBeLessThan(1e-5);
    // A click was handled during the sharded fit, before its last iteration...
    expect(ping['shardedIteration']).toBeDefined();
    expect(Number(ping['shardedIteration'])).toBeGreaterThanOrEqual(1);
    expect(Number(ping['shardedIteration'])).toBeLessThan(40);
    // ...and the page drew frames before that click and after it, while the fit ran.
    const [start, atPing, end] = [r['framesStart'], ping['shardedFrames'], r['framesEnd']].map(Number);
    expect(atPing).toBeGreaterThan(start!);
    expect(end).toBeGreaterThan(atPing!);
    await page.screenshot({ path: path.join(shots, 'threads.png'), fullPage: true });
    await page.close();
  });

  it('the dev server (vite, the same config) serves a page that runs the sweep', async () => {
    const port = await freePort();
    // A fresh dependency cache: the first `pnpm dev` a new user runs (a warm cache hid a failure once).
    const cacheDir = mkdtempSync(path.join(tmpdir(), 'gmmkit-vite-cache-'));
    const dev: ViteDevServer = await createViteServer({
      root,
      configFile: path.join(root, 'vite.config.ts'),
      cacheDir,
      logLevel: 'silent',
      server: { host: '127.0.0.1', port, strictPort: true, open: false },
    });
    try {
      await dev.listen();
      const devOrigin = `http://127.0.0.1:${port}`;
      origins.push(devOrigin);
      const page = await openPage(`${devOrigin}/`);
      await page.fill('#k-max', '3');
      await page.click('#run');
      await page.waitForSelector('body[data-state=done]', { timeout: 180_000 });
      const best = await page.locator('#best').evaluate((el) => ({ ...(el as HTMLElement).dataset }));
      expect(best).toMatchObject({ k: '2', family: 'full', backend: 'wasm' });
      expect(inProcessBic).toBeDefined();
      expect(Math.abs(Number(best['bic']) - inProcessBic!) / inProcessBic!).toBeLessThan(1e-5);
      // Served from source: the page's module is main.ts, not a built bundle.
      expect(requested).toContain(`${devOrigin}/src/main.ts`);
      await page.close();
    } finally {
      await dev.close();
      rmSync(cacheDir, { recursive: true, force: true });
    }
  });

  it('loaded nothing from outside its own server and logged no errors', () => {
    expect(requested.length).toBeGreaterThan(0);
    const foreign = requested.filter(
      (u) => !origins.some((o) => u.startsWith(`${o}/`)) && !u.startsWith('blob:') && !u.startsWith('data:'),
    );
    expect(foreign).toEqual([]);
    expect(consoleErrors).toEqual([]);
  });
});
