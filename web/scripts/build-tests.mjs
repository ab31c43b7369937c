// Compiles the TypeScript tests (test/**/*.test.ts) for `node --test`: one bundle per test file, in dist-test/.
// TensorFlow.js is bundled from its ES modules ("module" before "main"): its CommonJS build for Node has no
// gradient functions (register_all_gradients exists only as an ES module), and one bundle keeps one engine that the
// backends and the gradients register with. Other packages stay external; `require` is provided for the
// Emscripten loader of the WASM backend (with __dirname), which reads its .wasm from node_modules (setWasmPaths).
import { build } from "esbuild";
import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";

async function testFiles(dir) {
  const found = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await testFiles(path)));
    else if (entry.name.endsWith(".test.ts")) found.push(path);
  }
  return found;
}

await rm("dist-test", { recursive: true, force: true });
const entries = await testFiles("test");
await build({
  entryPoints: entries,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  outdir: "dist-test",
  outbase: "test",
  mainFields: ["module", "main"],
  external: ["esbuild", "playwright-core"],
  banner: {
    js: [
      "import { createRequire as __huginnCreateRequire } from 'node:module';",
      "import { dirname as __huginnDirname } from 'node:path';",
      "import { fileURLToPath as __huginnFileURLToPath } from 'node:url';",
      "const require = __huginnCreateRequire(import.meta.url);",
      "const __dirname = __huginnDirname(__huginnFileURLToPath(import.meta.url));",
    ].join(" "),
  },
  sourcemap: "inline",
  logLevel: "warning",
});
