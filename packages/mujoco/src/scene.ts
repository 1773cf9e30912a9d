/**
 * What a renderer needs of an environment: its geoms (shape, size, colour)
 * once, and their world poses after each step (the `@dcem/mujoco/web` entry;
 * MuJoCo's own WebAssembly demo copies the same two arrays into three.js).
 *
 * @module
 */
import { describeValue } from '@dcem/errors';
import { type MujocoEnv, simulationOf } from './env.js';

/** MuJoCo's geom types (`mjtGeom`) that {@link describeGeoms} names. */
export type GeomShape = 'plane' | 'hfield' | 'sphere' | 'capsule' | 'ellipsoid' | 'cylinder' | 'box' | 'mesh';

const SHAPES: readonly GeomShape[] = [
  'plane',
  'hfield',
  'sphere',
  'capsule',
  'ellipsoid',
  'cylinder',
  'box',
  'mesh',
];

/** One geom of a model, in its own frame. */
export interface GeomDescription {
  /** The geom's name ('' when it has none). */
  readonly name: string;
  /** Its shape. */
  readonly shape: GeomShape;
  /** MuJoCo's `geom_size` (sphere: radius; capsule and cylinder: radius, half-length along z; box: half-sizes; plane: half-sizes, 0 = infinite). */
  readonly size: readonly [number, number, number];
  /** Colour, red, green, blue, alpha in [0, 1] (the material's when the geom has one). */
  readonly rgba: readonly [number, number, number, number];
  /** The body it belongs to (0: the world). */
  readonly body: number;
}

/**
 * The geoms of an environment's model, in model order (the order of
 * {@link readGeomPoses}).
 *
 * @param env - An environment made by `makeEnv`.
 * @returns One description per geom.
 */
export function describeGeoms(env: MujocoEnv): GeomDescription[] {
  const sim = simulationOf(env);
  const m = sim.model;
  const out: GeomDescription[] = [];
  const types = m.geom_type as ArrayLike<number>;
  const sizes = m.geom_size as ArrayLike<number>;
  const rgba = m.geom_rgba as ArrayLike<number>;
  const matid = m.geom_matid as ArrayLike<number>;
  const matRgba = m.mat_rgba as ArrayLike<number>;
  const bodies = m.geom_bodyid as ArrayLike<number>;
  const geomObject = sim.mj.mjtObj.mjOBJ_GEOM.value;
  for (let g = 0; g < m.ngeom; g++) {
    const mat = matid[g] as number;
    const src = mat >= 0 ? matRgba : rgba;
    const o = (mat >= 0 ? mat : g) * 4;
    out.push({
      name: sim.mj.mj_id2name(m, geomObject, g) ?? '',
      shape: SHAPES[types[g] as number] ?? 'mesh',
      size: [sizes[3 * g] as number, sizes[3 * g + 1] as number, sizes[3 * g + 2] as number],
      rgba: [src[o] as number, src[o + 1] as number, src[o + 2] as number, src[o + 3] as number],
      body: bodies[g] as number,
    });
  }
  return out;
}

/**
 * Copies the geoms' world positions (`geom_xpos`, [ngeom × 3]) and
 * orientations (`geom_xmat`, [ngeom × 9], row-major rotation matrices) of an
 * environment's current state into the given arrays (or new ones).
 *
 * @param env - An environment made by `makeEnv`.
 * @param out - Optional arrays of lengths 3·ngeom and 9·ngeom to fill.
 * @returns The filled arrays.
 */
export function readGeomPoses(
  env: MujocoEnv,
  out?: { position: Float64Array; rotation: Float64Array },
): { position: Float64Array; rotation: Float64Array } {
  const sim = simulationOf(env);
  const { geomXpos, geomXmat } = sim.v;
  const n = sim.model.ngeom;
  const position = out?.position ?? new Float64Array(3 * n);
  const rotation = out?.rotation ?? new Float64Array(9 * n);
  if (position.length !== 3 * n || rotation.length !== 9 * n) {
    throw new RangeError(
      `out must hold ${3 * n} positions and ${9 * n} rotation entries for ${env.name}, received ${position.length} and ${rotation.length}`,
    );
  }
  position.set((geomXpos as Float64Array).subarray(0, 3 * n));
  rotation.set((geomXmat as Float64Array).subarray(0, 9 * n));
  return { position, rotation };
}

/**
 * The world position of a body's frame (`xpos`) in an environment's current state.
 *
 * @param env - An environment made by `makeEnv`.
 * @param body - The body's name, e.g. `'torso'`.
 * @returns [x, y, z] in metres.
 * @throws Error when the model has no such body; TypeError when `body` is not a string.
 */
export function bodyPosition(env: MujocoEnv, body: string): [number, number, number] {
  if (typeof body !== 'string') throw new TypeError(`body must be a string, received ${describeValue(body)}`);
  const sim = simulationOf(env);
  const id = sim.id('body', body);
  const xpos = sim.v.xpos as Float64Array;
  return [xpos[3 * id] as number, xpos[3 * id + 1] as number, xpos[3 * id + 2] as number];
}
