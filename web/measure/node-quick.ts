import { readFileSync } from "node:fs";
import { runShard, setBackend } from "../src/executor/index.js";
import { input, measure, type GoldenShard } from "./cases.js";
import { nodeWasmPaths } from "./node-env.js";
const cases = (JSON.parse(readFileSync("test/golden/shards.json", "utf8")) as { cases: GoldenShard[] }).cases;
for (const backend of process.argv.slice(2)) {
  if (!(await setBackend(backend as "cpu" | "wasm", { wasmPaths: nodeWasmPaths() }))) { console.log(`${backend}: did not start`); continue; }
  for (const c of cases) {
    const m = measure(c, await runShard(input(c)));
    console.log(backend, m.name.padEnd(32), m.distance.toExponential(2), m.referenceDistance.toExponential(2), m.lossError.toExponential(2), m.bytesEqual, m.samplesEqual);
  }
}
