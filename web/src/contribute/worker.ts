// The dedicated Web Worker: measures the device, then speaks protocol v1 to the Api itself, like Worker/Agent/
// WorkerAgent.cs: hello with the device token in the first frame (a browser cannot set an Authorization header on a
// WebSocket, and the token never goes in the URL), heartbeats from this thread, one shard at a time with inputs
// downloaded with the device token, results in the frame or uploaded as a blob, releases with a reason.
import * as tf from "@tensorflow/tfjs-core";
import { chooseBackend, runShard, type BackendName } from "../executor/index.js";
import type { ShardOutput } from "../executor/types.js";
import {
  decodeFrame, encodeFrame, MaxHeaderBytes, ProtocolVersion, releaseReason, resultPayload, SubProtocol, weightsFromBytes,
  DefaultMaxFrameBytes, type AssignMessage, type Capabilities, type ProtocolMessage,
} from "../protocol/frame.js";
import type { PageCommand, TestFault, WorkerEvent, WorkerState } from "./messages.js";

const scope = self as unknown as DedicatedWorkerGlobalScope;
const post = (event: WorkerEvent) => scope.postMessage(event);
const log = (line: string) => post({ event: "log", line });

/** Blobs kept in memory (a dataset once per device, a round's weights once per round), least recently used out first. */
const BlobCacheBytes = 256 * 1024 * 1024;
const MaxReconnectDelayMs = 30_000;

let api = "";
let token = "";
let capabilities: Capabilities | null = null;
let testFault: TestFault = null;
let socket: WebSocket | null = null;
let heartbeat: ReturnType<typeof setInterval> | null = null;
let maxFrameBytes = DefaultMaxFrameBytes;
let paused = false;
let leaving = false;
let refused = false;
let reconnectDelay = 1000;
let reconnectTimer: ReturnType<typeof setTimeout> | null = null;
/** Leases received and not yet answered: the queue (not started) and the one running. */
const queue: AssignMessage[] = [];
let running: AssignMessage | null = null;
const seen = new Set<string>();
const revoked = new Set<string>();
const blobs = new Map<string, Uint8Array>();

function setState(state: WorkerState, detail: string, deviceId?: string) {
  post({ event: "state", state, detail, ...(deviceId ? { deviceId } : {}) });
}

function send(message: ProtocolMessage, payload?: Uint8Array): boolean {
  if (!socket || socket.readyState !== WebSocket.OPEN) return false;
  socket.send(encodeFrame(message, payload));
  return true;
}

/** Square matmuls on the backend in use: the GFLOP/s the pool routes by (2·n³ per product). */
async function probe(): Promise<number> {
  const n = 256;
  const a = tf.randomUniform([n, n]);
  const b = tf.randomUniform([n, n]);
  await tf.matMul(a, b).data();
  let reps = 0;
  const start = performance.now();
  while (performance.now() - start < 400 && reps < 200) {
    const product = tf.matMul(a, b);
    await product.data();
    product.dispose();
    reps++;
  }
  const seconds = (performance.now() - start) / 1000;
  a.dispose();
  b.dispose();
  return Math.round(((2 * n * n * n * reps) / seconds / 1e9) * 100) / 100;
}

function connect() {
  if (paused || leaving || refused || socket) return;
  const url = new URL("v1/workers/connect", api);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  setState("connecting", `connecting to ${url.host}`);
  const ws = new WebSocket(url, SubProtocol);
  ws.binaryType = "arraybuffer";
  socket = ws;
  ws.onopen = () => {
    ws.send(encodeFrame({ type: "hello", version: ProtocolVersion, capabilities, agent: `huginn-browser/0.1 (tfjs-${tf.getBackend()})`, token }));
  };
  ws.onmessage = (e) => void onFrame(new Uint8Array(e.data as ArrayBuffer));
  ws.onclose = (e) => onClosed(ws, e.code, e.reason);
}

function onClosed(ws: WebSocket, code: number, reason: string) {
  if (socket !== ws) return;
  socket = null;
  if (heartbeat) clearInterval(heartbeat);
  heartbeat = null;
  // The pool gave every open lease back when the socket closed: nothing here is ours any more.
  queue.length = 0;
  if (running) revoked.add(running.leaseId);
  if (leaving) return;
  if (code === 1008 && /banned/i.test(reason)) {
    refused = true;
    setState("banned", `the pool banned this device (${reason})`);
    return;
  }
  if (code === 1008 && /unauthori|revoked/i.test(reason)) {
    refused = true;
    setState("refused", `the pool refused this device's token (${reason}); sign in again`);
    return;
  }
  if (paused) {
    setState("paused", "paused");
    return;
  }
  setState("disconnected", `connection closed (${code}${reason ? `: ${reason}` : ""}); reconnecting in ${Math.round(reconnectDelay / 1000)} s`);
  reconnectTimer = setTimeout(() => {
    reconnectTimer = null;
    connect();
  }, reconnectDelay + Math.random() * 250);
  reconnectDelay = Math.min(reconnectDelay * 2, MaxReconnectDelayMs);
}

