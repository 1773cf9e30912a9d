// The MuJoCo page: settings, a three.js view of the simulation with the
// planner's predicted paths, and live numbers. The planning runs in a Web
// Worker (./planner.worker.ts) with a pool of rollout workers; this thread
// only draws.
import { type GeomDescription, TASK_NAMES, type TaskName } from '@dcem/mujoco/web';
import wasmUrl from '@mujoco/mujoco/mujoco.wasm?url';
import * as THREE from 'three';
import {
  type FromPlanner,
  type Path,
  PLANNERS,
  type PlannerName,
  SELECTORS,
  type SelectorChoice,
  type Settings,
  type StepMessage,
  type ToPlanner,
} from './protocol.js';

/** What the page exposes for tests and the curious (`window.mujocoPage`). */
interface PageState {
  /** loading | ready | running | paused | done | error */
  state: string;
  task: TaskName | '';
  planner: PlannerName | '';
  step: number;
  controlSteps: number;
  return: number;
  rewards: number[];
  /** The tracked body's x at the reset and now (m). */
  trackStartX: number;
  trackX: number;
  /** The tracked body's x after each planning step (m). */
  trackXs: number[];
  /** Animation frames drawn since the page loaded. */
  frames: number;
  /** Simulated seconds per wall second over the last steps. */
  realTimeFactor: number;
  crossOriginIsolated: boolean;
  workers: number;
  actions: number[][];
  error: string;
}

const page: PageState = {
  state: 'loading',
  task: '',
  planner: '',
  step: 0,
  controlSteps: 0,
  return: 0,
  rewards: [],
  trackStartX: 0,
  trackX: 0,
  trackXs: [],
  frames: 0,
  realTimeFactor: 0,
  crossOriginIsolated: globalThis.crossOriginIsolated === true,
  workers: 0,
  actions: [],
  error: '',
};
(window as unknown as { mujocoPage: PageState }).mujocoPage = page;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const form = $<HTMLFormElement>('settings');
const taskSelect = $<HTMLSelectElement>('task');
const plannerSelect = $<HTMLSelectElement>('planner');
const status = $<HTMLOutputElement>('status');
const info = $<HTMLParagraphElement>('info');
const rewardCanvas = $<HTMLCanvasElement>('rewards');

for (const name of TASK_NAMES)
  taskSelect.add(new Option(name, name, name === 'cheetah-run', name === 'cheetah-run'));
for (const name of PLANNERS) plannerSelect.add(new Option(name, name, name === 'icem', name === 'icem'));

function setStatus(state: string, text: string): void {
  page.state = state;
  status.dataset.state = state;
  status.textContent = text;
}

// ---- three.js ---------------------------------------------------------------

const host = $<HTMLDivElement>('scene');
const renderer = new THREE.WebGLRenderer({ antialias: true });
renderer.setPixelRatio(Math.min(window.devicePixelRatio, 2));
renderer.setSize(host.clientWidth, host.clientHeight);
host.appendChild(renderer.domElement);
const scene = new THREE.Scene();
scene.background = new THREE.Color(0xe8edf3);
const camera = new THREE.PerspectiveCamera(45, host.clientWidth / host.clientHeight, 0.01, 100);
// MuJoCo's z points up.
camera.up.set(0, 0, 1);
scene.add(new THREE.HemisphereLight(0xffffff, 0x667788, 1.6));
const sun = new THREE.DirectionalLight(0xffffff, 1.6);
sun.position.set(-2, -3, 5);
scene.add(sun);

let meshes: THREE.Mesh[] = [];
let world = new THREE.Group();
scene.add(world);
const planLines = new THREE.Group();
scene.add(planLines);
/** Where the camera looks from, relative to the tracked point, per view. */
let cameraOffset = new THREE.Vector3(0, -3.2, 0.6);
let trackTarget = new THREE.Vector3();
const cameraTarget = new THREE.Vector3();

function geometryOf(g: GeomDescription): THREE.BufferGeometry | undefined {
  const [a, b, c] = g.size;
  switch (g.shape) {
    case 'plane': {
      // Size 0 means infinite: draw 40 m.
      return new THREE.PlaneGeometry(a > 0 ? 2 * a : 40, b > 0 ? 2 * b : 40);
    }
    case 'box':
      return new THREE.BoxGeometry(2 * a, 2 * b, 2 * c);
    case 'sphere':
      return new THREE.SphereGeometry(a, 24, 16);
    case 'ellipsoid':
      return new THREE.SphereGeometry(1, 24, 16).scale(a, b, c);
    case 'capsule':
      // three's capsule and cylinder run along y; MuJoCo's along z.
      return new THREE.CapsuleGeometry(a, 2 * b, 8, 16).rotateX(Math.PI / 2);
    case 'cylinder':
      return new THREE.CylinderGeometry(a, a, 2 * b, 24).rotateX(Math.PI / 2);
    default:
      return undefined;
  }
}

