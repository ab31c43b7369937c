import { test } from "node:test";
import assert from "node:assert/strict";
import { runShard, setBackend, backendInUse, parameterCount, normalizeModel } from "../src/executor/index.js";
import type { JobSpec, ShardPlan } from "../src/executor/types.js";

const mlp: JobSpec = {
  kind: "train",
  model: { type: "mlp", inputSize: 6, hiddenSizes: [8], outputSize: 3, loss: "cross_entropy" },
  dataset: { synthetic: { kind: "blobs", samples: 64, seed: 7, noise: 0.5 } },
  learningRate: 0.1,
  seed: 42,
};
const shard: ShardPlan = { round: 0, index: 0, sampleOffset: 16, sampleCount: 32, seed: "12345678901234567890", flops: 0, steps: 5, batchSize: 4 };

test("runShard trains an mlp on the CPU backend: a delta per weight, a finite loss, steps × batch samples", async () => {
  assert.equal(await setBackend("cpu"), true);
  assert.equal(backendInUse(), "cpu");
  const out = await runShard({ spec: mlp, shard, weights: null, dataset: null });
  assert.equal(out.values.length, parameterCount(normalizeModel(mlp.model!)));
  assert.ok(Number.isFinite(out.loss) && out.loss > 0);
  assert.equal(out.samples, 20);
  assert.ok(out.values.some((v) => v !== 0));
});

test("a seed that has lost its low bits in a JSON number is refused", async () => {
  await assert.rejects(runShard({ spec: mlp, shard: { ...shard, seed: 2 ** 60 }, weights: null, dataset: null }), /send it as a string/);
});

test("parsePoolJson keeps 64-bit seeds exact where JSON.parse rounds them", async () => {
  const { parsePoolJson } = await import("../src/protocol/frame.js");
  const text = '{"shard":{"seed": 14662588789899061972,"steps":6},"spec":{"seed":11,"note":"\\"seed\\":12345678901234567890"}}';
  const parsed = parsePoolJson(text) as { shard: { seed: string; steps: number }; spec: { seed: number; note: string } };
  assert.equal(parsed.shard.seed, "14662588789899061972");
  assert.equal(parsed.spec.seed, 11);
  assert.equal(parsed.spec.note, '"seed":12345678901234567890');
  assert.notEqual(String(BigInt((JSON.parse(text) as { shard: { seed: number } }).shard.seed)), "14662588789899061972");
});
