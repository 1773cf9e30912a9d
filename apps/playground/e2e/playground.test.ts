// End-to-end test of the playground in a real browser: Debian's chromium
// driven by playwright-core (no browser download). `.ci/run` installs
// chromium with apt; without it this test fails and says so.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { type PreviewServer, preview } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOT = join(ROOT, 'reports', 'playground.png');
const COMPARISON = join(ROOT, 'reports', 'webgpu-vs-wasm.json');

let server: PreviewServer;
let browser: Browser;
let page: Page;
const consoleErrors: string[] = [];

beforeAll(async () => {
  if (!existsSync(join(ROOT, 'dist', 'index.html'))) {
    throw new Error('apps/playground/dist is missing: run `pnpm --filter @dcem/playground build` first');
  }
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no browser at ${CHROMIUM}: install Debian's chromium (apt-get install -y chromium)`);
  }
  server = await preview({ root: ROOT, preview: { port: 0, host: '127.0.0.1' }, logLevel: 'silent' });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-dev-shm-usage',
      // WebGPU on Chromium's software adapter (SwiftShader, shipped with
      // Debian's chromium): the page measures webgpu too.
      '--enable-unsafe-webgpu',
      '--use-webgpu-adapter=swiftshader',
    ],
  });
  page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  page.on('pageerror', (error) => consoleErrors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  const address = server.httpServer.address() as AddressInfo;
  // Loading 1.3 MB of script takes over playwright's default 30 s when the machine is busy
  // (turbo runs every package's tests at once).
  await page.goto(`http://127.0.0.1:${address.port}/`, { timeout: 120_000 });
  await page.waitForSelector('#status[data-state="ready"]', { timeout: 120_000 });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  // Without a server (the set-up failed before starting it) there is nothing to close.
  if (server !== undefined) await new Promise<void>((resolve) => server.httpServer.close(() => resolve()));
});

/** Counts canvas pixels close to a colour (the sample and elite dots are drawn in fixed colours). */
async function countPixels(rgb: [number, number, number], tolerance = 30): Promise<number> {
  return page.evaluate(
    ([r, g, b, tol]) => {
      const canvas = document.querySelector('#plot') as HTMLCanvasElement;
      const data = (canvas.getContext('2d') as CanvasRenderingContext2D).getImageData(
        0,
        0,
        canvas.width,
        canvas.height,
      ).data;
      let n = 0;
      for (let i = 0; i < data.length; i += 4) {
        const d =
          Math.abs((data[i] as number) - r) +
          Math.abs((data[i + 1] as number) - g) +
          Math.abs((data[i + 2] as number) - b);
        if (d < tol) n++;
      }
      return n;
    },
    [...rgb, tolerance] as [number, number, number, number],
  );
}

