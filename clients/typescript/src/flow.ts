// The whole client flow through the generated types: create account → credit → upload dataset → estimate → submit →
// follow → result. CI runs it against a local pool (Tests/Api/GeneratedClientsTests.cs); by hand:
//   HUGINN_API=http://127.0.0.1:5080 node dist/flow.js
// No casts: every value is typed by the OpenAPI document (src/schema.d.ts, generated from docs/openapi.json).
import { createHash } from "node:crypto";
import createClient from "openapi-fetch";
import type { components, paths } from "./schema.js";

type JobSpec = components["schemas"]["JobSpec"];

const baseUrl = process.env.HUGINN_API ?? "http://127.0.0.1:5080";
const inputSize = 8;
const samples = 256;

/** f32 rows (little-endian): inputSize features, then the target (a fixed linear function of them). */
function dataset(): Uint8Array<ArrayBuffer> {
  const rows = new Float32Array(samples * (inputSize + 1));
  let seed = 12345;
  const next = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
  for (let i = 0; i < samples; i++) {
    let target = 0;
    for (let j = 0; j < inputSize; j++) {
      const x = next();
      rows[i * (inputSize + 1) + j] = x;
      target += x * (j % 2 === 0 ? 0.5 : -0.25);
    }
    rows[i * (inputSize + 1) + inputSize] = target;
  }
  return new Uint8Array(rows.buffer);
}

/** Chunk size of the upload: small on purpose, so this 9,216-byte dataset travels as 3 chunks (rows span chunk edges). */
const chunkBytes = 4096;

/**
 * A chunked dataset upload (docs/DATASETS.md): declare it, PUT each chunk (any order; a retry of the same bytes is
 * answered the same), finalize (the pool checks every chunk and the whole file's SHA-256), then name it by id.
 */
async function uploadDataset(client: ReturnType<typeof createClient<paths>>, bytes: Uint8Array<ArrayBuffer>): Promise<{ datasetId: string; chunks: number }> {
  const created = await client.POST("/v1/datasets", {
    body: {
      name: "typescript-flow", format: "f32", featuresPerSample: inputSize, targetsPerSample: 1,
      totalBytes: bytes.byteLength, chunkBytes, sha256: createHash("sha256").update(bytes).digest("hex"),
    },
  });
  if (!created.data) fail("create dataset", created.error);
  const { datasetId, chunkCount } = created.data;
  for (let index = 0; index < chunkCount; index++) {
    const chunk = bytes.subarray(index * chunkBytes, Math.min((index + 1) * chunkBytes, bytes.byteLength));
    const stored = await client.PUT("/v1/datasets/{datasetId}/chunks/{index}", {
      params: { path: { datasetId, index } },
      body: new Blob([chunk]),
      bodySerializer: (body) => body,
      headers: { "Content-Type": "application/octet-stream" },
    });
    if (!stored.data) fail(`upload chunk ${index}`, stored.error);
  }
  const finalized = await client.POST("/v1/datasets/{datasetId}/finalize", { params: { path: { datasetId } } });
  if (!finalized.data) fail("finalize", finalized.error);
  if (finalized.data.state !== "ready" || finalized.data.facts?.rows !== samples) fail("finalize", finalized.data);
  return { datasetId, chunks: chunkCount };
}

/** A safetensors file's tensor names and shapes (8-byte little-endian header length, then the JSON header). */
function safetensorsTensors(file: ArrayBuffer): { headerBytes: number; tensors: Record<string, number[]> } {
  const headerBytes = Number(new DataView(file).getBigUint64(0, true));
  if (8 + headerBytes > file.byteLength) fail("safetensors", `a header of ${headerBytes} bytes in a file of ${file.byteLength}`);
  const header: unknown = JSON.parse(new TextDecoder().decode(new Uint8Array(file, 8, headerBytes)));
  if (typeof header !== "object" || header === null) fail("safetensors", "the header is not a JSON object");
  const tensors: Record<string, number[]> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    const shape: unknown = typeof entry === "object" && entry !== null && "shape" in entry ? entry.shape : undefined;
    if (!Array.isArray(shape) || !shape.every((d) => typeof d === "number")) fail("safetensors", `tensor ${name} has no shape`);
    tensors[name] = shape.map((d) => Number(d));
  }
  return { headerBytes, tensors };
}

