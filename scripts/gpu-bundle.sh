#!/usr/bin/env bash
# Packs the GPU check for a machine that has PyTorch but no .NET (../shared/GPU.md has how it was found to work):
# Worker, Demo and Benchmarks published framework-dependent, their CPU libtorch natives removed (PyTorch's libtorch is
# used there instead), the .NET runtime of this SDK, the PyTorch baseline and run.sh, which runs the whole check in one
# go with explicit time limits. Usage: scripts/gpu-bundle.sh OUTDIR   (OUTDIR ends up under 64 MiB; CI builds it, a
# lent GPU machine runs it: OUTDIR/run.sh). docs/BENCHMARKS.md, "The GPU check", says what it runs.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:?usage: scripts/gpu-bundle.sh OUTDIR}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# 1. The three apps, published into one folder (they share every assembly at the same version).
for project in Worker Demo Benchmarks; do
  dotnet publish "$root/$project" -c Release -o "$work/app" --nologo -v quiet </dev/null
done

# 2. Only TorchSharp's own native bridge stays; libtorch itself comes from the machine's PyTorch.
find "$work/app/runtimes" -type f ! -path '*/linux-x64/native/libLibTorchSharp.so' -delete
find "$work/app/runtimes" -type d -empty -delete

# 3. The host refuses to start when a listed native asset is missing: drop the entries of the deleted files.
python3 - "$work/app" <<'PY'
import json, os, sys
app = sys.argv[1]
for name in os.listdir(app):
    if not name.endswith(".deps.json"):
        continue
    path = os.path.join(app, name)
    deps = json.load(open(path))
    for target in deps.get("targets", {}).values():
        for library in target.values():
            for key in ("native", "runtimeTargets"):
                files = library.get(key)
                if files is None:
                    continue
                kept = {f: v for f, v in files.items() if os.path.exists(os.path.join(app, f))}
                if kept:
                    library[key] = kept
                else:
                    del library[key]
    json.dump(deps, open(path, "w"), indent=2)
PY
tar -C "$work" -cf - app | xz -T2 -6 > "$out/apps.tar.xz"

# 4. The .NET runtime this SDK runs on (the apps target it), without the SDK.
dotnet_root="$(dirname "$(readlink -f "$(command -v dotnet)")")"
version="$(dotnet --list-runtimes | awk '$1 == "Microsoft.NETCore.App" { v = $2 } END { print v }')"
aspnet="$(dotnet --list-runtimes | awk '$1 == "Microsoft.AspNetCore.App" { v = $2 } END { print v }')"
tar -C "$dotnet_root" -cf - dotnet host "shared/Microsoft.NETCore.App/$version" "shared/Microsoft.AspNetCore.App/$aspnet" \
  | xz -T2 -6 > "$out/dotnet-runtime.tar.xz"

# 5. What runs there.
cp "$root/scripts/gpu-bundle/run.sh" "$out/run.sh"
cp "$root/Benchmarks/pytorch_baseline.py" "$out/pytorch_baseline.py"
chmod +x "$out/run.sh"

size=$(du -sb "$out" | cut -f1)
echo "GPU bundle in $out: $((size / 1024 / 1024)) MiB (apps $(du -h "$out/apps.tar.xz" | cut -f1), runtime $(du -h "$out/dotnet-runtime.tar.xz" | cut -f1))"
if [ "$size" -gt $((64 * 1024 * 1024)) ]; then
  echo "the bundle is over 64 MiB: a device call carries at most that" >&2
  exit 1
fi
