// The bit-exact half of the browser executor's contract, against the C# side's golden vectors: the random streams
// and math, initial weights, synthetic data and sampler batches must match to the bit, or honest browsers and
// TorchSharp workers would train on different data from different weights.
import { test } from "node:test";
import assert from "node:assert/strict";
import { DeterministicRandom, deterministicExp, deterministicLog, deterministicTanh } from "../src/executor/random.js";
import { normalizeModel } from "../src/executor/models.js";
import { initializeWeights } from "../src/executor/init.js";
import { generateSynthetic, MiniBatchSampler } from "../src/executor/data.js";
import type { ModelSpec } from "../src/executor/types.js";
import { f32, f64, firstDifference, golden } from "./golden.js";

interface RandomGolden {
  streams: { seed: string; ulongs: string[]; doubles: string[]; floats: string[]; ints: { n: number; values: number[] }[]; gaussians: string[] }[];
  derive: { seed: string; parts: string[]; value: string }[];
  math: { log: [string, string][]; exp: [string, string][]; tanh: [string, string][] };
}

const random = golden<RandomGolden>("random.json");

test("DeterministicRandom replays C#'s streams: ulongs, doubles, floats, ints, gaussians", () => {
  for (const stream of random.streams) {
    const r = new DeterministicRandom(BigInt(stream.seed));
    assert.deepEqual(stream.ulongs.map(() => r.nextULong().toString()), stream.ulongs, `ulongs of seed ${stream.seed}`);
    assert.deepEqual(stream.doubles.map(() => r.nextDouble()), stream.doubles.map(f64), `doubles of seed ${stream.seed}`);
    assert.deepEqual(stream.floats.map(() => r.nextFloat()), stream.floats.map(f64), `floats of seed ${stream.seed}`);
    for (const ints of stream.ints) assert.deepEqual(ints.values.map(() => r.nextInt(ints.n)), ints.values, `ints below ${ints.n} of seed ${stream.seed}`);
    assert.deepEqual(stream.gaussians.map(() => r.nextGaussian()), stream.gaussians.map(f64), `gaussians of seed ${stream.seed}`);
  }
});

test("DeterministicRandom.derive matches C#, negative parts wrapped as (ulong)", () => {
  for (const d of random.derive) {
    assert.equal(DeterministicRandom.derive(BigInt(d.seed), ...d.parts.map((p) => BigInt(p))).toString(), d.value, `derive(${d.seed}, ${d.parts.join(", ")})`);
  }
});

test("DeterministicMath log, exp and tanh return C#'s bits", () => {
  const cases: [string, (x: number) => number, [string, string][]][] = [
    ["log", deterministicLog, random.math.log],
    ["exp", deterministicExp, random.math.exp],
    ["tanh", deterministicTanh, random.math.tanh],
  ];
  for (const [name, f, pairs] of cases) {
    for (const [x, y] of pairs) assert.ok(Object.is(f(f64(x)), f64(y)), `${name}(${f64(x)}) = ${f(f64(x))}, C# ${f64(y)}`);
  }
});

test("initial weights of every model type are C#'s bits (ModelInitializer)", () => {
  const weights = golden<{ cases: { name: string; model: ModelSpec; seed: string; weights: string }[] }>("weights.json");
  assert.ok(weights.cases.length >= 3);
  for (const c of weights.cases) {
    const difference = firstDifference(initializeWeights(normalizeModel(c.model), c.seed), f32(c.weights));
    assert.equal(difference, null, `${c.name}: ${difference}`);
  }
});

test("synthetic data (teacher and blobs, features and tokens) are C#'s bits", () => {
  const data = golden<{ cases: { name: string; model: ModelSpec; dataset: { kind: string; samples: number; seed: string; noise: number }; offset: number; count: number; features: string; targets: string }[] }>("data.json");
  assert.ok(data.cases.length >= 6);
  for (const c of data.cases) {
    const slice = generateSynthetic(c.dataset, normalizeModel(c.model), c.offset, c.count);
    assert.equal(firstDifference(slice.features, f32(c.features)), null, `${c.name} features`);
    assert.equal(firstDifference(slice.targets, f32(c.targets)), null, `${c.name} targets`);
  }
});

test("MiniBatchSampler draws C#'s batches", () => {
  const sampler = golden<{ cases: { seed: string; slice: number; batchSize: number; batches: number[][] }[] }>("sampler.json");
  for (const c of sampler.cases) {
    const s = new MiniBatchSampler(c.seed, c.slice);
    assert.deepEqual(c.batches.map(() => Array.from(s.nextBatch(c.batchSize))), c.batches, `seed ${c.seed}`);
  }
});
