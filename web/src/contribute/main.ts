// The /contribute page: signs a contributor in, registers this browser as a `browser` device with what the worker
// measured, keeps the device token in localStorage (never in the URL), runs the dedicated Web Worker that speaks
// protocol v1, and shows the device's standing and why it is idle when it is.
import type { Capabilities } from "../protocol/frame.js";
import type { PageCommand, TestFault, WorkerEvent, WorkerState } from "./messages.js";

interface StoredDevice { deviceId: string; token: string; name: string }
interface PageSettings { testFaults: boolean }
interface DeviceView {
  deviceId: string; name: string; status: string; reputation: number; auditRate: number; verified: number; invalid: number;
  unaudited: number; expired: number; banned: boolean; earnedHu: number; pendingHu: number; openLeases: number;
  capabilities: Capabilities; hardwareClass: string;
}
interface DeviceSelf { device: DeviceView; account: { balanceHu: number; pendingHu: number; earnedHu: number } }

const DeviceKey = "huginn.contribute.device";
const PauseHiddenKey = "huginn.contribute.pauseWhenHidden";
// The page lives at <api>/contribute/: the Api is one folder up.
const api = new URL("../", location.href).href;
const params = new URLSearchParams(location.search);

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const show = (id: string, visible: boolean) => $(id).toggleAttribute("hidden", !visible);
const setText = (id: string, text: string) => { $(id).textContent = text; };

let worker: Worker | null = null;
let workerState: WorkerState = "starting";
let workerDetail = "";
let userPaused = false;
let hiddenPaused = false;
let device: StoredDevice | null = load();
let view: DeviceSelf | null = null;
let shardsSent = 0;
let accepted = 0;
let settings: PageSettings = { testFaults: false };
let probed: { backend: string; gflops: number } | null = null;

function load(): StoredDevice | null {
  try {
    const raw = localStorage.getItem(DeviceKey);
    return raw ? (JSON.parse(raw) as StoredDevice) : null;
  } catch {
    return null;
  }
}

function log(line: string) {
  const list = $("log");
  const item = document.createElement("li");
  item.textContent = `${new Date().toLocaleTimeString()} ${line}`;
  list.prepend(item);
  while (list.children.length > 50) list.lastElementChild!.remove();
}

/** The worker's measured capabilities as the pool's profile: a browser, the backend in use, a memory budget. */
function capabilities(): Capabilities {
  const nav = navigator as Navigator & { deviceMemory?: number };
  // A tab gets no shard over ShardRequirement.BrowserMaxMemoryMb (1024); a quarter of the device's memory, up to that.
  const memoryMb = Math.max(256, Math.min(1024, Math.floor(((nav.deviceMemory ?? 4) * 1024) / 4)));
  return {
    kind: "browser", gpuName: null, vramMb: null, gflops: Math.max(0.01, probed!.gflops),
    cpuCores: nav.hardwareConcurrency || 1, memoryMb, runtimes: ["js", `tfjs-${probed!.backend}`], slots: 1,
  };
}

function startWorker(): Promise<void> {
  return new Promise((resolve) => {
    worker = new Worker(new URL("worker.js", location.href), { type: "module" });
    worker.onmessage = (e: MessageEvent<WorkerEvent>) => {
      const ev = e.data;
      if (ev.event === "probed") {
        probed = { backend: ev.backend, gflops: ev.gflops };
        setText("backend", ev.backend);
        setText("gflops", ev.gflops.toFixed(2));
        resolve();
      } else if (ev.event === "state") {
        workerState = ev.state;
        workerDetail = ev.detail;
        log(`${ev.state}: ${ev.detail}`);
      } else if (ev.event === "shard") {
        if (ev.phase === "sent") shardsSent++;
        log(`shard ${ev.detail} ${ev.phase}${ev.seconds !== undefined ? ` in ${ev.seconds.toFixed(2)} s` : ""}`);
      } else if (ev.event === "receipt") {
        if (ev.receipt === "accepted") accepted++;
        log(`result ${ev.leaseId.slice(0, 8)}: ${ev.receipt}`);
      } else {
        log(ev.line);
      }
      render();
    };
    const backends = (params.get("backend") ?? "webgpu,webgl,wasm,cpu").split(",").filter(Boolean);
    send({ cmd: "probe", backends, wasmPaths: new URL("wasm/", location.href).href });
  });
}

function send(command: PageCommand) {
  worker?.postMessage(command);
}

function testFault(): TestFault {
  const asked = params.get("testFault");
  // The cheat exists for the end-to-end test only: honoured when the Api says it runs with Huginn:Api:TestFaults.
  return (asked === "wrong" || asked === "stall") && settings.testFaults ? asked : null;
}

async function connect(stored: StoredDevice) {
  if (!worker) await startWorker();
  send({ cmd: "connect", api, token: stored.token, capabilities: capabilities(), testFault: testFault() });
  if (document.hidden && pauseWhenHidden()) pauseFor("hidden");
}

