// Standard-normal draws for the sampling step of CEM: four xoshiro128**
// streams (Blackman and Vigna) for uniform 32-bit words, draw i taken from
// stream i mod 4, and Marsaglia and Tsang's ziggurat with 256 layers for the
// normal deviates. Most draws cost one 32-bit word, a table lookup and a
// multiplication; about 1.1 % take the wedge or tail path. The WebAssembly
// kernel (assembly/fused-simd.ts, `normals`) runs the four streams in SIMD lanes
// with the same tables and calls this module's Math.exp/Math.log, so both
// give the same numbers bit for bit.

/** Layers of the ziggurat. */
const LAYERS = 256;
/** Start of the tail: the right edge x₁ of the base layer. */
export const ZIGGURAT_R = 3.6541528853610088;
/** Area of each layer (under the unnormalised density e^{−x²/2}). */
const LAYER_AREA = 0.00492867323399;
const TWO_POW_M23 = 2 ** -23;
const TWO_POW_M32 = 2 ** -32;

const density = (x: number) => Math.exp(-0.5 * x * x);

/**
 * The ziggurat tables: `width[i]` = xᵢ·2⁻²³ (a 23-bit uniform times it is a
 * point of layer i), `edge[i]` = e^{−xᵢ²/2} (257 entries), and `accept[i]` =
 * ⌊x_{i+1}/xᵢ·2²³⌋ (below it the point lies under the density for sure).
 * x₀ = area/f(R) is the width of the base layer (which includes the tail),
 * x₁ = R, f(x_{i+1}) = f(xᵢ) + area/xᵢ, and x₂₅₆ = 0.
 */
export interface ZigguratTables {
  width: Float64Array;
  edge: Float64Array;
  accept: Uint32Array;
}

function buildTables(): ZigguratTables {
  const x = new Float64Array(LAYERS + 1);
  x[0] = LAYER_AREA / density(ZIGGURAT_R);
  x[1] = ZIGGURAT_R;
  for (let i = 1; i < LAYERS - 1; i++) {
    const xi = x[i] as number;
    x[i + 1] = Math.sqrt(-2 * Math.log(density(xi) + LAYER_AREA / xi));
  }
  x[LAYERS] = 0;
  const width = new Float64Array(LAYERS);
  const accept = new Uint32Array(LAYERS);
  const edge = new Float64Array(LAYERS + 1);
  for (let i = 0; i < LAYERS; i++) {
    const xi = x[i] as number;
    width[i] = xi * TWO_POW_M23;
    accept[i] = Math.floor(((x[i + 1] as number) / xi) * 2 ** 23);
  }
  for (let i = 0; i <= LAYERS; i++) edge[i] = density(x[i] as number);
  return { width, edge, accept };
}

/** The tables (computed once, at first use). */
let tables: ZigguratTables | undefined;
export function zigguratTables(): ZigguratTables {
  tables ??= buildTables();
  return tables;
}

/** MurmurHash3's 32-bit finaliser (a bijection on 32-bit words). */
function fmix32(h: number): number {
  let x = h | 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/** One xoshiro128** stream: four 32-bit words (as int32) and its step. */
class Xoshiro {
  a: number;
  b: number;
  c: number;
  d: number;
  constructor(a: number, b: number, c: number, d: number) {
    this.a = a | 0;
    this.b = b | 0;
    this.c = c | 0;
    this.d = d | 0;
  }
  /** The next output, an unsigned 32-bit integer. */
  next(): number {
    const m = Math.imul(this.b, 5);
    const r = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = (this.d << 11) | (this.d >>> 21);
    return r;
  }
}

/** Number of interleaved streams (the SIMD lanes of the WebAssembly kernel). */
export const STREAMS = 4;

const seedView = new DataView(new ArrayBuffer(8));

/**
 * The states of the four streams for a seed, as a[4], b[4], c[4], d[4]: the
 * 64 bits of the seed as a float64 (−0 counts as 0) go through a bijective
 * mix into one xoshiro128** state (so different seeds give different
 * streams), which, after 16 discarded outputs, supplies the 16 words.
 *
 * @param seed Any finite number.
 */
export function seedStates(seed: number): Uint32Array {
  seedView.setFloat64(0, seed === 0 ? 0 : seed, true);
  const lo = seedView.getUint32(0, true);
  const hi = seedView.getUint32(4, true);
  const a = fmix32(lo ^ 0x243f6a88);
  const b = fmix32(hi ^ 0x85a308d3);
  const root = new Xoshiro(a, b, fmix32((a + 0x13198a2e) ^ hi), fmix32((b + 0x03707344) ^ lo) | 1);
  for (let i = 0; i < 16; i++) root.next();
  const states = new Uint32Array(4 * STREAMS);
  for (let lane = 0; lane < STREAMS; lane++) {
    for (let word = 0; word < 4; word++) states[word * STREAMS + lane] = root.next();
    // xoshiro's one forbidden state (all zero) would emit zeros forever.
    if (states[lane] === 0 && states[STREAMS + lane] === 0 && states[2 * STREAMS + lane] === 0) {
      states[3 * STREAMS + lane] ||= 1;
    }
  }
  return states;
}

/**
 * Fills `out` with standard-normal draws from the streams `states` (see
 * {@link seedStates}): the JavaScript twin of the WebAssembly kernel
 * `normals`.
 */
export function normalsJs(out: Float32Array, states: Uint32Array): void {
  const { width, edge, accept } = zigguratTables();
  for (let lane = 0; lane < STREAMS; lane++) {
    const g = new Xoshiro(
      states[lane] as number,
      states[STREAMS + lane] as number,
      states[2 * STREAMS + lane] as number,
      states[3 * STREAMS + lane] as number,
    );
    for (let m = lane; m < out.length; m += STREAMS) {
      let r = g.next();
      let layer = r & 255;
      let u = r >>> 9;
      let v = 0;
      if (u < (accept[layer] as number)) {
        v = u * (width[layer] as number);
      } else {
        for (;;) {
          const x = u * (width[layer] as number);
          if (layer === 0) {
            // The tail beyond R (Marsaglia's exponential rejection).
            let xx = 0;
            let yy = 0;
            do {
              xx = -Math.log((g.next() + 0.5) * TWO_POW_M32) / ZIGGURAT_R;
              yy = -Math.log((g.next() + 0.5) * TWO_POW_M32);
            } while (yy + yy < xx * xx);
            v = ZIGGURAT_R + xx;
            break;
          }
          // The wedge of the layer: accept under the density.
          const lo = edge[layer] as number;
          const hi = edge[layer + 1] as number;
          if (lo + (g.next() + 0.5) * TWO_POW_M32 * (hi - lo) < Math.exp(-0.5 * x * x)) {
            v = x;
            break;
          }
          r = g.next();
          layer = r & 255;
          u = r >>> 9;
          if (u < (accept[layer] as number)) {
            v = u * (width[layer] as number);
            break;
          }
        }
      }
      out[m] = (r & 256) !== 0 ? -v : v;
    }
  }
}
