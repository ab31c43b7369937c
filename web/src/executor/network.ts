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

/**
 * A k×k convolution (stride 1, zero padding k/2) of NHWC x as one matrix product over its patches (im2col): only
 * pad, slice, concat and matMul, whose gradients every backend has (the WASM backend has no Conv2DBackpropFilter).
 * Patch column (dy·k + dx)·cin + c meets weight [cout, cin, k, k] transposed to [k, k, cin, cout].
 */
export function conv2d(x: tf.Tensor4D, weight: tf.Tensor, bias: tf.Tensor, k: number): tf.Tensor4D {
  const [batch, height, width, channels] = x.shape;
  const pad = Math.floor(k / 2);
  const padded = pad > 0 ? tf.pad(x, [[0, 0], [pad, pad], [pad, pad], [0, 0]]) : x;
  const patches: tf.Tensor4D[] = [];
  for (let dy = 0; dy < k; dy++) {
    for (let dx = 0; dx < k; dx++) patches.push(tf.slice(padded, [0, dy, dx, 0], [batch, height, width, channels]));
  }
  const columns = tf.reshape(patches.length === 1 ? patches[0]! : tf.concat(patches, 3), [batch * height * width, k * k * channels]) as tf.Tensor2D;
  const cout = weight.shape[0]!;
  const kernel = tf.reshape(tf.transpose(weight, [2, 3, 1, 0]), [k * k * channels, cout]) as tf.Tensor2D;
  return tf.reshape(tf.add(tf.matMul(columns, kernel), bias), [batch, height, width, cout]);
}

/**
 * F.max_pool2d(x, 2, 2) on NHWC: windows of 2×2, stride 2, an odd last row or column dropped, as a max over two
 * axes of a reshape. tf.maxPool's gradient on the WASM backend (4.22) is wrong when a window holds only negative
 * values (a tanh network's): measured 1e-1 off TorchSharp after one step. A tie in a window sends the gradient to
 * every tied value, where PyTorch picks one; in float data a tie is a repeated activation, in practice relu's zeros,
 * whose gradient relu stops anyway.
 */
function maxPool2x2(x: tf.Tensor4D): tf.Tensor4D {
  const [batch, height, width, channels] = x.shape;
  const h = Math.floor(height / 2);
  const w = Math.floor(width / 2);
  const even = height % 2 === 0 && width % 2 === 0 ? x : tf.slice(x, [0, 0, 0, 0], [batch, 2 * h, 2 * w, channels]);
  return tf.max(tf.reshape(even, [batch, h, 2, w, 2, channels]), [2, 4]) as tf.Tensor4D;
}

/** TorchCnn: per convolution k×k (stride 1, padding k/2), the activation, a 2×2 max-pool; CHW flatten; the fc head. */
function cnn(m: Model, p: Parameters, input: tf.Tensor): tf.Tensor {
  const batch = input.shape[0]!;
  // The pool's rows are CHW images; the convolutions run NHWC, and the last map goes back to CHW before flattening.
  let x: tf.Tensor4D = tf.transpose(tf.reshape(input, [batch, m.channels, m.imageSize, m.imageSize]), [0, 2, 3, 1]);
  m.convChannels.forEach((_, i) => {
    const convolved = conv2d(x, p(`conv${i}.weight`), p(`conv${i}.bias`), m.kernelSize);
    x = maxPool2x2(activate(m, convolved) as tf.Tensor4D);
  });
  const flat = tf.reshape(tf.transpose(x, [0, 3, 1, 2]), [batch, -1]);
  return linears(m, p, "fc", flat);
}

/** One-hot float32 rows. Made as int32 and cast: the WASM backend's OneHot returns zeros when asked for float32. */
function oneHot(indices: tf.Tensor1D, depth: number): tf.Tensor2D {
  return tf.cast(tf.oneHot(indices, depth), "float32") as tf.Tensor2D;
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
  // The embedding lookup as one-hot rows times the table: exact (one 1·e plus zeros), and its gradient is a matMul;
  // tf.gather's needs UnsortedSegmentSum, which the WASM backend lacks.
  const ids = tf.cast(tf.reshape(input, [-1]), "int32") as tf.Tensor1D;
  const tokens = tf.matMul(oneHot(ids, m.vocabSize), p("embedding.token") as tf.Tensor2D);
  let x = tf.add(tf.reshape(tokens, [batch, s, d]), p("embedding.position"));
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
  const picked = tf.sum(tf.mul(oneHot(targets as tf.Tensor1D, m.outputSize), tf.logSoftmax(output, -1)), -1);
  return tf.neg(tf.mean(picked));
}
