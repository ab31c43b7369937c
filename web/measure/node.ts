// npm run measure / npm run bench: the browser executor's verification figures (relative L2 to TorchSharp on the
// golden shards) and its samples/s, under Node on TF.js's cpu and wasm backends and in headless Chromium (Debian's
// /usr/bin/chromium, never a downloaded one) on whichever of cpu, wasm, webgl and webgpu start there. The page is
// served from 127.0.0.1 on a free port and posts its report back; nothing else is reached.
//
//   node dist-measure/node.mjs verify|bench [--set full|smoke] [--node cpu,wasm] [--chromium cpu,wasm,webgl,webgpu]
//                                           [--repeats N] [--json FILE] [--timeout SECONDS]
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { AddressInfo } from "node:net";
import type { BackendName } from "../src/executor/index.js";
import { benchCases, startBackend, verifyCases, type BenchCase, type SuiteReport } from "./suite.js";
import type { GoldenShard, Measurement } from "./cases.js";
import { nodeWasmPaths } from "./node-env.js";

const web = join(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const mode = args[0] === "bench" ? "bench" : "verify";
const option = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1]! : fallback;
};
const set = option("set", "full");
const repeats = Number(option("repeats", "3"));
const nodeBackends = option("node", "cpu,wasm").split(",").filter(Boolean) as BackendName[];
const chromiumBackends = option("chromium", "cpu,wasm,webgl,webgpu").split(",").filter(Boolean) as BackendName[];
const timeoutSeconds = Number(option("timeout", mode === "bench" ? "600" : "300"));
const chromium = option("chromium-path", "/usr/bin/chromium");

const goldenText = readFileSync(join(web, "test", "golden", "shards.json"), "utf8");
const benchText = readFileSync(join(web, "measure", "bench-cases.json"), "utf8");

async function inNode(backend: BackendName): Promise<SuiteReport> {
  const report: SuiteReport = { backend, started: await startBackend(backend, nodeWasmPaths()) };
  if (!report.started) return report;
  if (mode === "bench") report.bench = await benchCases((JSON.parse(benchText) as Record<string, BenchCase[]>)[set]!, repeats, () => performance.now());
  else Object.assign(report, await verifyCases((JSON.parse(goldenText) as { cases: GoldenShard[] }).cases));
  return report;
}

/** Serves the page and its files, starts Chromium on it, and resolves the report the page posts (or a timeout). */
async function inChromium(backend: BackendName): Promise<SuiteReport> {
  if (!existsSync(chromium)) return { backend, started: false, error: `${chromium} is missing (apt-get install -y chromium)` };
  let deliver: (r: SuiteReport) => void = () => {};
  const reported = new Promise<SuiteReport>((resolve) => (deliver = resolve));
  const wasmDir = nodeWasmPaths();
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    if (req.method === "POST" && url.pathname === "/report") {
      let body = "";
      req.on("data", (chunk: Buffer) => (body += chunk.toString()));
      req.on("end", () => {
        res.end("ok");
        deliver(JSON.parse(body) as SuiteReport);
      });
      return;
    }
    const send = (type: string, content: string | Buffer) => {
      res.writeHead(200, { "content-type": type });
      res.end(content);
    };
    if (url.pathname === "/page.html") send("text/html", '<!doctype html><meta charset="utf-8"><title>Huginn executor measurement</title><script type="module" src="/page.js"></script>');
    else if (url.pathname === "/page.js") send("text/javascript", readFileSync(join(web, "dist-measure", "page.js")));
    else if (url.pathname === "/golden/shards.json") send("application/json", goldenText);
    else if (url.pathname === "/bench-cases.json") send("application/json", benchText);
    else if (url.pathname.startsWith("/wasm/") && /^[\w.-]+\.wasm$/.test(url.pathname.slice(6))) send("application/wasm", readFileSync(join(wasmDir, url.pathname.slice(6))));
    else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const profile = mkdtempSync(join(tmpdir(), "huginn-chromium-"));
  const page = `http://127.0.0.1:${port}/page.html?mode=${mode}&backend=${backend}&set=${set}&repeats=${repeats}`;
  // SwiftShader stands in for a GPU (WebGL through ANGLE, WebGPU through Vulkan) when the machine has none.
  const flags = [
    "--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--no-first-run", "--disable-extensions", `--user-data-dir=${profile}`,
    "--enable-unsafe-swiftshader", "--use-angle=swiftshader", "--enable-unsafe-webgpu", "--enable-features=Vulkan", "--use-vulkan=swiftshader",
    page,
  ];
  const browser = spawn(chromium, flags, { stdio: ["ignore", "ignore", "pipe"], detached: true });
  let log = "";
  browser.stderr.on("data", (chunk: Buffer) => (log = (log + chunk.toString()).slice(-4000)));
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<SuiteReport>((resolve) => {
    timer = setTimeout(() => resolve({ backend, started: false, error: `no report within ${timeoutSeconds} s; chromium said: ${log}` }), timeoutSeconds * 1000);
  });
  const report = await Promise.race([reported, timeout]);
  clearTimeout(timer);
  // The browser's whole process group (it was started detached, as its own group), by its id.
  try {
    process.kill(-browser.pid!, "SIGTERM");
  } catch {
    // already gone
  }
  server.close();
  rmSync(profile, { recursive: true, force: true });
  return report;
}