async function onFrame(frame: Uint8Array) {
  const decoded = decodeFrame(frame);
  if (!decoded.ok) {
    log(`ignored a malformed frame from the pool: ${decoded.error}`);
    return;
  }
  const message = decoded.message;
  switch (message.type) {
    case "welcome":
      maxFrameBytes = message.maxFrameBytes;
      reconnectDelay = 1000;
      heartbeat = setInterval(() => send({ type: "heartbeat", cachedBlobIds: [...blobs.keys()].reverse().slice(0, 256) }), message.heartbeatSeconds * 1000);
      setState("online", "waiting for work", message.deviceId);
      break;
    case "assign":
      send({ type: "ack", leaseId: message.leaseId });
      // Streams deliver at least once: the same lease twice runs once.
      if (seen.has(message.leaseId)) break;
      seen.add(message.leaseId);
      if (paused || leaving) {
        send({ type: "release", leaseId: message.leaseId, reason: "the contributor paused this browser" });
        break;
      }
      queue.push(message);
      void pump();
      break;
    case "revoke":
      revoked.add(message.leaseId);
      log(`lease ${message.leaseId.slice(0, 8)} revoked (${message.reason})`);
      post({ event: "shard", phase: "revoked", leaseId: message.leaseId, jobId: "", detail: message.reason, priceMicroHu: 0 });
      break;
    case "receipt":
      post({ event: "receipt", leaseId: message.leaseId, receipt: message.receipt });
      break;
    case "error":
      log(`the pool refused a frame: ${message.code}: ${message.message}`);
      break;
    case "heartbeatAck":
      if (message.status === "banned") setState("banned", "the pool banned this device");
      break;
    default:
      log(`ignored a '${message.type}' frame`);
  }
}