function buildScene(geoms: GeomDescription[]): void {
  scene.remove(world);
  for (const m of meshes) {
    m.geometry.dispose();
    (m.material as THREE.Material).dispose();
  }
  world = new THREE.Group();
  meshes = geoms.map((g) => {
    const geometry = geometryOf(g) ?? new THREE.BufferGeometry();
    const [r, gr, b, alpha] = g.rgba;
    const color = new THREE.Color(r, gr, b);
    const material =
      g.shape === 'plane'
        ? new THREE.MeshStandardMaterial({ color, roughness: 1 })
        : new THREE.MeshStandardMaterial({ color, roughness: 0.6, transparent: alpha < 1, opacity: alpha });
    if (g.shape === 'plane') {
      // A checker texture shows motion against the floor.
      const canvas = document.createElement('canvas');
      canvas.width = canvas.height = 64;
      const ctx = canvas.getContext('2d') as CanvasRenderingContext2D;
      ctx.fillStyle = `#${color.getHexString()}`;
      ctx.fillRect(0, 0, 64, 64);
      ctx.fillStyle = 'rgba(255,255,255,0.18)';
      ctx.fillRect(0, 0, 32, 32);
      ctx.fillRect(32, 32, 32, 32);
      const texture = new THREE.CanvasTexture(canvas);
      texture.wrapS = texture.wrapT = THREE.RepeatWrapping;
      const params = (geometry as THREE.PlaneGeometry).parameters;
      texture.repeat.set(params.width / 1, params.height / 1);
      texture.magFilter = THREE.NearestFilter;
      material.map = texture;
      material.color.set(0xffffff);
    }
    const mesh = new THREE.Mesh(geometry, material);
    mesh.matrixAutoUpdate = false;
    world.add(mesh);
    return mesh;
  });
  scene.add(world);
}

function applyPoses(position: Float64Array, rotation: Float64Array): void {
  meshes.forEach((mesh, g) => {
    const p = 3 * g;
    const r = 9 * g;
    const R = rotation;
    // geom_xmat is row-major, as Matrix4.set takes its entries.
    mesh.matrix.set(
      R[r] as number,
      R[r + 1] as number,
      R[r + 2] as number,
      position[p] as number,
      R[r + 3] as number,
      R[r + 4] as number,
      R[r + 5] as number,
      position[p + 1] as number,
      R[r + 6] as number,
      R[r + 7] as number,
      R[r + 8] as number,
      position[p + 2] as number,
      0,
      0,
      0,
      1,
    );
    mesh.matrixWorldNeedsUpdate = true;
  });
}

function line(path: Path, color: number, width: number, opacity: number): THREE.Object3D {
  const geometry = new THREE.BufferGeometry().setFromPoints(
    path.map(([x, y, z]) => new THREE.Vector3(x, y, z)),
  );
  const material = new THREE.LineBasicMaterial({
    color,
    linewidth: width,
    transparent: opacity < 1,
    opacity,
  });
  const group = new THREE.Group();
  group.add(new THREE.Line(geometry, material));
  // Dots at each predicted step, so the path reads even where lines are one pixel wide.
  const dots = new THREE.Points(
    geometry,
    new THREE.PointsMaterial({ color, size: width * 3, sizeAttenuation: false }),
  );
  group.add(dots);
  return group;
}

function drawPlans(plans: StepMessage['plans']): void {
  for (const child of [...planLines.children]) {
    planLines.remove(child);
    child.traverse((o) => {
      if (o instanceof THREE.Line || o instanceof THREE.Points) {
        o.geometry.dispose();
        (o.material as THREE.Material).dispose();
      }
    });
  }
  for (const e of plans.elites) planLines.add(line(e, 0x8a8f99, 1, 0.7));
  planLines.add(line(plans.best, 0x2e9d4f, 2, 1));
  planLines.add(line(plans.mean, 0xf07a1a, 2, 1));
}

// ---- reward curve -------------------------------------------------------------

