// The WebGPU backend of tfjs (@tensorflow/tfjs-backend-webgpu) in browsers
// and in Node, where the optional peer `webgpu` (Dawn's Node bindings)
// provides navigator.gpu. Used by select-backend.ts.
import type { Tf } from '../backend.js';

/** The part of a WebGPU adapter's `info` that is read here. */
interface AdapterInfoLike {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}

interface DeviceLostInfoLike {
  reason: string;
  message: string;
}

interface DeviceLike {
  lost: Promise<DeviceLostInfoLike>;
  addEventListener?(type: string, listener: (event: unknown) => void): void;
}

interface AdapterLike {
  info?: AdapterInfoLike;
  isFallbackAdapter?: boolean;
  features: { has(name: string): boolean };
  limits: Record<string, number>;
  requestDevice(descriptor?: object): Promise<DeviceLike>;
}

interface GpuLike {
  requestAdapter(options?: object): Promise<AdapterLike | null | undefined>;
}

/** What the Dawn package (`webgpu` on npm) exports. */
interface DawnModule {
  create(flags: string[]): GpuLike;
  globals: Record<string, unknown>;
}

interface BufferLike {
  size: number;
  mapState: string;
  mapAsync(mode: number): Promise<void>;
  getMappedRange(): ArrayBuffer;
  unmap(): void;
}

interface TensorDataLike {
  values: unknown;
  dtype: string;
  resource?: BufferLike;
}

/** The members of tfjs's WebGPUBackend that the Node read-back uses. */
interface WebGpuBackendLike {
  device: DeviceLike;
  tensorMap: { get(dataId: object): TensorDataLike };
  bufferManager: {
    acquireBuffer(size: number, usage: number): BufferLike;
    releaseBuffer(b: BufferLike): void;
  };
  commandEncoder: {
    copyBufferToBuffer(a: BufferLike, ao: number, b: BufferLike, bo: number, size: number): void;
  };
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
  convertAndCacheOnCPU(dataId: object, values: unknown): unknown;
  readSync(dataId: object): unknown;
}

type WebGpuBackendClass = new (device: DeviceLike, info?: AdapterInfoLike) => WebGpuBackendLike;

/** An adapter that was found, with how it was found. */
export interface WebGpuAdapter {
  adapter: AdapterLike;
  /** One line for a person: the adapter and the way it was reached. */
  description: string;
  /** Whether it computes on the CPU (llvmpipe, SwiftShader, lavapipe, a fallback adapter). */
  software: boolean;
}

/** The outcome of {@link findWebGpuAdapter}: an adapter, or why there is none. */
export type WebGpuProbe = ({ ok: true } & WebGpuAdapter) | { ok: false; reason: string };

/** How WebGPU is reached: a `navigator.gpu` already there, or Dawn loaded from `webgpu`. */
interface GpuSource {
  gpu: GpuLike;
  dawn?: DawnModule;
}

function errorText(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0] ?? text;
}

const SOFTWARE_NAMES = /llvmpipe|swiftshader|lavapipe|softpipe|software/i;

/** Whether an adapter is a software rasteriser rather than a GPU. */
export function isSoftwareAdapter(adapter: AdapterLike): boolean {
  const info = adapter.info ?? {};
  if (adapter.isFallbackAdapter === true || info.isFallbackAdapter === true) return true;
  const text = [info.vendor, info.architecture, info.device, info.description].join(' ');
  return SOFTWARE_NAMES.test(text);
}

function describeAdapter(adapter: AdapterLike, how: string): string {
  const info = adapter.info ?? {};
  const parts = [info.vendor, info.architecture, info.device, info.description].filter(
    (p): p is string => typeof p === 'string' && p.length > 0,
  );
  return `${parts.length > 0 ? parts.join(', ') : 'unnamed adapter'} (${how})`;
}

function navigatorGpu(): GpuLike | undefined {
  const nav = (globalThis as { navigator?: { gpu?: GpuLike } }).navigator;
  return nav?.gpu ?? undefined;
}

/** Node's `process` (this module is also bundled for browsers, so it is not assumed). */
const nodeProcess = (
  globalThis as {
    process?: { versions?: { node?: string }; platform?: string; env: Record<string, string | undefined> };
  }
).process;
const isNode = typeof nodeProcess?.versions?.node === 'string';

