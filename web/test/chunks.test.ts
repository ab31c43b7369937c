// A chunked dataset in the browser worker against C# (web/test/golden/chunks.json, written by
// Tests/Web/ChunkedDatasetGoldenTests.cs): an assign frame made by Protocol/Frame.cs with datasetChunks decodes, the
// worker fetches exactly those chunks (each once, SHA-256 = id), joins them, and the executor reads the same slice as
// ShardData.Load gives the TorchSharp worker, for f32 (train), f32-features (infer), u16 (train) and u32 (infer).
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { decodeFrame, type AssignMessage } from "../src/protocol/frame.js";
import { datasetBytes } from "../src/contribute/chunks.js";
import { loadSlice } from "../src/executor/run.js";
import { golden as read } from "./golden.js";

interface ChunkCase {
  frame: string;
  chunks: Record<string, string>;
  startByte: number;
  features: number[];
  targets: number[];
}

const cases = read<Record<string, ChunkCase>>("chunks.json");

function assignOf(c: ChunkCase): AssignMessage {
  const decoded = decodeFrame(new Uint8Array(Buffer.from(c.frame, "base64")));
  assert.ok(decoded.ok, decoded.ok ? "" : decoded.error);
  assert.equal(decoded.message.type, "assign");
  return decoded.message as AssignMessage;
}

/** The worker's blob download stood in for: serves the golden chunks, checks them as the worker does, counts fetches. */
function store(c: ChunkCase) {
  const fetched: string[] = [];
  const cache = new Map<string, Uint8Array>();
  const blob = async (id: string) => {
    const hit = cache.get(id);
    if (hit) return hit;
    fetched.push(id);
    const base64 = c.chunks[id];
    if (base64 === undefined) throw new Error(`no chunk ${id}`);
    const bytes = new Uint8Array(Buffer.from(base64, "base64"));
    assert.equal(createHash("sha256").update(bytes).digest("hex"), id, "a chunk's id is its SHA-256");
    cache.set(id, bytes);
    return bytes;
  };
  return { blob, fetched };
}

assert.deepEqual(Object.keys(cases).sort(), ["f32FeaturesInfer", "f32Train", "u16Train", "u32Infer"]);

for (const [name, c] of Object.entries(cases)) {
  test(`${name}: the browser cuts the C# slice from the covering chunks only`, async () => {
    const assign = assignOf(c);
    assert.ok(assign.spec.dataset.datasetId, "the spec names a chunked dataset");
    const chunks = assign.datasetChunks;
    assert.ok(chunks && chunks.chunkIds.length >= 2, "the golden spans several chunks");
    const { blob, fetched } = store(c);

    const data = await datasetBytes(assign, blob);
    assert.equal(data.startByte, c.startByte);
    assert.equal(data.startByte, chunks.firstChunk * chunks.chunkBytes);
    // Only the chunks the slice needs, not the whole dataset.
    assert.deepEqual(fetched, chunks.chunkIds);
    assert.ok(fetched.length < Object.keys(c.chunks).length);

    const slice = loadSlice(assign.spec, assign.shard, data.bytes, data.startByte);
    assert.equal(slice.count, assign.shard.sampleCount);
    assert.deepEqual([...slice.features], c.features);
    assert.deepEqual([...slice.targets], c.targets);

    // A second shard on the same slice (a later round) fetches nothing: chunks are cached by id.
    await datasetBytes(assign, blob);
    assert.equal(fetched.length, chunks.chunkIds.length);
  });

  test(`${name}: bytes that start one chunk late are refused, not misread`, async () => {
    const assign = assignOf(c);
    const { blob } = store(c);
    const data = await datasetBytes(assign, blob);
    // The first chunk holds the slice's first byte, so the same bytes placed one chunk later miss it.
    assert.throws(() => loadSlice(assign.spec, assign.shard, data.bytes, data.startByte + assign.datasetChunks!.chunkBytes), /need bytes/);
  });
}

test("an assign on a chunked dataset without its chunks is refused", async () => {
  const assign = assignOf(cases.f32Train!);
  await assert.rejects(datasetBytes({ ...assign, datasetChunks: null }, async () => new Uint8Array(0)), /no datasetChunks/);
});
