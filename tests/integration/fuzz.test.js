// The contract fuzzer: every operation in openapi.json, driven with inputs generated from its own
// schemas (fast-check, seeded, so a failure replays). Valid inputs must get a declared status whose
// body matches its schema (a 2xx, or a declared 4xx such as a 404 for an id that does not exist);
// invalid ones — wrong types, missing fields, broken bounds, unknown fields of a strict body,
// bodies that are not objects, bad UTF-8, hostile path params — must get a declared 4xx in the
// error envelope. Never a 5xx, a trap, or an undeclared status: tests/integration/contract.js
// checks every answer (through api()) against the spec.
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import spec from "../../openapi.json";
import { api, registerUser } from "./helpers.js";
import { createAll } from "./fixtures.js";
import {
  hostilePathParam,
  invalidBodyArbitrary,
  invalidQueryArbitrary,
  validArbitrary,
} from "./schema-arbitraries.js";

const SEED = 20261208;
const VALID_RUNS = 5;
const INVALID_RUNS = 5;
const ADMIN_KEY = "test-admin-key-0123456789abcdef";

// Path prefixes whose {id} names a resource kind, when the operation does not say (x-edgechat-owner).
const KIND_BY_PREFIX = [
  [/^\/api\/v1\/chats\/\{id\}/, "chat"],
  [/^\/api\/chat\/history\/\{id\}/, "chat"],
  [/^\/api\/v1\/messages\/\{id\}/, "message"],
  [/^\/api\/v1\/documents\/\{id\}/, "document"],
  [/^\/api\/documents\/\{id\}/, "document"],
  [/^\/api\/v1\/files\/\{id\}/, "file"],
  [/^\/api\/v1\/api-keys\/\{id\}/, "api_key"],
  [/^\/api\/v1\/streams\/\{id\}/, "stream"],
  [/^\/api\/v1\/memory\/streams\/\{id\}/, "memory_stream"],
  [/^\/api\/v1\/training-examples\/\{id\}/, "training_example"],
  [/^\/api(\/v1)?\/jobs\/\{id\}/, "job"],
  [/^\/api(\/v1)?\/admin\/users\/\{id\}/, "user"],
];

const operations = [];
for (const [template, item] of Object.entries(spec.paths)) {
  for (const [method, op] of Object.entries(item)) {
    operations.push({ method: method.toUpperCase(), template, op });
  }
}
// Deletes last, so the other operations find the fixtures alive.
operations.sort((a, b) => (a.method === "DELETE") - (b.method === "DELETE"));

function jsonBodySchema(op) {
  return op.requestBody?.content?.["application/json"]?.schema ?? null;
}
function queryParams(op) {
  return (op.parameters ?? []).filter((p) => p.in === "query");
}

let ctx;
const counts = { operations: 0, valid: 0, invalid: 0 };

function credentials(op) {
  switch (op["x-edgechat-access"]) {
    case "admin":
      return { headers: { "x-admin-key": ADMIN_KEY } };
    case "internal":
    case "public":
      return {};
    default:
      return { token: ctx.token };
  }
}

function fillPath(template, idArb) {
  return fc.tuple(idArb).map(([id]) => template.replace(/\{[^}]+\}/g, () => encodeURIComponent(id)));
}

function idArbitrary(op, template) {
  const kind = op["x-edgechat-owner"] ?? KIND_BY_PREFIX.find(([re]) => re.test(template))?.[1];
  const real = kind && ctx.ids[kind] ? [fc.constant(ctx.ids[kind])] : [];
  return fc.oneof(...real, ...real, fc.stringMatching(/^[a-z]{3}_[0-9a-f]{24}$/));
}

function queryString(pairs) {
  const q = new URLSearchParams();
  for (const [k, v] of pairs) if (v !== undefined) q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : "";
}