let dawnPromise: Promise<DawnModule | string> | undefined;

/** Loads Dawn's Node bindings, or says why they cannot be loaded. */
function loadDawn(importPackage: (pkg: string) => Promise<unknown>): Promise<DawnModule | string> {
  dawnPromise ??= importPackage('webgpu').then(
    (mod) => mod as DawnModule,
    (error: unknown) =>
      isNotInstalled(error, 'webgpu')
        ? 'webgpu is not installed'
        : `webgpu failed to load: ${errorText(error)}`,
  );
  return dawnPromise;
}

/**
 * Whether importing `pkg` failed because `pkg` itself cannot be resolved
 * (the same test as select-backend.ts uses for the other peers).
 */
export function isNotInstalled(error: unknown, pkg: string): boolean {
  const text = errorText(error);
  const quoted = text.includes(`'${pkg}'`) || text.includes(`"${pkg}"`);
  return quoted && /Cannot find (module|package)|Could not resolve|Failed to resolve/.test(text);
}

/**
 * On Linux in Node, without a page's navigator.gpu: whether the machine has
 * no GPU device node (/dev/dri/renderD*, /dev/nvidia*), so that the only
 * adapter Dawn could give is a software one. The default order then skips
 * webgpu without loading Dawn (which writes its findings to stderr).
 * Undefined elsewhere (the adapter decides).
 */
export async function linuxWithoutGpu(
  importPackage: (pkg: string) => Promise<unknown>,
): Promise<boolean | undefined> {
  // A navigator.gpu that this module did not define (a test's, a user's): the adapter decides.
  const ours = probeSource?.dawn !== undefined;
  if (!isNode || nodeProcess?.platform !== 'linux' || (navigatorGpu() !== undefined && !ours))
    return undefined;
  try {
    const fs = (await importPackage('node:fs')) as { readdirSync(path: string): string[] };
    const list = (dir: string) => {
      try {
        return fs.readdirSync(dir);
      } catch {
        return [];
      }
    };
    const render = list('/dev/dri').some((name) => name.startsWith('renderD'));
    const nvidia = list('/dev').some((name) => /^nvidia\d+$/.test(name));
    return !render && !nvidia;
  } catch {
    return undefined;
  }
}

let probePromise: Promise<WebGpuProbe> | undefined;
let probeSource: GpuSource | undefined;

/**
 * Finds a WebGPU adapter: the page's (or a caller's) `navigator.gpu` when
 * there is one, else, in Node, Dawn from the optional peer `webgpu`: first
 * its default backend (Vulkan, Metal or D3D12 on a GPU), then OpenGL ES in
 * compatibility mode (on Linux without a display: Mesa's EGL, surfaceless).
 * The result is remembered; nothing is changed outside this module but
 * `EGL_PLATFORM` and `XDG_RUNTIME_DIR`, set in Node when unset.
 */
export function findWebGpuAdapter(importPackage: (pkg: string) => Promise<unknown>): Promise<WebGpuProbe> {
  probePromise ??= probe(importPackage);
  return probePromise;
}

async function requestAdapter(gpu: GpuLike, options?: object): Promise<AdapterLike | string> {
  try {
    const adapter = await gpu.requestAdapter(options);
    return adapter ?? 'requestAdapter() gave no adapter';
  } catch (error) {
    return `requestAdapter() threw: ${errorText(error)}`;
  }
}

