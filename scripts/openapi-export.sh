#!/usr/bin/env bash
# Writes the OpenAPI document the Api serves to docs/openapi.json (the committed copy that clients are generated from
# and that OpenApiContractTests compares with the served one), then regenerates the TypeScript client's types.
# Run it after changing an endpoint, and commit docs/openapi.json with the change.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build Tests </dev/null
HUGINN_OPENAPI_EXPORT=1 dotnet test Tests --no-build \
  --filter "FullyQualifiedName~OpenApiContractTests.Served_document_is_the_committed_docs_openapi_json" </dev/null
echo "docs/openapi.json written; lint it with: (cd clients/typescript && npm ci && npm run lint)"
