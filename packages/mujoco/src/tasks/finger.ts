/**
 * finger-spin: a planar two-link finger that must spin a free hinged body
 * (DeepMind Control Suite, `finger.spin`).
 *
 * Physics: time step 0.01 s, control time step 0.02 s, gravity off,
 * elliptic friction cones, 200 solver iterations, soft contacts (solimp
 * 0 0.9 0.01, solref 0.02 1); proximal link capsule r 0.03 m × 0.17 m
 * (reference angle −90°), distal r 0.028 m × 0.16 m with a fingertip r 0.03 m,
 * both limited to ±110° with damping 2.5; motors gear 30 and 15; the spinner
 * (two capsules r 0.04 m, half-length 0.09 m) on a hinge with friction loss
 * 0.1 and damping 0.03 (the value the spin task sets). Reward 1 when the
 * spinner's angular velocity is ≤ −15 rad/s.
 */
import type { Simulation, TaskDefinition } from '../simulation.js';
import { COLORS } from './colors.js';

const SPIN_VELOCITY = 15;

/** Our MJCF of the finger and spinner. */
export const FINGER_XML = `<mujoco model="dcem-finger">
  <option timestep="0.01" cone="elliptic" iterations="200">
    <flag gravity="disable"/>
  </option>
  <default>
    <geom solimp="0 0.9 0.01" solref="0.02 1"/>
  </default>
  <worldbody>
    <geom name="ground" type="plane" pos="0 0 0" size="0.6 0.2 10" rgba="${COLORS.ground}"/>
    <body name="proximal" pos="-0.2 0 0.4">
      <geom name="proximal_decoration" type="cylinder" fromto="0 -0.033 0 0 0.033 0" size="0.034" rgba="${COLORS.decoration}"/>
      <joint name="proximal" type="hinge" axis="0 -1 0" damping="2.5" limited="true" range="-110 110" ref="-90"/>
      <geom name="proximal" type="capsule" size="0.03" fromto="0 0 0 0 0 -0.17" rgba="${COLORS.self}"/>
      <body name="distal" pos="0 0 -0.18">
        <joint name="distal" type="hinge" axis="0 -1 0" damping="2.5" limited="true" range="-110 110"/>
        <geom name="distal" type="capsule" size="0.028" fromto="0 0 0 0 0 -0.16" contype="0" conaffinity="0" rgba="${COLORS.self}"/>
        <geom name="fingertip" type="capsule" size="0.03" fromto="0 0 -0.13 0 0 -0.161" rgba="${COLORS.effector}"/>
        <site name="touchtop" type="ellipsoid" size="0.025 0.03 0.025" pos="0.01 0 -0.17"/>
        <site name="touchbottom" type="ellipsoid" size="0.025 0.03 0.025" pos="-0.01 0 -0.17"/>
      </body>
    </body>
    <body name="spinner" pos="0.2 0 0.4">
      <joint name="hinge" type="hinge" axis="0 -1 0" frictionloss="0.1" damping="0.03"/>
      <geom name="cap1" type="capsule" size="0.04 0.09" pos="0.02 0 0" rgba="${COLORS.self}"/>
      <geom name="cap2" type="capsule" size="0.04 0.09" pos="-0.02 0 0" rgba="${COLORS.self}"/>
      <site name="tip" type="sphere" size="0.02" pos="0 0 0.13"/>
      <geom name="spinner_decoration" type="cylinder" fromto="0 -0.045 0 0 0.045 0" size="0.02" rgba="${COLORS.decoration}"/>
    </body>
    <site name="target" type="sphere" size="0.03" pos="0 0 0.4"/>
  </worldbody>
  <actuator>
    <motor name="proximal" joint="proximal" gear="30" ctrllimited="true" ctrlrange="-1 1"/>
    <motor name="distal" joint="distal" gear="15" ctrllimited="true" ctrlrange="-1 1"/>
  </actuator>
  <sensor>
    <jointpos name="proximal" joint="proximal"/>
    <jointpos name="distal" joint="distal"/>
    <jointvel name="proximal_velocity" joint="proximal"/>
    <jointvel name="distal_velocity" joint="distal"/>
    <jointvel name="hinge_velocity" joint="hinge"/>
    <framepos name="tip" objtype="site" objname="tip"/>
    <framepos name="target" objtype="site" objname="target"/>
    <framepos name="spinner" objtype="xbody" objname="spinner"/>
    <touch name="touchtop" site="touchtop"/>
    <touch name="touchbottom" site="touchbottom"/>
    <framepos name="touchtop_pos" objtype="site" objname="touchtop"/>
    <framepos name="touchbottom_pos" objtype="site" objname="touchbottom"/>
  </sensor>
</mujoco>
`;

/** Sensor data layout (offsets into sensordata). */
const S = {
  proximal: 0,
  distal: 1,
  proximalVel: 2,
  distalVel: 3,
  hingeVel: 4,
  tip: 5,
  target: 8,
  spinner: 11,
  touchTop: 14,
  touchBottom: 15,
};

/** Randomises the joints until no contact remains (the suite's `_set_random_joint_angles`). */
function randomJointsWithoutContact(
  sim: Simulation,
  random: { uniform(a: number, b: number): number },
): void {
  const m = sim.model;
  const range = m.jnt_range as Float64Array;
  for (let attempt = 0; attempt < 1000; attempt++) {
    const qpos = sim.v.qpos;
    for (let j = 0; j < m.njnt; j++) {
      if (sim.limited(j)) qpos[j] = random.uniform(range[2 * j] as number, range[2 * j + 1] as number);
      else qpos[j] = random.uniform(-Math.PI, Math.PI);
    }
    sim.forwardWithoutActuation();
    if (sim.data.ncon === 0) return;
  }
  throw new Error('finger-spin: no contact-free initial state after 1000 attempts');
}

/** The finger's spinning task. */
export const fingerSpin: TaskDefinition = {
  name: 'finger-spin',
  domain: 'finger',
  xml: FINGER_XML,
  controlTimestep: 0.02,
  paramsSize: 0,
  observation: [
    { name: 'position', size: 4 },
    { name: 'velocity', size: 3 },
    { name: 'touch', size: 2 },
  ],
  view: { plane: 'xz', size: [0.9, 0.66], center: [0, 0.3] },
  initialize: randomJointsWithoutContact,
  reward(sim) {
    const v = sim.v.sensordata[S.hingeVel] as number;
    return Number.isNaN(v) ? Number.NaN : v <= -SPIN_VELOCITY ? 1 : 0;
  },
  observe(sim, out) {
    const s = sim.v.sensordata;
    const at = (i: number) => s[i] as number;
    out[0] = at(S.proximal);
    out[1] = at(S.distal);
    out[2] = at(S.tip) - at(S.spinner);
    out[3] = at(S.tip + 2) - at(S.spinner + 2);
    out[4] = at(S.proximalVel);
    out[5] = at(S.distalVel);
    out[6] = at(S.hingeVel);
    out[7] = Math.log1p(at(S.touchTop));
    out[8] = Math.log1p(at(S.touchBottom));
  },
};
