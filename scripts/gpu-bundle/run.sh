#!/usr/bin/env bash
# The GPU check, on a machine with PyTorch (CUDA) but no .NET: unpacks the runtime and the apps beside this file,
# points TorchSharp at PyTorch's libtorch, and runs, each with its own time limit, in this order: the calibration
# (hardware probe, then GPU results against the CPU C# reference), the main job (Demo), benchmark row 7 (executor
# against an idiomatic TorchSharp loop on this device, and bf16 against fp32), the PyTorch baseline for the same
# models, and benchmark row 4 (pool efficiency, shards of 0.1, 1 and 5 s). Logs and a summary go to $OUT (or ./out).
# Name steps to run only those: `./run.sh calibrate main-job row7 pytorch` fits one 10-minute call, `./run.sh row4`
# a second. Built by scripts/gpu-bundle.sh.
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

wanted=("$@")
[ ${#wanted[@]} -eq 0 ] && wanted=(calibrate main-job row7 pytorch row4)
want() { local w; for w in "${wanted[@]}"; do [ "$w" = "$1" ] && return 0; done; return 1; }

cd "$here/app"
want calibrate && step calibrate 180 dotnet Huginn.Worker.dll --calibrate
want main-job && step main-job 120 dotnet Huginn.Demo.dll
want row7 && step row7 180 dotnet Huginn.Benchmarks.dll --row 7
want pytorch && step pytorch 90 python3 "$here/pytorch_baseline.py"
want row4 && step row4 420 dotnet Huginn.Benchmarks.dll --row 4
cat "$out/summary.txt"
