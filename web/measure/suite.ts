// What `npm run measure` and `npm run bench` run on one backend, under Node and in the browser alike: the golden
// shards against TorchSharp (verification figures), and the benchmark shards timed (samples/s).
import { runShard, setBackend, backendInUse, initializeWeights, normalizeModel, generateSynthetic, type BackendName } from "../src/executor/index.js";
import type { JobSpec, ModelSpec, ShardInput, ShardPlan } from "../src/executor/types.js";
import { input, measure, type GoldenShard, type Measurement } from "./cases.js";

export interface BenchCase {
  name: string;
  model: ModelSpec;
  batch: number;
  steps: number;
  samples: number;
}

export interface BenchResult {
  name: string;
  backend: string;
  samplesPerSecond: number;
  seconds: number;
  steps: number;
  batch: number;
}

export interface SuiteReport {
  backend: string;
  started: boolean;
  error?: string;
  measurements?: Measurement[];
  /** One step short of every train case: the shortcut's distance to TorchSharp, for the tolerance's margin. */
  shortcuts?: Measurement[];
  bench?: BenchResult[];
}

export async function startBackend(backend: BackendName, wasmPaths: string | undefined): Promise<boolean> {
  const options = wasmPaths === undefined ? {} : { wasmPaths };
  return (await setBackend(backend, options)) && backendInUse() === backend;
}

export async function verifyCases(cases: GoldenShard[]): Promise<{ measurements: Measurement[]; shortcuts: Measurement[] }> {
  const measurements: Measurement[] = [];
  const shortcuts: Measurement[] = [];
  for (const c of cases) {
    measurements.push(measure(c, await runShard(input(c))));
    if (c.spec.kind === "train" && c.shard.steps > 1) {
      const short = input(c);
      short.shard = { ...short.shard, steps: short.shard.steps - 1 };
      shortcuts.push(measure(c, await runShard(short)));
    }
  }
  return { measurements, shortcuts };
}

/** The shard input of a benchmark case: weights and an f32 blob made beforehand, so only the executor is timed. */
export function benchInput(c: BenchCase, steps: number): ShardInput {
  const model = normalizeModel(c.model);
  const dataset = { synthetic: { kind: "blobs", samples: c.samples, seed: 7, noise: 1 } };
  const spec: JobSpec = { kind: "train", model: c.model, dataset, learningRate: 0.01, batchSize: c.batch, localSteps: steps, seed: 3 };
  const shard: ShardPlan = { round: 0, index: 0, sampleOffset: 0, sampleCount: c.samples, seed: 7, flops: 0, steps, batchSize: c.batch };
  const slice = generateSynthetic(dataset.synthetic, model, 0, c.samples);
  const rowFloats = slice.featuresPerSample + slice.targetsPerSample;
  const rows = new Float32Array(c.samples * rowFloats);
  for (let i = 0; i < c.samples; i++) {
    rows.set(slice.features.subarray(i * slice.featuresPerSample, (i + 1) * slice.featuresPerSample), i * rowFloats);
    rows.set(slice.targets.subarray(i * slice.targetsPerSample, (i + 1) * slice.targetsPerSample), i * rowFloats + slice.featuresPerSample);
  }
  // f32 rows are little-endian; every platform TF.js runs on is little-endian, so the array's bytes are the blob.
  return { spec: { ...spec, dataset: { blobId: "bench", samples: c.samples, format: "f32" } }, shard, weights: initializeWeights(model, 3), dataset: new Uint8Array(rows.buffer) };
}

/** Best of `repeats` timed shards after a one-step warm-up (first calls compile kernels and allocate). */
export async function benchCases(cases: BenchCase[], repeats: number, now: () => number): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  for (const c of cases) {
    await runShard(benchInput(c, 1));
    const shard = benchInput(c, c.steps);
    let best = Infinity;
    for (let r = 0; r < repeats; r++) {
      const start = now();
      await runShard(shard);
      best = Math.min(best, (now() - start) / 1000);
    }
    results.push({ name: c.name, backend: backendInUse(), samplesPerSecond: (c.steps * c.batch) / best, seconds: best, steps: c.steps, batch: c.batch });
  }
  return results;
}
