// Reads the golden vectors that the C# side writes (Tests/Worker/BrowserGoldens.cs): uint64 as decimal strings,
// doubles as the hex of their bits, float32 arrays as base64 of little-endian bytes.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

// Bundled into dist-test/, whose parent is web/: the goldens are in web/test/golden/.
const here = dirname(fileURLToPath(import.meta.url));
const folder = join(here, "..", "test", "golden");

export function golden<T>(name: string): T {
  return JSON.parse(readFileSync(join(folder, name), "utf8")) as T;
}

export function f64(hex: string): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, BigInt(`0x${hex}`));
  return view.getFloat64(0);
}

export function bytes(base64: string): Uint8Array {
  return new Uint8Array(Buffer.from(base64, "base64"));
}

export function f32(base64: string): Float32Array {
  const b = bytes(base64);
  const out = new Float32Array(b.length / 4);
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

/** Bit-for-bit equality of two float32 arrays (NaN payloads included), with the first difference in the message. */
export function firstDifference(a: Float32Array, b: Float32Array): string | null {
  if (a.length !== b.length) return `lengths ${a.length} and ${b.length}`;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return `index ${i}: ${a[i]} vs ${b[i]}`;
  return null;
}

export interface GoldenOutput {
  values: string;
  bytes: string;
  loss: string | null;
  samples: number;
}
