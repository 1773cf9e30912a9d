/**
 * cup-catch: a cup moved in the x–z plane must catch a ball tied to it by a
 * string (DeepMind Control Suite, `ball_in_cup.catch`).
 *
 * Physics: MuJoCo's default time step 0.002 s, control time step 0.02 s (10
 * physics steps); the cup slides in x and z (stiffness 20, damping 3, motors
 * gear 5) and is made of five capsules of radius 0.008 m; the ball is a
 * sphere of radius 0.025 m on x and z slides; the string is a spatial
 * tendon limited to 0.3 m. Reward 1 while the ball is inside the cup's target
 * box (half-sizes 0.05 × 0.05 m, less the ball's radius).
 */
import type { Simulation, TaskDefinition } from '../simulation.js';
import { COLORS } from './colors.js';

const CUP_JOINT = 'type="slide" damping="3" stiffness="20"';
const CUP_GEOM = `type="capsule" size="0.008" rgba="${COLORS.self}"`;
const CUP_OUTLINE: [string, string][] = [
  ['-0.05 0 0', '-0.05 0 -0.075'],
  ['-0.05 0 -0.075', '-0.025 0 -0.1'],
  ['-0.025 0 -0.1', '0.025 0 -0.1'],
  ['0.025 0 -0.1', '0.05 0 -0.075'],
  ['0.05 0 -0.075', '0.05 0 0'],
];

/** Our MJCF of the ball in cup. */
export const CUP_XML = `<mujoco model="dcem-ball-in-cup">
  <worldbody>
    <geom name="ground" type="plane" pos="0 0 0" size="0.6 0.2 10" rgba="${COLORS.ground}"/>
    <body name="cup" pos="0 0 0.6">
      <joint name="cup_x" axis="1 0 0" ${CUP_JOINT}/>
      <joint name="cup_z" axis="0 0 1" ${CUP_JOINT}/>
${CUP_OUTLINE.map(([a, b], i) => `      <geom name="cup_part_${i}" fromto="${a} ${b}" ${CUP_GEOM}/>`).join('\n')}
      <site name="cup" pos="0 0 -0.108" size="0.005"/>
      <site name="target" type="box" pos="0 0 -0.05" size="0.05 0.006 0.05"/>
    </body>
    <body name="ball" pos="0 0 0.2">
      <joint name="ball_x" type="slide" axis="1 0 0"/>
      <joint name="ball_z" type="slide" axis="0 0 1"/>
      <geom name="ball" type="sphere" size="0.025" rgba="${COLORS.effector}"/>
      <site name="ball" size="0.005"/>
    </body>
  </worldbody>
  <actuator>
    <motor name="x" joint="cup_x" gear="5" ctrllimited="true" ctrlrange="-1 1"/>
    <motor name="z" joint="cup_z" gear="5" ctrllimited="true" ctrlrange="-1 1"/>
  </actuator>
  <tendon>
    <spatial name="string" limited="true" range="0 0.3" width="0.003">
      <site site="ball"/>
      <site site="cup"/>
    </spatial>
  </tendon>
</mujoco>
`;

const ids = new WeakMap<Simulation, { target: number; ball: number; ballGeom: number }>();
function lookup(sim: Simulation) {
  let i = ids.get(sim);
  if (i === undefined) {
    i = { target: sim.id('site', 'target'), ball: sim.id('body', 'ball'), ballGeom: sim.id('geom', 'ball') };
    ids.set(sim, i);
  }
  return i;
}

/** The ball-in-cup catching task. */
export const cupCatch: TaskDefinition = {
  name: 'cup-catch',
  domain: 'ball_in_cup',
  xml: CUP_XML,
  controlTimestep: 0.02,
  paramsSize: 0,
  observation: [
    { name: 'position', size: 4 },
    { name: 'velocity', size: 4 },
  ],
  view: { plane: 'xz', size: [1.0, 0.9], center: [0, 0.42] },
  initialize(sim, random) {
    // A collision-free random ball position (x ∈ U(−0.2, 0.2), z ∈ U(0.2, 0.5) on the ball's slides).
    for (let attempt = 0; attempt < 1000; attempt++) {
      const qpos = sim.v.qpos;
      qpos[2] = random.uniform(-0.2, 0.2);
      qpos[3] = random.uniform(0.2, 0.5);
      sim.forwardWithoutActuation();
      if (sim.data.ncon === 0) return;
    }
    throw new Error('cup-catch: no contact-free initial state after 1000 attempts');
  },
  reward(sim) {
    const { target, ball, ballGeom } = lookup(sim);
    const { siteXpos, xpos } = sim.v;
    const siteSize = sim.model.site_size as Float64Array;
    const radius = (sim.model.geom_size as Float64Array)[3 * ballGeom] as number;
    const dx = Math.abs((siteXpos[3 * target] as number) - (xpos[3 * ball] as number));
    const dz = Math.abs((siteXpos[3 * target + 2] as number) - (xpos[3 * ball + 2] as number));
    if (Number.isNaN(dx + dz)) return Number.NaN;
    return dx < (siteSize[3 * target] as number) - radius &&
      dz < (siteSize[3 * target + 2] as number) - radius
      ? 1
      : 0;
  },
  observe(sim, out) {
    const { qpos, qvel } = sim.v;
    for (let i = 0; i < 4; i++) {
      out[i] = qpos[i] as number;
      out[4 + i] = qvel[i] as number;
    }
  },
};
