// Counts the device buffers jax-js holds, for the leak tests.
//
// jax-js 0.1.25 has no public count of live arrays or buffers (tfjs has
// tf.memory().numTensors). Its device backends do count references to
// their buffers, through three methods: malloc (a new buffer, one
// reference), incRef and decRef (freed at zero). The backend objects are
// reachable only through `getBackend`, which the package's entry point
// imports from an internal chunk but does not re-export; this helper imports
// that chunk (the same module instance, so the same backends) and wraps the
// three methods of the wasm backend to count the buffers alive. Buffers
// made before `startCounting` are not counted; the tests compare counts
// before and after a warmed-up run.
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { defaultDevice } from '@jax-js/jax';

interface DeviceBackend {
  malloc(size: number, initialData?: Uint8Array): number;
  incRef(slot: number): void;
  decRef(slot: number): void;
}

const live = new Map<number, number>();
const origins = new Map<number, string>();
/** Set `on` to record where each buffer is allocated (slow; to find a leak, see `liveSlots`). */
export const tracing = { on: false };
let counting = false;

/** Starts counting the buffers of jax-js's default (wasm) device; idempotent. */
export async function startCounting(): Promise<void> {
  if (counting) return;
  const entry = createRequire(import.meta.url).resolve('@jax-js/jax');
  const dist = dirname(entry);
  const chunk = readdirSync(dist).find((f) => /^backend-.*\.js$/.test(f));
  if (chunk === undefined) throw new Error(`no backend chunk in ${dist}: @jax-js/jax changed its layout`);
  const internals = (await import(pathToFileURL(join(dist, chunk)).href)) as Record<string, unknown>;
  // `getBackend` is exported from the chunk under a one-letter name; find it by what it returns.
  const getBackend = Object.values(internals).find((f): f is (d: string) => DeviceBackend => {
    if (typeof f !== 'function' || f.length !== 1) return false;
    try {
      const b = f(defaultDevice());
      return typeof b === 'object' && b !== null && typeof (b as DeviceBackend).malloc === 'function';
    } catch {
      return false;
    }
  });
  if (getBackend === undefined)
    throw new Error('cannot find jax-js getBackend: @jax-js/jax changed its internals');
  const device = getBackend(defaultDevice());
  const { malloc, incRef, decRef } = device;
  device.malloc = (size, initialData) => {
    const slot = malloc.call(device, size, initialData);
    live.set(slot, 1);
    if (tracing.on) origins.set(slot, new Error().stack ?? '');
    return slot;
  };
  device.incRef = (slot) => {
    incRef.call(device, slot);
    const n = live.get(slot);
    if (n !== undefined) live.set(slot, n + 1);
  };
  device.decRef = (slot) => {
    decRef.call(device, slot);
    const n = live.get(slot);
    if (n === 1) live.delete(slot);
    else if (n !== undefined) live.set(slot, n - 1);
  };
  counting = true;
}

/** Buffers allocated since `startCounting` and not yet freed. */
/** The buffers alive now, with the stack that allocated each while `tracing.on` (raise Error.stackTraceLimit). */
export function liveSlots(): Map<number, string | undefined> {
  return new Map([...live.keys()].map((k) => [k, origins.get(k)]));
}

export function liveBuffers(): number {
  if (!counting) throw new Error('call startCounting() first');
  return live.size;
}
