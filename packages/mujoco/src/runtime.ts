/**
 * Loading MuJoCo's WebAssembly build (`@mujoco/mujoco`): the module is
 * compiled once per process and instantiated once per thread, with its
 * console output captured (a library prints nothing). In Node the module is
 * read from the package's file; in a browser the page compiles it (a bundler
 * knows its URL) and hands it over with {@link useCompiledMujoco}, so this
 * file imports nothing from Node at load time.
 *
 * @module
 */
import type { MainModule } from '@mujoco/mujoco';

/** A compiled WebAssembly module (opaque here; it can be posted to worker threads). */
export type WasmModule = object;

/** A WebAssembly linear memory (the part used here). */
export interface WasmMemory {
  /** The memory's current buffer (replaced when the memory grows). */
  readonly buffer: ArrayBuffer;
}

interface WasmInstance {
  readonly exports: Record<string, unknown>;
}

// The WebAssembly JS API as used here (Node provides it; the package compiles without lib "dom").
declare const WebAssembly: {
  compile(bytes: Uint8Array): Promise<WasmModule>;
  instantiate(module: WasmModule, imports: unknown): Promise<WasmInstance>;
};

/** One instantiated MuJoCo runtime: the bindings and their WebAssembly memory. */
export interface Runtime {
  /** The `@mujoco/mujoco` bindings. */
  readonly mj: MainModule;
  /** The instance's linear memory (its size is what the memory tests watch). */
  readonly memory: WasmMemory;
  /** The compiled module, shareable with worker threads. */
  readonly wasm: WasmModule;
  /** Lines MuJoCo wrote to stdout/stderr (warnings), newest last, at most 100. */
  readonly log: string[];
}

const INSTALL_HINT =
  '@dcem/mujoco needs the package @mujoco/mujoco (MuJoCo’s WebAssembly build); install it with `npm install @mujoco/mujoco`';

let compiled: Promise<WasmModule> | undefined;
let runtime: Promise<Runtime> | undefined;

// Node's modules, named through variables so that a browser bundler leaves them alone.
const NODE_FS = 'node:fs/promises';
const NODE_MODULE = 'node:module';

/**
 * Compiles `@mujoco/mujoco/mujoco.wasm` once per thread (Node), or returns the
 * module given to {@link useCompiledMujoco} (browsers).
 */
export function compileMujoco(): Promise<WasmModule> {
  compiled ??= (async () => {
    const isNode = typeof process === 'object' && typeof process.versions?.node === 'string';
    if (!isNode) {
      throw new Error(
        'MuJoCo’s WebAssembly module was not given: in a browser, compile @mujoco/mujoco/mujoco.wasm and pass it to useCompiledMujoco() of @dcem/mujoco/web first',
      );
    }
    const { readFile } = (await import(/* @vite-ignore */ NODE_FS)) as typeof import('node:fs/promises');
    const { createRequire } = (await import(/* @vite-ignore */ NODE_MODULE)) as typeof import('node:module');
    let path: string;
    try {
      path = createRequire(import.meta.url).resolve('@mujoco/mujoco/mujoco.wasm');
    } catch (cause) {
      throw new Error(INSTALL_HINT, { cause });
    }
    return WebAssembly.compile(await readFile(path));
  })();
  return compiled;
}

/**
 * Makes `wasm` (a compiled `@mujoco/mujoco/mujoco.wasm`) the module this
 * thread instantiates, in place of reading the package's file (internal; the
 * browser entry's way in). Has no effect once a module was compiled.
 */
export function useCompiledMujoco(wasm: WasmModule): void {
  compiled ??= Promise.resolve(wasm);
}

/**
 * The thread's MuJoCo runtime, instantiated on first use from `wasm` (a
 * module compiled elsewhere, e.g. sent by the main thread to a worker) or
 * from the package's own file.
 */
export function loadRuntime(wasm?: WasmModule): Promise<Runtime> {
  runtime ??= instantiate(wasm).catch((error: unknown) => {
    runtime = undefined;
    throw error;
  });
  return runtime;
}

async function instantiate(given?: WasmModule): Promise<Runtime> {
  let factory: (options?: unknown) => Promise<MainModule>;
  try {
    factory = (await import('@mujoco/mujoco')).default;
  } catch (cause) {
    throw new Error(INSTALL_HINT, { cause });
  }
  const wasm = given ?? (await compileMujoco());
  const log: string[] = [];
  const capture = (line: string) => {
    log.push(String(line));
    if (log.length > 100) log.shift();
  };
  let memory: WasmMemory | undefined;
  const mj = await factory({
    print: capture,
    printErr: capture,
    instantiateWasm(imports: unknown, done: (instance: WasmInstance, module: WasmModule) => void) {
      void WebAssembly.instantiate(wasm, imports).then((instance) => {
        memory = instance.exports.memory as WasmMemory;
        done(instance, wasm);
      });
      return {};
    },
  });
  if (memory === undefined) throw new Error('MuJoCo’s WebAssembly instance exported no memory');
  return { mj, memory, wasm, log };
}
