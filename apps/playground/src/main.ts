import { createMinimumMover, OBJECTIVES_2D } from '@dcem/tasks/objectives';
import { createCem, disposeCemResult } from '@dcem/tfjs';
import * as tf from '@tensorflow/tfjs';
import { activate, CANDIDATES, pickFastestBackend } from './backend.js';
import { drawFrame, type Overlay, renderSurface, toPoint, type View } from './draw.js';

const OBJECTIVES = Object.values(OBJECTIVES_2D);

const canvas = document.querySelector<HTMLCanvasElement>('#plot') as HTMLCanvasElement;
const ctx = canvas.getContext('2d') as CanvasRenderingContext2D;
const form = document.querySelector<HTMLFormElement>('#settings') as HTMLFormElement;
const select = document.querySelector<HTMLSelectElement>('#objective') as HTMLSelectElement;
const status = document.querySelector<HTMLOutputElement>('#status') as HTMLOutputElement;
const backendOut = document.querySelector<HTMLOutputElement>('#backend') as HTMLOutputElement;
const logOut = document.querySelector<HTMLPreElement>('#log') as HTMLPreElement;
const learnButton = document.querySelector<HTMLButtonElement>('#learn') as HTMLButtonElement;
const runButton = document.querySelector<HTMLButtonElement>('#run') as HTMLButtonElement;

OBJECTIVES.forEach((o, i) => {
  const option = document.createElement('option');
  option.value = String(i);
  option.textContent = o.title;
  select.append(option);
});

let busy = false;
let target: [number, number] = [0, 1.25];
let surface: ImageData | undefined;

function view(): View {
  const objective = OBJECTIVES[Number(select.value)] ?? OBJECTIVES[0];
  return { box: objective?.box ?? [-3, 3, -3, 3], width: canvas.width, height: canvas.height };
}

function objective() {
  return OBJECTIVES[Number(select.value)] ?? (OBJECTIVES[0] as (typeof OBJECTIVES)[number]);
}

function readSettings() {
  const value = (id: string) => (form.elements.namedItem(id) as HTMLInputElement).value;
  const vanilla = (form.elements.namedItem('vanilla') as HTMLInputElement).checked;
  return {
    numSamples: Number(value('numSamples')),
    numElites: Number(value('numElites')),
    numIterations: Number(value('numIterations')),
    temperature: vanilla ? null : Number(value('temperature')),
    initStd: Number(value('initStd')),
    seed: Number(value('seed')),
  };
}

function log(line: string): void {
  logOut.textContent = `${line}\n${logOut.textContent ?? ''}`.slice(0, 4000);
}

function setStatus(text: string, state: string): void {
  status.textContent = text;
  status.dataset.state = state;
}

async function redrawSurface(f?: (samples: tf.Tensor) => tf.Tensor): Promise<void> {
  surface = await renderSurface(view(), f ?? objective().f());
}

function show(o: Overlay): void {
  if (surface !== undefined) drawFrame(ctx, view(), surface, o);
}

