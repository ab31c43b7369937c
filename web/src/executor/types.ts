// The shapes the browser executor shares with the C# pool. They mirror the JSON of protocol v1's `assign` frame
// (Protocol/Messages.cs: camelCase, enums as camelCase strings) and Workloads' ShardOutput: one protocol, two runtimes.

export type WorkloadKind = "train" | "infer" | "prep";

export interface ModelSpec {
  type: "mlp" | "cnn" | "transformer";
  inputSize?: number;
  hiddenSizes?: number[];
  outputSize: number;
  activation?: "relu" | "tanh";
  loss?: "mse" | "cross_entropy";
  channels?: number;
  imageSize?: number;
  convChannels?: number[];
  kernelSize?: number;
  vocabSize?: number;
  sequenceLength?: number;
  modelDim?: number;
  heads?: number;
  layers?: number;
  feedForwardDim?: number;
}

/** Workloads/Specs/SyntheticDatasetSpec.cs, as it travels in a spec. */
export interface SyntheticDatasetSpec {
  [field: string]: unknown;
}

export interface DatasetSpec {
  blobId?: string | null;
  /** A chunked dataset (docs/DATASETS.md); its shards' assigns carry the chunks that cover them. */
  datasetId?: string | null;
  synthetic?: SyntheticDatasetSpec | null;
  samples?: number;
  format?: string;
  [field: string]: unknown;
}

export interface PrepSpec {
  [field: string]: unknown;
}

/** Workloads/Specs/JobSpec.cs. */
export interface JobSpec {
  kind: WorkloadKind;
  model?: ModelSpec | null;
  dataset: DatasetSpec;
  rounds?: number;
  shardsPerRound?: number;
  localSteps?: number;
  batchSize?: number;
  learningRate?: number;
  seed?: number | string;
  prep?: PrepSpec | null;
  precision?: "fp32" | "bf16";
  [field: string]: unknown;
}

/** Workloads/Planning/ShardPlan.cs. */
export interface ShardPlan {
  round: number;
  index: number;
  sampleOffset: number;
  sampleCount: number;
  seed: number | string;
  flops: number;
  steps: number;
  batchSize: number;
}

/** What a shard needs besides the spec and its plan: the round's weights (flat f32, layout order) and the dataset bytes. */
export interface ShardInput {
  spec: JobSpec;
  shard: ShardPlan;
  /** The round's weights in the registry's layout order; null when the spec starts from its seed (ModelInitializer). */
  weights: Float32Array | null;
  /** The dataset's bytes the slice is cut from (a whole blob, or a chunked dataset's covering chunks joined); null for a synthetic dataset. */
  dataset: Uint8Array | null;
  /** The dataset byte at which `dataset` starts: 0 for a blob, ShardChunks.StartByte for chunks. */
  datasetStartByte?: number;
}

/**
 * Workloads/Execution/ShardOutput.cs. train: `values` is the weight delta (final − start) in layout order and `loss`
 * the mean training loss over the local steps. infer: the outputs, one row of outputSize per sample. prep: `bytes`.
 * Unused fields are empty; loss is NaN outside train.
 */
export interface ShardOutput {
  values: Float32Array;
  bytes: Uint8Array;
  loss: number;
  samples: number;
}

/** Runs one shard; the browser's Web Worker and the Node tests call the same function. */
export type ShardExecutor = (input: ShardInput) => Promise<ShardOutput>;