function exp(x: number): string {
  return Number.isNaN(x) ? "—" : x.toExponential(1);
}

/** Per model and kind: the largest distance to TorchSharp, the largest loss error, and the nearest shortcut. */
function verifyTable(runtime: string, r: SuiteReport): string[] {
  if (!r.started || !r.measurements) return [`| ${runtime} | ${r.backend} | did not run: ${(r.error ?? "backend did not start").split("\n")[0]} | | | |`];
  const groups = new Map<string, Measurement[]>();
  for (const m of r.measurements) groups.set(`${m.model} ${m.kind}`, [...(groups.get(`${m.model} ${m.kind}`) ?? []), m]);
  const lines: string[] = [];
  for (const [key, ms] of groups) {
    const [model, kind] = key.split(" ");
    const shortcuts = (r.shortcuts ?? []).filter((s) => s.model === model);
    const worst = kind === "prep" ? (ms.every((m) => m.bytesEqual) ? "bytes identical" : "**bytes differ**") : exp(Math.max(...ms.map((m) => m.distance)));
    const loss = kind === "train" ? exp(Math.max(...ms.map((m) => m.lossError))) : "—";
    const shortcut = kind === "train" && shortcuts.length > 0 ? exp(Math.min(...shortcuts.map((s) => s.distance))) : "—";
    lines.push(`| ${runtime} | ${r.backend} | ${model} ${kind} (${ms.length}) | ${worst} | ${loss} | ${shortcut} |`);
  }
  return lines;
}

const reports: { runtime: string; report: SuiteReport }[] = [];
for (const backend of nodeBackends) reports.push({ runtime: "node", report: await inNode(backend) });
for (const backend of chromiumBackends) reports.push({ runtime: "chromium", report: await inChromium(backend) });

if (mode === "verify") {
  console.log("| runtime | backend | model, kind (cases) | max rel. L2 to TorchSharp | max loss rel. error | one step short: min rel. L2 |");
  console.log("| --- | --- | --- | --- | --- | --- |");
  for (const { runtime, report } of reports) for (const line of verifyTable(runtime, report)) console.log(line);
} else {
  console.log("| runtime | backend | case | samples/s | seconds (best of repeats) |");
  console.log("| --- | --- | --- | --- | --- |");
  for (const { runtime, report } of reports) {
    if (!report.bench) console.log(`| ${runtime} | ${report.backend} | did not run: ${(report.error ?? "backend did not start").split("\n")[0]} | | |`);
    else for (const b of report.bench) console.log(`| ${runtime} | ${report.backend} | ${b.name}, batch ${b.batch}, ${b.steps} steps | ${b.samplesPerSecond.toFixed(0)} | ${b.seconds.toFixed(3)} |`);
  }
}
const json = option("json", "");
if (json) writeFileSync(json, JSON.stringify(reports, null, 2));
process.exit(0);
