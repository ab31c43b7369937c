// The whole client flow through the generated types: create account → credit → upload dataset → estimate → submit →
// follow → result. CI runs it against a local pool (Tests/Api/GeneratedClientsTests.cs); by hand:
//   HUGINN_API=http://127.0.0.1:5080 node dist/flow.js
// No casts: every value is typed by the OpenAPI document (src/schema.d.ts, generated from docs/openapi.json).
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

/** The dataset as the API takes it today (one blob); a chunked dataset upload replaces this function alone. */
async function uploadDataset(client: ReturnType<typeof createClient<paths>>, bytes: Uint8Array<ArrayBuffer>): Promise<JobSpec["dataset"]> {
  const { data, error } = await client.POST("/v1/blobs", {
    body: new Blob([bytes]),
    bodySerializer: (body) => body,
    headers: { "Content-Type": "application/octet-stream" },
  });
  if (!data) throw new Error(`upload: ${JSON.stringify(error)}`);
  return { blobId: data.blobId, samples, format: "f32" };
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

  const spec: JobSpec = {
    kind: "train",
    model: { type: "mlp", inputSize, hiddenSizes: [16], outputSize: 1, activation: "relu", loss: "mse" },
    dataset: await uploadDataset(client, dataset()),
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

  // One line the CI test reads.
  console.log(JSON.stringify({
    accountId,
    balanceHu,
    estimateHu: estimate.data.hu,
    jobId,
    state: job.state,
    rounds: job.progress.rounds,
    losses: job.metrics.loss,
    resultBytes: result.data.byteLength,
    weights: weights.length,
  }));
}

await main();