function drawRewards(): void {
  const ctx = rewardCanvas.getContext('2d') as CanvasRenderingContext2D;
  const { width: w, height: h } = rewardCanvas;
  ctx.clearRect(0, 0, w, h);
  ctx.fillStyle = '#556';
  ctx.font = '11px system-ui, sans-serif';
  ctx.fillText('reward per step (max = action repeat)', 6, 12);
  const n = Math.max(episodeLength, 1);
  const top = Math.max(actionRepeat, 1e-9);
  ctx.strokeStyle = '#d33f49';
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  page.rewards.forEach((r, i) => {
    const x = 4 + ((w - 8) * (i + 0.5)) / n;
    const y = h - 4 - ((h - 22) * Math.max(0, Math.min(r, top))) / top;
    if (i === 0) ctx.moveTo(x, y);
    else ctx.lineTo(x, y);
  });
  ctx.stroke();
}

// ---- the worker ---------------------------------------------------------------

const worker = new Worker(new URL('./planner.worker.ts', import.meta.url), { type: 'module' });
const send = (message: ToPlanner) => worker.postMessage(message);
let actionRepeat = 1;
let controlTimestep = 0.01;
let episodeLength = 1000;
/** Wall time and simulated steps of recent steps, for the real-time factor. */
let recent: { ms: number; controlSteps: number }[] = [];
let configured: Settings | undefined;
/** The episode the page shows (messages of earlier ones are ignored). */
let episodeId = 0;

function readSettings(): Settings | string {
  const data = new FormData(form);
  const num = (name: string) => Number(data.get(name));
  const settings: Settings = {
    task: String(data.get('task')) as TaskName,
    planner: String(data.get('planner')) as PlannerName,
    selector: String(data.get('selector')) as SelectorChoice,
    temperature: num('temperature'),
    samples: num('samples'),
    elites: num('elites'),
    iterations: num('iterations'),
    horizon: num('horizon'),
    seed: num('seed'),
    workers: Math.max(1, navigator.hardwareConcurrency || 4),
  };
  if (!(SELECTORS as readonly string[]).includes(settings.selector))
    return `unknown selector ${settings.selector}`;
  for (const key of ['samples', 'elites', 'iterations', 'horizon', 'seed'] as const) {
    const v = settings[key];
    const min = key === 'samples' ? 2 : key === 'seed' ? 0 : 1;
    if (!Number.isInteger(v) || v < min)
      return `${key} must be an integer ≥ ${min}, received ${data.get(key)}`;
  }
  if (settings.elites >= settings.samples) {
    return `elites must be < samples (${settings.samples}), received ${settings.elites}`;
  }
  return settings;
}

const same = (a: Settings | undefined, b: Settings) =>
  a !== undefined && JSON.stringify(a) === JSON.stringify(b);

function resetNumbers(): void {
  page.step = 0;
  page.controlSteps = 0;
  page.return = 0;
  page.rewards = [];
  page.actions = [];
  page.trackXs = [];
  recent = [];
  page.realTimeFactor = 0;
  showNumbers();
  drawRewards();
}

function showNumbers(): void {
  $('control-step').textContent = String(page.controlSteps);
  $('agent-step').textContent = String(page.step);
  $('episode-return').textContent = page.return.toFixed(1);
  $('distance').textContent = `${(page.trackX - page.trackStartX).toFixed(2)} m`;
  $('rtf').textContent = page.realTimeFactor > 0 ? `${page.realTimeFactor.toFixed(2)}×` : '–';
}

/** Asks the worker for a fresh episode with the form's settings; false when they are bad. */
function configure(): Settings | undefined {
  const settings = readSettings();
  if (typeof settings === 'string') {
    setStatus('error', settings);
    return undefined;
  }
  configured = settings;
  setStatus('configuring', `loading ${settings.task}…`);
  resetNumbers();
  episodeId++;
  send({ type: 'configure', settings, id: episodeId });
  return settings;
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  if (page.state === 'loading') return;
  const settings = readSettings();
  if (typeof settings === 'string') {
    setStatus('error', settings);
    return;
  }
  // Changed settings start a new episode; the same ones continue this one.
  if (!same(configured, settings) || page.state === 'error' || page.state === 'done') configure();
  setStatus('running', `planning ${settings.task} with ${settings.planner}…`);
  send({ type: 'run' });
});
$('pause').addEventListener('click', () => {
  send({ type: 'pause' });
});
$('reset').addEventListener('click', () => {
  if (page.state === 'loading') return;
  send({ type: 'pause' });
  configure();
});
taskSelect.addEventListener('change', () => {
  if (page.state === 'loading') return;
  send({ type: 'pause' });
  configure();
});

