// Messages between the MuJoCo page and its planner worker.
import type { GeomDescription, TaskName } from '@dcem/mujoco/web';

/** The planners the page offers (the presets `dcem mujoco` runs). */
export const PLANNERS = ['cem', 'icem', 'mppi', 'tdmpc2'] as const;
/** A planner of {@link PLANNERS}. */
export type PlannerName = (typeof PLANNERS)[number];
/** The selector: the preset's own, or one put in its place. */
export const SELECTORS = ['preset', 'hard', 'lml', 'sparse'] as const;
/** A selector of {@link SELECTORS}. */
export type SelectorChoice = (typeof SELECTORS)[number];

/** What the page asks the planner worker to run. */
export interface Settings {
  task: TaskName;
  planner: PlannerName;
  selector: SelectorChoice;
  /** The soft selectors' temperature τ. */
  temperature: number;
  samples: number;
  elites: number;
  iterations: number;
  horizon: number;
  seed: number;
  /** Rollout workers. */
  workers: number;
}

/** Paths of the tracked body, [points][3], predicted for one plan. */
export type Path = number[][];

/** Messages to the planner worker. */
export type ToPlanner =
  | { type: 'init'; wasmUrl: string }
  | { type: 'configure'; settings: Settings; id: number }
  | { type: 'run'; until?: number }
  | { type: 'pause' };

/** One agent step, as the page draws it. */
export interface StepMessage {
  type: 'step';
  /** The episode's id, as `configure` gave it (a step of an earlier episode may arrive late). */
  id: number;
  /** Agent steps done (planned actions applied). */
  step: number;
  /** Control steps of the suite done (step × action repeat). */
  controlSteps: number;
  reward: number;
  return: number;
  /** The tracked body's position after the step. */
  track: [number, number, number];
  position: Float64Array;
  rotation: Float64Array;
  /** The plan's predicted path (clamped mean), the best sample's, and a few of the last iteration's elites. */
  plans: { mean: Path; best: Path; elites: Path[] };
  /** Wall milliseconds of this step (planning and stepping). */
  ms: number;
  /** The action applied. */
  action: number[];
}

/** Messages from the planner worker. */
export type FromPlanner =
  | { type: 'ready' }
  | {
      type: 'scene';
      id: number;
      settings: Settings;
      geoms: GeomDescription[];
      position: Float64Array;
      rotation: Float64Array;
      track: [number, number, number];
      trackBody: string;
      actionRepeat: number;
      controlTimestep: number;
      episodeLength: number;
      workers: number;
      rolloutsPerStep: number;
    }
  | StepMessage
  | { type: 'paused'; id: number; step: number }
  | { type: 'done'; id: number; step: number }
  | { type: 'error'; message: string };
