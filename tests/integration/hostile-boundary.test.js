// A hostile client at the boundary (issue 11): values that would break a response header, filters
// the database refuses, error answers that skipped the envelope, echoed input, racing deletes and
// one-time upload URLs. Each test asserts the invariant in D1 / R2 afterwards where there is one.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { api, expectError, expectSeedError, registerUser } from "./helpers.js";

const ADMIN = { "x-admin-key": env.ADMIN_KEY };
const enc = new TextEncoder();
const local = (url) => { const u = new URL(url); return u.pathname + u.search; };

async function ledgerRows(userId) {
  return (await env.DB.prepare("SELECT COUNT(*) AS n FROM credit_ledger WHERE user_id = ? AND kind != 'grant'")
    .bind(userId).first()).n;
}

describe("client values that would end up in a header", () => {
  it("a model or provider with CR, LF, NUL or other non-identifier bytes is a 400 before any debit", async () => {
    const u = await registerUser();
    await api("POST", "/api/credits/adjust", { headers: ADMIN, body: { userId: u.user.id, amount: 100, set: true } });
    const before = await ledgerRows(u.user.id);
    for (const [provider, model] of [
      ["openai", "gpt-4o-mini\r\nx-evil: 1"], ["openai", "gpt\nx"], ["openai", "gpt\u0000x"],
      ["openai", "gpt\rx"], ["openai", "gpt-4o-mini;drop"], ["openai", "caf\u00e9"], ["open\r\nai", "gpt-4o-mini"],
    ]) {
      for (const path of ["/api/billing/usage", "/api/v1/billing/usage"]) {
        const r = await api("POST", path, { token: u.accessToken, body: { provider, model, tokensIn: 1000, tokensOut: 0 } });
        const e = expectError(r, 400, "validation.failed");
        expect(Object.keys(e.fields).length).toBeGreaterThan(0);
        expect(r.text).not.toContain("x-evil");
        expect(r.text).not.toMatch(/at \w|\.js|\.cpp/);
      }
    }
    expect(await ledgerRows(u.user.id)).toBe(before);
    // Control: a proper identifier still debits.
    const ok = await api("POST", "/api/v1/billing/usage", { token: u.accessToken, body: { provider: "openai", model: "gpt-4o-mini", tokensIn: 1000, tokensOut: 0 } });
    expect(ok.status, ok.text).toBe(201);
    expect(ok.headers.get("x-model")).toBe("gpt-4o-mini");
    expect(await ledgerRows(u.user.id)).toBe(before + 1);
  });

  it("chat and completion routes refuse the same values, and no error echoes what was sent", async () => {
    const u = await registerUser();
    const chat = await api("POST", "/api/v1/chats", { token: u.accessToken, body: {} });
    const msgs = `/api/v1/chats/${chat.json.chat?.id ?? chat.json.id}/messages`;
    const bad = "evil\r\nmodel";
    const m = await api("POST", msgs, { token: u.accessToken, body: { content: "hi", model: bad } });
    expect(m.status, m.text).toBe(400);
    expect(m.text).not.toContain("evil");
    const p = await api("POST", msgs, { token: u.accessToken, body: { content: "hi", provider: "zz-evil-provider" } });
    expectError(p, 400, "chat.unknown_provider");
    expect(p.text).not.toContain("zz-evil");
    const unk = await api("POST", msgs, { token: u.accessToken, body: { content: "hi", model: "zz-evil-model" } });
    expectError(unk, 400, "chat.unknown_model");
    expect(unk.text).not.toContain("zz-evil");
    const pol = await api("POST", msgs, { token: u.accessToken, body: { content: "hi", policy: "zz-evil-policy" } });
    expect(pol.status).toBe(400);
    expect(pol.text).not.toContain("zz-evil");
    const c = await api("POST", "/v1/chat/completions", { token: u.accessToken, body: { model: bad, messages: [{ role: "user", content: "hi" }] } });
    expect(c.status, c.text).toBe(400);
    expect(c.text).not.toContain("evil");
    const stored = await env.DB.prepare("SELECT COUNT(*) AS n FROM messages WHERE chat_id IN (SELECT id FROM chats WHERE user_id = ?)")
      .bind(u.user.id).first();
    expect(stored.n).toBe(0);
  });
});

