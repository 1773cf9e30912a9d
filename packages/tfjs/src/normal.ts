// Standard-normal draws for the sampling step of CEM: xoshiro128** (Blackman
// and Vigna) for uniform 32-bit words and Marsaglia and Tsang's ziggurat with
// 256 layers for the normal deviates. Most draws cost one 32-bit word, a
// table lookup and a multiplication; about 1.1 % take the wedge or tail path.
// The WebAssembly kernel (assembly/kernels.ts, `normals`) runs the same
// algorithm with the same tables and calls this module's Math.exp/Math.log,
// so both give the same numbers bit for bit.

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

const seedView = new DataView(new ArrayBuffer(8));

/**
 * The xoshiro128** state for a seed: the 64 bits of the seed as a float64
 * (−0 counts as 0) go through a bijective mix, so different seeds give
 * different streams, and the first 16 outputs are discarded.
 *
 * @param seed Any finite number.
 * @returns Four 32-bit words, not all zero.
 */
export function seedState(seed: number): [number, number, number, number] {
  seedView.setFloat64(0, seed === 0 ? 0 : seed, true);
  const lo = seedView.getUint32(0, true);
  const hi = seedView.getUint32(4, true);
  let a = fmix32(lo ^ 0x243f6a88);
  let b = fmix32(hi ^ 0x85a308d3);
  let c = fmix32((a + 0x13198a2e) ^ hi);
  let d = fmix32((b + 0x03707344) ^ lo) | 1;
  for (let i = 0; i < 16; i++) {
    const t = b << 9;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = (d << 11) | (d >>> 21);
  }
  return [a >>> 0, b >>> 0, c >>> 0, d >>> 0];
}

/**
 * Fills `out` with standard-normal draws from the xoshiro128** state
 * (a, b, c, d): the JavaScript twin of the WebAssembly kernel `normals`.
 */
export function normalsJs(out: Float32Array, a0: number, b0: number, c0: number, d0: number): void {
  const { width, edge, accept } = zigguratTables();
  let a = a0 | 0;
  let b = b0 | 0;
  let c = c0 | 0;
  let d = d0 | 0;
  const next = (): number => {
    const m = Math.imul(b, 5);
    const r = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
    const t = b << 9;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = (d << 11) | (d >>> 21);
    return r;
  };
  const n = out.length;
  for (let m = 0; m < n; m++) {
    let r = next();
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
            xx = -Math.log((next() + 0.5) * TWO_POW_M32) / ZIGGURAT_R;
            yy = -Math.log((next() + 0.5) * TWO_POW_M32);
          } while (yy + yy < xx * xx);
          v = ZIGGURAT_R + xx;
          break;
        }
        // The wedge of the layer: accept under the density.
        const lo = edge[layer] as number;
        const hi = edge[layer + 1] as number;
        if (lo + (next() + 0.5) * TWO_POW_M32 * (hi - lo) < Math.exp(-0.5 * x * x)) {
          v = x;
          break;
        }
        r = next();
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
