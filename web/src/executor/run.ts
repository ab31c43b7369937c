// Runs one shard with the conventions of Workloads/Execution/ReferenceExecutor and Worker/Execution/TorchExecutor:
// the shard's slice (generated on the device for a synthetic dataset), the round's weights or ModelInitializer's,
// plain SGD on MiniBatchSampler's batches, and ShardOutput's layout. fp32 only.
import * as tf from "@tensorflow/tfjs-core";
// tfjs-core registers its gradient functions only on request; train needs them (tf.valueAndGrad).
import "@tensorflow/tfjs-core/dist/register_all_gradients.js";
import type { JobSpec, ShardInput, ShardOutput, ShardPlan } from "./types.js";
import { activationFloatsPerSample, featuresPerSample, normalizeModel, parameterCount, targetsPerSample, type Model } from "./models.js";
import { generateSynthetic, MiniBatchSampler, readF32, type DataSlice, type SyntheticSpec } from "./data.js";
import { datasetLayout, isDatasetFormat, readDataset } from "./datasets.js";
import { initializeWeights } from "./init.js";
import { applyPrep } from "./prep.js";
import { forward, loss, viewParameters } from "./network.js";

/** Floats of activations an inference chunk may hold, as TorchExecutor: fixed by the model, never by the device. */
const InferChunkFloats = 1 << 24;
const MaxInferChunk = 1024;

/**
 * ShardData.Load: the shard's slice, generated from the synthetic spec, cut from a blob's f32 rows, or read from a
 * chunked dataset's bytes (its covering chunks joined) that begin at dataset byte startByte.
 */
export function loadSlice(spec: JobSpec, shard: ShardPlan, dataset: Uint8Array | null, startByte = 0): DataSlice {
  if (!spec.model) throw new Error("The job has no model to shape its rows.");
  const m = normalizeModel(spec.model);
  const synthetic = spec.dataset.synthetic as SyntheticSpec | null | undefined;
  if (synthetic) return generateSynthetic(synthetic, m, shard.sampleOffset, shard.sampleCount);
  if (dataset === null) throw new Error("The job's dataset is stored, but no dataset bytes were given.");
  const format = spec.dataset.format ?? "f32";
  if (!spec.dataset.datasetId && format === "f32") return readF32(dataset, m, shard.sampleOffset, shard.sampleCount);
  if (!isDatasetFormat(format)) throw new Error(`The browser executor does not read datasets of format "${format}".`);
  return readDataset(datasetLayout(format, m, spec.kind === "train"), dataset, startByte, shard.sampleOffset, shard.sampleCount);
}

/** ShardExecutor: the same function runs in the browser's Web Worker and under Node in the tests. */
export async function runShard(input: ShardInput): Promise<ShardOutput> {
  const { spec, shard } = input;
  const precision = spec.precision ?? "fp32";
  if (precision !== "fp32") throw new Error(`The browser executor computes in fp32 only; the job asks for "${precision}".`);
  const data = loadSlice(spec, shard, input.dataset, input.datasetStartByte ?? 0);
  if (data.count !== shard.sampleCount) throw new Error(`The shard covers ${shard.sampleCount} samples but the slice holds ${data.count}.`);

  if (spec.kind === "prep") {
    if (!spec.prep) throw new Error("A prep job needs prep.");
    return { values: new Float32Array(0), bytes: applyPrep(spec.prep as { operation?: string; scale?: number }, data), loss: NaN, samples: data.count };
  }
  const m = normalizeModel(spec.model!);
  const weights = input.weights ?? initializeWeights(m, spec.seed ?? 0);
  if (weights.length !== parameterCount(m)) {
    throw new Error(`The model has ${parameterCount(m)} parameters but ${weights.length} weights were given.`);
  }
  if (data.featuresPerSample !== featuresPerSample(m) || data.targetsPerSample !== targetsPerSample(m)) {
    throw new Error(`The slice has rows of ${data.featuresPerSample} features and ${data.targetsPerSample} targets; the model needs ${featuresPerSample(m)} and ${targetsPerSample(m)}.`);
  }
  if (m.type === "transformer") checkTokens(m, data);
  if (spec.kind === "train") return train(m, Math.fround(spec.learningRate ?? 0.05), shard, weights, data);
  if (spec.kind === "infer") return infer(m, weights, data);
  throw new Error(`Unknown workload kind "${String(spec.kind)}".`);
}

