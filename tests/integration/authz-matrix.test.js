// The authorization matrix, derived from openapi.json (the route table's declarations):
//   - every operation not declared public answers an anonymous caller 401 (internal ones: 404);
//   - every operation on an owned resource (x-edgechat-owner) answers another user's id with 404,
//     and the owner then reads the resource back unchanged;
//   - admin operations refuse a user's token; internal (automation) ones refuse it with 404;
//   - operations that take an access token only refuse an API key (403).
import { beforeAll, describe, expect, it } from "vitest";
import spec from "../../openapi.json";
import { api, registerUser } from "./helpers.js";
import { KINDS, createAll } from "./fixtures.js";

const operations = [];
for (const [template, item] of Object.entries(spec.paths)) {
  for (const [method, op] of Object.entries(item)) {
    operations.push({ method: method.toUpperCase(), template, op, access: op["x-edgechat-access"] });
  }
}
const OPEN = new Set(["public", "optional", "lenient"]);

// A path with every {param} filled by `id`.
const fill = (template, id) => template.replace(/\{[^}]+\}/g, encodeURIComponent(id));
const label = (o) => `${o.method} ${o.template}`;

// A body that passes the operation's schema (so a refusal is about who asks, not what is sent):
// each required property gets the simplest value of its type.
function minimalBody(op) {
  const schema = op.requestBody?.content?.["application/json"]?.schema;
  if (!schema) return undefined;
  const body = {};
  for (const k of schema.required ?? []) {
    const s = schema.properties?.[k] ?? {};
    const t = Array.isArray(s.type) ? s.type[0] : s.type;
    if (s.enum) body[k] = s.enum[0];
    else if (t === "integer" || t === "number") body[k] = s.minimum ?? 1;
    else if (t === "boolean") body[k] = true;
    else if (t === "array") body[k] = [];
    else if (t === "object") body[k] = {};
    else body[k] = "a".repeat(Math.max(1, s.minLength ?? 1));
  }
  return body;
}

let alice;
let bob;
let bobKey;
let owned;

beforeAll(async () => {
  alice = await registerUser({ prefix: "mxa" });
  bob = await registerUser({ prefix: "mxb" });
  owned = await createAll(alice.accessToken);
  bobKey = (await api("POST", "/api/v1/api-keys", { token: bob.accessToken, body: { name: "matrix" } })).json.apiKey.key;
}, 60_000);

describe("authorization matrix (from openapi.json)", () => {
  const guarded = operations.filter((o) => !OPEN.has(o.access));

  it(`refuses anonymous callers on all ${guarded.length} operations that are not public`, async () => {
    for (const o of guarded) {
      const r = await api(o.method, fill(o.template, "x"), { body: minimalBody(o.op) });
      expect(r.status, `${label(o)} → ${r.text.slice(0, 200)}`).toBe(o.access === "internal" ? 404 : 401);
    }
  });

  it("refuses a user's token on admin and internal operations", async () => {
    const admin = operations.filter((o) => o.access === "admin" || o.access === "internal");
    expect(admin.length).toBeGreaterThan(0);
    for (const o of admin) {
      const r = await api(o.method, fill(o.template, "x"), { token: bob.accessToken, body: minimalBody(o.op) });
      if (o.access === "internal") expect(r.status, label(o)).toBe(404);
      else expect([401, 403], `${label(o)} → ${r.status} ${r.text.slice(0, 200)}`).toContain(r.status);
    }
  });

  it("refuses an API key where only an access token will do", async () => {
    const tokenOnly = operations.filter((o) => o.access === "access_token");
    expect(tokenOnly.length).toBeGreaterThan(0);
    for (const o of tokenOnly) {
      const r = await api(o.method, fill(o.template, "x"), { token: bobKey, body: minimalBody(o.op) });
      expect(r.status, label(o)).toBe(403);
      expect(r.json.error.code).toBe("auth.api_key_not_allowed");
    }
  });

  it("answers another user's id with 404 on every owned-resource operation, and changes nothing", async () => {
    const ownedOps = operations.filter((o) => o.op["x-edgechat-owner"]);
    expect(ownedOps.length).toBeGreaterThan(10);
    const kinds = new Set(ownedOps.map((o) => o.op["x-edgechat-owner"]));
    for (const kind of kinds) expect(KINDS[kind], `a fixture for ${kind}`).toBeDefined();
    // What the owner sees before anyone else tries.
    const before = {};
    for (const kind of kinds) {
      if (KINDS[kind].read) before[kind] = (await KINDS[kind].read(alice.accessToken, owned[kind])).json;
    }
    // Deletes last, so an unexpected success would still be caught by the read-back below.
    ownedOps.sort((a, b) => (a.method === "DELETE") - (b.method === "DELETE"));
    for (const o of ownedOps) {
      const kind = o.op["x-edgechat-owner"];
      const r = await api(o.method, fill(o.template, owned[kind]), { token: bob.accessToken, body: minimalBody(o.op) });
      expect(r.status, `${label(o)} as another user → ${r.text.slice(0, 200)}`).toBe(404);
    }
    for (const kind of kinds) {
      if (!KINDS[kind].read) continue;
      const after = (await KINDS[kind].read(alice.accessToken, owned[kind])).json;
      expect(after, `${kind} after another user's attempts`).toEqual(before[kind]);
    }
    console.log(
      `authorization matrix: ${guarded.length} guarded operations, ${ownedOps.length} owned-resource operations over ${kinds.size} kinds`,
    );
  });
});
