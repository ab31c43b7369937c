#!/usr/bin/env bash
# Every test of the project: the JS packages are installed (npm ci, offline from the lockfile) and built first,
# because .NET tests serve and drive the browser bundle; then the .NET suite; then the JS suites (node --test).
# HUGINN_TEST_RESULTS=DIR keeps the results there (TRX for .NET, TAP for JS): .ci/run counts them.
set -uo pipefail
cd "$(dirname "$0")/.."

results="${HUGINN_TEST_RESULTS:-}"
# clients/typescript: the generated TypeScript client (its flow runs in GeneratedClientsTests) and the OpenAPI lint.
js_packages=(web clients/typescript)
status=0

for pkg in "${js_packages[@]}"; do
  if ! (cd "$pkg" && npm ci --no-audit --no-fund --loglevel=error && npm run build) </dev/null; then
    echo "$pkg: npm ci or build failed" >&2
    status=1
  fi
done

# The Kiota generator (.config/dotnet-tools.json): GeneratedClientsTests checks the committed C# client against it.
if ! dotnet tool restore </dev/null; then
  echo "dotnet tool restore failed" >&2
  status=1
fi

dotnet_args=()
if [ -n "$results" ]; then dotnet_args=(--logger trx --results-directory "$results"); fi
dotnet test Huginn.Orleans.sln "${dotnet_args[@]}" </dev/null || status=1

for pkg in "${js_packages[@]}"; do
  (cd "$pkg" && npm test) </dev/null || status=1
  if [ -n "$results" ] && [ -f "$pkg/test-results.tap" ]; then cp "$pkg/test-results.tap" "$results/${pkg//\//-}.tap"; fi
done
exit "$status"
