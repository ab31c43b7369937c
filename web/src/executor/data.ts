// Workloads/Data ported: SyntheticData (bit-exact: only IEEE basic operations and DeterministicMath), the "f32"
// blob rows, and MiniBatchSampler. Class indices are stored as floats, as in C#.
import { DeterministicRandom, deterministicTanh, toU64, type Seed } from "./random.js";
import { featuresPerSample, targetsPerSample, type Model } from "./models.js";
import { datasetLayout, readDataset } from "./datasets.js";

export interface DataSlice {
  features: Float32Array;
  targets: Float32Array;
  count: number;
  featuresPerSample: number;
  targetsPerSample: number;
}

export interface SyntheticSpec {
  kind?: string;
  samples: number;
  seed: Seed;
  noise?: number;
}

const TeacherStream = 1;
const SampleStream = 2;
const CenterStream = 3;
const TokenStream = 4;
const TeacherWidth = 16;

interface Shape {
  features: number;
  targets: number;
  outputs: number;
  classes: boolean;
}

function gaussians(random: DeterministicRandom, count: number, scale: number): Float64Array {
  const values = new Float64Array(count);
  for (let i = 0; i < count; i++) values[i] = random.nextGaussian() * scale;
  return values;
}

function writeTargets(shape: Shape, y: Float64Array, targets: Float32Array): void {
  if (!shape.classes) {
    for (let o = 0; o < y.length; o++) targets[o] = y[o]!;
    return;
  }
  let best = 0;
  for (let o = 1; o < y.length; o++) if (y[o]! > y[best]!) best = o;
  targets[0] = best;
}

function writeClass(shape: Shape, c: number, targets: Float32Array): void {
  if (shape.classes) {
    targets[0] = c;
    return;
  }
  targets.fill(0);
  targets[c] = 1;
}

/** y = tanh(x·A)·B + Noise·N(0,1). */
class Teacher {
  private readonly a: Float64Array;
  private readonly b: Float64Array;

  constructor(seed: bigint, private readonly noise: number, private readonly shape: Shape, inputs: number) {
    const random = new DeterministicRandom(DeterministicRandom.derive(seed, TeacherStream));
    this.a = gaussians(random, inputs * TeacherWidth, 1 / Math.sqrt(inputs));
    this.b = gaussians(random, TeacherWidth * shape.outputs, 1 / Math.sqrt(TeacherWidth));
  }

  apply(x: Float64Array, random: DeterministicRandom, targets: Float32Array): void {
    const hidden = new Float64Array(TeacherWidth);
    for (let j = 0; j < x.length; j++) {
      const base = j * TeacherWidth;
      for (let k = 0; k < TeacherWidth; k++) hidden[k] = hidden[k]! + x[j]! * this.a[base + k]!;
    }
    for (let k = 0; k < TeacherWidth; k++) hidden[k] = deterministicTanh(hidden[k]!);
    const y = new Float64Array(this.shape.outputs);
    for (let o = 0; o < y.length; o++) {
      let sum = 0.0;
      for (let k = 0; k < TeacherWidth; k++) sum += hidden[k]! * this.b[k * y.length + o]!;
      y[o] = sum + this.noise * random.nextGaussian();
    }
    writeTargets(this.shape, y, targets);
  }
}

type Sampler = (random: DeterministicRandom, features: Float32Array, targets: Float32Array) => void;

function featureTeacher(seed: bigint, noise: number, shape: Shape): Sampler {
  const teacher = new Teacher(seed, noise, shape, shape.features);
  return (random, features, targets) => {
    const x = new Float64Array(features.length);
    for (let j = 0; j < features.length; j++) {
      features[j] = random.nextGaussian();
      x[j] = features[j]!;
    }
    teacher.apply(x, random, targets);
  };
}

function tokenTeacher(seed: bigint, noise: number, m: Model, shape: Shape): Sampler {
  const teacher = new Teacher(seed, noise, shape, TeacherWidth);
  const embeddings = new Map<number, Float64Array>();
  const scale = 1 / Math.sqrt(m.sequenceLength);
  const embedding = (token: number) => {
    let e = embeddings.get(token);
    if (e === undefined) {
      e = gaussians(new DeterministicRandom(DeterministicRandom.derive(seed, TokenStream, token)), TeacherWidth, 1);
      embeddings.set(token, e);
    }
    return e;
  };
  return (random, features, targets) => {
    const x = new Float64Array(TeacherWidth);
    for (let p = 0; p < features.length; p++) {
      const token = random.nextInt(m.vocabSize);
      features[p] = token;
      const e = embedding(token);
      for (let k = 0; k < TeacherWidth; k++) x[k] = x[k]! + e[k]!;
    }
    for (let k = 0; k < TeacherWidth; k++) x[k] = x[k]! * scale;
    teacher.apply(x, random, targets);
  };
}

