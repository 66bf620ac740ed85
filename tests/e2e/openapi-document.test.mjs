// openapi.json (generated from the route table by `npm run openapi`, served at /openapi.json) as a
// client's tooling reads it: valid OpenAPI 3.1 by an independent validator
// (@seriousme/openapi-schema-validator, the official 3.1 JSON Schemas through Ajv), and the
// properties that schema cannot check: every $ref resolves, operationIds are unique, and every
// security requirement names a declared scheme. Needs no server.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { Validator } from "@seriousme/openapi-schema-validator";

const doc = JSON.parse(readFileSync(new URL("../../openapi.json", import.meta.url), "utf8"));
const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

// [jsonPointer, value] for every node of the document.
function* walk(node, pointer = "") {
  yield [pointer, node];
  if (node === null || typeof node !== "object") return;
  for (const [key, value] of Object.entries(node)) {
    yield* walk(value, `${pointer}/${String(key).replaceAll("~", "~0").replaceAll("/", "~1")}`);
  }
}

// The node a local reference ("#/a/b~1c") names, or undefined.
function resolve(ref) {
  if (!ref.startsWith("#")) return undefined;
  let node = doc;
  for (const raw of decodeURIComponent(ref.slice(1)).split("/").slice(1)) {
    const key = raw.replaceAll("~1", "/").replaceAll("~0", "~");
    if (node === null || typeof node !== "object" || !Object.hasOwn(node, key)) return undefined;
    node = node[key];
  }
  return node;
}

const operations = () => Object.entries(doc.paths ?? {}).flatMap(([path, item]) =>
  METHODS.filter((m) => item[m]).map((m) => ({ where: `${m.toUpperCase()} ${path}`, op: item[m] })));

test("openapi.json is a valid OpenAPI 3.1 document", async () => {
  assert.match(doc.openapi, /^3\.1\.\d+$/);
  const validator = new Validator({ allErrors: true });
  const result = await validator.validate(structuredClone(doc));
  const errors = (result.errors ?? []).map((e) =>
    `${e.instancePath || "/"}: ${e.message}${e.params ? ` ${JSON.stringify(e.params)}` : ""}`);
  assert.ok(result.valid, `openapi.json does not validate as OpenAPI 3.1:\n  ${errors.join("\n  ")}`);
  assert.equal(validator.version, "3.1");
});

test("every $ref resolves inside the document", () => {
  const broken = [];
  let refs = 0;
  for (const [pointer, node] of walk(doc)) {
    if (node === null || typeof node !== "object" || typeof node.$ref !== "string") continue;
    refs++;
    if (resolve(node.$ref) === undefined) broken.push(`${pointer}: ${node.$ref}`);
  }
  assert.deepEqual(broken, [], `unresolved $ref:\n  ${broken.join("\n  ")}`);
  assert.ok(refs > 0, "the document references its components");
});

test("every operation has an operationId, and no two share one", () => {
  const seen = new Map();
  const problems = [];
  for (const { where, op } of operations()) {
    if (!op.operationId) { problems.push(`${where}: no operationId`); continue; }
    if (seen.has(op.operationId)) problems.push(`${where}: operationId ${op.operationId} also on ${seen.get(op.operationId)}`);
    else seen.set(op.operationId, where);
  }
  assert.deepEqual(problems, [], problems.join("\n"));
  assert.ok(seen.size > 0, "the document has operations");
});

test("every security requirement names a declared security scheme", () => {
  const declared = new Set(Object.keys(doc.components?.securitySchemes ?? {}));
  const unknown = [];
  const requirements = [
    ...(doc.security ?? []).map((r) => ({ where: "(top level)", r })),
    ...operations().flatMap(({ where, op }) => (op.security ?? []).map((r) => ({ where, r }))),
  ];
  for (const { where, r } of requirements) {
    for (const name of Object.keys(r)) if (!declared.has(name)) unknown.push(`${where}: ${name}`);
  }
  assert.deepEqual(unknown, [], `undeclared security schemes:\n  ${unknown.join("\n  ")}`);
});
