// The measurement page (served by measure/node.ts on 127.0.0.1 for headless Chromium): runs the suite on the backend
// named in the query and posts the report back to /report. ?mode=verify|bench&backend=cpu|wasm|webgl|webgpu&set=full|smoke
import type { BackendName } from "../src/executor/index.js";
import { benchCases, startBackend, verifyCases, type BenchCase, type SuiteReport } from "./suite.js";
import type { GoldenShard } from "./cases.js";

async function main(): Promise<SuiteReport> {
  const query = new URLSearchParams(location.search);
  const backend = (query.get("backend") ?? "cpu") as BackendName;
  const report: SuiteReport = { backend, started: false };
  try {
    report.started = await startBackend(backend, "/wasm/");
    if (!report.started) return report;
    if (query.get("mode") === "bench") {
      const sets = (await (await fetch("/bench-cases.json")).json()) as Record<string, BenchCase[]>;
      report.bench = await benchCases(sets[query.get("set") ?? "full"]!, Number(query.get("repeats") ?? "3"), () => performance.now());
    } else {
      const cases = ((await (await fetch("/golden/shards.json")).json()) as { cases: GoldenShard[] }).cases;
      Object.assign(report, await verifyCases(cases));
    }
  } catch (e) {
    report.error = e instanceof Error ? `${e.message}\n${e.stack ?? ""}` : String(e);
  }
  return report;
}

const report = await main();
await fetch("/report", { method: "POST", body: JSON.stringify(report) });
