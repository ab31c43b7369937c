// The model registry of Workloads/Models (MlpDefinition, CnnDefinition, TransformerDefinition, LinearStack): the
// flat weight layout and the per-sample sizes, with the spec's defaults (ModelSpec.cs) filled in.
import type { ModelSpec } from "./types.js";

export type Init = "uniform" | "ones" | "zeros" | "normal";

export interface ParameterTensor {
  name: string;
  shape: number[];
  fanIn: number;
  init: Init;
  /** Offset in the flat vector. */
  offset: number;
  size: number;
}

/** A ModelSpec with ModelSpec.cs's defaults applied. */
export interface Model {
  type: "mlp" | "cnn" | "transformer";
  inputSize: number;
  hiddenSizes: number[];
  outputSize: number;
  activation: "relu" | "tanh";
  loss: "mse" | "cross_entropy";
  channels: number;
  imageSize: number;
  convChannels: number[];
  kernelSize: number;
  vocabSize: number;
  sequenceLength: number;
  modelDim: number;
  heads: number;
  layers: number;
  feedForwardDim: number;
}

export function normalizeModel(m: ModelSpec): Model {
  const model: Model = {
    type: m.type,
    inputSize: m.inputSize ?? 0,
    hiddenSizes: m.hiddenSizes ?? [],
    outputSize: m.outputSize,
    activation: m.activation ?? "relu",
    loss: m.loss ?? "mse",
    channels: m.channels ?? 0,
    imageSize: m.imageSize ?? 0,
    convChannels: m.convChannels ?? [],
    kernelSize: m.kernelSize ?? 3,
    vocabSize: m.vocabSize ?? 0,
    sequenceLength: m.sequenceLength ?? 0,
    modelDim: m.modelDim ?? 0,
    heads: m.heads ?? 0,
    layers: m.layers ?? 0,
    feedForwardDim: m.feedForwardDim ?? 0,
  };
  if (!["mlp", "cnn", "transformer"].includes(model.type)) throw new Error(`Unknown model type "${String(model.type)}".`);
  if (model.activation !== "relu" && model.activation !== "tanh") throw new Error(`Unknown activation "${String(model.activation)}".`);
  if (model.loss !== "mse" && model.loss !== "cross_entropy") throw new Error(`Unknown loss "${String(model.loss)}".`);
  if (!(model.outputSize >= 1)) throw new Error("model.outputSize must be at least 1.");
  return model;
}

function addLinearStack(layout: Omit<ParameterTensor, "offset" | "size">[], prefix: string, input: number, hidden: number[], output: number): void {
  let previous = input;
  const widths = [...hidden, output];
  widths.forEach((width, i) => {
    layout.push({ name: `${prefix}${i}.weight`, shape: [width, previous], fanIn: previous, init: "uniform" });
    layout.push({ name: `${prefix}${i}.bias`, shape: [width], fanIn: previous, init: "uniform" });
    previous = width;
  });
}

/** The side of a cnn's last feature map times its channels: the head's input. */
export function cnnHeadInput(m: Model): number {
  const side = m.imageSize >> m.convChannels.length;
  return m.convChannels[m.convChannels.length - 1]! * side * side;
}