worker.onmessage = (event: MessageEvent<FromPlanner>) => {
  const m = event.data;
  if ('id' in m && m.id !== episodeId) return;
  switch (m.type) {
    case 'ready':
      configure();
      break;
    case 'scene': {
      actionRepeat = m.actionRepeat;
      controlTimestep = m.controlTimestep;
      episodeLength = m.episodeLength;
      page.task = m.settings.task;
      page.planner = m.settings.planner;
      page.workers = m.workers;
      page.trackStartX = page.trackX = m.track[0];
      buildScene(m.geoms);
      applyPoses(m.position, m.rotation);
      drawPlans({ mean: [], best: [], elites: [] });
      const flat = m.settings.task === 'reacher-easy';
      cameraOffset = flat
        ? new THREE.Vector3(0, -0.55, 0.9)
        : m.settings.task === 'cheetah-run' || m.settings.task === 'walker-walk'
          ? new THREE.Vector3(0.9, -4.2, 0.7)
          : m.settings.task === 'cartpole-swingup'
            ? new THREE.Vector3(0, -4.5, 0.6)
            : new THREE.Vector3(0, -1.3, 0.2);
      trackTarget = new THREE.Vector3(...m.track);
      if (flat) trackTarget.set(0, 0, 0);
      if (m.settings.task === 'cartpole-swingup') trackTarget.set(0, 0, 1);
      if (m.settings.task === 'finger-spin' || m.settings.task === 'cup-catch') trackTarget.set(0, 0, 0.35);
      cameraTarget.copy(trackTarget);
      $('track-name').textContent = m.trackBody;
      info.textContent =
        `${m.settings.task}: action repeat ${m.actionRepeat} (one step = ${m.actionRepeat} control steps of ` +
        `${m.controlTimestep * 1000} ms), ${m.rolloutsPerStep} rollouts per step on ${m.workers} Web Workers; ` +
        `${page.crossOriginIsolated ? 'cross-origin isolated' : 'not cross-origin isolated'}, single-thread MuJoCo build.`;
      drawRewards();
      if (page.state === 'configuring')
        setStatus('ready', `${m.settings.task} with ${m.settings.planner}: press Start`);
      break;
    }
    case 'step': {
      page.step = m.step;
      page.controlSteps = m.controlSteps;
      page.return = m.return;
      page.rewards.push(m.reward);
      page.actions.push(m.action);
      page.trackX = m.track[0];
      page.trackXs.push(m.track[0]);
      if (page.task === 'cheetah-run' || page.task === 'walker-walk') {
        trackTarget.set(m.track[0], 0, Math.max(0.5, m.track[2]));
      }
      recent.push({ ms: m.ms, controlSteps: actionRepeat });
      if (recent.length > 10) recent.shift();
      const ms = recent.reduce((a, r) => a + r.ms, 0);
      const sim = recent.reduce((a, r) => a + r.controlSteps, 0) * controlTimestep;
      page.realTimeFactor = ms > 0 ? sim / (ms / 1000) : 0;
      applyPoses(m.position, m.rotation);
      drawPlans(m.plans);
      showNumbers();
      drawRewards();
      break;
    }
    case 'paused':
      if (page.state === 'running') setStatus('paused', `paused at step ${m.step}`);
      break;
    case 'done':
      setStatus('done', `episode done: return ${page.return.toFixed(1)}`);
      break;
    case 'error':
      page.error = m.message;
      setStatus('error', m.message);
      break;
  }
};
worker.onerror = (event) => {
  setStatus('error', `the planner worker failed: ${event.message}`);
};
send({ type: 'init', wasmUrl: new URL(wasmUrl, location.href).href });

// ---- animation ----------------------------------------------------------------

let fpsFrames = 0;
let fpsSince = performance.now();
function frame(now: number): void {
  page.frames++;
  fpsFrames++;
  if (now - fpsSince > 1000) {
    $('fps').textContent = ((1000 * fpsFrames) / (now - fpsSince)).toFixed(0);
    fpsFrames = 0;
    fpsSince = now;
  }
  // The camera glides after the tracked point.
  cameraTarget.lerp(trackTarget, 0.1);
  camera.position.copy(cameraTarget).add(cameraOffset);
  camera.lookAt(cameraTarget);
  renderer.render(scene, camera);
  requestAnimationFrame(frame);
}
requestAnimationFrame(frame);
