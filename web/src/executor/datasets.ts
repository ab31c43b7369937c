// Workloads/Datasets ported: DatasetLayout (which dataset bytes a sample range reads, per format) and DatasetReader
// (the slice cut from bytes that start at a given dataset byte: a whole blob, or only the chunks covering the slice).
// Formats (docs/DATASETS.md): "f32" rows (features then targets), "f32-features" rows (features only: infer and
// prep), "u16"/"u32" token ids (a transformer; the target is the token after the window). Little-endian throughout.
import { featuresPerSample, targetsPerSample, type Model } from "./models.js";
import type { DataSlice } from "./data.js";

export const DatasetFormats = ["f32", "f32-features", "u16", "u32"] as const;
export type DatasetFormat = (typeof DatasetFormats)[number];

export function isDatasetFormat(format: string): format is DatasetFormat {
  return (DatasetFormats as readonly string[]).includes(format);
}

/** DatasetLayout.For: how model m's samples lie in a dataset of this format. */
export interface DatasetLayout {
  format: DatasetFormat;
  featuresPerSample: number;
  targetsPerSample: number;
  readsTargets: boolean;
}

export function datasetLayout(format: DatasetFormat, m: Model, readTargets: boolean): DatasetLayout {
  return { format, featuresPerSample: featuresPerSample(m), targetsPerSample: targetsPerSample(m), readsTargets: format === "f32-features" ? false : readTargets };
}

const isTokens = (l: DatasetLayout) => l.format === "u16" || l.format === "u32";
const valueBytes = (l: DatasetLayout) => (l.format === "u16" ? 2 : 4);
const rowValues = (l: DatasetLayout) => (l.format === "f32" ? l.featuresPerSample + l.targetsPerSample : l.featuresPerSample);

/** DatasetLayout.ByteRange: the bytes [start, end) of the dataset that samples [offset, offset + count) are read from. */
export function byteRange(l: DatasetLayout, offset: number, count: number): { start: number; end: number } {
  if (!isTokens(l)) {
    const row = rowValues(l) * valueBytes(l);
    return { start: offset * row, end: (offset + count) * row };
  }
  const extra = l.readsTargets ? 1 : 0;
  return { start: offset * l.featuresPerSample * valueBytes(l), end: ((offset + count) * l.featuresPerSample + extra) * valueBytes(l) };
}

/** DatasetLayout.Describe, for errors that say what a row is. */
function describe(l: DatasetLayout): string {
  const row = rowValues(l) * valueBytes(l);
  if (l.format === "f32") return `"f32" rows of ${rowValues(l)} float32 (${l.featuresPerSample} features + ${l.targetsPerSample} target${l.targetsPerSample === 1 ? "" : "s"}) = ${row} bytes`;
  if (l.format === "f32-features") return `"f32-features" rows of ${rowValues(l)} float32 (${l.featuresPerSample} features, no targets) = ${row} bytes`;
  return `"${l.format}" token ids of ${valueBytes(l)} bytes, ${l.featuresPerSample} per sample${l.readsTargets ? " plus the next token as its target" : ""}`;
}

/**
 * DatasetReader.Read: samples [offset, offset + count) from bytes that begin at dataset byte startByte. Samples
 * without stored targets (f32-features, tokens read for inference) get targets of 0, as in C#.
 */
export function readDataset(l: DatasetLayout, bytes: Uint8Array, startByte: number, offset: number, count: number): DataSlice {
  if (offset < 0 || count < 0) throw new RangeError(`Samples [${offset}, ${offset + count}) are not a sample range.`);
  const { start, end } = byteRange(l, offset, count);
  if (start < startByte || end > startByte + bytes.length) {
    throw new RangeError(`Samples [${offset}, ${offset + count}) need bytes [${start}, ${end}) of the dataset, as ${describe(l)}; ` +
      `the data at hand covers bytes [${startByte}, ${startByte + bytes.length}).`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset + (start - startByte), end - start);
  const f = l.featuresPerSample;
  const t = l.targetsPerSample;
  const features = new Float32Array(count * f);
  const targets = new Float32Array(count * t);
  if (isTokens(l)) {
    const token = (index: number) => (l.format === "u16" ? view.getUint16(index * 2, true) : view.getUint32(index * 4, true));
    for (let i = 0; i < count; i++) {
      for (let p = 0; p < f; p++) features[i * f + p] = token(i * f + p);
      if (l.readsTargets) targets[i * t] = token((i + 1) * f);
    }
  } else {
    const storedTargets = l.format === "f32" ? t : 0;
    let position = 0;
    for (let i = 0; i < count; i++) {
      for (let j = 0; j < f; j++, position += 4) features[i * f + j] = view.getFloat32(position, true);
      for (let j = 0; j < storedTargets; j++, position += 4) targets[i * t + j] = view.getFloat32(position, true);
    }
  }
  return { features, targets, count, featuresPerSample: f, targetsPerSample: t };
}

/** Assign.datasetChunks (Workloads/Datasets/ShardChunks.cs): the dataset's chunks that cover a shard's slice. */
export interface ShardChunks {
  chunkBytes: number;
  firstChunk: number;
  chunkIds: string[];
}

/** ShardChunks.StartByte: the dataset byte at which the first of these chunks starts. */
export const chunksStartByte = (c: ShardChunks) => c.firstChunk * c.chunkBytes;

/** The chunks joined in order, as WorkerAgent.LoadDatasetBytesAsync does (one chunk is used as it is). */
export function joinChunks(pieces: Uint8Array[]): Uint8Array {
  if (pieces.length === 1) return pieces[0]!;
  const joined = new Uint8Array(pieces.reduce((sum, p) => sum + p.length, 0));
  let at = 0;
  for (const piece of pieces) {
    joined.set(piece, at);
    at += piece.length;
  }
  return joined;
}
