// The shard half of the contract, against TorchSharp's results for the same shards (web/test/golden/shards.json,
// made by Tests/Worker/BrowserGoldens.cs): every model type and kind, on the CPU and WASM backends. train and infer
// within the browser class's tolerance (and the mlp within it of the C# reference executor too), the loss close,
// prep bytes identical, the sample counts exact.
import { test } from "node:test";
import assert from "node:assert/strict";
import { runShard, setBackend, backendInUse } from "../src/executor/index.js";
import { BrowserTolerance } from "../src/executor/tolerances.js";
import { input, measure, type GoldenShard } from "../measure/cases.js";
import { nodeWasmPaths } from "../measure/node-env.js";
import { golden } from "./golden.js";

const cases = golden<{ cases: GoldenShard[] }>("shards.json").cases;
/** Relative error of the reported training loss (the mean of the steps' batch losses), measured at most 1e-7. */
const LossTolerance = 1e-5;

for (const backend of ["cpu", "wasm"] as const) {
  test(`every golden shard agrees with TorchSharp on the ${backend} backend`, async () => {
    assert.equal(await setBackend(backend, { wasmPaths: nodeWasmPaths() }), true, `${backend} did not start`);
    assert.equal(backendInUse(), backend);
    const kinds = new Set<string>();
    for (const c of cases) {
      const m = measure(c, await runShard(input(c)));
      kinds.add(`${m.model}/${m.kind}`);
      assert.ok(m.samplesEqual, `${c.name}: sample count`);
      if (m.kind === "prep") {
        assert.ok(m.bytesEqual, `${c.name}: prep bytes differ from C#'s`);
        continue;
      }
      const tolerance = m.kind === "train" ? BrowserTolerance.train : BrowserTolerance.infer;
      assert.ok(m.distance <= tolerance, `${c.name}: relative L2 ${m.distance} to TorchSharp over ${tolerance}`);
      if (!Number.isNaN(m.referenceDistance)) assert.ok(m.referenceDistance <= tolerance, `${c.name}: relative L2 ${m.referenceDistance} to the reference`);
      if (m.kind === "train") assert.ok(m.lossError <= LossTolerance, `${c.name}: loss off by ${m.lossError}`);
    }
    for (const expected of ["mlp/train", "mlp/infer", "cnn/train", "cnn/infer", "transformer/train", "transformer/infer", "mlp/prep", "cnn/prep"]) {
      assert.ok(kinds.has(expected), `no golden case for ${expected}`);
    }
  });
}

test("a shard one SGD step short lands far outside the train tolerance (the shortcut the tolerance must catch)", async () => {
  await setBackend("cpu");
  for (const c of cases.filter((x) => x.spec.kind === "train")) {
    const short = input(c);
    short.shard = { ...short.shard, steps: short.shard.steps - 1 };
    const m = measure(c, await runShard(short));
    assert.ok(m.distance > 10 * BrowserTolerance.train, `${c.name}: one step short is only ${m.distance} away`);
  }
});
