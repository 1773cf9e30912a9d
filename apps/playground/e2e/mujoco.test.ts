// End-to-end test of the MuJoCo page (mujoco.html) in Debian's chromium,
// driven by playwright-core like playground.test.ts: planning cheetah-run
// with iCEM makes the cheetah run, other tasks load and plan, bad settings
// give a message, and the page keeps drawing while it plans. Every number is
// read from the page's state (`window.mujocoPage`), not from pixels.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runMujocoEpisodes } from '@dcem/tasks/mujoco';
import * as tf from '@tensorflow/tfjs';
import { type Browser, chromium, type Page } from 'playwright-core';
import { type PreviewServer, preview } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOT = join(ROOT, 'reports', 'mujoco.png');
const MEASURED = join(ROOT, 'reports', 'mujoco-e2e.json');
// The run the page must repeat, computed here in Node at the start of the test (not stored, so that a change
// of the planner's arithmetic changes both sides): `runMujocoEpisodes`, which `dcem mujoco` runs, with the
// page's default settings on tfjs's cpu backend, the page's backend.
const NODE_RUN = {
  command: 'pnpm dcem mujoco --env cheetah-run --planner icem --steps 25 --seed 0 --workers 2 --backend cpu',
  rewards: [] as number[],
};

async function runInNode(): Promise<number[]> {
  await tf.setBackend('cpu');
  const run = await runMujocoEpisodes({
    env: 'cheetah-run',
    planner: 'icem',
    episodes: 1,
    seed: 0,
    steps: 25,
    workers: 2,
  });
  return run.episodes[0]?.rewards ?? [];
}

/** The page's state, as `window.mujocoPage` exposes it. */
interface PageState {
  state: string;
  task: string;
  planner: string;
  step: number;
  controlSteps: number;
  return: number;
  rewards: number[];
  trackStartX: number;
  trackXs: number[];
  frames: number;
  realTimeFactor: number;
  crossOriginIsolated: boolean;
  workers: number;
  error: string;
}

let server: PreviewServer;
let browser: Browser;
let page: Page;
const consoleErrors: string[] = [];
const measured: Record<string, unknown> = {};

const state = (): Promise<PageState> =>
  page.evaluate(() => (window as unknown as { mujocoPage: PageState }).mujocoPage);

async function waitForState(names: string[], timeout = 120_000): Promise<void> {
  await page.waitForFunction(
    (n) => n.includes((window as unknown as { mujocoPage: PageState }).mujocoPage.state),
    names,
    { timeout, polling: 100 },
  );
}

async function waitForSteps(steps: number, timeout: number): Promise<void> {
  await page.waitForFunction(
    (n) => {
      const p = (window as unknown as { mujocoPage: PageState }).mujocoPage;
      return p.step >= n || p.state === 'error';
    },
    steps,
    { timeout, polling: 100 },
  );
}

beforeAll(async () => {
  if (!existsSync(join(ROOT, 'dist', 'mujoco.html'))) {
    throw new Error('apps/playground/dist is missing: run `pnpm --filter @dcem/playground build` first');
  }
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no browser at ${CHROMIUM}: install Debian's chromium (apt-get install -y chromium)`);
  }
  NODE_RUN.rewards = await runInNode();
  server = await preview({ root: ROOT, preview: { port: 0, host: '127.0.0.1' }, logLevel: 'silent' });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-dev-shm-usage'],
  });
  page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  page.on('pageerror', (error) => consoleErrors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  const address = server.httpServer.address() as AddressInfo;
  await page.goto(`http://127.0.0.1:${address.port}/mujoco.html`, { timeout: 120_000 });
  await waitForState(['ready']);
}, 240_000);

afterAll(async () => {
  mkdirSync(dirname(MEASURED), { recursive: true });
  writeFileSync(MEASURED, `${JSON.stringify(measured, null, 2)}\n`);
  await browser?.close();
  if (server !== undefined) await new Promise<void>((resolve) => server.httpServer.close(() => resolve()));
});

