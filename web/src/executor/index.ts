// The browser executor: one entry point for the Web Worker and the Node tests.
import type { ShardExecutor } from "./types.js";
import { runShard as run } from "./run.js";

export const runShard: ShardExecutor = run;
export { setBackend, backendInUse, chooseBackend, type BackendName, type BackendOptions } from "./backend.js";
export { loadSlice } from "./run.js";
export { initializeWeights } from "./init.js";
export { normalizeModel, layout, parameterCount } from "./models.js";
export { generateSynthetic, readF32, MiniBatchSampler } from "./data.js";
export { DeterministicRandom, toU64 } from "./random.js";
export { relativeL2 } from "./compare.js";
export type * from "./types.js";