function featureBlobs(seed: bigint, noise: number, shape: Shape): Sampler {
  const centers = new Map<number, Float64Array>();
  return (random, features, targets) => {
    const c = random.nextInt(shape.outputs);
    let center = centers.get(c);
    if (center === undefined) {
      center = gaussians(new DeterministicRandom(DeterministicRandom.derive(seed, CenterStream, c)), shape.features, 2);
      centers.set(c, center);
    }
    for (let j = 0; j < features.length; j++) features[j] = center[j]! + noise * random.nextGaussian();
    writeClass(shape, c, targets);
  };
}

function tokenBlobs(noise: number, m: Model, shape: Shape): Sampler {
  const randomShare = Math.min(Math.max(noise, 0), 1);
  return (random, features, targets) => {
    const classes = shape.outputs;
    const c = random.nextInt(classes);
    const sameClass = Math.trunc((m.vocabSize - 1 - c) / classes) + 1;
    for (let p = 0; p < features.length; p++) {
      features[p] = random.nextDouble() < randomShare ? random.nextInt(m.vocabSize) : c + classes * random.nextInt(sameClass);
    }
    writeClass(shape, c, targets);
  };
}

/** SyntheticData.Generate: samples [offset, offset + count) shaped for model m. */
export function generateSynthetic(d: SyntheticSpec, m: Model, offset: number, count: number): DataSlice {
  if (offset < 0 || count < 0 || offset + count > d.samples) {
    throw new RangeError(`Samples [${offset}, ${offset + count}) are outside a dataset of ${d.samples}.`);
  }
  const seed = toU64(d.seed);
  const noise = d.noise ?? 0.1;
  const kind = d.kind ?? "teacher";
  const shape: Shape = { features: featuresPerSample(m), targets: targetsPerSample(m), outputs: m.outputSize, classes: m.loss === "cross_entropy" };
  const tokens = m.type === "transformer";
  let sample: Sampler;
  if (kind === "teacher") sample = tokens ? tokenTeacher(seed, noise, m, shape) : featureTeacher(seed, noise, shape);
  else if (kind === "blobs") sample = tokens ? tokenBlobs(noise, m, shape) : featureBlobs(seed, noise, shape);
  else throw new Error(`Unknown synthetic dataset kind '${kind}'.`);

  const features = new Float32Array(count * shape.features);
  const targets = new Float32Array(count * shape.targets);
  for (let i = 0; i < count; i++) {
    const random = new DeterministicRandom(DeterministicRandom.derive(seed, SampleStream, offset + i));
    sample(
      random,
      features.subarray(i * shape.features, (i + 1) * shape.features),
      targets.subarray(i * shape.targets, (i + 1) * shape.targets),
    );
  }
  return { features, targets, count, featuresPerSample: shape.features, targetsPerSample: shape.targets };
}

/** SyntheticData.ReadF32: rows [offset, offset + count) of an "f32" blob (little-endian features then targets). */
export function readF32(blob: Uint8Array, m: Model, offset: number, count: number): DataSlice {
  const f = featuresPerSample(m);
  const t = targetsPerSample(m);
  const rowBytes = (f + t) * 4;
  if (blob.length % rowBytes !== 0) {
    throw new Error(`An f32 blob for this model holds rows of ${rowBytes} bytes; ${blob.length} bytes is not a whole number of rows.`);
  }
  const rows = blob.length / rowBytes;
  if (offset < 0 || count < 0 || offset + count > rows) throw new RangeError(`Rows [${offset}, ${offset + count}) are outside a blob of ${rows} rows.`);
  // The rows themselves are read as a chunked dataset's are: one reader for the "f32" layout.
  return readDataset(datasetLayout("f32", m, true), blob, 0, offset, count);
}

/** MiniBatchSampler: indices into the slice, uniform with replacement, from one stream seeded with the shard's seed. */
export class MiniBatchSampler {
  private readonly random: DeterministicRandom;

  constructor(shardSeed: Seed, private readonly sliceCount: number) {
    if (!(sliceCount > 0)) throw new RangeError("A sampler needs a non-empty slice.");
    this.random = new DeterministicRandom(toU64(shardSeed));
  }

  nextBatch(batchSize: number): Int32Array {
    const indices = new Int32Array(batchSize);
    for (let i = 0; i < batchSize; i++) indices[i] = this.random.nextInt(this.sliceCount);
    return indices;
  }
}
