// Builds the browser bundle into dist/ (served by the Api at /contribute). No CDN, no network at run time:
// everything the page needs, TensorFlow.js and its WASM binaries included, is in dist/.
import { build } from "esbuild";
import { cp, mkdir, rm } from "node:fs/promises";
import { existsSync } from "node:fs";

const out = "dist";
await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });

const entries = ["src/contribute/main.ts", "src/contribute/worker.ts"].filter(existsSync);
if (entries.length > 0) {
  await build({
    entryPoints: entries,
    bundle: true,
    format: "esm",
    target: "es2022",
    sourcemap: true,
    outdir: out,
    logLevel: "warning",
  });
}
if (existsSync("src/contribute/static")) await cp("src/contribute/static", out, { recursive: true });
// The WASM backend's binaries, served by the Api beside the bundle (the worker points setWasmPaths at dist/wasm/).
const wasmDist = "node_modules/@tensorflow/tfjs-backend-wasm/dist";
await mkdir(`${out}/wasm`, { recursive: true });
for (const name of ["tfjs-backend-wasm.wasm", "tfjs-backend-wasm-simd.wasm", "tfjs-backend-wasm-threaded-simd.wasm"]) {
  await cp(`${wasmDist}/${name}`, `${out}/wasm/${name}`);
}
console.log(`built ${entries.length} entry point(s) into ${out}/`);
