// What every fused kernel uses: its outputs allocated in the backend's own
// memory, its inputs read as float32 views, and its attributes read into a
// typed object (each kernel file declares the interface of its attributes;
// the callers build them with the same interface).
import type * as tfjs from '@tensorflow/tfjs';

type TensorInfo = tfjs.TensorInfo;
type KernelBackend = tfjs.KernelBackend;

/** A kernel's function, as tfjs registers it. */
export type KernelFunc = tfjs.KernelConfig['kernelFunc'];

/** A kernel's name and function, for registration. */
export type KernelEntry = readonly [name: string, func: KernelFunc];

/** The wasm backend's access to its heap (tensors live in the module's memory). */
interface HeapBackend {
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array;
}

function heap(backend: KernelBackend): HeapBackend | undefined {
  const b = backend as unknown as Partial<HeapBackend>;
  return typeof b.makeOutput === 'function' && typeof b.typedArrayFromHeap === 'function'
    ? (b as HeapBackend)
    : undefined;
}

/** One float32 view per output shape (a tuple where the shapes are one). */
export type OutputViews<S extends readonly (readonly number[])[]> = {
  -readonly [K in keyof S]: Float32Array;
};

/** Outputs allocated by {@link allocate}: their infos, to return, and their views, to fill in. */
export interface Allocated<S extends readonly (readonly number[])[]> {
  /** The outputs, as the kernel returns them. */
  infos: TensorInfo[];
  /** Their entries, one view per shape. */
  views: OutputViews<S>;
}

/**
 * Allocates the outputs of a kernel and returns them with float32 views to
 * fill in. On wasm the views are the heap memory of the outputs (no copy);
 * take input views with {@link read} only after this call, since an
 * allocation may grow (and so detach) the heap.
 */
export function allocate<const S extends readonly (readonly number[])[]>(
  backend: KernelBackend,
  shapes: S,
): Allocated<S> {
  const h = heap(backend);
  if (h !== undefined) {
    const infos = shapes.map((shape) => h.makeOutput([...shape], 'float32'));
    return { infos, views: infos.map((info) => h.typedArrayFromHeap(info)) as OutputViews<S> };
  }
  const views = shapes.map((shape) => new Float32Array(shape.reduce((a, b) => a * b, 1)));
  const infos = shapes.map((shape, i) => ({
    dataId: backend.write(views[i] as Float32Array, [...shape], 'float32'),
    shape: [...shape],
    dtype: 'float32' as const,
  }));
  return { infos, views: views as OutputViews<S> };
}

/** The entries of a float32 input (a heap view on wasm, the stored array on cpu: read only). */
export function read(backend: KernelBackend, t: TensorInfo): Float32Array {
  const h = heap(backend);
  return h !== undefined ? h.typedArrayFromHeap(t) : (backend.readSync(t.dataId) as Float32Array);
}

/** A kernel's input by name (an Error names a missing one). */
export function input(inputs: tfjs.NamedTensorInfoMap, name: string): TensorInfo {
  const t = inputs[name];
  if (t === undefined) throw new Error(`@dcem/tfjs kernel: missing input ${name}`);
  return t;
}

/** What a fused kernel's body sees of its call: its inputs and its outputs. */
export interface KernelIO {
  /** An input by name (an Error names a missing one). */
  input(name: string): TensorInfo;
  /**
   * The float32 entries of an input, by name or info (read only; on wasm, take
   * them only after {@link KernelIO.allocate}).
   */
  read(t: string | TensorInfo): Float32Array;
  /** Allocates the outputs (see {@link allocate}). */
  allocate<const S extends readonly (readonly number[])[]>(shapes: S): Allocated<S>;
}

/**
 * A fused kernel, for registration: its name, and the function tfjs calls,
 * which reads the attributes that `spec` describes (see {@link readAttrs})
 * and hands them to `body` with the call's inputs and outputs.
 */
export function fusedKernel<A>(
  name: string,
  spec: AttrSpec<A>,
  body: (io: KernelIO, attrs: A) => TensorInfo | TensorInfo[],
): KernelEntry {
  const func: KernelFunc = ({ inputs, backend, attrs }) => {
    const b = backend as KernelBackend;
    const io: KernelIO = {
      input: (inputName) => input(inputs, inputName),
      read: (t) => read(b, typeof t === 'string' ? input(inputs, t) : t),
      allocate: (shapes) => allocate(b, shapes),
    };
    return body(io, readAttrs(name, attrs, spec));
  };
  return [name, func];
}

/** A copy of a tensor's shape. */
export function dims(t: TensorInfo): number[] {
  return [...t.shape];
}

/** The kinds of attribute the fused kernels take. */
type Kind = 'number' | 'boolean' | 'shape';

/** The kind of attribute that a field of type T is. */
type AttrKind<T> = T extends number ? 'number' : T extends boolean ? 'boolean' : 'shape';

/**
 * How to read an attribute interface A: each of its fields with its kind
 * (the compiler checks that the spec names every field, and only those).
 */
export type AttrSpec<A> = { readonly [K in keyof A]-?: AttrKind<A[K]> };

/**
 * Reads a kernel's attributes into the typed object `A` that `spec`
 * describes: a number must be a number and a shape an array (an Error names
 * the kernel and the attribute otherwise); a flag is true only when it is
 * `true`.
 */
export function readAttrs<A>(kernel: string, attrs: tfjs.NamedAttrMap | undefined, spec: AttrSpec<A>): A {
  const out: Record<string, unknown> = {};
  for (const [name, kind] of Object.entries(spec) as [string, Kind][]) {
    const value = attrs?.[name];
    if (kind === 'boolean') {
      out[name] = value === true;
    } else if (kind === 'number') {
      if (typeof value !== 'number') throw new Error(`${kernel} kernel: attribute ${name} must be a number`);
      out[name] = value;
    } else {
      if (!Array.isArray(value)) throw new Error(`${kernel} kernel: attribute ${name} must be an array`);
      out[name] = value;
    }
  }
  return out as A;
}

/** Typed attributes as tfjs's `runKernel` takes them. */
export function attrMap<A extends object>(attrs: A): tfjs.NamedAttrMap {
  return attrs as unknown as tfjs.NamedAttrMap;
}

/** Runs a registered kernel on tensors (`tf.engine().runKernel` of one tfjs namespace). */
export type RunKernel = <R extends tfjs.Tensor | tfjs.Tensor[]>(
  name: string,
  inputs: tfjs.NamedTensorMap,
  attrs?: tfjs.NamedAttrMap,
) => R;

/** The first upstream gradient of a kernel, or null. */
export function firstDy(dy: tfjs.Tensor | tfjs.Tensor[]): tfjs.Tensor | null {
  return Array.isArray(dy) ? (dy[0] ?? null) : dy;
}