async function signIn(event: SubmitEvent) {
  event.preventDefault();
  if (document.body.dataset.ready !== "true") return;
  const key = $<HTMLInputElement>("key").value.trim();
  const name = $<HTMLInputElement>("name").value.trim() || "browser";
  setText("signin-error", "");
  if (!key) {
    setText("signin-error", "Enter your contributor key.");
    return;
  }
  $<HTMLButtonElement>("signin-button").disabled = true;
  try {
    if (!worker) await startWorker();
    const response = await fetch(new URL("v1/devices", api), {
      method: "POST",
      headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
      body: JSON.stringify({ name, capabilities: capabilities() }),
    });
    if (!response.ok) {
      const problem = (await response.json().catch(() => ({}))) as { detail?: string; title?: string };
      setText("signin-error", `The pool refused: ${problem.detail ?? problem.title ?? response.status}`);
      return;
    }
    const registered = (await response.json()) as { deviceId: string; deviceToken: string };
    device = { deviceId: registered.deviceId, token: registered.deviceToken, name };
    // The contributor key is used once and forgotten; only the device token stays, in this browser's storage.
    localStorage.setItem(DeviceKey, JSON.stringify(device));
    $<HTMLInputElement>("key").value = "";
    await connect(device);
  } finally {
    $<HTMLButtonElement>("signin-button").disabled = false;
    render();
  }
}

function pauseWhenHidden(): boolean {
  return localStorage.getItem(PauseHiddenKey) !== "false";
}

function pauseFor(why: "user" | "hidden") {
  if (why === "user") userPaused = true;
  else hiddenPaused = true;
  send({ cmd: "pause", reason: why === "user" ? "paused by the contributor" : "the tab is hidden" });
  render();
}

function resumeFrom(why: "user" | "hidden") {
  if (why === "user") userPaused = false;
  else hiddenPaused = false;
  if (!userPaused && !hiddenPaused) send({ cmd: "resume" });
  render();
}

async function poll() {
  if (!device) return;
  try {
    const response = await fetch(new URL("v1/devices/me", api), { headers: { Authorization: `Bearer ${device.token}` }, cache: "no-store" });
    if (response.ok) view = (await response.json()) as DeviceSelf;
    else if (response.status === 401) log("the pool does not know this device's token any more: forget the device and sign in again");
  } catch {
    // Disconnected: the idle reason says so.
  }
  render();
}

/** Why no shard runs now, in the contributor's words; empty while one runs. */
function idleReason(): string {
  if (view?.device.banned || workerState === "banned") return "Banned: this device returned results that failed verification.";
  if (workerState === "refused") return workerDetail;
  if (userPaused) return "Paused by you.";
  if (hiddenPaused) return "Paused while the tab is hidden (see the setting below).";
  if (workerState === "working") return "";
  if (workerState === "disconnected") return `Disconnected from the pool: ${workerDetail}`;
  if (workerState === "starting" || workerState === "connecting") return "Connecting…";
  return "No work routed to browsers right now: the pool sends light shards (≤ 256 MB, ≤ 30 s here) when jobs have them.";
}

function render() {
  const signedIn = device !== null;
  show("signin", !signedIn);
  show("dashboard", signedIn);
  if (!signedIn) return;
  setText("device-name", device!.name);
  setText("device-id", device!.deviceId);
  // The pool's word first: a banned device shows it even before its socket is closed.
  const shownState = view?.device.banned ? "banned" : workerState;
  setText("state", shownState);
  const reason = idleReason();
  setText("idle", reason || "Running a shard.");
  $("idle").dataset.idle = reason ? "true" : "false";
  setText("sent", String(shardsSent));
  setText("accepted", String(accepted));
  $<HTMLButtonElement>("pause").textContent = userPaused ? "Resume" : "Pause";
  if (view) {
    const d = view.device;
    setText("verified", String(d.verified));
    setText("invalid", String(d.invalid));
    setText("unaudited", String(d.unaudited));
    setText("pending-hu", d.pendingHu.toFixed(6));
    setText("earned-hu", d.earnedHu.toFixed(6));
    setText("available-hu", view.account.balanceHu.toFixed(6));
    setText("audit-rate", `${(d.auditRate * 100).toFixed(0)} %`);
    setText("reputation", d.reputation.toFixed(2));
    setText("pool-status", d.banned ? "banned" : d.status);
    setText("hardware-class", d.hardwareClass);
  }
  document.body.dataset.state = shownState;
  document.body.dataset.fault = testFault() ?? "";
}

async function main() {
  $<HTMLFormElement>("signin-form").addEventListener("submit", (e) => void signIn(e as SubmitEvent));
  $("pause").addEventListener("click", () => (userPaused ? resumeFrom("user") : pauseFor("user")));
  $("forget").addEventListener("click", () => {
    send({ cmd: "leave", reason: "the contributor signed this browser out" });
    worker?.terminate();
    worker = null;
    localStorage.removeItem(DeviceKey);
    device = null;
    view = null;
    render();
  });
  const hiddenSetting = $<HTMLInputElement>("pause-hidden");
  hiddenSetting.checked = pauseWhenHidden();
  hiddenSetting.addEventListener("change", () => {
    localStorage.setItem(PauseHiddenKey, String(hiddenSetting.checked));
    if (!hiddenSetting.checked && hiddenPaused) resumeFrom("hidden");
  });
  document.addEventListener("visibilitychange", () => {
    if (!device || !pauseWhenHidden()) return;
    if (document.hidden) pauseFor("hidden");
    else if (hiddenPaused) resumeFrom("hidden");
  });
  // A closed tab gives its leases back with a reason; if the message never runs, the socket's close does it anyway.
  addEventListener("pagehide", () => send({ cmd: "leave", reason: "the tab was closed" }));
  try {
    const response = await fetch(new URL("settings.json", location.href), { cache: "no-store" });
    if (response.ok) settings = (await response.json()) as PageSettings;
  } catch {
    // The defaults: no test faults.
  }
  // Sign-in waits for the settings (a test fault must be known before the worker connects).
  document.body.dataset.ready = "true";
  render();
  if (device) await connect(device);
  setInterval(() => void poll(), 2000);
  void poll();
}

void main();
