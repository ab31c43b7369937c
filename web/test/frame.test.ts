// The browser worker's frame codec against frames made by Protocol/Frame.cs (web/test/golden/frames.json, written by
// Tests/Web/ProtocolFrameGoldenTests.cs): the server's frames decode to what C# meant, the worker's encode to the
// same bytes as the TorchSharp worker's.
import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeFrame, encodeFrame, resultPayload, weightsFromBytes, releaseReason, type ProtocolMessage, type AssignMessage } from "../src/protocol/frame.js";

import { golden as read } from "./golden.js";

const golden = read<Record<string, string>>("frames.json");
const bytes = (name: string) => new Uint8Array(Buffer.from(golden[name]!, "base64"));
const decoded = (name: string) => {
  const result = decodeFrame(bytes(name));
  assert.ok(result.ok, `${name}: ${result.ok ? "" : result.error}`);
  return result;
};

test("server frames decode to their messages", () => {
  const welcome = decoded("welcome").message;
  assert.deepEqual(welcome, { type: "welcome", version: 1, deviceId: "dev_0123abcd", heartbeatSeconds: 10, maxFrameBytes: 1048576 });
  assert.deepEqual(decoded("heartbeatAck").message, { type: "heartbeatAck", status: "online" });
  assert.deepEqual(decoded("receipt").message, { type: "receipt", leaseId: "lease_1", receipt: "accepted" });
  assert.deepEqual(decoded("revoke").message, { type: "revoke", leaseId: "lease_1", reason: "Expired" });
  assert.deepEqual(decoded("error").message, { type: "error", code: "not_leased", message: "no open lease with this id on this device", leaseId: "lease_7" });
});

test("an assign keeps uint64 seeds whole and names its inputs", () => {
  const assign = decoded("assign").message as AssignMessage;
  assert.equal(assign.type, "assign");
  assert.equal(assign.leaseId, "lease_1");
  assert.equal(assign.weightsBlobId, "ab12cd");
  assert.equal(assign.priceMicroHu, 1234);
  assert.equal(assign.deadline, "2026-11-27T20:45:00+00:00");
  // Past 2^53 a JavaScript number would lose bits: kept as the decimal string the executor reads bit for bit.
  assert.equal(String(assign.spec.seed), "12345678901234567890");
  assert.equal(String(assign.shard.seed), "18000000000000000001");
  assert.deepEqual({ ...assign.shard, seed: 0 }, { round: 2, index: 3, sampleOffset: 384, sampleCount: 128, seed: 0, flops: 1966080, steps: 5, batchSize: 32 });
  assert.equal(assign.spec.kind, "train");
  assert.equal(assign.spec.model?.type, "mlp");
  // A float32 is written at its shortest (0.05); the executor rounds it back with Math.fround.
  assert.equal(assign.spec.learningRate, 0.05);
  const prep = decoded("assignNoWeights").message as AssignMessage;
  assert.equal(prep.weightsBlobId, undefined);
  assert.equal(prep.spec.kind, "prep");
});

const workerFrames: [string, ProtocolMessage, Uint8Array?][] = [
  ["hello", { type: "hello", version: 1, capabilities: { kind: "browser", gpuName: null, vramMb: null, gflops: 12.5, cpuCores: 8, memoryMb: 1024, runtimes: ["js", "tfjs-wasm"], slots: 1 }, agent: "huginn-browser/0.1 (tfjs-wasm)", token: "hd_token" }],
  ["heartbeat", { type: "heartbeat", cachedBlobIds: ["ab12cd", "ef34"] }],
  ["heartbeatEmpty", { type: "heartbeat", cachedBlobIds: [] }],
  ["ack", { type: "ack", leaseId: "lease_1" }],
  ["resultTrain", { type: "result", leaseId: "lease_1", loss: 0.6931471805599453, samples: 160, valueCount: 3, byteCount: 3 }, resultPayload(new Float32Array([1.5, -2, 3.25]), new Uint8Array([1, 2, 255]))],
  ["resultInfer", { type: "result", leaseId: "lease_2", loss: NaN, samples: 128, valueCount: 3, byteCount: 0, resultBlobId: null }, resultPayload(new Float32Array([1.5, -2, 3.25]), new Uint8Array(0))],
  ["resultBlob", { type: "result", leaseId: "lease_3", loss: 0.25, samples: 160, valueCount: 3, byteCount: 3, resultBlobId: "ff00" }],
  ["release", { type: "release", leaseId: "lease_1", reason: "the tab was closed" }],
];

for (const [name, message, payload] of workerFrames) {
  test(`the worker's ${name} frame is byte for byte the C# worker's`, () => {
    assert.deepEqual(Buffer.from(encodeFrame(message, payload)).toString("base64"), golden[name]);
  });
}

test("the worker decodes its own frames back, NaN loss included", () => {
  const infer = decodeFrame(encodeFrame(workerFrames[5]![1], workerFrames[5]![2]));
  assert.ok(infer.ok);
  assert.ok(infer.ok && infer.message.type === "result" && Number.isNaN(infer.message.loss));
  assert.deepEqual(infer.ok && Array.from(weightsFromBytes(infer.payload)), [1.5, -2, 3.25]);
});

test("broken frames are refused with a reason, never thrown", () => {
  assert.equal(decodeFrame(new Uint8Array([1, 0])).ok, false);
  assert.equal(decodeFrame(new Uint8Array([9, 0, 0, 0, 123])).ok, false);
  assert.equal(decodeFrame(encodeFrame({ type: "bogus" } as unknown as ProtocolMessage)).ok, false);
  const notJson = new Uint8Array([3, 0, 0, 0, 0x7b, 0x7b, 0x7d]);
  assert.equal(decodeFrame(notJson).ok, false);
});

test("release reasons are printable and at most 300 characters", () => {
  assert.equal(releaseReason("a\nb"), "a b");
  assert.equal(releaseReason("x".repeat(400)).length, 300);
});