describe('MuJoCo page', () => {
  it('is cross-origin isolated under vite preview and plans with navigator.hardwareConcurrency rollout workers', async () => {
    const s = await state();
    expect(s.crossOriginIsolated).toBe(true);
    expect(s.task).toBe('cheetah-run');
    expect(s.planner).toBe('icem');
    expect(s.workers).toBe(await page.evaluate(() => navigator.hardwareConcurrency));
    expect(await page.getAttribute('[data-testid="task"]', 'id')).toBe('task');
    expect(await page.getAttribute('[data-testid="planner"]', 'id')).toBe('planner');
  });

  it('cheetah-run with icem: in 100 control steps the torso moves ≥ 1 m forward and the return is > 20; frames keep coming', async () => {
    // iCEM's preset budget (N = 100, k = 10, 3 iterations, H = 12); cheetah-run's action repeat is 4,
    // so 100 control steps are 25 planning steps.
    const framesBefore = (await state()).frames;
    const t0 = Date.now();
    await page.click('[data-testid="start"]');
    await waitForSteps(25, 420_000);
    const seconds = (Date.now() - t0) / 1000;
    await page.click('#pause');
    await waitForState(['paused']);
    const s = await state();
    expect(s.error).toBe('');
    expect(s.step).toBeGreaterThanOrEqual(25);
    const rewards = s.rewards.slice(0, 25);
    const ret = rewards.reduce((a, r) => a + r, 0);
    const distance = (s.trackXs[24] as number) - s.trackStartX;
    const frames = s.frames - framesBefore;
    Object.assign(measured, {
      cheetah: {
        controlSteps: 100,
        planningSteps: 25,
        return: ret,
        distance,
        seconds,
        frames,
        fps: frames / seconds,
      },
      realTimeFactor: s.realTimeFactor,
    });
    expect(distance).toBeGreaterThanOrEqual(1);
    expect(ret).toBeGreaterThan(20);
    // The DOM shows the same numbers (the page's hooks for tests).
    expect(Number(await page.textContent('[data-testid="control-step"]'))).toBe(s.controlSteps);
    expect(Number(await page.textContent('[data-testid="episode-return"]'))).toBeCloseTo(s.return, 1);
    // The page kept drawing while the workers planned: more animation frames than planning steps
    // (frames come between steps, not only after them). Headless chromium draws WebGL in software
    // (SwiftShader) on the cores the three workers use, so the rate depends on the machine's load:
    // 2–6 frames per second on 2 busy cores (load 15–17), 5–10 frames per planning step; the bound is
    // set on frames per step, which a slower machine lowers less than frames per second.
    expect(frames).toBeGreaterThan(25);
    mkdirSync(dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(existsSync(SCREENSHOT)).toBe(true);
  }, 480_000);

  it('gives the same rewards as `dcem mujoco` in Node with the same seed and settings (tfjs cpu backend in both)', async () => {
    const s = await state();
    const rewards = s.rewards.slice(0, NODE_RUN.rewards.length);
    const diff = Math.max(...rewards.map((r, i) => Math.abs(r - (NODE_RUN.rewards[i] as number))));
    measured.nodeComparison = { command: NODE_RUN.command, maxAbsDiff: diff, steps: rewards.length };
    expect(NODE_RUN.rewards).toHaveLength(25);
    expect(rewards).toHaveLength(NODE_RUN.rewards.length);
    expect(rewards).toEqual(NODE_RUN.rewards);
  });

  for (const task of ['walker-walk', 'reacher-easy']) {
    it(`switches to ${task} and plans it`, async () => {
      await page.selectOption('[data-testid="task"]', task);
      await page.waitForFunction(
        (t) => {
          const p = (window as unknown as { mujocoPage: PageState }).mujocoPage;
          return p.task === t && p.state === 'ready';
        },
        task,
        { timeout: 120_000, polling: 100 },
      );
      expect((await state()).step).toBe(0);
      await page.click('[data-testid="start"]');
      await waitForSteps(3, 240_000);
      await page.click('#pause');
      await waitForState(['paused']);
      const s = await state();
      expect(s.error).toBe('');
      expect(s.task).toBe(task);
      expect(s.rewards.slice(0, 3).every(Number.isFinite)).toBe(true);
      expect(Number(await page.textContent('[data-testid="control-step"]'))).toBe(s.controlSteps);
      await page.screenshot({ path: join(ROOT, 'reports', `mujoco-${task}.png`) });
    }, 300_000);
  }

  it('bad settings give a clear message and nothing crashes', async () => {
    await page.fill('#samples', '0');
    await page.click('[data-testid="start"]');
    await waitForState(['error']);
    expect(await page.textContent('#status')).toBe('samples must be an integer ≥ 2, received 0');
    await page.fill('#samples', '20');
    await page.fill('#elites', '30');
    await page.click('[data-testid="start"]');
    await waitForState(['error']);
    expect(await page.textContent('#status')).toBe('elites must be < samples (20), received 30');
    // Fixed, the page plans again.
    await page.fill('#elites', '4');
    await page.click('[data-testid="start"]');
    await waitForSteps(1, 120_000);
    await page.click('#pause');
    await waitForState(['paused']);
    expect((await state()).error).toBe('');
  }, 240_000);

  it('logged no errors in the page', () => {
    expect(consoleErrors).toEqual([]);
  });
});

// Any static host: the built files served without the COOP/COEP headers
// (vite preview without the playground's config). The page is not
// cross-origin isolated there and plans all the same (plain Web Workers).
describe('MuJoCo page on a static host without COOP/COEP headers', () => {
  let plain: PreviewServer;
  let p: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    plain = await preview({
      root: ROOT,
      configFile: false,
      base: './',
      preview: { port: 0, host: '127.0.0.1' },
      logLevel: 'silent',
    });
    p = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    p.on('pageerror', (error) => errors.push(error.message));
    p.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    const address = plain.httpServer.address() as AddressInfo;
    await p.goto(`http://127.0.0.1:${address.port}/mujoco.html`, { timeout: 120_000 });
  }, 180_000);

  afterAll(async () => {
    await p?.close();
    if (plain !== undefined) await new Promise<void>((resolve) => plain.httpServer.close(() => resolve()));
  });

  it('is not isolated, and plans cheetah-run', async () => {
    const read = () => p.evaluate(() => (window as unknown as { mujocoPage: PageState }).mujocoPage);
    await p.waitForFunction(
      () => (window as unknown as { mujocoPage: PageState }).mujocoPage.state === 'ready',
      null,
      {
        timeout: 120_000,
        polling: 100,
      },
    );
    expect((await read()).crossOriginIsolated).toBe(false);
    await p.click('[data-testid="start"]');
    await p.waitForFunction(
      () => {
        const s = (window as unknown as { mujocoPage: PageState }).mujocoPage;
        return s.step >= 2 || s.state === 'error';
      },
      null,
      { timeout: 120_000, polling: 100 },
    );
    await p.click('#pause');
    const s = await read();
    expect(s.error).toBe('');
    expect(s.step).toBeGreaterThanOrEqual(2);
    // The same first rewards as on the isolated page (and in Node).
    expect(s.rewards.slice(0, 2)).toEqual(NODE_RUN.rewards.slice(0, 2));
    expect(errors).toEqual([]);
  }, 240_000);
});
