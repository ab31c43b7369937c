// What the page and its dedicated Web Worker say to each other (postMessage); the pool sees none of this.
import type { Capabilities } from "../protocol/frame.js";

/** "wrong": results are corrupted before they leave (the e2e test's cheater); "stall": leases are held and never answered (a tab closed mid-shard). Honoured only when the Api allows test faults. */
export type TestFault = "wrong" | "stall" | null;

export type PageCommand =
  | { cmd: "probe"; backends: string[]; wasmPaths: string }
  | { cmd: "connect"; api: string; token: string; capabilities: Capabilities; testFault: TestFault }
  | { cmd: "pause"; reason: string }
  | { cmd: "resume" }
  | { cmd: "leave"; reason: string };

/** Why the worker runs no shard right now, in the page's words. */
export type WorkerState = "starting" | "connecting" | "online" | "working" | "paused" | "disconnected" | "banned" | "refused";

export type WorkerEvent =
  | { event: "probed"; backend: string; gflops: number }
  | { event: "state"; state: WorkerState; detail: string; deviceId?: string }
  | { event: "shard"; phase: "started" | "sent" | "released" | "revoked"; leaseId: string; jobId: string; detail: string; priceMicroHu: number; seconds?: number }
  | { event: "receipt"; leaseId: string; receipt: string }
  | { event: "log"; line: string };