async function probe(importPackage: (pkg: string) => Promise<unknown>): Promise<WebGpuProbe> {
  const existing = navigatorGpu();
  if (existing !== undefined) {
    const adapter = await requestAdapter(existing, { powerPreference: 'high-performance' });
    if (typeof adapter === 'string') return { ok: false, reason: `navigator.gpu: ${adapter}` };
    probeSource = { gpu: existing };
    return {
      ok: true,
      adapter,
      description: describeAdapter(adapter, 'navigator.gpu'),
      software: isSoftwareAdapter(adapter),
    };
  }
  if (!isNode)
    return { ok: false, reason: 'this JavaScript runtime has no WebGPU (navigator.gpu is undefined)' };
  const dawn = await loadDawn(importPackage);
  if (typeof dawn === 'string') return { ok: false, reason: dawn };
  // Mesa's EGL needs a platform when there is no display; 'surfaceless'
  // renders off-screen. Both only when the user has not chosen.
  const env = (nodeProcess as NonNullable<typeof nodeProcess>).env;
  env.EGL_PLATFORM ??= 'surfaceless';
  if (env.XDG_RUNTIME_DIR === undefined) {
    const os = (await importPackage('node:os')) as { tmpdir(): string };
    env.XDG_RUNTIME_DIR = os.tmpdir();
  }
  // Before Dawn schedules anything: see installTickHook.
  installTickHook();
  const reasons: string[] = [];
  const tries: [string[], object, string][] = [
    [[], { powerPreference: 'high-performance' }, "Dawn's default backend"],
    [
      ['backend=opengles'],
      { featureLevel: 'compatibility', powerPreference: 'high-performance' },
      'Dawn, OpenGL ES, compatibility mode',
    ],
  ];
  let softwareFound: { adapter: AdapterLike; gpu: GpuLike; how: string } | undefined;
  for (const [flags, options, how] of tries) {
    let gpu: GpuLike;
    try {
      gpu = dawn.create(flags);
    } catch (error) {
      reasons.push(`${how}: ${errorText(error)}`);
      continue;
    }
    const adapter = await requestAdapter(gpu, options);
    if (typeof adapter === 'string') {
      reasons.push(`${how}: ${adapter}`);
      continue;
    }
    if (!isSoftwareAdapter(adapter)) {
      probeSource = { gpu, dawn };
      return { ok: true, adapter, description: describeAdapter(adapter, how), software: false };
    }
    // A software adapter: keep it, but look on for a GPU.
    softwareFound ??= { adapter, gpu, how };
  }
  if (softwareFound !== undefined) {
    probeSource = { gpu: softwareFound.gpu, dawn };
    const { adapter, how } = softwareFound;
    return { ok: true, adapter, description: describeAdapter(adapter, how), software: true };
  }
  const hint =
    nodeProcess?.platform === 'linux'
      ? "; without a GPU driver Dawn needs Mesa's EGL and llvmpipe (Debian: apt-get install libegl-dev libegl-mesa0 libgl1-mesa-dri)"
      : '';
  return { ok: false, reason: `no WebGPU adapter (${reasons.join('; ')})${hint}` };
}

/** Makes `navigator.gpu` and the WebGPU globals (GPUBufferUsage, …) exist in Node, as tfjs expects. */
function exposeDawn(source: GpuSource): void {
  if (source.dawn === undefined) return;
  const g = globalThis as Record<string, unknown>;
  for (const [name, value] of Object.entries(source.dawn.globals)) {
    if (!(name in g)) g[name] = value;
  }
  const nav = g.navigator as { gpu?: GpuLike } | undefined;
  if (nav === undefined) {
    g.navigator = { gpu: source.gpu };
  } else if (nav.gpu !== source.gpu) {
    Object.defineProperty(nav, 'gpu', { value: source.gpu, configurable: true, enumerable: true });
  }
}

/** The device-lost record of the device tfjs uses, once it is lost. */
let lostInfo: DeviceLostInfoLike | undefined;

/**
 * Why the WebGPU device that the tfjs `webgpu` backend uses was lost
 * (`"destroyed: …"` or `"unknown: …"`, from the device's `lost` promise),
 * or undefined while it works. Once it is lost every read of a webgpu
 * tensor throws a {@link WebGpuDeviceLostError}; select a backend again.
 *
 * @example
 * ```ts
 * import { useBackend, webGpuDeviceLost } from '@dcem/tfjs';
 * await useBackend('webgpu');
 * // … later, after an error:
 * const lost = webGpuDeviceLost();
 * if (lost !== undefined) await useBackend('wasm');
 * ```
 */
export function webGpuDeviceLost(): string | undefined {
  return lostInfo === undefined ? undefined : `${lostInfo.reason}: ${lostInfo.message}`;
}

let watched: DeviceLike | undefined;
/** Errors the device reported (uncaptured validation or out-of-memory errors) since the last read. */
let deviceErrors: string[] = [];

/**
 * Watches the device of the active tfjs webgpu backend: records its loss
 * and its uncaptured errors (a shader that fails to compile, say), and makes
 * the backend's reads throw on either instead of returning numbers that
 * were never computed.
 */
