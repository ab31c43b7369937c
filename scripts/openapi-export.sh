#!/usr/bin/env bash
# Regenerates what is derived from the Api's OpenAPI document, after an endpoint changed:
#   1. docs/openapi.json: the document the Api serves (OpenApiContractTests compares the two);
#   2. clients/csharp/Generated: the Kiota client (GeneratedClientsTests compares it with a fresh generation);
#   3. clients/typescript/src/schema.d.ts (not committed; `npm run build` there regenerates it) and the lint.
# Commit docs/openapi.json and clients/csharp/Generated with the endpoint change.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build Tests </dev/null
HUGINN_OPENAPI_EXPORT=1 dotnet test Tests --no-build \
  --filter "FullyQualifiedName~OpenApiContractTests.Served_document_is_the_committed_docs_openapi_json" </dev/null
dotnet tool restore </dev/null
# The same arguments as GeneratedClientsTests.KiotaArguments.
KIOTA_TUTORIAL_ENABLED=false KIOTA_OFFLINE_ENABLED=true dotnet tool run kiota -- generate -l CSharp -d docs/openapi.json \
  -o clients/csharp/Generated -c HuginnApiClient -n Huginn.Client.Generated --exclude-backward-compatible --clean-output \
  --log-level Warning </dev/null
(cd clients/typescript && npm ci --no-audit --no-fund --loglevel=error && npm run build && npm run lint) </dev/null
echo "docs/openapi.json and clients/csharp/Generated regenerated; the TypeScript client builds and the document lints."