/** The entries of a tensor, read asynchronously (every read of the page is: WebGPU in a browser has no other). */
async function entries(x: tf.Tensor): Promise<number[]> {
  return Array.from(await x.data());
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs CEM/DCEM step by step with the ask/tell state machine, drawing every
 * iteration; every read is awaited (`tellAsync`, `resultAsync`, `data()`).
 */
async function run(): Promise<void> {
  const s = readSettings();
  const f = objective().f();
  let weights: tf.Tensor | undefined;
  let solver: ReturnType<typeof createCem>;
  try {
    // The temperature is always given explicitly (readSettings), so createCem's default does not apply.
    solver = createCem({
      dim: 2,
      ...s,
      initMean: 0,
      tolerance: 0,
      onIteration: (info) => {
        // Kept past the callback (it cannot wait for a read), read below.
        weights = tf.keep(info.weights.clone());
      },
    });
  } catch (error) {
    setStatus(`error: ${error instanceof Error ? error.message : String(error)}`, 'error');
    return;
  }
  const trail: number[][] = [];
  let state = solver.init();
  let drawn = 0;
  try {
    while (!solver.done(state)) {
      const samples = solver.ask(state);
      const values = tf.tidy(() => f(samples));
      const next = await solver.tellAsync(state, samples, values);
      const mean = await entries(next.mean);
      const std = await entries(next.std);
      trail.push(mean);
      const overlay: Overlay = { samples: Float32Array.from(await samples.data()), mean, std, trail };
      if (weights !== undefined) {
        overlay.weights = Float32Array.from(await weights.data());
        weights.dispose();
        weights = undefined;
      }
      drawn = (overlay.samples as Float32Array).length / 2;
      show(overlay);
      tf.dispose([samples, values]);
      solver.release(state);
      state = next;
      const fmTensor = tf.tidy(() => f(tf.tensor3d([[mean]])));
      const fm = (await entries(fmTensor))[0] as number;
      fmTensor.dispose();
      setStatus(
        `iteration ${state.iteration}/${s.numIterations}: mean (${mean.map((v) => v.toFixed(3)).join(', ')}), f = ${fm.toFixed(4)}`,
        'running',
      );
      canvas.dataset.iteration = String(state.iteration);
      canvas.dataset.samplesDrawn = String(drawn);
      await pause(250);
    }
    const result = await solver.resultAsync(state);
    const x = await entries(result.solution);
    disposeCemResult(result);
    canvas.dataset.solution = JSON.stringify(x);
    const kind = s.temperature === null ? 'CEM' : `DCEM (τ = ${s.temperature})`;
    setStatus(
      `done: ${kind} found (${x.map((v) => v.toFixed(3)).join(', ')}) in ${result.iterations} iterations`,
      'done',
    );
    log(`${objective().title}: ${kind} → (${x.map((v) => v.toFixed(3)).join(', ')})`);
  } catch (error) {
    solver.release(state);
    setStatus(`error: ${error instanceof Error ? error.message : String(error)}`, 'error');
  } finally {
    weights?.dispose();
    solver.dispose();
  }
}

/**
 * Learns θ of the three-bumps objective through DCEM so that its minimiser
 * moves to the target. The learner reads its loss synchronously, so on
 * webgpu (read asynchronously here) it runs on wasm, and the page goes back
 * to webgpu afterwards.
 */
async function learn(): Promise<void> {
  const active = tf.getBackend();
  if (active === 'webgpu') {
    await activate('wasm');
    log('learning runs on wasm: it reads synchronously, which WebGPU in a browser cannot');
  }
  try {
    await learnOn();
  } finally {
    if (active === 'webgpu') await activate('webgpu');
  }
}

async function learnOn(): Promise<void> {
  select.value = '0';
  const s = readSettings();
  const steps = 40;
  const mover = createMinimumMover({
    target,
    numSamples: s.numSamples,
    numElites: s.numElites,
    numIterations: s.numIterations,
    temperature: s.temperature ?? 1,
    initStd: s.initStd,
    seed: s.seed,
  });
  try {
    for (let step = 0; step < steps; step++) {
      const { loss, solution } = mover.step();
      await redrawSurface(mover.objective());
      show({ mean: solution, std: [0.05, 0.05], target });
      setStatus(
        `learning: step ${step + 1}/${steps}, loss ‖x̂ − target‖² = ${loss.toExponential(2)}`,
        'learning',
      );
      canvas.dataset.loss = String(loss);
      await pause(30);
    }
    setStatus(`done: learned θ moves the DCEM minimiser to the target (loss ${canvas.dataset.loss})`, 'done');
    log(
      `learned θ = (${mover
        .theta()
        .map((v) => v.toFixed(2))
        .join(', ')})`,
    );
  } catch (error) {
    setStatus(`error: ${error instanceof Error ? error.message : String(error)}`, 'error');
  } finally {
    mover.dispose();
  }
}

async function exclusive(task: () => Promise<void>): Promise<void> {
  if (busy) return;
  busy = true;
  runButton.disabled = true;
  learnButton.disabled = true;
  try {
    await task();
  } finally {
    busy = false;
    runButton.disabled = false;
    learnButton.disabled = false;
  }
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  void exclusive(run);
});
learnButton.addEventListener('click', () => void exclusive(learn));
select.addEventListener('change', () => {
  void redrawSurface().then(() => show({}));
});
canvas.addEventListener('click', (event) => {
  const rect = canvas.getBoundingClientRect();
  target = toPoint(view(), event.clientX - rect.left, event.clientY - rect.top);
  show({ target });
});

async function start(): Promise<void> {
  runButton.disabled = true;
  learnButton.disabled = true;
  // ?backend=webgpu (or webgl, wasm, cpu) skips the measurement and uses that backend.
  const only = new URLSearchParams(location.search).get('backend') ?? undefined;
  if (only !== undefined && !(CANDIDATES as readonly string[]).includes(only)) {
    setStatus(`unknown backend "${only}" in the address; use one of ${CANDIDATES.join(', ')}`, 'error');
    return;
  }
  const { active, measurements } = await pickFastestBackend(only);
  const detail = measurements
    .map((m) =>
      m.ms === undefined ? `${m.name}: unavailable (${m.error})` : `${m.name} ${m.ms.toFixed(1)} ms`,
    )
    .join(', ');
  backendOut.textContent = `tfjs backend: ${active} (${only === undefined ? 'fastest measured' : 'chosen in the address'}; ${detail})`;
  backendOut.dataset.backend = active;
  await redrawSurface();
  show({ target });
  setStatus('ready: choose settings and press Run', 'ready');
  runButton.disabled = false;
  learnButton.disabled = false;
}

void start();
