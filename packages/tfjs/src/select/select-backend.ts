import { describeValue } from '@dcem/errors';
import * as tfjs from '@tensorflow/tfjs';
import type { Tf } from '../backend.js';
import {
  checkAsyncReadBack,
  checkSyncReadBack,
  findWebGpuAdapter,
  isNotInstalled,
  linuxWithoutGpu,
  registerWebGpu,
  watchBackend,
} from './webgpu.js';

/** The tfjs backends {@link selectBackend} knows, fastest first. */
export type BackendName = 'tensorflow-gpu' | 'webgpu' | 'tensorflow' | 'wasm' | 'cpu';

/** One attempt of {@link selectBackend}. */
export interface BackendAttempt {
  /** Which backend was tried. */
  name: BackendName;
  /** Whether it is now the active tfjs backend. */
  ok: boolean;
  /** Why it did not load (absent when `ok`). */
  reason?: string;
  /** For `webgpu`: the adapter found (vendor, architecture, device, how it was reached). */
  adapter?: string;
}

/** What {@link selectBackend} did. */
export interface BackendSelection {
  /** The backend now active (`tf.getBackend()`). */
  active: string;
  /** Every backend tried, in order. */
  attempts: BackendAttempt[];
  /** One line for a person: which backend runs and why the faster ones did not. */
  message: string;
}

/**
 * Default preference order: GPU TensorFlow, WebGPU (on a GPU adapter
 * only), CPU TensorFlow, wasm, cpu.
 */
export const BACKEND_ORDER: readonly BackendName[] = [
  'tensorflow-gpu',
  'webgpu',
  'tensorflow',
  'wasm',
  'cpu',
];

/**
 * The error of {@link useBackend} when the backend asked for cannot run
 * here; `reason` says why (a package is not installed, no WebGPU adapter,
 * …).
 *
 * @example
 * ```ts
 * import { BackendUnavailableError, useBackend } from '@dcem/tfjs';
 * try {
 *   await useBackend('webgpu');
 * } catch (error) {
 *   if (error instanceof BackendUnavailableError) console.log(error.backend, error.reason);
 * }
 * ```
 */
export class BackendUnavailableError extends Error {
  /** The backend that was asked for. */
  readonly backend: BackendName;
  /** Why it cannot run. */
  readonly reason: string;
  constructor(backend: BackendName, reason: string) {
    super(`cannot use the ${backend} backend: ${reason}`);
    this.name = 'BackendUnavailableError';
    this.backend = backend;
    this.reason = reason;
  }
}

const PACKAGES: Record<BackendName, string | undefined> = {
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  webgpu: '@tensorflow/tfjs-backend-webgpu',
  tensorflow: '@tensorflow/tfjs-node',
  wasm: '@tensorflow/tfjs-backend-wasm',
  cpu: undefined,
};

function errorText(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0] ?? text;
}

const importPackage = (pkg: string): Promise<unknown> => import(pkg);

/**
 * Prepares the WebGPU backend: finds an adapter (see webgpu.ts) and, when
 * one may be used, registers tfjs's WebGPU backend on it. A software
 * adapter is used only when `named`.
 */
async function prepareWebGpu(tf: Tf, named: boolean): Promise<{ reason?: string; adapter?: string }> {
  if (!named && (await linuxWithoutGpu(importPackage)) === true) {
    return {
      reason:
        'no GPU here (no /dev/dri/renderD* or /dev/nvidia*); ask for webgpu by name to use a software adapter',
    };
  }
  const found = await findWebGpuAdapter(importPackage);
  if (!found.ok) return { reason: found.reason };
  const adapter = found.description;
  if (found.software && !named) {
    return { reason: `only a software adapter, ${adapter}; ask for webgpu by name to use it`, adapter };
  }
  const reason = await registerWebGpu(tf, found, importPackage);
  return reason === undefined ? { adapter } : { reason, adapter };
}

/**
 * How the caller will read results: `'sync'` (default) with the
 * synchronous API (`dcem`, `cem`, `plan`, `dataSync`), `'async'` with the
 * async API only (`dcemAsync`, `cemAsync`, `planAsync`, `data()`).
 */
export type ReadMode = 'sync' | 'async';

function assertReadMode(reads: unknown): asserts reads is ReadMode {
  if (reads !== 'sync' && reads !== 'async') {
    throw new TypeError(`reads must be 'sync' or 'async', received ${describeValue(reads)}`);
  }
}