function checkTokens(m: Model, data: DataSlice): void {
  for (const id of data.features) {
    if (!(id >= 0 && id < m.vocabSize) || id !== Math.floor(id)) throw new Error(`Token id ${id} is not one of the model's ${m.vocabSize} ids.`);
  }
}

/** The slice's targets: [count, OutputSize] floats for mse, int32 class indices (checked) for cross_entropy. */
function targetsTensor(m: Model, data: DataSlice): tf.Tensor {
  if (m.loss !== "cross_entropy") return tf.tensor2d(data.targets, [data.count, m.outputSize], "float32");
  const classes = new Int32Array(data.count);
  for (let i = 0; i < data.count; i++) {
    const label = data.targets[i]!;
    if (!(label >= 0 && label < m.outputSize) || label !== Math.floor(label)) {
      throw new Error(`Class index ${label} is not one of the model's ${m.outputSize} classes.`);
    }
    classes[i] = label;
  }
  return tf.tensor1d(classes, "int32");
}

/**
 * Steps plain SGD steps (no momentum) on MiniBatchSampler's batches, drawn in order on the host; each step's loss is
 * kept on the device and all are read once at the end, summed in float64 in step order (TorchExecutor's sum).
 */
async function train(m: Model, learningRate: number, shard: ShardPlan, start: Float32Array, data: DataSlice): Promise<ShardOutput> {
  if (shard.steps < 1 || shard.batchSize < 1) throw new Error("A training shard needs at least one step of at least one sample.");
  if (data.count === 0) throw new Error("A training shard needs samples.");
  const sampler = new MiniBatchSampler(shard.seed, data.count);
  const schedule: Int32Array[] = [];
  for (let step = 0; step < shard.steps; step++) schedule.push(sampler.nextBatch(shard.batchSize));

  const features = tf.tensor2d(data.features, [data.count, data.featuresPerSample], "float32");
  const targets = targetsTensor(m, data);
  let flat: tf.Tensor1D = tf.tensor1d(start, "float32");
  const losses: tf.Scalar[] = [];
  try {
    for (const batch of schedule) {
      const [next, stepLoss] = tf.tidy(() => {
        const rows = tf.tensor1d(batch, "int32");
        const x = tf.gather(features, rows) as tf.Tensor2D;
        const y = tf.gather(targets, rows);
        const { value, grad } = tf.valueAndGrad((w: tf.Tensor1D) => loss(m, forward(m, viewParameters(m, w), x), y))(flat);
        return [tf.sub(flat, tf.mul(grad, learningRate)) as tf.Tensor1D, value] as const;
      });
      flat.dispose();
      flat = next;
      losses.push(stepLoss);
    }
    const final = (await flat.data()) as Float32Array;
    let lossSum = 0;
    for (const stepLoss of losses) lossSum += ((await stepLoss.data()) as Float32Array)[0]!;
    // final − start in float32, as the reference and the TorchSharp worker round the delta.
    const delta = new Float32Array(final.length);
    for (let j = 0; j < delta.length; j++) delta[j] = final[j]! - start[j]!;
    return { values: delta, bytes: new Uint8Array(0), loss: lossSum / shard.steps, samples: shard.steps * shard.batchSize };
  } finally {
    flat.dispose();
    features.dispose();
    targets.dispose();
    for (const stepLoss of losses) stepLoss.dispose();
  }
}

/** The outputs of every sample of the slice, row-major, in chunks whose size depends on the model only. */
async function infer(m: Model, weights: Float32Array, data: DataSlice): Promise<ShardOutput> {
  const outputs = m.outputSize;
  const values = new Float32Array(data.count * outputs);
  const chunk = Math.min(Math.max(Math.floor(InferChunkFloats / Math.max(1, activationFloatsPerSample(m))), 1), MaxInferChunk);
  const f = data.featuresPerSample;
  const flat = tf.tensor1d(weights, "float32");
  try {
    for (let first = 0; first < data.count; first += chunk) {
      const count = Math.min(chunk, data.count - first);
      const out = tf.tidy(() => {
        const rows = tf.tensor2d(data.features.subarray(first * f, (first + count) * f), [count, f], "float32");
        return forward(m, viewParameters(m, flat), rows);
      });
      values.set((await out.data()) as Float32Array, first * outputs);
      out.dispose();
    }
  } finally {
    flat.dispose();
  }
  return { values, bytes: new Uint8Array(0), loss: NaN, samples: data.count };
}
