// The dataset bytes a lease reads, as Worker/Agent/WorkerAgent.cs LoadDatasetBytesAsync gets them: a blob whole, or
// only the chunks of a chunked dataset that cover the shard's slice (assign.datasetChunks), fetched through the same
// download as blobs (device token, SHA-256 checked against the id, cached by id, so later rounds on the same slice
// fetch nothing), joined in order, with the dataset byte they start at. Kept apart from worker.ts so Node tests it.
import { chunksStartByte, joinChunks } from "../executor/datasets.js";
import type { AssignMessage } from "../protocol/frame.js";

export interface DatasetBytes {
  bytes: Uint8Array | null;
  startByte: number;
}

export async function datasetBytes(assign: AssignMessage, blob: (id: string) => Promise<Uint8Array>): Promise<DatasetBytes> {
  const chunks = assign.datasetChunks;
  if (chunks) {
    if (chunks.chunkIds.length === 0) throw new Error("the assign names a chunked dataset but no chunks");
    const pieces: Uint8Array[] = [];
    for (const id of chunks.chunkIds) pieces.push(await blob(id));
    return { bytes: joinChunks(pieces), startByte: chunksStartByte(chunks) };
  }
  if (assign.spec.dataset.datasetId) throw new Error("the assign names a chunked dataset but carries no datasetChunks");
  const blobId = assign.spec.dataset.blobId;
  return { bytes: blobId ? await blob(blobId) : null, startByte: 0 };
}
