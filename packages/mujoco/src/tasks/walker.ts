/**
 * walker-walk: a planar biped rewarded for standing tall and upright while
 * moving forward at 1 m/s or faster (DeepMind Control Suite, `walker.walk`).
 *
 * Physics: time step 0.0025 s (Euler), control time step 0.025 s (10 physics
 * steps); capsules at density 1000 kg/m³: torso radius 0.07 m half-length
 * 0.3 m, thighs 0.05/0.225, legs 0.04/0.25, feet 0.05/0.1 (along x);
 * hips −20°…100°, knees −150°…0°, ankles ±45°, joint damping 0.1, armature
 * 0.01; friction 0.7 (the floor's too: contacts take the larger of the two); motor gears 100 (hip), 50 (knee), 20 (ankle).
 */
import type { Simulation, TaskDefinition } from '../simulation.js';
import { mat } from '../simulation.js';
import { tolerance } from '../tolerance.js';
import { COLORS } from './colors.js';

const STAND_HEIGHT = 1.2;
const WALK_SPEED = 1;
const SOLIMP_LIMIT = '0 0.99 0.01';
const JOINT = `damping="0.1" armature="0.01" limited="true" solimplimit="${SOLIMP_LIMIT}" type="hinge" axis="0 -1 0"`;
const GEOM = `type="capsule" contype="1" conaffinity="0" friction="0.7 0.1 0.1" rgba="${COLORS.self}"`;

function leg(side: 'right' | 'left', y: number): string {
  return `      <body name="${side}_thigh" pos="0 ${y} -0.3">
        <joint name="${side}_hip" range="-20 100" ${JOINT}/>
        <geom name="${side}_thigh" pos="0 0 -0.225" size="0.05 0.225" ${GEOM}/>
        <body name="${side}_leg" pos="0 0 -0.7">
          <joint name="${side}_knee" pos="0 0 0.25" range="-150 0" ${JOINT}/>
          <geom name="${side}_leg" size="0.04 0.25" ${GEOM}/>
          <body name="${side}_foot" pos="0.06 0 -0.25">
            <joint name="${side}_ankle" pos="-0.06 0 0" range="-45 45" ${JOINT}/>
            <geom name="${side}_foot" zaxis="1 0 0" size="0.05 0.1" ${GEOM}/>
          </body>
        </body>
      </body>
`;
}

/** Our MJCF of the planar walker. */
export const WALKER_XML = `<mujoco model="dcem-walker">
  <option timestep="0.0025"/>
  <worldbody>
    <geom name="floor" type="plane" conaffinity="1" pos="248 0 0" size="250 0.8 0.2" friction="0.7 0.1 0.1" rgba="${COLORS.ground}"/>
    <body name="torso" pos="0 0 1.3">
      <joint name="rootz" type="slide" axis="0 0 1" solimplimit="${SOLIMP_LIMIT}"/>
      <joint name="rootx" type="slide" axis="1 0 0" solimplimit="${SOLIMP_LIMIT}"/>
      <joint name="rooty" type="hinge" axis="0 1 0" solimplimit="${SOLIMP_LIMIT}"/>
      <geom name="torso" size="0.07 0.3" ${GEOM}/>
${leg('right', -0.05)}${leg('left', 0.05)}    </body>
  </worldbody>
  <sensor>
    <subtreelinvel name="torso_subtreelinvel" body="torso"/>
  </sensor>
  <actuator>
${['right', 'left']
  .flatMap((side) => [
    `    <motor name="${side}_hip" joint="${side}_hip" gear="100" ctrllimited="true" ctrlrange="-1 1"/>`,
    `    <motor name="${side}_knee" joint="${side}_knee" gear="50" ctrllimited="true" ctrlrange="-1 1"/>`,
    `    <motor name="${side}_ankle" joint="${side}_ankle" gear="20" ctrllimited="true" ctrlrange="-1 1"/>`,
  ])
  .join('\n')}
  </actuator>
</mujoco>
`;

const TORSO = 1;

function torsoHeight(sim: Simulation): number {
  return sim.v.xpos[3 * TORSO + 2] as number;
}

/** The walker's walking task. */
export const walkerWalk: TaskDefinition = {
  name: 'walker-walk',
  domain: 'walker',
  xml: WALKER_XML,
  controlTimestep: 0.025,
  paramsSize: 0,
  observation: [
    { name: 'orientations', size: 14 },
    { name: 'height', size: 1 },
    { name: 'velocity', size: 9 },
  ],
  view: { plane: 'xz', size: [3.2, 1.8], center: [0, 0.8], track: 'torso' },
  initialize(sim, random) {
    // randomize_limited_and_rotational_joints: limited hinges uniform in range, unlimited hinges in [−π, π).
    const m = sim.model;
    const range = m.jnt_range as Float64Array;
    const type = m.jnt_type as Int32Array;
    const qpos = sim.v.qpos;
    for (let j = 0; j < m.njnt; j++) {
      if (sim.limited(j)) qpos[j] = random.uniform(range[2 * j] as number, range[2 * j + 1] as number);
      else if (type[j] === 3) qpos[j] = random.uniform(-Math.PI, Math.PI);
    }
  },
  reward(sim) {
    const standing = tolerance(torsoHeight(sim), {
      bounds: [STAND_HEIGHT, Number.POSITIVE_INFINITY],
      margin: STAND_HEIGHT / 2,
    });
    const upright = (1 + mat(sim.v.xmat, TORSO, 2, 2)) / 2;
    const stand = (3 * standing + upright) / 4;
    const move = tolerance(sim.v.sensordata[0] as number, {
      bounds: [WALK_SPEED, Number.POSITIVE_INFINITY],
      margin: WALK_SPEED / 2,
      valueAtMargin: 0.5,
      sigmoid: 'linear',
    });
    return (stand * (5 * move + 1)) / 6;
  },
  observe(sim, out) {
    const { xmat, qvel } = sim.v;
    let k = 0;
    for (let b = 1; b < sim.model.nbody; b++) {
      out[k++] = mat(xmat, b, 0, 0);
      out[k++] = mat(xmat, b, 0, 2);
    }
    out[k++] = torsoHeight(sim);
    for (let i = 0; i < qvel.length; i++) out[k++] = qvel[i] as number;
  },
};
