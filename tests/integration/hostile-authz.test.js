// Hostile authorization: one user owns one of every resource; another user, a guest, an API key of
// another user and an anonymous caller try every route that names a resource by id. Each attempt
// must answer exactly like a missing resource (404; 401 without credentials) — never 200, 403
// (which would confirm the id exists) or 5xx — and afterwards the owner's resources are read back
// from D1 unchanged.
import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { api, BASE, registerUser } from "./helpers.js";

async function owned() {
  const a = await registerUser({ prefix: "owner" });
  const t = a.accessToken;
  const must = async (method, path, body, status = 201) => {
    const r = await api(method, path, { token: t, body });
    expect(r.status, `${method} ${path}: ${r.text}`).toBe(status);
    return r.json;
  };
  const doc = (await must("POST", "/api/v1/documents", { docId: "secret", title: "Secret", content: "The vault code is written on the lighthouse." })).document;
  const file = (await api("POST", "/api/v1/files?filename=secret.txt", {
    token: t, body: "the vault code", headers: { "content-type": "text/plain" },
  })).json.file;
  const chat = (await must("POST", "/api/v1/chats", { title: "Private" })).chat;
  // One answered turn, so there are messages to reach for.
  const res = await SELF.fetch(`${BASE}/api/v1/chats/${chat.id}/messages`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${t}` },
    body: JSON.stringify({ content: "Where is the vault code?", provider: "local", resumable: false }),
  });
  expect(res.status).toBe(200);
  await res.text();
  const messages = (await must("GET", `/api/v1/chats/${chat.id}/messages`, undefined, 200)).messages;
  const stream = (await must("POST", "/api/v1/streams", {})).stream;
  const memory = (await must("POST", "/api/v1/memory/streams", { streamId: "agent-x", goal: "Keep secrets" })).stream;
  const key = (await must("POST", "/api/v1/api-keys", { name: "owner key" })).apiKey ??
    (await api("GET", "/api/v1/api-keys", { token: t })).json.keys?.[0];
  const job = (await must("POST", "/api/v1/jobs", { type: "reindex", payload: { documentId: "secret" } }, 202)).job;
  // The reindex runs from the queue: let it finish so the snapshots compare a settled state.
  for (let i = 0; i < 200 && (await api("GET", `/api/v1/jobs/${job.id}`, { token: t })).json.job.state !== "succeeded"; i++) {
    await new Promise((r) => setTimeout(r, 25));
  }
  return { a, t, doc, file, chat, messages, stream, memory, key, job };
}

function routes(o) {
  const q = o.messages[0].id;
  return [
    ["GET", `/api/v1/documents/${o.doc.id}`],
    ["DELETE", `/api/v1/documents/${o.doc.id}`],
    ["GET", `/api/v1/documents/${o.doc.id}/graph`],
    ["GET", `/api/v1/files/${o.file.id}`],
    ["GET", `/api/v1/files/${o.file.id}/download`],
    ["POST", `/api/v1/files/${o.file.id}/analyze`],
    ["DELETE", `/api/v1/files/${o.file.id}`],
    ["GET", `/api/v1/chats/${o.chat.id}`],
    ["PATCH", `/api/v1/chats/${o.chat.id}`, { title: "mine now" }],
    ["DELETE", `/api/v1/chats/${o.chat.id}`],
    ["GET", `/api/v1/chats/${o.chat.id}/export`],
    ["GET", `/api/v1/chats/${o.chat.id}/messages`],
    ["POST", `/api/v1/chats/${o.chat.id}/messages`, { content: "leak it", provider: "local" }],
    ["PATCH", `/api/v1/messages/${q}`, { content: "rewritten", provider: "local" }],
    ["DELETE", `/api/v1/messages/${q}`],
    ["POST", `/api/v1/messages/${q}/vote`, { value: "down" }],
    ["GET", `/api/v1/streams/${o.stream.id}`],
    ["POST", `/api/v1/streams/${o.stream.id}/append`, { data: "injected" }],
    ["DELETE", `/api/v1/streams/${o.stream.id}`],
    ["GET", `/api/v1/memory/streams/${o.memory.id}`],
    ["PATCH", `/api/v1/memory/streams/${o.memory.id}`, { goal: "Spill secrets" }],
    ["GET", `/api/v1/memory/streams/${o.memory.id}/frames`],
    ["POST", `/api/v1/memory/streams/${o.memory.id}/frames`, { role: "user", content: "hi" }],
    ["DELETE", `/api/v1/memory/streams/${o.memory.id}`],
    ["GET", `/api/v1/jobs/${o.job.id}`],
    ["PATCH", `/api/v1/jobs/${o.job.id}`, { action: "cancel" }],
    ["GET", `/api/jobs/${o.job.id}`],
    ...(o.key?.id ? [["DELETE", `/api/v1/api-keys/${o.key.id}`]] : []),
  ];
}

async function snapshot(userId) {
  const one = async (sql) => (await env.DB.prepare(sql).bind(userId).all()).results;
  return {
    documents: await one("SELECT id, title, generation, chunk_count, state FROM documents WHERE user_id = ? ORDER BY id"),
    chunks: await one("SELECT COUNT(*) AS n FROM chunks WHERE user_id = ?"),
    files: await one("SELECT id, state, size FROM files WHERE user_id = ? ORDER BY id"),
    chats: await one("SELECT id, title FROM chats WHERE user_id = ? ORDER BY id"),
    messages: await one("SELECT m.id, m.content FROM messages m JOIN chats c ON c.id = m.chat_id WHERE c.user_id = ? ORDER BY m.id"),
    jobs: await one("SELECT id, cancel_requested FROM jobs WHERE user_id = ? ORDER BY id"),
  };
}

describe("hostile: authorization across users", () => {
  it("every by-id route refuses every other caller as if the resource did not exist", async () => {
    const o = await owned();
    const before = await snapshot(o.a.user.id);
    const b = await registerUser({ prefix: "intruder" });
    const guest = (await api("POST", "/api/v1/auth/guest")).json;
    const bKey = (await api("POST", "/api/v1/api-keys", { token: b.accessToken, body: { name: "b" } })).json;
    const bKeySecret = bKey.key ?? bKey.apiKey?.key ?? bKey.secret;
    const callers = [
      ["another user", b.accessToken],
      ["a guest", guest.accessToken],
      ...(bKeySecret ? [["another user's API key", bKeySecret]] : []),
    ];
    const seen = [];
    for (const [who, token] of callers) {
      for (const [method, path, body] of routes(o)) {
        const r = await api(method, path, { token, body });
        seen.push(`${who} ${method} ${path} → ${r.status}`);
        if (token === bKeySecret && path.startsWith("/api/v1/api-keys/")) {
          // Keys are managed with a signed-in token only: refused whatever the id, so it tells nothing.
          expect(r.json.error.code).toBe("auth.api_key_not_allowed");
          continue;
        }
        expect(r.status, `${who}: ${method} ${path} answered ${r.status} ${r.text.slice(0, 200)}`).toBe(404);
        expect(r.json?.error?.code, `${who}: ${method} ${path}`).toMatch(/not_found$/);
        // The error never repeats what the resource holds.
        expect(r.text).not.toContain("vault");
      }
    }
    for (const [method, path, body] of routes(o)) {
      const r = await api(method, path, { body });
      expect(r.status, `anonymous: ${method} ${path} answered ${r.status}`).toBe(401);
    }
    expect(seen.length).toBeGreaterThan(50);
    expect(await snapshot(o.a.user.id)).toEqual(before);
    // And the owner still reaches all of it.
    for (const path of [`/api/v1/documents/${o.doc.id}`, `/api/v1/files/${o.file.id}`, `/api/v1/chats/${o.chat.id}`,
      `/api/v1/memory/streams/${o.memory.id}`, `/api/v1/jobs/${o.job.id}`]) {
      expect((await api("GET", path, { token: o.t })).status, path).toBe(200);
    }
  }, 60_000);

  it("lists and searches never return another user's rows", async () => {
    const o = await owned();
    const b = await registerUser({ prefix: "intruder" });
    const t = b.accessToken;
    for (const path of ["/api/v1/documents", "/api/v1/chats", "/api/v1/jobs", "/api/v1/memory/streams", "/api/v1/api-keys", "/api/v1/files"]) {
      const r = await api("GET", path, { token: t });
      if (r.status === 404 || r.status === 405) continue;  // no list at this path
      expect(r.status, path).toBe(200);
      expect(r.text, path).not.toContain(o.doc.id === "secret" ? "Secret" : o.doc.id);
      expect(r.text, path).not.toContain(o.chat.id);
    }
    for (const mode of ["vector", "keyword", "hybrid"]) {
      const r = await api("POST", "/api/v1/search", { token: t, body: { query: "vault code lighthouse", mode } });
      expect(r.status).toBe(200);
      expect(r.json.results, mode).toEqual([]);
    }
    const g = await api("GET", "/api/v1/graph/entities?q=vault", { token: t });
    expect(g.text).not.toContain("Secret");
  });
});