async function blob(id: string): Promise<Uint8Array> {
  const cached = blobs.get(id);
  if (cached) {
    blobs.delete(id);
    blobs.set(id, cached);
    return cached;
  }
  let response: Response | null = null;
  for (let attempt = 0; ; attempt++) {
    try {
      response = await fetch(new URL(`v1/blobs/${id}`, api), { headers: { Authorization: `Bearer ${token}` }, cache: "no-store" });
      if (response.status < 500 || attempt >= 3) break;
    } catch (e) {
      if (attempt >= 3) throw e;
    }
    await new Promise((r) => setTimeout(r, 1000 << attempt));
  }
  if (!response!.ok) throw new Error(`downloading blob ${id.slice(0, 12)} failed: ${response!.status}`);
  const bytes = new Uint8Array(await response!.arrayBuffer());
  // Every download is checked against its id (the bytes' SHA-256) where the browser offers SHA-256 (a secure context).
  if (crypto.subtle && (await sha256Hex(bytes)) !== id) throw new Error(`blob ${id.slice(0, 12)} does not match its id`);
  let size = [...blobs.values()].reduce((sum, b) => sum + b.length, 0);
  for (const [old, bytesOld] of blobs) {
    if (size + bytes.length <= BlobCacheBytes) break;
    blobs.delete(old);
    size -= bytesOld.length;
  }
  if (bytes.length <= BlobCacheBytes) blobs.set(id, bytes);
  return bytes;
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as unknown as ArrayBuffer));
  return [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function upload(payload: Uint8Array): Promise<string> {
  const response = await fetch(new URL("v1/blobs", api), {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/octet-stream" },
    body: payload as unknown as BodyInit,
  });
  if (!response.ok) throw new Error(`uploading the result failed: ${response.status}`);
  return ((await response.json()) as { blobId: string }).blobId;
}

/** The test-only cheat: values shifted by one, prepared bytes inverted; still finite and the right size. */
function corrupt(output: ShardOutput): ShardOutput {
  return { ...output, values: output.values.map((v) => v + 1), bytes: output.bytes.map((b) => b ^ 0xff) };
}

async function pump() {
  if (running || paused || leaving) return;
  const assign = queue.shift();
  if (!assign) return;
  running = assign;
  const started = performance.now();
  const describe = `${assign.jobId}/r${assign.shard.round}/s${assign.shard.index}`;
  post({ event: "shard", phase: "started", leaseId: assign.leaseId, jobId: assign.jobId, detail: describe, priceMicroHu: assign.priceMicroHu });
  setState("working", `running ${describe}`);
  try {
    // The test-only stall: the lease stays held, unanswered, until the tab closes or the pool takes it back.
    if (testFault === "stall") await new Promise<void>((resolve) => { const check = setInterval(() => { if (leaving || revoked.has(assign.leaseId)) { clearInterval(check); resolve(); } }, 200); });
    if (revoked.has(assign.leaseId) || leaving) return;
    const weights = assign.weightsBlobId ? weightsFromBytes(await blob(assign.weightsBlobId)) : null;
    const datasetId = assign.spec.dataset.blobId;
    const dataset = datasetId ? await blob(datasetId) : null;
    let output = await runShard({ spec: assign.spec, shard: assign.shard, weights, dataset });
    if (testFault === "wrong") output = corrupt(output);
    if (revoked.has(assign.leaseId)) return;
    let payload = resultPayload(output.values, output.bytes);
    let resultBlobId: string | null = null;
    if (payload.length + MaxHeaderBytes + 4 > maxFrameBytes) {
      // Larger than a frame: uploaded as a blob first, and the result names it.
      resultBlobId = await upload(payload);
      payload = new Uint8Array(0);
    }
    const sent = send({
      type: "result", leaseId: assign.leaseId, loss: output.loss, samples: output.samples,
      valueCount: output.values.length, byteCount: output.bytes.length, resultBlobId,
    }, payload);
    const seconds = (performance.now() - started) / 1000;
    if (sent) post({ event: "shard", phase: "sent", leaseId: assign.leaseId, jobId: assign.jobId, detail: describe, priceMicroHu: assign.priceMicroHu, seconds });
  } catch (e) {
    const reason = releaseReason(`the browser could not run the shard: ${(e as Error).message}`);
    log(`shard ${describe} failed here: ${reason}; giving it back`);
    send({ type: "release", leaseId: assign.leaseId, reason });
    post({ event: "shard", phase: "released", leaseId: assign.leaseId, jobId: assign.jobId, detail: reason, priceMicroHu: 0 });
  } finally {
    running = null;
    if (paused || leaving) closeSocket(leaving ? "the tab was closed" : "paused");
    else {
      if (socket) setState("online", "waiting for work");
      void pump();
    }
  }
}

/** Gives back every lease not started, with the reason, then (when nothing runs) closes the socket. */
function stop(reason: string) {
  for (const assign of queue.splice(0)) {
    send({ type: "release", leaseId: assign.leaseId, reason: releaseReason(reason) });
    post({ event: "shard", phase: "released", leaseId: assign.leaseId, jobId: assign.jobId, detail: reason, priceMicroHu: 0 });
  }
  if (reconnectTimer) clearTimeout(reconnectTimer);
  reconnectTimer = null;
  if (!running) closeSocket(reason);
}

function closeSocket(reason: string) {
  const ws = socket;
  socket = null;
  if (heartbeat) clearInterval(heartbeat);
  heartbeat = null;
  if (ws && ws.readyState <= WebSocket.OPEN) ws.close(1000, releaseReason(reason).slice(0, 120));
  if (paused && !leaving) setState("paused", reason);
}

scope.onmessage = async (e: MessageEvent<PageCommand>) => {
  const command = e.data;
  switch (command.cmd) {
    case "probe": {
      const backend = await chooseBackend(command.backends as BackendName[], { wasmPaths: command.wasmPaths });
      post({ event: "probed", backend, gflops: await probe() });
      break;
    }
    case "connect":
      api = command.api;
      token = command.token;
      capabilities = command.capabilities;
      testFault = command.testFault;
      refused = false;
      connect();
      break;
    case "pause":
      paused = true;
      stop(command.reason);
      if (!socket) setState("paused", command.reason);
      break;
    case "resume":
      paused = false;
      reconnectDelay = 1000;
      connect();
      break;
    case "leave":
      // pagehide: the running shard's lease goes back too, with the reason, before the socket closes.
      leaving = true;
      if (running) send({ type: "release", leaseId: running.leaseId, reason: releaseReason(command.reason) });
      running = null;
      stop(command.reason);
      break;
  }
};
setState("starting", "measuring this browser");
