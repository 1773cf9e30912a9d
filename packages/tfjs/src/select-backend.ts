import * as tfjs from '@tensorflow/tfjs';
import type { Tf } from './backend.js';

/** The tfjs backends {@link selectBackend} knows, fastest first. */
export type BackendName = 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';

/** One attempt of {@link selectBackend}. */
export interface BackendAttempt {
  /** Which backend was tried. */
  name: BackendName;
  /** Whether it is now the active tfjs backend. */
  ok: boolean;
  /** Why it did not load (absent when `ok`). */
  reason?: string;
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

/** Default preference order: GPU TensorFlow, CPU TensorFlow, wasm, cpu. */
export const BACKEND_ORDER: readonly BackendName[] = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];

const PACKAGES: Record<BackendName, string | undefined> = {
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  tensorflow: '@tensorflow/tfjs-node',
  wasm: '@tensorflow/tfjs-backend-wasm',
  cpu: undefined,
};

function errorText(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0] ?? text;
}

/**
 * Whether importing `pkg` failed because `pkg` itself cannot be resolved.
 * Node says "Cannot find package 'pkg'", CommonJS and webpack "Cannot find
 * module 'pkg'", Vite/vitest and esbuild 'Could not resolve "pkg"',
 * browsers 'Failed to resolve module specifier "pkg"'. The quoted name must
 * be `pkg` itself: an installed package whose own file is missing (say, a
 * native binding) failed to load, it is not "not installed".
 */
function isNotInstalled(error: unknown, pkg: string): boolean {
  const text = errorText(error);
  const quoted = text.includes(`'${pkg}'`) || text.includes(`"${pkg}"`);
  return quoted && /Cannot find (module|package)|Could not resolve|Failed to resolve/.test(text);
}

async function tryBackend(tf: Tf, name: BackendName): Promise<BackendAttempt> {
  const pkg = PACKAGES[name];
  if (pkg !== undefined) {
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
    const ok = await tf.setBackend(registered);
    await tf.ready();
    return ok ? { name, ok: true } : { name, ok: false, reason: `tf.setBackend('${registered}') failed` };
  } catch (error) {
    return { name, ok: false, reason: `tf.setBackend('${registered}') threw: ${errorText(error)}` };
  }
}

/**
 * Makes the fastest installed TensorFlow.js backend active and reports what
 * happened: tries `@tensorflow/tfjs-node-gpu`, `@tensorflow/tfjs-node`,
 * `@tensorflow/tfjs-backend-wasm` and the built-in cpu backend, in that order
 * (or the order of `prefer`), with dynamic imports, and stops at the first
 * that works. Nothing is printed: show `message` if you want.
 *
 * @param options `prefer`: the backends to try, in order; `tf`: the tfjs
 *   namespace to configure (default the one this package imports).
 * @example
 * ```ts
 * import { selectBackend } from '@dcem/tfjs';
 * const { active, message } = await selectBackend();
 * console.log(message); // "tfjs backend: wasm (@tensorflow/tfjs-node-gpu is not installed; …)"
 * ```
 */
export async function selectBackend(
  options: { prefer?: readonly BackendName[]; tf?: Tf } = {},
): Promise<BackendSelection> {
  const tf = options.tf ?? tfjs;
  const order = options.prefer ?? BACKEND_ORDER;
  for (const name of order) {
    if (!BACKEND_ORDER.includes(name)) {
      throw new RangeError(
        `prefer must list backends among ${BACKEND_ORDER.join(', ')}, received ${JSON.stringify(name)}`,
      );
    }
  }
  const attempts: BackendAttempt[] = [];
  for (const name of order) {
    const attempt = await tryBackend(tf, name);
    attempts.push(attempt);
    if (attempt.ok) break;
  }
  const active = tf.getBackend();
  const failed = attempts.filter((a) => !a.ok).map((a) => `${a.name}: ${a.reason}`);
  const message = `tfjs backend: ${active}${failed.length > 0 ? ` (not used: ${failed.join('; ')})` : ''}`;
  return { active, attempts, message };
}

/**
 * Activates one named backend, or throws an `Error` that says why it cannot
 * run (for example that its package is not installed).
 *
 * @param name One of `tensorflow-gpu`, `tensorflow`, `wasm`, `cpu`.
 * @param tf The tfjs namespace, default the one this package imports.
 * @example
 * ```ts
 * await useBackend('wasm');
 * ```
 */
export async function useBackend(name: BackendName, tf: Tf = tfjs): Promise<void> {
  if (!BACKEND_ORDER.includes(name)) {
    throw new RangeError(
      `backend must be one of ${BACKEND_ORDER.join(', ')}, received ${JSON.stringify(name)}`,
    );
  }
  const attempt = await tryBackend(tf, name);
  if (!attempt.ok) throw new Error(`cannot use the ${name} backend: ${attempt.reason}`);
}
