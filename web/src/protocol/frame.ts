// Protocol v1's frames (docs/PROTOCOL.md), encoded and decoded exactly as Protocol/Frame.cs: a 4-byte little-endian
// header length, the UTF-8 JSON header (camelCase, "type" first, nulls left out, NaN as the string "NaN"), then the
// raw payload. The same messages as the TorchSharp worker: one protocol, two runtimes.
import type { JobSpec, ShardPlan } from "../executor/types.js";
import type { ShardChunks } from "../executor/datasets.js";

export const ProtocolVersion = 1;
export const SubProtocol = "huginn.v1";
export const MaxHeaderBytes = 64 * 1024;
export const DefaultMaxFrameBytes = 64 * 1024 * 1024 + MaxHeaderBytes + 4;

/** Protocol/Messages.cs DeviceCapabilitiesDto, in its field order. */
export interface Capabilities {
  kind: "gpu" | "cpu" | "browser";
  gpuName?: string | null;
  vramMb?: number | null;
  gflops: number;
  cpuCores: number;
  memoryMb: number;
  runtimes: string[];
  slots?: number | null;
}

export interface HelloMessage { type: "hello"; version: number; capabilities?: Capabilities | null; agent?: string | null; token?: string | null }
export interface WelcomeMessage { type: "welcome"; version: number; deviceId: string; heartbeatSeconds: number; maxFrameBytes: number }
export interface HeartbeatMessage { type: "heartbeat"; cachedBlobIds?: string[] | null }
export interface HeartbeatAckMessage { type: "heartbeatAck"; status: string }
export interface AssignMessage {
  type: "assign"; leaseId: string; jobId: string; spec: JobSpec; shard: ShardPlan;
  weightsBlobId?: string | null; deadline: string; priceMicroHu: number;
  /** A chunked dataset (spec.dataset.datasetId): only the chunks that cover this shard's slice; absent otherwise. */
  datasetChunks?: ShardChunks | null;
}
export interface AckMessage { type: "ack"; leaseId: string }
export interface ResultMessage {
  type: "result"; leaseId: string; loss: number; samples: number; valueCount: number; byteCount: number; resultBlobId?: string | null;
}
export interface ReceiptMessage { type: "receipt"; leaseId: string; receipt: "accepted" | "notLeased" | "malformed" | string }
export interface ReleaseMessage { type: "release"; leaseId: string; reason?: string | null }
export interface RevokeMessage { type: "revoke"; leaseId: string; reason: string }
export interface ErrorMessage { type: "error"; code: string; message: string; leaseId?: string | null }

export type ProtocolMessage =
  | HelloMessage | WelcomeMessage | HeartbeatMessage | HeartbeatAckMessage | AssignMessage | AckMessage
  | ResultMessage | ReceiptMessage | ReleaseMessage | RevokeMessage | ErrorMessage;

/** ReleaseMessage.MaxReasonLength: the pool keeps at most this many characters of a reason. */
export const MaxReasonLength = 300;

/**
 * Each message's fields in the order the C# records declare them (System.Text.Json writes them so, after "type"):
 * the worker's frames are then byte-for-byte the TorchSharp worker's, which the golden test checks.
 */
const FieldOrder: Record<ProtocolMessage["type"], string[]> = {
  hello: ["version", "capabilities", "agent", "token"],
  welcome: ["version", "deviceId", "heartbeatSeconds", "maxFrameBytes"],
  heartbeat: ["cachedBlobIds"],
  heartbeatAck: ["status"],
  assign: ["leaseId", "jobId", "spec", "shard", "weightsBlobId", "deadline", "priceMicroHu", "datasetChunks"],
  ack: ["leaseId"],
  result: ["leaseId", "loss", "samples", "valueCount", "byteCount", "resultBlobId"],
  receipt: ["leaseId", "receipt"],
  release: ["leaseId", "reason"],
  revoke: ["leaseId", "reason"],
  error: ["code", "message", "leaseId"],
};
const CapabilityOrder = ["kind", "gpuName", "vramMb", "gflops", "cpuCores", "memoryMb", "runtimes", "slots"];

function ordered(source: Record<string, unknown>, order: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of order) {
    const value = source[key];
    if (value !== null && value !== undefined) out[key] = value;
  }
  // Fields this codec does not know (added within v1) go last, as they came.
  for (const [key, value] of Object.entries(source)) {
    if (!(key in out) && key !== "type" && !order.includes(key) && value !== null && value !== undefined) out[key] = value;
  }
  return out;
}

