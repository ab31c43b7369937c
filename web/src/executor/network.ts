// The forward passes of Worker/Execution (TorchMlp, TorchCnn, TorchTransformer) in TensorFlow.js over views of one
// flat float32 weight tensor cut by the registry's layout: the gradient with respect to the flat tensor then comes
// out in layout order, as the TorchSharp worker's does, with no reordering to get wrong.
import * as tf from "@tensorflow/tfjs-core";
import { featuresPerSample, layout, type Model, type ParameterTensor } from "./models.js";

export type Parameters = (name: string) => tf.Tensor;

/** Cuts the named parameter tensors out of the flat vector (each a slice + reshape, so gradients flow to flat). */
export function viewParameters(m: Model, flat: tf.Tensor1D): Parameters {
  const byName = new Map<string, ParameterTensor>(layout(m).map((t) => [t.name, t]));
  const cut = new Map<string, tf.Tensor>();
  return (name) => {
    let view = cut.get(name);
    if (view === undefined) {
      const t = byName.get(name);
      if (t === undefined) throw new Error(`The layout has no parameter tensor "${name}"; the network and the registry disagree.`);
      view = tf.reshape(tf.slice(flat, [t.offset], [t.size]), t.shape);
      cut.set(name, view);
    }
    return view;
  };
}

function activate(m: Model, x: tf.Tensor): tf.Tensor {
  return m.activation === "tanh" ? tf.tanh(x) : tf.relu(x);
}

/** F.linear: x·wᵀ + b over the last axis of x (2-D or 3-D). */
function linear(x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor): tf.Tensor {
  if (x.rank === 2) return tf.add(tf.matMul(x as tf.Tensor2D, weight as tf.Tensor2D, false, true), bias);
  const shape = x.shape;
  const rows = tf.reshape(x, [-1, shape[shape.length - 1]!]) as tf.Tensor2D;
  const out = tf.add(tf.matMul(rows, weight as tf.Tensor2D, false, true), bias);
  return tf.reshape(out, [...shape.slice(0, -1), weight.shape[0]!]);
}

/** The LinearStack {prefix}0 … {prefix}{hidden}: the activation between layers, none after the last. */
function linears(m: Model, p: Parameters, prefix: string, x: tf.Tensor): tf.Tensor {
  const n = m.hiddenSizes.length + 1;
  for (let l = 0; l < n; l++) {
    x = linear(x, p(`${prefix}${l}.weight`), p(`${prefix}${l}.bias`));
    if (l < n - 1) x = activate(m, x);
  }
  return x;
}

/** TorchCnn: per convolution k×k (stride 1, padding k/2), the activation, a 2×2 max-pool; CHW flatten; the fc head. */
function cnn(m: Model, p: Parameters, input: tf.Tensor): tf.Tensor {
  const batch = input.shape[0]!;
  // TF.js convolves NHWC; the pool's rows are NCHW (C#'s CHW images), so transpose in and back before flattening.
  let x: tf.Tensor4D = tf.transpose(tf.reshape(input, [batch, m.channels, m.imageSize, m.imageSize]), [0, 2, 3, 1]);
  const pad = Math.floor(m.kernelSize / 2);
  m.convChannels.forEach((_, i) => {
    const w = tf.transpose(p(`conv${i}.weight`), [2, 3, 1, 0]) as tf.Tensor4D; // [cout, cin, k, k] → [k, k, cin, cout]
    const convolved = tf.add(tf.conv2d(x, w, 1, pad), p(`conv${i}.bias`)) as tf.Tensor4D;
    x = tf.maxPool(activate(m, convolved) as tf.Tensor4D, 2, 2, "valid");
  });
  const flat = tf.reshape(tf.transpose(x, [0, 3, 1, 2]), [batch, -1]);
  return linears(m, p, "fc", flat);
}

const LayerNormEps = 1e-5;

/** F.layer_norm over the last axis (biased variance, eps 1e-5). */
function layerNorm(x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor): tf.Tensor {
  const mean = tf.mean(x, -1, true);
  const centred = tf.sub(x, mean);
  const variance = tf.mean(tf.square(centred), -1, true);
  return tf.add(tf.mul(tf.div(centred, tf.sqrt(tf.add(variance, LayerNormEps))), weight), bias);
}

/** TorchTransformer: pre-norm blocks, attention written out (rows q, k, v of the packed in_proj), mean pooling, head. */
function transformer(m: Model, p: Parameters, input: tf.Tensor): tf.Tensor {
  const batch = input.shape[0]!;
  const s = m.sequenceLength;
  const d = m.modelDim;
  const heads = m.heads;
  const width = d / heads;
  const ids = tf.cast(tf.reshape(input, [-1]), "int32");
  let x = tf.add(tf.reshape(tf.gather(p("embedding.token"), ids), [batch, s, d]), p("embedding.position"));
  const split = (t: tf.Tensor) => tf.transpose(tf.reshape(t, [batch, s, heads, width]), [0, 2, 1, 3]);
  for (let l = 0; l < m.layers; l++) {
    const b = `blocks.${l}`;
    const normed = layerNorm(x, p(`${b}.norm1.weight`), p(`${b}.norm1.bias`));
    const qkv = tf.split(linear(normed, p(`${b}.attention.in_proj_weight`), p(`${b}.attention.in_proj_bias`)), 3, -1);
    const [q, k, v] = [split(qkv[0]!), split(qkv[1]!), split(qkv[2]!)];
    const scores = tf.div(tf.matMul(q as tf.Tensor4D, k as tf.Tensor4D, false, true), Math.sqrt(width));
    const weights = tf.softmax(scores, -1);
    const mixed = tf.reshape(tf.transpose(tf.matMul(weights as tf.Tensor4D, v as tf.Tensor4D), [0, 2, 1, 3]), [batch, s, d]);
    x = tf.add(x, linear(mixed, p(`${b}.attention.out_proj.weight`), p(`${b}.attention.out_proj.bias`)));
    const hidden = activate(m, linear(layerNorm(x, p(`${b}.norm2.weight`), p(`${b}.norm2.bias`)), p(`${b}.ff1.weight`), p(`${b}.ff1.bias`)));
    x = tf.add(x, linear(hidden, p(`${b}.ff2.weight`), p(`${b}.ff2.bias`)));
  }
  const pooled = tf.mean(layerNorm(x, p("norm.weight"), p("norm.bias")), 1);
  return linear(pooled, p("head.weight"), p("head.bias"));
}

/** The outputs [batch, OutputSize] of rows of features [batch, FeaturesPerSample]. */
export function forward(m: Model, p: Parameters, input: tf.Tensor2D): tf.Tensor2D {
  if (input.shape[1] !== featuresPerSample(m)) throw new Error(`Rows of ${input.shape[1]} features; the model needs ${featuresPerSample(m)}.`);
  if (m.type === "mlp") return linears(m, p, "fc", input) as tf.Tensor2D;
  if (m.type === "cnn") return cnn(m, p, input) as tf.Tensor2D;
  return transformer(m, p, input) as tf.Tensor2D;
}

/** mse: mean over batch and outputs of the squared error; cross_entropy: batch mean of −log softmax at the class. */
export function loss(m: Model, output: tf.Tensor2D, targets: tf.Tensor): tf.Scalar {
  if (m.loss === "mse") return tf.mean(tf.square(tf.sub(output, targets)));
  const picked = tf.sum(tf.mul(tf.oneHot(targets as tf.Tensor1D, m.outputSize), tf.logSoftmax(output, -1)), -1);
  return tf.neg(tf.mean(picked));
}