export function watchBackend(backend: unknown): void {
  const b = backend as Partial<WebGpuBackendLike> & { read?: (dataId: object) => Promise<unknown> };
  const device = b.device;
  if (device === undefined || device === watched) return;
  watched = device;
  lostInfo = undefined;
  deviceErrors = [];
  void device.lost.then((info) => {
    if (watched === device) lostInfo = { reason: String(info.reason), message: String(info.message) };
  });
  device.addEventListener?.('uncapturederror', (event) => {
    const message = (event as { error?: { message?: unknown } }).error?.message;
    if (watched === device) deviceErrors.push(String(message ?? 'unknown error').split('\n')[0] as string);
  });
  const check = () => {
    const lost = webGpuDeviceLost();
    if (lost !== undefined) throw new WebGpuDeviceLostError(lost);
    if (deviceErrors.length > 0) {
      const first = deviceErrors[0] as string;
      const more = deviceErrors.length - 1;
      deviceErrors = [];
      throw new WebGpuError(`${first}${more > 0 ? ` (and ${more} more)` : ''}`);
    }
  };
  // Values already on the host (read before, or small tensors tfjs keeps
  // there) are returned as they are; reads from the GPU are checked.
  const onHost = (dataId: object) => b.tensorMap?.get(dataId)?.values != null;
  if (typeof b.readSync === 'function') {
    const readSync = b.readSync.bind(backend);
    b.readSync = (dataId: object) => {
      if (onHost(dataId)) return readSync(dataId);
      const values = readSync(dataId);
      check();
      return values;
    };
  }
  if (typeof b.read === 'function') {
    const read = b.read.bind(backend);
    b.read = async (dataId: object) => {
      if (onHost(dataId)) return read(dataId);
      try {
        const values = await read(dataId);
        check();
        return values;
      } catch (error) {
        check();
        throw error;
      }
    };
  }
}

/**
 * The error a read of the webgpu backend (`dataSync`, `data`, and so the
 * solver's documented reads) gives when the device reported an uncaptured
 * error since the previous read: a shader that failed to compile, say, whose
 * results were never computed.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { WebGpuError } from '@dcem/tfjs';
 * try {
 *   tf.square(tf.tensor1d([1, 2])).dataSync();
 * } catch (error) {
 *   if (error instanceof WebGpuError) console.error(error.message);
 * }
 * ```
 */
export class WebGpuError extends Error {
  constructor(detail: string) {
    super(`the WebGPU device reported an error: ${detail}`);
    this.name = 'WebGpuError';
  }
}

/**
 * The error every read of the webgpu backend gives once its device is lost
 * (destroyed, a driver reset, the GPU removed): reads fail at once instead
 * of waiting for results that never come. See {@link webGpuDeviceLost}.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { WebGpuDeviceLostError } from '@dcem/tfjs';
 * try {
 *   tf.square(tf.tensor1d([1, 2])).dataSync();
 * } catch (error) {
 *   if (error instanceof WebGpuDeviceLostError) console.error('GPU lost:', error.message);
 * }
 * ```
 */
export class WebGpuDeviceLostError extends Error {
  constructor(detail: string) {
    super(`the WebGPU device was lost (${detail}); select a backend again to continue`);
    this.name = 'WebGpuDeviceLostError';
  }
}

let setupPromise: Promise<string | undefined> | undefined;

/**
 * Loads @tensorflow/tfjs-backend-webgpu for the adapter found and registers
 * a `webgpu` backend factory on `tf` that uses it. Returns undefined when
 * done, else why it failed.
 */
export function registerWebGpu(
  tf: Tf,
  found: WebGpuAdapter,
  importPackage: (pkg: string) => Promise<unknown>,
): Promise<string | undefined> {
  setupPromise ??= register(tf, found, importPackage);
  return setupPromise;
}