/** The header's JSON as Frame.Json writes it: non-finite numbers as "NaN", "Infinity", "-Infinity" strings. */
export function headerJson(message: ProtocolMessage): string {
  const fields = ordered(message as unknown as Record<string, unknown>, FieldOrder[message.type] ?? []);
  if (message.type === "hello" && message.capabilities) fields.capabilities = ordered(message.capabilities as unknown as Record<string, unknown>, CapabilityOrder);
  return JSON.stringify({ type: message.type, ...fields }, (_key, value: unknown) => {
    if (typeof value === "number" && !Number.isFinite(value)) return Number.isNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity";
    return value;
  });
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** Frame.Encode. */
export function encodeFrame(message: ProtocolMessage, payload: Uint8Array = new Uint8Array(0)): Uint8Array<ArrayBuffer> {
  const header = encoder.encode(headerJson(message));
  if (header.length > MaxHeaderBytes) throw new Error(`header of ${header.length} bytes exceeds ${MaxHeaderBytes}`);
  const frame = new Uint8Array(4 + header.length + payload.length);
  new DataView(frame.buffer).setInt32(0, header.length, true);
  frame.set(header, 4);
  frame.set(payload, 4 + header.length);
  return frame;
}

export type Decoded = { ok: true; message: ProtocolMessage; payload: Uint8Array } | { ok: false; error: string };

/**
 * The pool's JSON as the browser reads it: integers that JavaScript numbers cannot hold exactly (seeds are uint64) are
 * kept as their decimal strings, which the executor reads bit for bit (toU64); only digits-only numbers past 2^53 are
 * touched. Non-finite numbers come back from Frame.Json's "NaN"/"Infinity" strings.
 */
export function parsePoolJson(json: string): unknown {
  const safe = json.replace(/([:\[,]\s*)(-?\d{16,})(?=\s*[,}\]])/g, (match, prefix: string, digits: string) =>
    Number.isSafeInteger(Number(digits)) ? match : `${prefix}"${digits}"`);
  return JSON.parse(safe, (_key, value: unknown) => (value === "NaN" ? NaN : value === "Infinity" ? Infinity : value === "-Infinity" ? -Infinity : value));
}

/** Frame.TryDecode: the message and its payload, or why not in words fit for a log line. */
export function decodeFrame(frame: Uint8Array): Decoded {
  if (frame.length < 4) return { ok: false, error: "frame shorter than its 4-byte header length" };
  const headerLength = new DataView(frame.buffer, frame.byteOffset, frame.byteLength).getInt32(0, true);
  if (headerLength <= 0 || headerLength > MaxHeaderBytes || headerLength > frame.length - 4) {
    return { ok: false, error: `header length ${headerLength} is out of range` };
  }
  let header: unknown;
  try {
    header = parsePoolJson(decoder.decode(frame.subarray(4, 4 + headerLength)));
  } catch (e) {
    return { ok: false, error: `header is not a valid v${ProtocolVersion} message: ${(e as Error).message}` };
  }
  if (header === null || typeof header !== "object" || Array.isArray(header)) return { ok: false, error: "header is not a JSON object" };
  const type = (header as { type?: unknown }).type;
  if (typeof type !== "string" || !(type in FieldOrder)) return { ok: false, error: `unknown message type ${JSON.stringify(type)}` };
  return { ok: true, message: header as ProtocolMessage, payload: frame.subarray(4 + headerLength) };
}

/** A result's payload: the values as little-endian float32, then the bytes (ResultMessage). */
export function resultPayload(values: Float32Array, bytes: Uint8Array): Uint8Array {
  const payload = new Uint8Array(values.length * 4 + bytes.length);
  const view = new DataView(payload.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i]!, true);
  payload.set(bytes, values.length * 4);
  return payload;
}

/** WeightsFormat.FromBytes: whole little-endian float32 values. */
export function weightsFromBytes(bytes: Uint8Array): Float32Array {
  if (bytes.length % 4 !== 0) throw new Error(`A weights blob holds whole float32 values; ${bytes.length} bytes is not a multiple of 4.`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const weights = new Float32Array(bytes.length / 4);
  for (let i = 0; i < weights.length; i++) weights[i] = view.getFloat32(i * 4, true);
  return weights;
}

/** A release reason the pool keeps whole: printable, at most MaxReasonLength characters. */
export function releaseReason(reason: string): string {
  const printable = reason.replace(/[^\x20-\x7e]/g, " ").trim();
  return printable.length > MaxReasonLength ? printable.slice(0, MaxReasonLength) : printable;
}
