/** Colours of the drawn geoms (RGBA in [0, 1]), shared by the task models. */
export const COLORS = {
  /** The agent's own bodies. */
  self: '0.7 0.5 0.3 1',
  /** End effectors. */
  effector: '0.7 0.4 0.2 1',
  /** Fixed decorations (rails, walls). */
  decoration: '0.3 0.5 0.7 1',
  /** Targets. */
  target: '0.6 0.3 0.3 1',
  /** Floors. */
  ground: '0.2 0.3 0.4 1',
} as const;