async function register(
  tf: Tf,
  found: WebGpuAdapter,
  importPackage: (pkg: string) => Promise<unknown>,
): Promise<string | undefined> {
  const source = probeSource;
  if (source === undefined) return 'no adapter was found';
  // In a browser where the page imported @tensorflow/tfjs-backend-webgpu
  // itself (bundlers cannot follow the dynamic import below), tfjs's own
  // factory works as it is.
  if (source.dawn === undefined && tf.findBackendFactory('webgpu') !== null) return undefined;
  // tfjs-backend-webgpu registers itself only if navigator.gpu exists when it is imported.
  exposeDawn(source);
  let mod: { WebGPUBackend?: WebGpuBackendClass };
  const pkg = '@tensorflow/tfjs-backend-webgpu';
  try {
    mod = (await importPackage(pkg)) as typeof mod;
  } catch (error) {
    return isNotInstalled(error, pkg)
      ? `${pkg} is not installed`
      : `${pkg} failed to load: ${errorText(error)}`;
  }
  const Backend = mod.WebGPUBackend;
  if (typeof Backend !== 'function') return `${pkg} has no WebGPUBackend export`;
  if (tf.findBackendFactory('webgpu') === null) {
    return `${pkg} loaded but registered no "webgpu" backend with this copy of tfjs (two copies of @tensorflow/tfjs-core installed?)`;
  }
  // Replace tfjs's own factory, which asks for an adapter again (without
  // compatibility mode, so it finds none on OpenGL ES) and ignores device loss.
  tf.removeBackend('webgpu');
  const { adapter } = found;
  tf.registerBackend(
    'webgpu',
    async () => {
      const requiredFeatures = adapter.features.has('timestamp-query') ? ['timestamp-query'] : [];
      const limits = adapter.limits;
      const device = await adapter.requestDevice({
        requiredFeatures,
        requiredLimits: {
          maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
          maxComputeWorkgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension,
          maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
          maxBufferSize: limits.maxBufferSize,
          maxComputeWorkgroupSizeX: limits.maxComputeWorkgroupSizeX,
          maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
        },
      });
      const backend = new Backend(device, adapter.info);
      if (source.dawn !== undefined) installSyncRead(tf, backend);
      return backend as unknown as ReturnType<Parameters<Tf['registerBackend']>[1]>;
    },
    // Priority 0: tfjs never picks it by itself, only selectBackend/useBackend.
    0,
  );
  return undefined;
}

// ---------------------------------------------------------------------------
// Synchronous reads in Node. tfjs's WebGPU readSync copies through an
// OffscreenCanvas, which Node lacks. Dawn's Node bindings finish a
// mapAsync when they process events, which they schedule with
// setImmediate (a native callback) while work is pending. Routing those
// callbacks through a queue lets a read run them at once, so the buffer is
// mapped (and read) before readSync returns. Other setImmediate callers are
// untouched.

interface Tick {
  fn: () => void;
}

const ticks = new Set<Tick>();
let tickHookInstalled = false;

function isNativeFunction(fn: unknown): boolean {
  return (
    typeof fn === 'function' && /\{\s*\[native code\]\s*\}\s*$/.test(Function.prototype.toString.call(fn))
  );
}

function installTickHook(): void {
  if (tickHookInstalled) return;
  tickHookInstalled = true;
  const g = globalThis as unknown as {
    setImmediate: (fn: (...a: unknown[]) => void, ...args: unknown[]) => unknown;
  };
  const original = g.setImmediate;
  const hooked = function setImmediate(fn: (...a: unknown[]) => void, ...args: unknown[]): unknown {
    if (args.length > 0 || !isNativeFunction(fn)) return original(fn, ...args);
    const tick: Tick = { fn: fn as () => void };
    ticks.add(tick);
    return original(() => {
      if (ticks.delete(tick)) tick.fn();
    });
  };
  Object.defineProperties(hooked, Object.getOwnPropertyDescriptors(original));
  g.setImmediate = hooked;
}

function runTicks(): void {
  const now = [...ticks];
  ticks.clear();
  for (const tick of now) tick.fn();
}

/** Longest a synchronous read waits for the GPU before it gives up. */
const READ_TIMEOUT_MS = 120_000;
const MAP_READ = 0x0001;
const COPY_DST = 0x0008;

