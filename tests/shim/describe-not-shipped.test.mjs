// The API description (route summaries, answers, error lists, field descriptions) is declared next
// to each route but kept only in native builds, which generate openapi.json (http/pipeline.hpp
// RouteDef, EDGECHAT_DESCRIBE): the Worker's Wasm must carry none of it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

const spec = JSON.parse(readFileSync(new URL("../../openapi.json", import.meta.url), "utf8"));
const wasm = readFileSync(new URL("../../js-shim/core.wasm", import.meta.url));

test("no operation summary from openapi.json is in the shipped core.wasm", () => {
  const summaries = [];
  for (const item of Object.values(spec.paths)) {
    for (const op of Object.values(item)) if (op.summary && op.summary.length >= 12) summaries.push(op.summary);
  }
  assert.ok(summaries.length > 5, "the spec has summaries to look for");
  const found = summaries.filter((s) => wasm.includes(s));
  assert.deepEqual(found, []);
});