async function tryBackend(
  tf: Tf,
  name: BackendName,
  named: boolean,
  reads: ReadMode,
): Promise<BackendAttempt> {
  const pkg = PACKAGES[name];
  let adapter: string | undefined;
  if (name === 'webgpu') {
    const prepared = await prepareWebGpu(tf, named);
    adapter = prepared.adapter;
    if (prepared.reason !== undefined) {
      return { name, ok: false, reason: prepared.reason, ...(adapter === undefined ? {} : { adapter }) };
    }
  } else if (pkg !== undefined) {
    try {
      await import(pkg);
    } catch (error) {
      const missing = isNotInstalled(error, pkg);
      return {
        name,
        ok: false,
        reason: missing ? `${pkg} is not installed` : `${pkg} failed to load: ${errorText(error)}`,
      };
    }
  }
  const registered = name === 'tensorflow-gpu' ? 'tensorflow' : name;
  if (tf.findBackendFactory(registered) === null && tf.findBackend(registered) === null) {
    return {
      name,
      ok: false,
      reason: `${pkg ?? 'tfjs'} loaded but registered no "${registered}" backend with this copy of tfjs (two copies of @tensorflow/tfjs-core installed?)`,
    };
  }
  try {
    // engine().backendName does not initialise a backend (getBackend() would).
    const previous = (tf.engine() as { backendName?: string | null }).backendName ?? 'cpu';
    const ok = await tf.setBackend(registered);
    await tf.ready();
    if (ok && name === 'webgpu') {
      watchBackend(tf.backend());
      // Make sure the reads the caller will make work on this adapter before
      // calling it usable: synchronous ones fail on some (headless Chromium
      // on SwiftShader answers zeros), where the async API still works.
      const broken = reads === 'sync' ? checkSyncReadBack(tf) : await checkAsyncReadBack(tf);
      if (broken !== undefined) {
        await tf.setBackend(previous);
        return { name, ok: false, reason: broken, ...(adapter === undefined ? {} : { adapter }) };
      }
    }
    if (!ok) return { name, ok: false, reason: `tf.setBackend('${registered}') failed` };
    return adapter === undefined ? { name, ok: true } : { name, ok: true, adapter };
  } catch (error) {
    return { name, ok: false, reason: `tf.setBackend('${registered}') threw: ${errorText(error)}` };
  }
}

/**
 * Makes the fastest installed TensorFlow.js backend active and reports what
 * happened: tries `@tensorflow/tfjs-node-gpu`, WebGPU
 * (`@tensorflow/tfjs-backend-webgpu`; in Node through the `webgpu`
 * package), `@tensorflow/tfjs-node`, `@tensorflow/tfjs-backend-wasm` and the
 * built-in cpu backend, in that order (or the order of `prefer`), with
 * dynamic imports, and stops at the first that works. Nothing is printed:
 * show `message` if you want.
 *
 * WebGPU is taken in the default order only on a GPU; a software adapter
 * (llvmpipe, SwiftShader: slower than wasm) only when `prefer` names
 * `webgpu`. See the GPU guide (docs/gpu.md).
 *
 * @param options `prefer`: the backends to try, in order; `tf`: the tfjs
 *   namespace to configure (default the one this package imports);
 *   `reads`: `'async'` when the caller reads results only asynchronously
 *   (the async API), so that WebGPU is checked with an asynchronous read
 *   back and taken where only that works (browsers); default `'sync'`.
 * @example
 * ```ts
 * import { selectBackend } from '@dcem/tfjs';
 * const { active, message } = await selectBackend();
 * console.log(message); // "tfjs backend: wasm (@tensorflow/tfjs-node-gpu is not installed; …)"
 * ```
 */
export async function selectBackend(
  options: { prefer?: readonly BackendName[]; tf?: Tf; reads?: ReadMode } = {},
): Promise<BackendSelection> {
  const tf = options.tf ?? tfjs;
  const reads = options.reads ?? 'sync';
  assertReadMode(reads);
  const order = options.prefer ?? BACKEND_ORDER;
  for (const name of order) {
    if (!BACKEND_ORDER.includes(name)) {
      throw new RangeError(
        `prefer must list backends among ${BACKEND_ORDER.join(', ')}, received ${describeValue(name)}`,
      );
    }
  }
  const attempts: BackendAttempt[] = [];
  const named = options.prefer !== undefined;
  for (const name of order) {
    const attempt = await tryBackend(tf, name, named, reads);
    attempts.push(attempt);
    if (attempt.ok) break;
  }
  const active = tf.getBackend();
  const failed = attempts.filter((a) => !a.ok).map((a) => `${a.name}: ${a.reason}`);
  const on = attempts.find((a) => a.ok)?.adapter;
  const message = `tfjs backend: ${active}${on === undefined ? '' : ` on ${on}`}${failed.length > 0 ? ` (not used: ${failed.join('; ')})` : ''}`;
  return { active, attempts, message };
}

/**
 * Activates one named backend, or throws a {@link BackendUnavailableError}
 * that says why it cannot run (for example that its package is not
 * installed, or that there is no WebGPU adapter). `webgpu` takes any
 * adapter, a software one too.
 *
 * @param name One of `tensorflow-gpu`, `webgpu`, `tensorflow`, `wasm`, `cpu`.
 * @param tf The tfjs namespace, default the one this package imports.
 * @param options `reads: 'async'` when the caller reads results only
 *   asynchronously (`dcemAsync`, `cemAsync`, `planAsync`, `data()`):
 *   WebGPU is then checked with an asynchronous read back, and accepted in
 *   browsers whose synchronous WebGPU reads do not work (headless Chromium
 *   on SwiftShader). Default `'sync'`.
 * @example
 * ```ts
 * await useBackend('wasm');
 * // In a browser, for the async API only:
 * await useBackend('webgpu', tf, { reads: 'async' });
 * ```
 */
export async function useBackend(
  name: BackendName,
  tf: Tf = tfjs,
  options: { reads?: ReadMode } = {},
): Promise<void> {
  if (!BACKEND_ORDER.includes(name)) {
    throw new RangeError(
      `backend must be one of ${BACKEND_ORDER.join(', ')}, received ${describeValue(name)}`,
    );
  }
  const reads = options.reads ?? 'sync';
  assertReadMode(reads);
  const attempt = await tryBackend(tf, name, true, reads);
  if (!attempt.ok) throw new BackendUnavailableError(name, attempt.reason ?? 'unknown');
}