function installSyncRead(tf: Tf, backend: WebGpuBackendLike): void {
  const original = backend.readSync.bind(backend);
  const pause = new Int32Array(new SharedArrayBuffer(4));
  backend.readSync = (dataId: object) => {
    const data = backend.tensorMap.get(dataId);
    if (
      data.values != null ||
      data.dtype === 'string' ||
      data.dtype === 'complex64' ||
      data.resource === undefined
    ) {
      return original(dataId);
    }
    const lost = webGpuDeviceLost();
    if (lost !== undefined) throw new WebGpuDeviceLostError(lost);
    const source = data.resource;
    const staging = backend.bufferManager.acquireBuffer(source.size, MAP_READ | COPY_DST);
    backend.ensureCommandEncoderReady();
    backend.endComputePassEncoder();
    backend.commandEncoder.copyBufferToBuffer(source, 0, staging, 0, source.size);
    backend.submitQueue();
    // The promise settles after this function returns; the state is read instead.
    staging.mapAsync(MAP_READ).catch(() => undefined);
    const start = Date.now();
    let wait = 0;
    while (staging.mapState === 'pending') {
      runTicks();
      if (staging.mapState !== 'pending') break;
      if (Date.now() - start > READ_TIMEOUT_MS) {
        throw new Error(`a WebGPU read did not finish within ${READ_TIMEOUT_MS / 1000} s`);
      }
      // Sleep a little (up to 1 ms) so a software adapter's threads can run.
      wait = Math.min(1, wait + 0.05);
      Atomics.wait(pause, 0, 0, wait);
    }
    if (staging.mapState !== 'mapped') {
      const detail = webGpuDeviceLost();
      throw new WebGpuDeviceLostError(detail ?? 'a read-back buffer could not be mapped');
    }
    const bytes = staging.getMappedRange().slice(0);
    staging.unmap();
    backend.bufferManager.releaseBuffer(staging);
    const dtype = data.dtype as Parameters<typeof tf.util.convertBackendValuesAndArrayBuffer>[1];
    return backend.convertAndCacheOnCPU(dataId, tf.util.convertBackendValuesAndArrayBuffer(bytes, dtype));
  };
}

/** Entries of the read-back check: above tfjs's CPU hand-off size (1000), so the product runs on the GPU. */
const CHECK_SIZE = 4096;

/** The inputs and expected entries of the read-back checks. */
function readBackCase(tf: Tf): { x: ReturnType<Tf['tensor1d']>; y: ReturnType<Tf['mul']> } {
  const values = new Float32Array(CHECK_SIZE);
  for (let i = 0; i < CHECK_SIZE; i++) values[i] = i - 1000;
  const x = tf.tensor1d(values);
  return { x, y: tf.mul(x, tf.scalar(0.5)) };
}

/** Why `got` is not the read-back case's result, or undefined. */
function readBackMismatch(got: ArrayLike<number>, how: string): string | undefined {
  for (let i = 0; i < CHECK_SIZE; i++) {
    if (got[i] !== (i - 1000) * 0.5) {
      return `${how} of a GPU result gave ${got[i]} instead of ${(i - 1000) * 0.5} at entry ${i}`;
    }
  }
  return undefined;
}

/**
 * Checks that an asynchronous read (`data()`) of a GPU result gives the
 * right numbers on the active webgpu backend; returns why not, or
 * undefined. What `useBackend('webgpu', tf, { reads: 'async' })` checks:
 * the async solves read only this way.
 */
export async function checkAsyncReadBack(tf: Tf): Promise<string | undefined> {
  const { x, y } = readBackCase(tf);
  try {
    return readBackMismatch(await y.data(), 'an asynchronous read');
  } catch (error) {
    return `an asynchronous read of a GPU result failed: ${errorText(error)}`;
  } finally {
    tf.dispose([x, y]);
  }
}

/**
 * Checks that a synchronous read of a GPU result gives the right numbers
 * on the active webgpu backend; returns why not, or undefined. In browsers
 * tfjs reads synchronously through an OffscreenCanvas, which some browsers
 * (headless Chromium on SwiftShader) answer with zeros.
 */
export function checkSyncReadBack(tf: Tf): string | undefined {
  const { x, y } = readBackCase(tf);
  try {
    const wrong = readBackMismatch(y.dataSync(), 'a synchronous read');
    return wrong === undefined
      ? undefined
      : `${wrong} (tfjs's dataSync on WebGPU does not work here; its async data() may: use the async API, dcemAsync/cemAsync/planAsync, with useBackend('webgpu', tf, { reads: 'async' }))`;
  } catch (error) {
    return `a synchronous read of a GPU result failed: ${errorText(error)}`;
  } finally {
    tf.dispose([x, y]);
  }
}
