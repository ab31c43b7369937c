// Workloads/Execution/PrepOperations ported: one float32 division, a round-half-to-even and a clamp per value, so
// that the bytes match C#'s exactly (prep results are compared by digest).
import { roundHalfEven } from "./random.js";
import type { DataSlice } from "./data.js";

/** clamp(round-half-to-even(x / scale), −127, 127) with the division in float32; NaN maps to 0. */
export function quantizeInt8(x: number, scale: number): number {
  // A double quotient of two floats rounded to float is the float32 quotient (53 ≥ 2·24 + 2 bits).
  const q = roundHalfEven(Math.fround(Math.fround(x) / Math.fround(scale)));
  if (Number.isNaN(q)) return 0;
  return Math.min(Math.max(q, -127), 127);
}

export function applyPrep(prep: { operation?: string; scale?: number }, slice: DataSlice): Uint8Array {
  const operation = prep.operation ?? "quantize-int8";
  if (operation !== "quantize-int8") throw new Error(`Unknown prep operation '${operation}'.`);
  const scale = prep.scale ?? 0.05;
  const n = slice.count * slice.featuresPerSample;
  const bytes = new Uint8Array(n);
  for (let i = 0; i < n; i++) bytes[i] = quantizeInt8(slice.features[i]!, scale) & 0xff;
  return bytes;
}