describe('playground', () => {
  it('says which tfjs backend runs, chosen by measurement', async () => {
    const text = (await page.textContent('#backend')) ?? '';
    expect(text).toMatch(/^tfjs backend: (webgpu|webgl|wasm|cpu) \(fastest measured;/);
    expect(await page.getAttribute('#backend', 'data-backend')).toMatch(/^(webgpu|webgl|wasm|cpu)$/);
    // WebGPU is offered and measured, through the async API (SwiftShader's
    // synchronous reads answer zeros; the page reads only asynchronously).
    expect(text).toMatch(/\(fastest measured; webgpu \d+\.\d ms, /);
  });

  it('runs DCEM with changed settings and draws the samples and elites on the contour plot', async () => {
    await page.selectOption('#objective', '0');
    await page.fill('#numSamples', '60');
    await page.fill('#numElites', '6');
    await page.fill('#numIterations', '6');
    await page.fill('#temperature', '0.5');
    const eliteBefore = await countPixels([228, 87, 46]);
    await page.click('#run');
    // Screenshot early in the run, while the samples are still spread out.
    await page.waitForSelector('#plot[data-iteration="1"]', { timeout: 120_000 });
    mkdirSync(dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(existsSync(SCREENSHOT)).toBe(true);
    await page.waitForSelector('#status[data-state="done"]', { timeout: 120_000 });
    const status = (await page.textContent('#status')) ?? '';
    expect(status).toMatch(/^done: DCEM \(τ = 0\.5\) found \(-?\d+\.\d{3}, -?\d+\.\d{3}\) in 6 iterations$/);
    expect(await page.getAttribute('#plot', 'data-iteration')).toBe('6');
    expect(await page.getAttribute('#plot', 'data-samples-drawn')).toBe('60');
    // The elites are drawn as orange-red dots: none before the run, many after.
    const eliteAfter = await countPixels([228, 87, 46]);
    expect(eliteBefore).toBe(0);
    expect(eliteAfter).toBeGreaterThan(60);
  });

  it('shows the library’s validation message for impossible settings', async () => {
    await page.fill('#numElites', '60');
    await page.click('#run');
    await page.waitForSelector('#status[data-state="error"]', { timeout: 30_000 });
    expect((await page.textContent('#status')) ?? '').toMatch(
      /numElites must be < numSamples \(60\), received 60/,
    );
    await page.fill('#numElites', '6');
  });

  it('learns the objective live: the loss goes down', async () => {
    await page.fill('#numIterations', '8');
    await page.click('#learn');
    await page.waitForSelector('#status[data-state="learning"]', { timeout: 60_000 });
    const first = Number(await page.getAttribute('#plot', 'data-loss'));
    await page.waitForSelector('#status[data-state="done"]', { timeout: 180_000 });
    const last = Number(await page.getAttribute('#plot', 'data-loss'));
    expect(Number.isFinite(first)).toBe(true);
    expect(last).toBeLessThan(first);
  }, 240_000);

  it('logged no errors in the page', () => {
    expect(consoleErrors).toEqual([]);
  });
});

/** Opens the page on one backend (`?backend=`), runs DCEM with fixed settings and returns its solution. */
async function solveOn(
  backend: string,
  errors: string[],
): Promise<{ page: Page; solution: number[]; backendText: string }> {
  const p = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  p.on('pageerror', (error) => errors.push(error.message));
  p.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  const address = server.httpServer.address() as AddressInfo;
  await p.goto(`http://127.0.0.1:${address.port}/?backend=${backend}`, { timeout: 120_000 });
  await p.waitForSelector('#status[data-state="ready"]', { timeout: 120_000 });
  await p.selectOption('#objective', '0');
  await p.fill('#numSamples', '60');
  await p.fill('#numElites', '6');
  await p.fill('#numIterations', '6');
  await p.fill('#temperature', '0.5');
  await p.fill('#seed', '3');
  await p.click('#run');
  await p.waitForSelector('#status[data-state="done"]', { timeout: 180_000 });
  const solution = JSON.parse((await p.getAttribute('#plot', 'data-solution')) ?? 'null') as number[];
  return { page: p, solution, backendText: (await p.textContent('#backend')) ?? '' };
}

// Headless Chromium gives WebGPU a software adapter (SwiftShader) with
// --enable-unsafe-webgpu --use-webgpu-adapter=swiftshader. tfjs's
// synchronous read on WebGPU (it copies through an OffscreenCanvas) answers
// zeros there, but its asynchronous read (`data()`) works: the page reads
// only asynchronously (dcemAsync, tellAsync, resultAsync, data()), so it
// takes WebGPU, and its DCEM result matches wasm's.
describe('playground with ?backend=webgpu in headless Chromium (SwiftShader adapter)', () => {
  let gpu: Awaited<ReturnType<typeof solveOn>>;
  let wasm: Awaited<ReturnType<typeof solveOn>>;
  const gpuErrors: string[] = [];

  beforeAll(async () => {
    gpu = await solveOn('webgpu', gpuErrors);
    wasm = await solveOn('wasm', gpuErrors);
  }, 420_000);

  afterAll(async () => {
    await gpu?.page.close();
    await wasm?.page.close();
  });

  it('the browser has WebGPU with a SwiftShader adapter', async () => {
    const adapter = await gpu.page.evaluate(async () => {
      const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
      const a = (await gpu?.requestAdapter()) as { info?: { architecture?: string } } | null | undefined;
      return a?.info?.architecture ?? null;
    });
    expect(adapter).toBe('swiftshader');
  });

  it('the page chooses webgpu through the async path', async () => {
    expect(gpu.backendText).toMatch(/^tfjs backend: webgpu \(chosen in the address; webgpu \d+\.\d ms\)$/);
    expect(await gpu.page.getAttribute('#backend', 'data-backend')).toBe('webgpu');
    expect(wasm.backendText).toMatch(/^tfjs backend: wasm \(chosen in the address; wasm \d+\.\d ms\)$/);
  });

  it('its DCEM solution matches wasm within 1e-3 (float32 on two backends, same seed)', () => {
    expect(gpu.solution).toHaveLength(2);
    expect(gpu.solution.every(Number.isFinite)).toBe(true);
    // Not the zeros a synchronous read would give.
    expect(gpu.solution.some((v) => v !== 0)).toBe(true);
    const diff = Math.max(...gpu.solution.map((v, i) => Math.abs(v - (wasm.solution[i] as number))));
    mkdirSync(dirname(COMPARISON), { recursive: true });
    writeFileSync(
      COMPARISON,
      `${JSON.stringify({ webgpu: gpu.solution, wasm: wasm.solution, maxAbsDiff: diff, backends: [gpu.backendText, wasm.backendText] }, null, 2)}\n`,
    );
    expect(diff).toBeLessThanOrEqual(1e-3);
  });

  it('logged no errors in the pages', () => {
    expect(gpuErrors).toEqual([]);
  });
});
