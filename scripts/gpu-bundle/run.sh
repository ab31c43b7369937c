#!/usr/bin/env bash
# The GPU check, on a machine with PyTorch (CUDA) but no .NET: unpacks the runtime and the apps beside this file,
# points TorchSharp at PyTorch's libtorch, and runs, each with its own time limit, in this order: the calibration
# (hardware probe, then GPU results against the CPU C# reference), the main job (Demo), benchmark row 7 (executor
# against an idiomatic TorchSharp loop on this device) and the PyTorch baseline for the same models. Logs and a
# summary go to $OUT (or ./out). One call: a machine start costs minutes. Built by scripts/gpu-bundle.sh.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${OUT:-$here/out}"
mkdir -p "$out" "$here/rt"
tar -C "$here/rt" -xJf "$here/dotnet-runtime.tar.xz"
tar -C "$here" -xJf "$here/apps.tar.xz"
torch_lib="$(python3 -c 'import torch, os; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')"
export DOTNET_ROOT="$here/rt" PATH="$here/rt:$PATH" LD_LIBRARY_PATH="$torch_lib:${LD_LIBRARY_PATH:-}" DOTNET_CLI_TELEMETRY_OPTOUT=1
{ nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv 2>&1; python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)'; } > "$out/machine.txt"

# Waits on the one PID it started (a bare `wait` would also wait on any tee: GPU.md's pitfall).
step() {
  local name="$1" limit="$2"
  shift 2
  echo "== $name (limit ${limit}s)"
  local started=$SECONDS
  timeout "$limit" "$@" > "$out/$name.log" 2>&1 &
  local pid=$!
  wait "$pid"
  local code=$?
  echo "$name: exit $code in $((SECONDS - started)) s" | tee -a "$out/summary.txt"
}

cd "$here/app"
step calibrate 240 dotnet Huginn.Worker.dll --calibrate
step main-job 240 dotnet Huginn.Demo.dll
step row7 300 dotnet Huginn.Benchmarks.dll --row 7
step pytorch 240 python3 "$here/pytorch_baseline.py"
cat "$out/summary.txt"
