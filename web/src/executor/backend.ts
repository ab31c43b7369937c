// Which TensorFlow.js backend runs the shards. The CPU backend is always there; WASM, WebGL and WebGPU are loaded
// on demand, so that the Node tests and a page without a GPU never load what they cannot run.
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";

export type BackendName = "cpu" | "wasm" | "webgl" | "webgpu";

export interface BackendOptions {
  /** Where the WASM backend finds its .wasm files (a URL prefix ending in "/" in the browser); Node finds its own. */
  wasmPaths?: string;
}

/** Registers and selects a backend; resolves false when it cannot start here (the caller falls back). */
export async function setBackend(name: BackendName, options: BackendOptions = {}): Promise<boolean> {
  if (name === "wasm") {
    const wasm = await import("@tensorflow/tfjs-backend-wasm");
    if (options.wasmPaths !== undefined) wasm.setWasmPaths(options.wasmPaths);
  } else if (name === "webgl") {
    await import("@tensorflow/tfjs-backend-webgl");
  } else if (name === "webgpu") {
    await import("@tensorflow/tfjs-backend-webgpu");
  } else if (name !== "cpu") {
    throw new Error(`Unknown backend "${String(name)}".`);
  }
  try {
    const ok = await tf.setBackend(name);
    await tf.ready();
    if (!ok || tf.getBackend() !== name) return false;
    // A WebGL without float32 render targets computes in float16: 1e-3 off, a tolerance's worth. Refuse it.
    if (name === "webgl" && !tf.env().getBool("WEBGL_RENDER_FLOAT32_ENABLED")) {
      await tf.setBackend("cpu");
      return false;
    }
    return true;
  } catch {
    return false;
  }
}

/** The backend in use now ("cpu", "wasm", "webgl" or "webgpu"). */
export function backendInUse(): string {
  return tf.getBackend();
}

/**
 * The first backend of `preferred` that starts here: WebGPU, then WebGL, then WASM, then the CPU by default.
 * Resolves the name in use.
 */
export async function chooseBackend(preferred: BackendName[] = ["webgpu", "webgl", "wasm", "cpu"], options: BackendOptions = {}): Promise<string> {
  for (const name of preferred) {
    if (await setBackend(name, options).catch(() => false)) return name;
  }
  await setBackend("cpu");
  return backendInUse();
}
