/**
 * cheetah-run: a planar half-cheetah rewarded for running forward at 10 m/s
 * or faster (DeepMind Control Suite, `cheetah.run`).
 *
 * Physics: time step 0.01 s (Euler), total mass 14 kg (capsules of radius
 * 0.046 m scaled to that mass), six limited hinges with the suite's
 * stiffness/damping (back thigh 240/6, shin 180/4.5, foot 120/3; front thigh
 * 180/4.5, shin 120/3, foot 60/1.5), armature 0.1, friction 0.4; motor gears
 * 120, 90, 60, 90, 60, 30. Control time step 0.01 s.
 */
import type { TaskDefinition } from '../simulation.js';
import { tolerance } from '../tolerance.js';
import { COLORS } from './colors.js';

const RUN_SPEED = 10;
const TOTAL_MASS = 14;
const RADIUS = 0.046;

interface Segment {
  name: string;
  /** Body position relative to its parent. */
  body: string;
  range: [number, number];
  stiffness: number;
  damping: number;
  /** Capsule centre, pitch (degrees about y) and half-length. */
  geom: { pos: string; pitch: number; half: number };
  gear: number;
}

const BACK: Segment[] = [
  {
    name: 'bthigh',
    body: '-0.5 0 0',
    range: [-30, 60],
    stiffness: 240,
    damping: 6,
    geom: { pos: '0.1 0 -0.13', pitch: -218, half: 0.145 },
    gear: 120,
  },
  {
    name: 'bshin',
    body: '0.16 0 -0.25',
    range: [-50, 50],
    stiffness: 180,
    damping: 4.5,
    geom: { pos: '-0.14 0 -0.07', pitch: -116, half: 0.15 },
    gear: 90,
  },
  {
    name: 'bfoot',
    body: '-0.28 0 -0.14',
    range: [-230, 50],
    stiffness: 120,
    damping: 3,
    geom: { pos: '0.03 0 -0.097', pitch: -15, half: 0.094 },
    gear: 60,
  },
];
const FRONT: Segment[] = [
  {
    name: 'fthigh',
    body: '0.5 0 0',
    range: [-57, 0.4],
    stiffness: 180,
    damping: 4.5,
    geom: { pos: '-0.07 0 -0.12', pitch: 30, half: 0.133 },
    gear: 90,
  },
  {
    name: 'fshin',
    body: '-0.14 0 -0.24',
    range: [-70, 50],
    stiffness: 120,
    damping: 3,
    geom: { pos: '0.065 0 -0.09', pitch: -34, half: 0.106 },
    gear: 60,
  },
  {
    name: 'ffoot',
    body: '0.13 0 -0.18',
    range: [-28, 28],
    stiffness: 60,
    damping: 1.5,
    geom: { pos: '0.045 0 -0.07', pitch: -34, half: 0.07 },
    gear: 30,
  },
];

const GEOM = `contype="1" conaffinity="1" condim="3" friction="0.4 0.1 0.1" rgba="${COLORS.self}"`;

/** A chain of segments, each body nested in the previous one. */
function chain(segments: Segment[], indent: string): string {
  const [first, ...rest] = segments;
  if (first === undefined) return '';
  const s = first;
  return `${indent}<body name="${s.name}" pos="${s.body}">
${indent}  <joint name="${s.name}" type="hinge" axis="0 1 0" limited="true" range="${s.range[0]} ${s.range[1]}" stiffness="${s.stiffness}" damping="${s.damping}" armature="0.1"/>
${indent}  <geom name="${s.name}" type="capsule" pos="${s.geom.pos}" euler="0 ${s.geom.pitch} 0" size="${RADIUS} ${s.geom.half}" ${GEOM}/>
${chain(rest, `${indent}  `)}${indent}</body>
`;
}

/** Our MJCF of the half-cheetah. */
export const CHEETAH_XML = `<mujoco model="dcem-cheetah">
  <compiler settotalmass="${TOTAL_MASS}"/>
  <option timestep="0.01"/>
  <worldbody>
    <geom name="ground" type="plane" conaffinity="1" pos="98 0 0" size="100 0.8 0.5" rgba="${COLORS.ground}"/>
    <body name="torso" pos="0 0 0.7">
      <joint name="rootx" type="slide" axis="1 0 0"/>
      <joint name="rootz" type="slide" axis="0 0 1"/>
      <joint name="rooty" type="hinge" axis="0 1 0"/>
      <geom name="torso" type="capsule" fromto="-0.5 0 0 0.5 0 0" size="${RADIUS}" ${GEOM}/>
      <geom name="head" type="capsule" pos="0.6 0 0.1" euler="0 50 0" size="${RADIUS} 0.15" ${GEOM}/>
${chain(BACK, '      ')}${chain(FRONT, '      ')}    </body>
  </worldbody>
  <sensor>
    <subtreelinvel name="torso_subtreelinvel" body="torso"/>
  </sensor>
  <actuator>
${[...BACK, ...FRONT].map((s) => `    <motor name="${s.name}" joint="${s.name}" gear="${s.gear}" ctrllimited="true" ctrlrange="-1 1"/>`).join('\n')}
  </actuator>
</mujoco>
`;

/** The cheetah's running task. */
export const cheetahRun: TaskDefinition = {
  name: 'cheetah-run',
  domain: 'cheetah',
  xml: CHEETAH_XML,
  controlTimestep: 0.01,
  paramsSize: 0,
  observation: [
    { name: 'position', size: 8 },
    { name: 'velocity', size: 9 },
  ],
  view: { plane: 'xz', size: [3.2, 1.6], center: [0, 0.55], track: 'torso' },
  initialize(sim, random) {
    const range = sim.model.jnt_range as Float64Array;
    const qpos = sim.v.qpos;
    for (let j = 0; j < sim.model.njnt; j++) {
      if (sim.limited(j)) qpos[j] = random.uniform(range[2 * j] as number, range[2 * j + 1] as number);
    }
    // The suite lets the model settle for 200 steps (controls zero), then restarts the clock.
    sim.physicsSteps(200);
    sim.data.time = 0;
  },
  reward(sim) {
    return tolerance(sim.v.sensordata[0] as number, {
      bounds: [RUN_SPEED, Number.POSITIVE_INFINITY],
      margin: RUN_SPEED,
      valueAtMargin: 0,
      sigmoid: 'linear',
    });
  },
  observe(sim, out) {
    const { qpos, qvel } = sim.v;
    for (let i = 1; i < qpos.length; i++) out[i - 1] = qpos[i] as number;
    for (let i = 0; i < qvel.length; i++) out[qpos.length - 1 + i] = qvel[i] as number;
  },
};
