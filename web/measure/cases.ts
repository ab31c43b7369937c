// The golden shard cases (web/test/golden/shards.json, made by Tests/Worker/BrowserGoldens.cs) as executor inputs,
// with what TorchSharp and the C# reference returned for them; and the comparison of a browser run against them.
import type { JobSpec, ShardInput, ShardOutput, ShardPlan } from "../src/executor/types.js";
import { relativeL2 } from "../src/executor/compare.js";

export interface GoldenOutput {
  values: string;
  bytes: string;
  loss: string | null;
  samples: number;
}

export interface GoldenShard {
  name: string;
  spec: JobSpec;
  shard: ShardPlan;
  weights: string | null;
  torch?: GoldenOutput;
  reference?: GoldenOutput;
}

export interface Expected {
  values: Float32Array;
  bytes: Uint8Array;
  loss: number;
  samples: number;
}

function decodeBase64(base64: string): Uint8Array {
  const text = atob(base64);
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

export function f32(base64: string): Float32Array {
  const b = decodeBase64(base64);
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out = new Float32Array(b.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

export function f64(hex: string): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setUint32(0, parseInt(hex.slice(0, 8), 16));
  view.setUint32(4, parseInt(hex.slice(8), 16));
  return view.getFloat64(0);
}

export function expected(output: GoldenOutput): Expected {
  return { values: f32(output.values), bytes: decodeBase64(output.bytes), loss: output.loss === null ? NaN : f64(output.loss), samples: output.samples };
}

export function input(c: GoldenShard): ShardInput {
  return { spec: c.spec, shard: c.shard, weights: c.weights === null ? null : f32(c.weights), dataset: null };
}

/** What one browser run of a case measured against TorchSharp (or, for prep, the reference's bytes). */
export interface Measurement {
  name: string;
  kind: string;
  model: string;
  /** Relative L2 of the values to TorchSharp's (train: the deltas; infer: the outputs); NaN for prep. */
  distance: number;
  /** Relative L2 to the C# reference executor's values (mlp only), else NaN. */
  referenceDistance: number;
  /** |loss − TorchSharp's loss| / |TorchSharp's loss| (train), else NaN. */
  lossError: number;
  /** Prep: the bytes are identical. */
  bytesEqual: boolean;
  samplesEqual: boolean;
}

export function measure(c: GoldenShard, out: ShardOutput): Measurement {
  const torch = c.torch ? expected(c.torch) : null;
  const reference = c.reference ? expected(c.reference) : null;
  const truth = torch ?? reference!;
  let bytesEqual = out.bytes.length === truth.bytes.length;
  for (let i = 0; bytesEqual && i < out.bytes.length; i++) bytesEqual = out.bytes[i] === truth.bytes[i];
  return {
    name: c.name,
    kind: c.spec.kind,
    model: c.spec.model?.type ?? "",
    distance: c.spec.kind === "prep" ? NaN : relativeL2(out.values, truth.values),
    referenceDistance: reference && c.spec.kind !== "prep" ? relativeL2(out.values, reference.values) : NaN,
    lossError: c.spec.kind === "train" ? Math.abs(out.loss - truth.loss) / Math.abs(truth.loss) : NaN,
    bytesEqual,
    samplesEqual: out.samples === truth.samples,
  };
}
