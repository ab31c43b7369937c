// Generates src/schema.d.ts from the committed docs/openapi.json (openapi-typescript's Node API, so that binary bodies
// are typed as Blob rather than string: the CLI has no option for that).
import fs from "node:fs";
import ts from "typescript";
import openapiTS, { astToString } from "openapi-typescript";

const document = new URL("../../../docs/openapi.json", import.meta.url);
const blob = ts.factory.createTypeReferenceNode(ts.factory.createIdentifier("Blob"));
const ast = await openapiTS(document, {
  transform(schemaObject) {
    if (schemaObject.format === "binary") return blob;
    return undefined;
  },
});
fs.writeFileSync(new URL("../src/schema.d.ts", import.meta.url), astToString(ast));