/** IModelDefinition.Layout with offsets: the order of the flat weight vector. */
export function layout(m: Model): ParameterTensor[] {
  const tensors: Omit<ParameterTensor, "offset" | "size">[] = [];
  if (m.type === "mlp") {
    addLinearStack(tensors, "fc", m.inputSize, m.hiddenSizes, m.outputSize);
  } else if (m.type === "cnn") {
    const k = m.kernelSize;
    let channels = m.channels;
    m.convChannels.forEach((cout, i) => {
      const fanIn = channels * k * k;
      tensors.push({ name: `conv${i}.weight`, shape: [cout, channels, k, k], fanIn, init: "uniform" });
      tensors.push({ name: `conv${i}.bias`, shape: [cout], fanIn, init: "uniform" });
      channels = cout;
    });
    addLinearStack(tensors, "fc", cnnHeadInput(m), m.hiddenSizes, m.outputSize);
  } else {
    const d = m.modelDim;
    const f = m.feedForwardDim;
    const norm = (prefix: string) => {
      tensors.push({ name: `${prefix}.weight`, shape: [d], fanIn: 0, init: "ones" });
      tensors.push({ name: `${prefix}.bias`, shape: [d], fanIn: 0, init: "zeros" });
    };
    tensors.push({ name: "embedding.token", shape: [m.vocabSize, d], fanIn: 0, init: "normal" });
    tensors.push({ name: "embedding.position", shape: [m.sequenceLength, d], fanIn: 0, init: "normal" });
    for (let l = 0; l < m.layers; l++) {
      const b = `blocks.${l}`;
      norm(`${b}.norm1`);
      tensors.push({ name: `${b}.attention.in_proj_weight`, shape: [3 * d, d], fanIn: d, init: "uniform" });
      tensors.push({ name: `${b}.attention.in_proj_bias`, shape: [3 * d], fanIn: d, init: "uniform" });
      tensors.push({ name: `${b}.attention.out_proj.weight`, shape: [d, d], fanIn: d, init: "uniform" });
      tensors.push({ name: `${b}.attention.out_proj.bias`, shape: [d], fanIn: d, init: "uniform" });
      norm(`${b}.norm2`);
      tensors.push({ name: `${b}.ff1.weight`, shape: [f, d], fanIn: d, init: "uniform" });
      tensors.push({ name: `${b}.ff1.bias`, shape: [f], fanIn: d, init: "uniform" });
      tensors.push({ name: `${b}.ff2.weight`, shape: [d, f], fanIn: f, init: "uniform" });
      tensors.push({ name: `${b}.ff2.bias`, shape: [d], fanIn: f, init: "uniform" });
    }
    norm("norm");
    tensors.push({ name: "head.weight", shape: [m.outputSize, d], fanIn: d, init: "uniform" });
    tensors.push({ name: "head.bias", shape: [m.outputSize], fanIn: d, init: "uniform" });
  }
  let offset = 0;
  return tensors.map((t) => {
    const size = t.shape.reduce((a, b) => a * b, 1);
    const placed = { ...t, offset, size };
    offset += size;
    return placed;
  });
}

export function parameterCount(m: Model): number {
  return layout(m).reduce((sum, t) => sum + t.size, 0);
}

/** IModelDefinition.FeaturesPerSample. */
export function featuresPerSample(m: Model): number {
  if (m.type === "mlp") return m.inputSize;
  if (m.type === "cnn") return m.channels * m.imageSize * m.imageSize;
  return m.sequenceLength;
}

/** ModelChecks.Targets: one class index under cross_entropy, else OutputSize values. */
export function targetsPerSample(m: Model): number {
  return m.loss === "cross_entropy" ? 1 : m.outputSize;
}

/** IModelDefinition.ActivationFloatsPerSample (mlp and cnn): sizes the inference chunks as TorchExecutor does. */
export function activationFloatsPerSample(m: Model): number {
  const linear = (hidden: number[], output: number) => hidden.reduce((sum, w) => sum + 2 * w, 2 * output);
  if (m.type === "mlp") return m.inputSize + linear(m.hiddenSizes, m.outputSize);
  if (m.type === "cnn") {
    let floats = m.channels * m.imageSize * m.imageSize;
    let side = m.imageSize;
    for (const cout of m.convChannels) {
      const pooled = Math.floor(side / 2);
      floats += 2 * cout * side * side + cout * pooled * pooled;
      side = pooled;
    }
    return floats + linear(m.hiddenSizes, m.outputSize);
  }
  const s = m.sequenceLength;
  const d = m.modelDim;
  const perBlock = s * (8 * d + 2 * m.feedForwardDim) + 2 * m.heads * s * s;
  return 2 * s * d + m.layers * perBlock + d + 2 * m.outputSize;
}