async function send(found, path, query, body, raw) {
  const { method, op } = found;
  const opts = { ...credentials(op) };
  if (raw !== undefined) {
    opts.body = raw;
    opts.headers = { ...(opts.headers ?? {}), "content-type": "application/json" };
  } else if (body !== undefined) {
    opts.body = body;
  } else if (op.requestBody?.content && !jsonBodySchema(op)) {
    // A raw upload: a small text file.
    const media = Object.keys(op.requestBody.content)[0];
    opts.body = "fuzz file body";
    opts.headers = { ...(opts.headers ?? {}), "content-type": media.includes("*") ? "text/plain" : media };
  }
  // api() checks the answer against the spec and throws on any mismatch.
  return api(method, path + query, opts);
}

function describeCase(found, path, query, body) {
  return `${found.method} ${path}${query} ${body === undefined ? "" : JSON.stringify(body).slice(0, 200)}`;
}

beforeAll(async () => {
  const a = await registerUser({ prefix: "fuzz" });
  const victim = await registerUser({ prefix: "fuzzv" });
  const ids = await createAll(a.accessToken);
  ids.user = victim.user.id;
  ctx = { token: a.accessToken, ids };
}, 60_000);

describe("contract fuzzer (seeded)", () => {
  it("answers every operation's valid and invalid inputs with a declared status, never a 5xx", async () => {
    for (const found of operations) {
      const { op, template } = found;
      counts.operations += 1;
      const pathArb = template.includes("{") ? fillPath(template, idArbitrary(op, template)) : fc.constant(template);
      const qparams = queryParams(op);
      const queryArb = fc
        .tuple(...qparams.map((p) => (p.required ? validArbitrary(p.schema) : fc.option(validArbitrary(p.schema), { nil: undefined })).map((v) => [p.name, v])))
        .map(queryString);
      const schema = jsonBodySchema(op);
      const bodyArb = schema
        ? (op.requestBody.required ? validArbitrary(schema) : fc.option(validArbitrary(schema), { nil: undefined }))
        : fc.constant(undefined);

      await fc.assert(
        fc.asyncProperty(pathArb, queryArb, bodyArb, async (path, query, body) => {
          counts.valid += 1;
          const r = await send(found, path, query, body);
          expect(r.status, describeCase(found, path, query, body) + " → " + r.text.slice(0, 300)).toBeLessThan(500);
        }),
        { seed: SEED, numRuns: VALID_RUNS, endOnFailure: true },
      );

      // Invalid: one broken part at a time.
      const invalid = [];
      if (schema) {
        invalid.push(fc.tuple(pathArb, queryArb, invalidBodyArbitrary(schema)).map(([p, q, b]) => ({ p, q, b })));
        // Bytes that are not UTF-8, and text that is not JSON.
        invalid.push(fc.tuple(pathArb, fc.constantFrom(
          new Uint8Array([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
          new TextEncoder().encode("{not json"),
        )).map(([p, raw]) => ({ p, q: "", raw })));
      }
      for (const p of qparams) {
        const bad = invalidQueryArbitrary(p.schema);
        if (bad) invalid.push(fc.tuple(pathArb, bad, bodyArb).map(([path, v, b]) => ({ p: path, q: queryString([[p.name, v]]), b })));
      }
      if (template.includes("{")) {
        invalid.push(fc.tuple(fillPath(template, hostilePathParam), queryArb, bodyArb).map(([p, q, b]) => ({ p, q, b })));
      }
      if (invalid.length === 0) continue;
      const access = op["x-edgechat-access"];
      await fc.assert(
        fc.asyncProperty(fc.oneof(...invalid), async ({ p, q, b, raw }) => {
          counts.invalid += 1;
          const r = await send(found, p, q, b, raw);
          const what = describeCase(found, p, q, raw ? "<raw bytes>" : b) + " → " + r.text.slice(0, 300);
          // A hostile id may name nothing (404) or, for lenient seed routes, be read as no match.
          expect(r.status, what).toBeGreaterThanOrEqual(access === "internal" ? 404 : 400);
          expect(r.status, what).toBeLessThan(500);
          if (r.json?.error !== undefined) expect(r.json.requestId, what).toBeTypeOf("string");
        }),
        { seed: SEED, numRuns: INVALID_RUNS, endOnFailure: true },
      );
    }
    console.log(
      `contract fuzz (seed ${SEED}): ${counts.operations} operations, ${counts.valid} valid and ${counts.invalid} invalid cases`,
    );
  }, 600_000);
});