describe("filters the database would refuse", () => {
  it("a title filter of any length a title can have works, with %, _, \\ and unicode taken literally", async () => {
    const u = await registerUser();
    const head = "50% off_sale \\ naïve café ✓ ";
    const title = (head + "x".repeat(300)).slice(0, 300 - 4) + "end!";
    expect(enc.encode(title).length).toBeGreaterThanOrEqual(300);
    const t300 = new TextDecoder().decode(enc.encode(title).slice(0, 300)).replace(/\uFFFD+$/, "");
    const r = await api("POST", "/api/v1/documents", { token: u.accessToken, body: { docId: "long", title: t300, content: "some words here" } });
    expect(r.status, r.text).toBe(201);
    await api("POST", "/api/v1/documents", { token: u.accessToken, body: { docId: "other", title: "50 off sale x", content: "other words" } });
    const list = (q) => api("GET", `/api/v1/documents?title=${encodeURIComponent(q)}`, { token: u.accessToken });
    for (const q of [t300, t300.slice(3, 200), "%".repeat(25), "50% OFF_SALE \\ NAÏ", "x".repeat(60), "_"]) {
      const res = await list(q);
      expect(res.status, res.text).toBe(200);
      const ids = res.json.documents.map((d) => d.id);
      if (q === "%".repeat(25)) expect(ids).toEqual([]);
      else if (q.startsWith("50% OFF")) expect(ids).toEqual([]);  // only ASCII folds, like before
      else expect(ids).toEqual(["long"]);
    }
    expect((await list("50% off_sale")).json.documents.map((d) => d.id)).toEqual(["long"]);
    expect((await list("50% OFF_SALE")).json.documents.map((d) => d.id)).toEqual(["long"]);
    expectError(await list("y".repeat(301)), 400, "validation.failed");
  });

  it("a long entity query is a plain search, not a 503", async () => {
    const u = await registerUser();
    const text = "Marie Curie worked at the University of Paris. Marie Curie discovered polonium with Pierre Curie.";
    const doc = await api("POST", "/api/v1/documents", { token: u.accessToken, body: { docId: "curie", content: text } });
    expect(doc.status, doc.text).toBe(201);
    const all = await api("GET", "/api/v1/graph/entities?q=curie", { token: u.accessToken });
    expect(all.json.entities.length).toBeGreaterThan(0);
    for (const q of ["%".repeat(60), "a".repeat(200), "_\\%", "marie curie ".repeat(10)]) {
      const r = await api("GET", `/api/v1/graph/entities?q=${encodeURIComponent(q)}`, { token: u.accessToken });
      expect(r.status, r.text).toBe(200);
      expect(r.json.entities).toEqual([]);
    }
  });
});

describe("files: envelopes, races and one-time URLs", () => {
  async function upload(token, text) {
    const r = await api("POST", "/api/v1/files?filename=a.txt", { token, body: enc.encode(text), headers: { "content-type": "text/plain" } });
    expect(r.status, r.text).toBe(201);
    return r.json.file;
  }

  it("416 carries the standard error envelope with the request id", async () => {
    const u = await registerUser();
    const f = await upload(u.accessToken, "0123456789");
    const r = await api("GET", `/api/v1/files/${f.id}/download`, { token: u.accessToken, headers: { range: "bytes=99-" } });
    expectError(r, 416, "files.range_not_satisfiable");
    expect(r.headers.get("content-range")).toBe("bytes */10");
  });

  it("concurrent deletes of one file: exactly one 204, the rest 404", async () => {
    const u = await registerUser();
    const f = await upload(u.accessToken, "delete me");
    const all = await Promise.all(Array.from({ length: 6 }, () => api("DELETE", `/api/v1/files/${f.id}`, { token: u.accessToken })));
    const statuses = all.map((r) => r.status).sort();
    expect(statuses).toEqual([204, 404, 404, 404, 404, 404]);
    expect(await env.DB.prepare("SELECT COUNT(*) AS n FROM files WHERE id = ?").bind(f.id).first()).toEqual({ n: 0 });

    const g = await upload(u.accessToken, "seed delete");
    const seed = await Promise.all(Array.from({ length: 4 }, () =>
      api("DELETE", `/api/r2/file?key=${encodeURIComponent(g.key)}`, { token: u.accessToken })));
    expect(seed.map((r) => r.status).sort()).toEqual([200, 404, 404, 404]);
  });

  async function grant(token) {
    const r = await api("POST", "/api/r2/upload-url", { token, body: { filename: "up.txt", contentType: "text/plain", size: 1000 } });
    expect(r.status, r.text).toBe(200);
    return r.json.data;
  }

  it("a cut first upload does not use up the one-time URL; the retry succeeds", async () => {
    const u = await registerUser();
    const g = await grant(u.accessToken);
    const body = new ReadableStream({
      start(c) { c.enqueue(enc.encode("partial ")); },
      pull(c) { c.error(new Error("connection cut")); },
    });
    const cut = await api("PUT", local(g.uploadUrl), {
      body, headers: { "content-type": "text/plain", "content-length": "100" }, init: { duplex: "half" },
    }).catch((e) => ({ status: 0, text: String(e) }));
    expect(cut.status).not.toBe(200);
    let retry;
    for (let i = 0; i < 50; i++) {
      retry = await api("PUT", local(g.uploadUrl), { body: "complete", headers: { "content-type": "text/plain" } });
      if (retry.status !== 409) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(retry.status, retry.text).toBe(200);
    const row = await env.DB.prepare("SELECT state, size FROM files WHERE id = ?").bind(g.fileId).first();
    expect(row).toEqual({ state: "stored", size: 8 });
    expect(await (await env.BUCKET.get(g.key)).text()).toBe("complete");
    expectSeedError(await api("PUT", local(g.uploadUrl), { body: "again", headers: { "content-type": "text/plain" } }),
      403, "files.url_used");
  });

  it("two concurrent uploads to one URL: exactly one wins, and what is stored is the winner's", async () => {
    const u = await registerUser();
    const g = await grant(u.accessToken);
    const [a, b] = await Promise.all(["first body", "second body!"].map((text) =>
      api("PUT", local(g.uploadUrl), { body: text, headers: { "content-type": "text/plain" } })));
    const wins = [a, b].filter((r) => r.status === 200);
    expect(wins).toHaveLength(1);
    const loser = a.status === 200 ? b : a;
    expect([403, 409]).toContain(loser.status);
    const row = await env.DB.prepare("SELECT state, size FROM files WHERE id = ?").bind(g.fileId).first();
    expect(row.state).toBe("stored");
    expect(row.size).toBe(wins[0].json.data.size);
    expect((await (await env.BUCKET.get(g.key)).text()).length).toBe(row.size);
  });
});
