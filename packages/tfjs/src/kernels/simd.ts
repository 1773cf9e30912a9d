// Loads the WebAssembly kernels (assembly/fused-simd.ts) and runs them on
// float32 arrays: inputs are copied into the module's memory, outputs copied
// back. Every kernel has a JavaScript twin with bit-identical results
// (ziggurat.ts, math.ts), used where WebAssembly (with SIMD) is
// not available; callers need not care which one ran.

import { decodeBase64 } from '../wasm/decode.js';
import { KERNELS_WASM_BASE64 } from '../wasm/fused-simd.generated.js';
import {
  type FitBackwardArgs,
  type FitForwardArgs,
  fitBackward as fitBackwardJs,
  fitForward as fitForwardJs,
  type SampleInputs,
  type SampleParamGrads,
  sampleBackwardParams as sampleBackwardParamsJs,
  sampleForward as sampleForwardJs,
} from './math.js';
import { normalsJs, zigguratTables } from './ziggurat.js';

// The few WebAssembly and base64 globals used here (typed locally: this
// package compiles without the DOM and Node type libraries).
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
};

/** The exports of assembly/fused-simd.ts (positional: that is the WebAssembly calling convention). */
interface KernelExports {
  memory: WasmMemory;
  sampleForward(
    mean: number,
    std: number,
    noise: number,
    batch: number,
    samples: number,
    dim: number,
    out: number,
  ): void;
  sampleBackward(
    dx: number,
    noise: number,
    batch: number,
    samples: number,
    dim: number,
    dMean: number,
    dStd: number,
    scratch: number,
  ): void;
  normals(out: number, n: number, states: number, tables: number, spill: number): void;
  fitForward(
    samples: number,
    weights: number,
    batch: number,
    count: number,
    dim: number,
    k: number,
    floor: number,
    mean: number,
    std: number,
    acc: number,
  ): void;
  fitBackward(
    samples: number,
    weights: number,
    mean: number,
    std: number,
    dMean: number,
    dStd: number,
    batch: number,
    count: number,
    dim: number,
    k: number,
    floor: number,
    dSamples: number,
    dWeights: number,
    scratch: number,
  ): void;
}

/** Start of the memory this module manages (the module's own data sits below 64 KiB). */
const TABLES_AT = 65536;
const PAGE = 65536;

/** A bump layout of arrays in the module's memory, 16-byte aligned. */
class Layout {
  end: number;
  constructor(start: number) {
    this.end = start;
  }
  take(bytes: number): number {
    const at = this.end;
    this.end = at + Math.ceil(bytes / 16) * 16;
    return at;
  }
}

/** A wasm offset per entry of a list of arrays or output lengths. */
type Offsets<T extends readonly unknown[]> = { -readonly [K in keyof T]: number };

class Kernels {
  private readonly exports: KernelExports;
  private readonly arena: number;

  constructor(exports: KernelExports) {
    this.exports = exports;
    const { width, edge, accept } = zigguratTables();
    const bytes = width.byteLength + edge.byteLength + accept.byteLength;
    this.reserve(TABLES_AT + bytes);
    const buffer = exports.memory.buffer;
    new Float64Array(buffer, TABLES_AT, width.length).set(width);
    new Float64Array(buffer, TABLES_AT + width.byteLength, edge.length).set(edge);
    new Uint32Array(buffer, TABLES_AT + width.byteLength + edge.byteLength, accept.length).set(accept);
    this.arena = TABLES_AT + Math.ceil(bytes / 16) * 16;
  }

  /** Grows the memory to at least `end` bytes. */
  private reserve(end: number): void {
    const memory = this.exports.memory;
    const missing = end - memory.buffer.byteLength;
    if (missing > 0) memory.grow(Math.ceil(missing / PAGE));
  }

  private put(at: number, values: ArrayLike<number> & { length: number }): void {
    new Float32Array(this.exports.memory.buffer, at, values.length).set(values);
  }

  private get(at: number, out: Float32Array): void {
    out.set(new Float32Array(this.exports.memory.buffer, at, out.length));
  }

  normals(out: Float32Array, states: Uint32Array): void {
    const layout = new Layout(this.arena);
    const pStates = layout.take(states.byteLength);
    const pSpill = layout.take(112);
    const at = layout.take(out.length * 4);
    this.reserve(layout.end);
    new Uint32Array(this.exports.memory.buffer, pStates, states.length).set(states);
    this.exports.normals(at, out.length, pStates, TABLES_AT, pSpill);
    this.get(at, out);
  }

  /**
   * Copies float32 arrays into a fresh layout and makes room after them for
   * outputs of the given lengths; returns the offsets, one per array and one
   * per output (a tuple where both lists are).
   */
  private place<const A extends readonly Float32Array[], const O extends readonly number[]>(
    layout: Layout,
    arrays: A,
    outputs: O,
  ): [...Offsets<A>, ...Offsets<O>] {
    const at = [...arrays.map((a) => layout.take(a.length * 4)), ...outputs.map((n) => layout.take(n * 4))];
    this.reserve(layout.end);
    arrays.forEach((a, i) => {
      this.put(at[i] as number, a);
    });
    return at as [...Offsets<A>, ...Offsets<O>];
  }

  sampleForward(inputs: SampleInputs<Float32Array>, out: Float32Array): void {
    const { mean, std, noise, shape } = inputs;
    const [m, s, e, o] = this.place(new Layout(this.arena), [mean, std, noise], [out.length]);
    this.exports.sampleForward(m, s, e, shape.batch, shape.samples, shape.dim, o);
    this.get(o, out);
  }

