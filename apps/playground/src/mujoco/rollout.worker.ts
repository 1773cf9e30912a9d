// A rollout worker of the MuJoCo page: one MuJoCo model and data, started by the planner worker's pool.
import { serveRollouts } from '@dcem/mujoco/web';

serveRollouts(self as unknown as Parameters<typeof serveRollouts>[0]);
