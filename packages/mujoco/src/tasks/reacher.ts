/**
 * reacher-easy: a two-link planar arm that must put its fingertip on a
 * randomly placed target (DeepMind Control Suite, `reacher.easy`).
 *
 * Physics: time step 0.02 s, contacts off; links are capsules of radius
 * 0.01 m and lengths 0.12 m and 0.1 m (density 1000 kg/m³), the finger a
 * sphere of radius 0.01 m 0.12 m beyond the wrist; hinges about z with
 * damping 0.01, the wrist limited to ±160°; motors with gear 0.05. Target
 * radius 0.05 m (easy), placed at angle U(0, 2π) and radius U(0.05, 0.2) m.
 * Control time step 0.02 s.
 */
import type { Simulation, TaskDefinition } from '../simulation.js';
import { tolerance } from '../tolerance.js';
import { COLORS } from './colors.js';

const ARM = {
  radius: 0.01,
  upper: 0.12,
  lower: 0.1,
  fingerOffset: 0.12,
  damping: 0.01,
  gear: 0.05,
  wristLimit: 160,
};
const EASY_TARGET = 0.05;

/** Our MJCF of the reacher (target radius of the easy task). */
export const REACHER_XML = `<mujoco model="dcem-reacher">
  <option timestep="0.02">
    <flag contact="disable"/>
  </option>
  <worldbody>
    <geom name="ground" type="plane" pos="0 0 0" size="0.3 0.3 10" rgba="${COLORS.ground}"/>
    <geom name="wall_x" type="plane" pos="-0.3 0 0.02" zaxis="1 0 0" size="0.02 0.3 0.02" rgba="${COLORS.decoration}"/>
    <geom name="wall_y" type="plane" pos="0 -0.3 0.02" zaxis="0 1 0" size="0.3 0.02 0.02" rgba="${COLORS.decoration}"/>
    <geom name="wall_neg_x" type="plane" pos="0.3 0 0.02" zaxis="-1 0 0" size="0.02 0.3 0.02" rgba="${COLORS.decoration}"/>
    <geom name="wall_neg_y" type="plane" pos="0 0.3 0.02" zaxis="0 -1 0" size="0.3 0.02 0.02" rgba="${COLORS.decoration}"/>
    <geom name="root" type="cylinder" fromto="0 0 0 0 0 0.02" size="0.011" rgba="${COLORS.decoration}"/>
    <body name="arm" pos="0 0 0.01">
      <geom name="arm" type="capsule" fromto="0 0 0 ${ARM.upper} 0 0" size="${ARM.radius}" rgba="${COLORS.self}"/>
      <joint name="shoulder" type="hinge" axis="0 0 1" damping="${ARM.damping}"/>
      <body name="hand" pos="${ARM.upper} 0 0">
        <geom name="hand" type="capsule" fromto="0 0 0 ${ARM.lower} 0 0" size="${ARM.radius}" rgba="${COLORS.self}"/>
        <joint name="wrist" type="hinge" axis="0 0 1" damping="${ARM.damping}" limited="true" range="${-ARM.wristLimit} ${ARM.wristLimit}"/>
        <body name="finger" pos="${ARM.fingerOffset} 0 0">
          <geom name="finger" type="sphere" size="${ARM.radius}" rgba="${COLORS.effector}"/>
        </body>
      </body>
    </body>
    <geom name="target" type="sphere" pos="0 0 0.01" size="${EASY_TARGET}" rgba="${COLORS.target}"/>
  </worldbody>
  <actuator>
    <motor name="shoulder" joint="shoulder" gear="${ARM.gear}" ctrllimited="true" ctrlrange="-1 1"/>
    <motor name="wrist" joint="wrist" gear="${ARM.gear}" ctrllimited="true" ctrlrange="-1 1"/>
  </actuator>
</mujoco>
`;

const ids = new WeakMap<Simulation, { target: number; finger: number }>();
function geoms(sim: Simulation) {
  let g = ids.get(sim);
  if (g === undefined) {
    g = { target: sim.id('geom', 'target'), finger: sim.id('geom', 'finger') };
    ids.set(sim, g);
  }
  return g;
}

function toTarget(sim: Simulation): [number, number] {
  const { target, finger } = geoms(sim);
  const p = sim.v.geomXpos;
  return [
    (p[3 * target] as number) - (p[3 * finger] as number),
    (p[3 * target + 1] as number) - (p[3 * finger + 1] as number),
  ];
}

/** The reacher task with the big (easy) target. */
export const reacherEasy: TaskDefinition = {
  name: 'reacher-easy',
  domain: 'reacher',
  xml: REACHER_XML,
  controlTimestep: 0.02,
  paramsSize: 2,
  observation: [
    { name: 'position', size: 2 },
    { name: 'to_target', size: 2 },
    { name: 'velocity', size: 2 },
  ],
  view: { plane: 'xy', size: [0.64, 0.64], center: [0, 0] },
  initialize(sim, random) {
    const qpos = sim.v.qpos;
    qpos[0] = random.uniform(-Math.PI, Math.PI); // unlimited hinge
    const limit = (ARM.wristLimit * Math.PI) / 180;
    qpos[1] = random.uniform(-limit, limit);
    const angle = random.uniform(0, 2 * Math.PI);
    const radius = random.uniform(0.05, 0.2);
    this.writeParams?.(sim, Float64Array.of(radius * Math.sin(angle), radius * Math.cos(angle)));
  },
  reward(sim) {
    const [dx, dy] = toTarget(sim);
    const { target, finger } = geoms(sim);
    const size = sim.model.geom_size as Float64Array;
    const radii = (size[3 * target] as number) + (size[3 * finger] as number);
    return tolerance(Math.hypot(dx, dy), { bounds: [0, radii] });
  },
  observe(sim, out) {
    const { qpos, qvel } = sim.v;
    const [dx, dy] = toTarget(sim);
    out[0] = qpos[0] as number;
    out[1] = qpos[1] as number;
    out[2] = dx;
    out[3] = dy;
    out[4] = qvel[0] as number;
    out[5] = qvel[1] as number;
  },
  readParams(sim, out) {
    const pos = sim.model.geom_pos as Float64Array;
    const t = geoms(sim).target;
    out[0] = pos[3 * t] as number;
    out[1] = pos[3 * t + 1] as number;
  },
  writeParams(sim, params) {
    const pos = sim.model.geom_pos as Float64Array;
    const t = geoms(sim).target;
    pos[3 * t] = params[0] as number;
    pos[3 * t + 1] = params[1] as number;
  },
};
