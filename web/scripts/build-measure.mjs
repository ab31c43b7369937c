// Builds the measurement tools into dist-measure/: node.mjs (the runner, for Node) and page.js (the page Chromium
// runs). TensorFlow.js is bundled from its ES modules in both, for the reason given in build-tests.mjs.
import { build } from "esbuild";
import { rm } from "node:fs/promises";

await rm("dist-measure", { recursive: true, force: true });
await build({
  entryPoints: { node: "measure/node.ts" },
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  outExtension: { ".js": ".mjs" },
  outdir: "dist-measure",
  mainFields: ["module", "main"],
  banner: {
    js: [
      "import { createRequire as __huginnCreateRequire } from 'node:module';",
      "import { dirname as __huginnDirname } from 'node:path';",
      "import { fileURLToPath as __huginnFileURLToPath } from 'node:url';",
      "const require = __huginnCreateRequire(import.meta.url);",
      "const __dirname = __huginnDirname(__huginnFileURLToPath(import.meta.url));",
    ].join(" "),
  },
  logLevel: "warning",
});
await build({
  entryPoints: { page: "measure/page.ts" },
  bundle: true,
  platform: "browser",
  format: "esm",
  target: "es2022",
  outdir: "dist-measure",
  logLevel: "warning",
});
