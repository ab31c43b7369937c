// Compiles the TypeScript tests (test/**/*.test.ts) for `node --test`: one bundle per test file, in dist-test/.
// TensorFlow.js stays external: Node loads it from node_modules (its WASM binaries included).
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
  packages: "external",
  sourcemap: "inline",
  logLevel: "warning",
});