  sampleBackward(dx: Float32Array, inputs: SampleInputs<Float32Array>, grads: SampleParamGrads): void {
    const { noise, shape } = inputs;
    const { dMean, dStd } = grads;
    const layout = new Layout(this.arena);
    const [g, e, dm, ds] = this.place(layout, [dx, noise], [dMean.length, dStd.length]);
    const scratch = layout.take(shape.dim * 16);
    this.reserve(layout.end);
    this.exports.sampleBackward(g, e, shape.batch, shape.samples, shape.dim, dm, ds, scratch);
    this.get(dm, dMean);
    this.get(ds, dStd);
  }

  fitForward(args: FitForwardArgs<Float32Array>): void {
    const { samples, weights, batch, count, dim, k, minStd, mean, std } = args;
    const layout = new Layout(this.arena);
    const [x, w, m, sd] = this.place(layout, [samples, weights], [mean.length, std.length]);
    const acc = layout.take(dim * 8);
    this.reserve(layout.end);
    this.exports.fitForward(x, w, batch, count, dim, k, Math.fround(minStd * minStd), m, sd, acc);
    this.get(m, mean);
    this.get(sd, std);
  }

  fitBackward(args: FitBackwardArgs<Float32Array>): void {
    const { samples, weights, mean, std, dMean, dStd, batch, count, dim, k, minStd, dSamples, dWeights } =
      args;
    const layout = new Layout(this.arena);
    const [x, w, m, sd, dm, ds, dx, dw] = this.place(
      layout,
      [samples, weights, mean, std, dMean, dStd],
      [dSamples.length, dWeights.length],
    );
    const scratch = layout.take(dim * 32);
    this.reserve(layout.end);
    this.exports.fitBackward(
      x,
      w,
      m,
      sd,
      dm,
      ds,
      batch,
      count,
      dim,
      k,
      Math.fround(minStd * minStd),
      dx,
      dw,
      scratch,
    );
    this.get(dx, dSamples);
    this.get(dw, dWeights);
  }
}

let loaded: Kernels | null | undefined;
let enabled = true;
let compiled: object | undefined;

/**
 * The kernels' module, compiled once (synchronously: it is small, below the
 * 4 KB browsers allow on the main thread; a test keeps it there). Instances
 * on other threads share its machine code. Throws without WebAssembly SIMD.
 */
export function kernelsModule(): object {
  compiled ??= new WebAssembly.Module(decodeBase64(KERNELS_WASM_BASE64));
  return compiled;
}

function load(): Kernels | null {
  try {
    const module = kernelsModule();
    const instance = new WebAssembly.Instance(module, {
      host: { exp: Math.exp, log: Math.log },
      env: {
        abort: () => {
          throw new Error('@dcem/tfjs: WebAssembly kernel aborted');
        },
      },
    });
    return new Kernels(instance.exports as unknown as KernelExports);
  } catch {
    // No WebAssembly, or no SIMD: the JavaScript twins compute the same numbers.
    return null;
  }
}

/** The WebAssembly kernels, or undefined where they cannot run (or are switched off for a test). */
function wasm(): Kernels | undefined {
  if (!enabled) return undefined;
  loaded ??= load();
  return loaded ?? undefined;
}

/**
 * Whether the WebAssembly kernels are in use. Tests switch them off to check
 * that the JavaScript twins give the same numbers.
 *
 * @internal
 */
export function useWasmKernels(on?: boolean): boolean {
  if (on !== undefined) enabled = on;
  return wasm() !== undefined;
}

/** Standard-normal draws from the streams `states` (see `seedStates`) into `out`. */
export function fillNormals(out: Float32Array, states: Uint32Array): void {
  const k = wasm();
  if (k === undefined) normalsJs(out, states);
  else k.normals(out, states);
}

/** {@link fitForwardJs} on float32 arrays (same arguments and results), in WebAssembly where possible. */
export function fitForward(args: FitForwardArgs<Float32Array>): void {
  const kernels = wasm();
  if (kernels === undefined) fitForwardJs(args);
  else kernels.fitForward(args);
}

/** {@link fitBackwardJs} on float32 arrays (same arguments and results), in WebAssembly where possible. */
export function fitBackward(args: FitBackwardArgs<Float32Array>): void {
  const kernels = wasm();
  if (kernels === undefined) fitBackwardJs(args);
  else kernels.fitBackward(args);
}

/** Whether the sampling kernels below run in WebAssembly for an unbounded call. */
export function wasmSampling(): boolean {
  return wasm() !== undefined;
}

/** {@link sampleForwardJs} on float32 arrays (same arguments and results), in WebAssembly where possible (no bounds). */
export function sampleForward(inputs: SampleInputs<Float32Array>, out: Float32Array): void {
  const kernels = wasm();
  if (kernels === undefined || inputs.shape.lowerRows !== 0 || inputs.shape.upperRows !== 0) {
    sampleForwardJs(inputs, out);
  } else {
    kernels.sampleForward(inputs, out);
  }
}

/** {@link sampleBackwardParamsJs} on float32 arrays (same arguments and results), in WebAssembly where possible (no bounds). */
export function sampleBackwardParams(
  dx: Float32Array,
  inputs: SampleInputs<Float32Array>,
  grads: SampleParamGrads,
): void {
  const kernels = wasm();
  if (kernels === undefined || inputs.shape.lowerRows !== 0 || inputs.shape.upperRows !== 0) {
    sampleBackwardParamsJs(dx, inputs, grads);
    return;
  }
  kernels.sampleBackward(dx, inputs, grads);
  grads.dLower.fill(0);
  grads.dUpper.fill(0);
}
