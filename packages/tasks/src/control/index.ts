// Control (dynamics, planner, MPC, latent action embeddings): exports are added here.
export {};