function fail(step: string, error: unknown): never {
  throw new Error(`${step}: ${JSON.stringify(error)}`);
}

async function main(): Promise<void> {
  const anonymous = createClient<paths>({ baseUrl });
  const created = await anonymous.POST("/v1/accounts", { body: { name: "typescript-flow", role: "client" } });
  if (!created.data) fail("create account", created.error);
  const { accountId, apiKey } = created.data;

  const client = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${apiKey}` } });
  const credited = await client.POST("/v1/accounts/me/credits", { body: { hu: 50 } });
  if (!credited.data) fail("credit", credited.error);
  const balanceHu: number = credited.data.balanceHu;

  const uploaded = await uploadDataset(client, dataset());
  const spec: JobSpec = {
    kind: "train",
    model: { type: "mlp", inputSize, hiddenSizes: [16], outputSize: 1, activation: "relu", loss: "mse" },
    dataset: { datasetId: uploaded.datasetId },
    rounds: 2,
    shardsPerRound: 2,
    localSteps: 4,
    batchSize: 32,
    learningRate: 0.125,
    seed: 7,
  };

  const estimate = await client.POST("/v1/estimates", { body: spec });
  if (!estimate.data) fail("estimate", estimate.error);

  const submitted = await client.POST("/v1/jobs", {
    body: { spec, maxHu: estimate.data.hu * 2 },
    params: { header: { "Idempotency-Key": `typescript-flow-${accountId}` } },
  });
  if (!submitted.data) fail("submit", submitted.error);
  const jobId = submitted.data.jobId;

  // Follow by polling (bounded): queued → running → completed.
  let job = (await client.GET("/v1/jobs/{jobId}", { params: { path: { jobId } } })).data;
  for (let i = 0; i < 600 && job && (job.state === "queued" || job.state === "running"); i++) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    job = (await client.GET("/v1/jobs/{jobId}", { params: { path: { jobId } } })).data;
  }
  if (!job) fail("follow", "the job disappeared");
  if (job.state !== "completed") fail("follow", job);

  const result = await client.GET("/v1/jobs/{jobId}/result", {
    params: { path: { jobId }, query: { format: "f32" } },
    parseAs: "arrayBuffer",
  });
  if (!result.data) fail("result", result.error);
  const weights = new Float32Array(result.data);

  // The same weights as safetensors: named and shaped as PyTorch's nn.Sequential(Linear, ReLU, Linear) holds them,
  // the f32 result byte for byte after the header.
  const file = await client.GET("/v1/jobs/{jobId}/result", {
    params: { path: { jobId }, query: { format: "safetensors" } },
    parseAs: "arrayBuffer",
  });
  if (!file.data) fail("safetensors result", file.error);
  const safetensors = safetensorsTensors(file.data);
  const tensorBytes = new Uint8Array(file.data, 8 + safetensors.headerBytes);
  const f32Bytes = new Uint8Array(result.data);
  const sameWeights = tensorBytes.byteLength === f32Bytes.byteLength && tensorBytes.every((b, i) => b === f32Bytes[i]);

  // One line the CI test reads.
  console.log(JSON.stringify({
    accountId,
    balanceHu,
    estimateHu: estimate.data.hu,
    datasetId: uploaded.datasetId,
    datasetChunks: uploaded.chunks,
    jobId,
    state: job.state,
    rounds: job.progress.rounds,
    losses: job.metrics.loss,
    resultBytes: result.data.byteLength,
    weights: weights.length,
    safetensorsBytes: file.data.byteLength,
    safetensorsHeaderBytes: safetensors.headerBytes,
    tensors: safetensors.tensors,
    safetensorsHoldsTheF32Result: sameWeights,
  }));
}

await main();
