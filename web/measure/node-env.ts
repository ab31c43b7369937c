// Node only: where the WASM backend's binaries are (node_modules), for setBackend("wasm", { wasmPaths }).
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

export function nodeWasmPaths(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve("@tensorflow/tfjs-backend-wasm/package.json")), "dist") + "/";
}
