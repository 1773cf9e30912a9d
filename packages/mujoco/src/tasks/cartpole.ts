/**
 * cartpole-swingup: a cart on a rail with an unactuated pole, swung up from
 * hanging down (DeepMind Control Suite, `cartpole.swingup`).
 *
 * Physics: time step 0.01 s with RK4, contacts off; cart 1 kg box
 * (0.4 × 0.3 × 0.2 m) on a slider limited to ±1.8 m (damping 5e-4), pole a
 * 0.1 kg capsule of length 1 m and radius 0.045 m on a hinge (damping 2e-6);
 * a motor on the slider with gear 10. Control time step 0.01 s.
 */
import type { Simulation, TaskDefinition } from '../simulation.js';
import { mat } from '../simulation.js';
import { tolerance } from '../tolerance.js';
import { COLORS } from './colors.js';

const CART = { mass: 1, half: [0.2, 0.15, 0.1], height: 1, range: 1.8, damping: 5e-4, gear: 10 };
const POLE = { mass: 0.1, length: 1, radius: 0.045, damping: 2e-6 };

/** Our MJCF of the cart-pole. */
export const CARTPOLE_XML = `<mujoco model="dcem-cartpole">
  <option timestep="0.01" integrator="RK4">
    <flag contact="disable" energy="enable"/>
  </option>
  <worldbody>
    <geom name="floor" type="plane" pos="0 0 -0.05" size="4 4 0.2" rgba="${COLORS.ground}"/>
    <geom name="rail1" type="capsule" pos="0 0.07 ${CART.height}" zaxis="1 0 0" size="0.02 2" rgba="${COLORS.decoration}"/>
    <geom name="rail2" type="capsule" pos="0 -0.07 ${CART.height}" zaxis="1 0 0" size="0.02 2" rgba="${COLORS.decoration}"/>
    <body name="cart" pos="0 0 ${CART.height}">
      <joint name="slider" type="slide" axis="1 0 0" limited="true" range="${-CART.range} ${CART.range}" solreflimit="0.08 1" damping="${CART.damping}"/>
      <geom name="cart" type="box" size="${CART.half.join(' ')}" mass="${CART.mass}" rgba="${COLORS.self}"/>
      <body name="pole_1">
        <joint name="hinge_1" type="hinge" axis="0 1 0" damping="${POLE.damping}"/>
        <geom name="pole_1" type="capsule" fromto="0 0 0 0 0 ${POLE.length}" size="${POLE.radius}" mass="${POLE.mass}" rgba="${COLORS.self}"/>
      </body>
    </body>
  </worldbody>
  <actuator>
    <motor name="slide" joint="slider" gear="${CART.gear}" ctrllimited="true" ctrlrange="-1 1"/>
  </actuator>
</mujoco>
`;

const POLE_BODY = 2;

function cartPosition(sim: Simulation): number {
  return sim.v.qpos[0] as number;
}

/** The cart-pole swing-up task. */
export const cartpoleSwingup: TaskDefinition = {
  name: 'cartpole-swingup',
  domain: 'cartpole',
  xml: CARTPOLE_XML,
  controlTimestep: 0.01,
  paramsSize: 0,
  observation: [
    { name: 'position', size: 3 },
    { name: 'velocity', size: 2 },
  ],
  view: { plane: 'xz', size: [4.4, 2.6], center: [0, 0.9] },
  initialize(sim, random) {
    const { qpos, qvel } = sim.v;
    qpos[0] = 0.01 * random.normal();
    qpos[1] = Math.PI + 0.01 * random.normal();
    for (let i = 0; i < qvel.length; i++) qvel[i] = 0.01 * random.normal();
  },
  reward(sim) {
    const { xmat, ctrl, qvel } = sim.v;
    const upright = (mat(xmat, POLE_BODY, 2, 2) + 1) / 2;
    const centered = (1 + tolerance(cartPosition(sim), { margin: 2 })) / 2;
    const control = tolerance(ctrl[0] as number, { margin: 1, valueAtMargin: 0, sigmoid: 'quadratic' });
    const smallControl = (4 + control) / 5;
    const smallVelocity = (1 + tolerance(qvel[1] as number, { margin: 5 })) / 2;
    return upright * smallControl * smallVelocity * centered;
  },
  observe(sim, out) {
    const { xmat, qvel } = sim.v;
    out[0] = cartPosition(sim);
    out[1] = mat(xmat, POLE_BODY, 2, 2);
    out[2] = mat(xmat, POLE_BODY, 0, 2);
    out[3] = qvel[0] as number;
    out[4] = qvel[1] as number;
  },
};
