// Energy-based structured prediction (regression): exports are added here.
export {};
