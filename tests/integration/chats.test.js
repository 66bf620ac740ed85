// Chats end to end through the real Worker and local D1: CRUD, pagination, ownership and public
// visibility, export (JSON and Markdown), votes, message deletion, auth and bad input. Messages
// are written straight into D1 here (the same two statements the chat store's append uses), since
// sending one streams an answer and is tested with the answer service.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { api, expectError, registerUser } from "./helpers.js";

let msgCounter = 0;
async function addMessage(chatId, role, content, extra = {}) {
  msgCounter += 1;
  const id = `msg_it${Date.now().toString(16)}${msgCounter}`;
  const now = Date.now();
  await env.DB.batch([
    env.DB.prepare(
      "UPDATE chats SET next_seq = next_seq + 1, message_count = message_count + 1, updated_at = ?2 WHERE id = ?1",
    ).bind(chatId, now),
    env.DB.prepare(
      "INSERT INTO messages (id, chat_id, seq, role, content, status, provider, model, sources, citations, " +
        "created_at, updated_at) SELECT ?1, id, next_seq - 1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9 FROM chats WHERE id = ?10",
    ).bind(id, role, content, extra.status ?? "complete", extra.provider ?? null, extra.model ?? null,
      JSON.stringify(extra.sources ?? []), JSON.stringify(extra.citations ?? []), now, chatId),
  ]);
  return id;
}

async function createChat(token, body = {}) {
  const r = await api("POST", "/api/v1/chats", { token, body });
  expect(r.status, r.text).toBe(201);
  return r.json.chat;
}

describe("chats: CRUD", () => {
  it("creates, reads, lists, renames, shares and deletes a chat", async () => {
    const u = await registerUser();
    const t = u.accessToken;
    const r = await api("POST", "/api/v1/chats", { token: t, body: { title: "  Holiday plans " } });
    expect(r.status, r.text).toBe(201);
    const chat = r.json.chat;
    expect(chat).toMatchObject({ title: "Holiday plans", visibility: "private", origin: "api", messageCount: 0 });
    expect(chat.id).toMatch(/^cht_[0-9a-f]{24}$/);
    expect(chat.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(r.headers.get("location")).toBe(`/api/v1/chats/${chat.id}`);

    // An empty body is fine: a default title.
    const bare = await api("POST", "/api/v1/chats", { token: t });
    expect(bare.status, bare.text).toBe(201);
    expect(bare.json.chat.title).toBe("New chat");

    const got = await api("GET", `/api/v1/chats/${chat.id}`, { token: t });
    expect(got.status).toBe(200);
    expect(got.json.chat).toEqual(chat);

    const patched = await api("PATCH", `/api/v1/chats/${chat.id}`, {
      token: t, body: { title: "Trip", visibility: "public" },
    });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.json.chat).toMatchObject({ id: chat.id, title: "Trip", visibility: "public" });

    const list = await api("GET", "/api/v1/chats", { token: t });
    expect(list.status).toBe(200);
    expect(list.json.chats.map((c) => c.id).sort()).toEqual([chat.id, bare.json.chat.id].sort());
    expect(list.json.nextCursor).toBeNull();

    const del = await api("DELETE", `/api/v1/chats/${chat.id}`, { token: t });
    expect(del.status).toBe(204);
    expect(del.text).toBe("");
    expectError(await api("GET", `/api/v1/chats/${chat.id}`, { token: t }), 404, "chat.not_found");
    expectError(await api("DELETE", `/api/v1/chats/${chat.id}`, { token: t }), 404, "chat.not_found");
  });

  it("lists newest activity first, page by page", async () => {
    const u = await registerUser();
    const t = u.accessToken;
    const ids = [];
    for (let i = 0; i < 5; i++) {
      ids.push((await createChat(t, { title: `chat ${i}` })).id);
      await new Promise((res) => setTimeout(res, 3));
    }
    const seen = [];
    let cursor = null;
    let pages = 0;
    do {
      const q = cursor ? `?limit=2&cursor=${encodeURIComponent(cursor)}` : "?limit=2";
      const r = await api("GET", `/api/v1/chats${q}`, { token: t });
      expect(r.status, r.text).toBe(200);
      expect(r.json.chats.length).toBeLessThanOrEqual(2);
      seen.push(...r.json.chats.map((c) => c.id));
      cursor = r.json.nextCursor;
      pages += 1;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual([...ids].reverse());

    // A new message makes the oldest chat the newest.
    await new Promise((res) => setTimeout(res, 3));
    await addMessage(ids[0], "user", "bump");
    const first = await api("GET", "/api/v1/chats?limit=1", { token: t });
    expect(first.json.chats[0].id).toBe(ids[0]);
    expect(first.json.chats[0].messageCount).toBe(1);
  });
});

describe("chats: ownership", () => {
  it("hides another user's private chat and lets them read, not write, a public one", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const chat = await createChat(alice.accessToken, { title: "Secret" });
    const msg = await addMessage(chat.id, "user", "hello");
    const url = `/api/v1/chats/${chat.id}`;

    const hidden = expectError(await api("GET", url, { token: bob.accessToken }), 404, "chat.not_found");
    const missing = expectError(await api("GET", "/api/v1/chats/cht_000000000000000000000000", { token: bob.accessToken }), 404, "chat.not_found");
    expect(hidden.message).toBe(missing.message);
    expectError(await api("GET", `${url}/messages`, { token: bob.accessToken }), 404, "chat.not_found");
    expectError(await api("GET", `${url}/export`, { token: bob.accessToken }), 404, "chat.not_found");
    expectError(await api("PATCH", url, { token: bob.accessToken, body: { title: "mine now" } }), 404, "chat.not_found");
    expectError(await api("DELETE", url, { token: bob.accessToken }), 404, "chat.not_found");
    expectError(await api("DELETE", `/api/v1/messages/${msg}`, { token: bob.accessToken }), 404, "message.not_found");
    expectError(await api("POST", `/api/v1/messages/${msg}/vote`, { token: bob.accessToken, body: { value: "up" } }), 404, "message.not_found");

    expect((await api("PATCH", url, { token: alice.accessToken, body: { visibility: "public" } })).status).toBe(200);
    const read = await api("GET", url, { token: bob.accessToken });
    expect(read.status).toBe(200);
    expect(read.json.chat.title).toBe("Secret");
    const msgs = await api("GET", `${url}/messages`, { token: bob.accessToken });
    expect(msgs.json.messages.map((m) => m.content)).toEqual(["hello"]);
    expect((await api("GET", `${url}/export?format=markdown`, { token: bob.accessToken })).status).toBe(200);
    expectError(await api("PATCH", url, { token: bob.accessToken, body: { title: "mine now" } }), 404, "chat.not_found");
    expectError(await api("DELETE", url, { token: bob.accessToken }), 404, "chat.not_found");
    expectError(await api("DELETE", `/api/v1/messages/${msg}`, { token: bob.accessToken }), 404, "message.not_found");
    expect((await api("GET", "/api/v1/chats", { token: bob.accessToken })).json.chats).toEqual([]);
    expect((await api("GET", url, { token: alice.accessToken })).json.chat.title).toBe("Secret");
  });
});

describe("chats: messages, votes, export", () => {
  it("pages messages in order, votes, deletes a message", async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const chat = await createChat(alice.accessToken, { title: "Votes", visibility: "public" });
    const q = await addMessage(chat.id, "user", "What is RAG?");
    const a = await addMessage(chat.id, "assistant", "Retrieval-augmented generation [1].", {
      provider: "local", model: "edgechat-extractive-v1", citations: [1],
      sources: [{ n: 1, title: "RAG notes", documentId: "rag" }],
    });
    for (let i = 0; i < 3; i++) await addMessage(chat.id, "user", `more ${i}`);

    const p1 = await api("GET", `/api/v1/chats/${chat.id}/messages?limit=2`, { token: alice.accessToken });
    expect(p1.status, p1.text).toBe(200);
    expect(p1.json.messages.map((m) => m.id)).toEqual([q, a]);
    expect(p1.json.messages[1]).toMatchObject({
      role: "assistant", seq: 2, provider: "local", model: "edgechat-extractive-v1", status: "complete",
      citations: [1], sources: [{ n: 1, title: "RAG notes", documentId: "rag" }],
      votes: { up: 0, down: 0, mine: null }, chatId: chat.id,
    });
    const p2 = await api("GET", `/api/v1/chats/${chat.id}/messages?limit=2&cursor=${p1.json.nextCursor}`, { token: alice.accessToken });
    expect(p2.json.messages.map((m) => m.content)).toEqual(["more 0", "more 1"]);
    const p3 = await api("GET", `/api/v1/chats/${chat.id}/messages?limit=2&cursor=${p2.json.nextCursor}`, { token: alice.accessToken });
    expect(p3.json.messages.map((m) => m.content)).toEqual(["more 2"]);
    expect(p3.json.nextCursor).toBeNull();

    const vote = `/api/v1/messages/${a}/vote`;
    let r = await api("POST", vote, { token: alice.accessToken, body: { value: "up" } });
    expect(r.status, r.text).toBe(200);
    expect(r.json.message.votes).toEqual({ up: 1, down: 0, mine: "up" });
    r = await api("POST", vote, { token: alice.accessToken, body: { vote: "down" } });
    expect(r.json.message.votes).toEqual({ up: 0, down: 1, mine: "down" });
    r = await api("POST", vote, { token: bob.accessToken, body: { value: -1 } });
    expect(r.json.message.votes).toEqual({ up: 0, down: 2, mine: "down" });
    r = await api("POST", vote, { token: bob.accessToken, body: { value: 1 } });
    expect(r.json.message.votes).toEqual({ up: 1, down: 1, mine: "up" });
    const aliceView = await api("GET", `/api/v1/chats/${chat.id}/messages?limit=2`, { token: alice.accessToken });
    expect(aliceView.json.messages[1].votes).toEqual({ up: 1, down: 1, mine: "down" });
    for (const body of [{ value: "sideways" }, { value: 0 }, {}, { value: null }, { vote: [1] }]) {
      const bad = expectError(await api("POST", vote, { token: alice.accessToken, body }), 400, "validation.failed");
      expect(Object.keys(bad.fields ?? {}).length).toBe(1);
    }

    const del = await api("DELETE", `/api/v1/messages/${q}`, { token: alice.accessToken });
    expect(del.status).toBe(204);
    expectError(await api("DELETE", `/api/v1/messages/${q}`, { token: alice.accessToken }), 404, "message.not_found");
    const after = await api("GET", `/api/v1/chats/${chat.id}`, { token: alice.accessToken });
    expect(after.json.chat.messageCount).toBe(4);

    // Deleting the chat takes its messages and votes with it.
    expect((await api("DELETE", `/api/v1/chats/${chat.id}`, { token: alice.accessToken })).status).toBe(204);
    const left = await env.DB.batch([
      env.DB.prepare("SELECT COUNT(*) AS n FROM messages WHERE chat_id = ?").bind(chat.id),
      env.DB.prepare("SELECT COUNT(*) AS n FROM message_votes WHERE message_id = ?").bind(a),
    ]);
    expect(left.map((x) => x.results[0].n)).toEqual([0, 0]);
  });

  it("exports JSON and a Markdown transcript", async () => {
    const u = await registerUser();
    const t = u.accessToken;
    const chat = await createChat(t, { title: "Bread" });
    await addMessage(chat.id, "user", "How long do I proof?\n# not a heading\n```");
    await addMessage(chat.id, "assistant", "About eight hours [1].", {
      provider: "local", model: "edgechat-extractive-v1",
      sources: [{ n: 1, title: "Sourdough guide", documentId: "kitchen" }],
    });

    const js = await api("GET", `/api/v1/chats/${chat.id}/export?format=json`, { token: t });
    expect(js.status, js.text).toBe(200);
    expect(js.json.chat).toMatchObject({ id: chat.id, title: "Bread", messageCount: 2 });
    expect(js.json.messages.map((m) => m.role)).toEqual(["user", "assistant"]);
    const dflt = await api("GET", `/api/v1/chats/${chat.id}/export`, { token: t });
    expect(dflt.json).toEqual(js.json);

    const md = await api("GET", `/api/v1/chats/${chat.id}/export?format=markdown`, { token: t });
    expect(md.status).toBe(200);
    expect(md.headers.get("content-type")).toBe("text/markdown; charset=utf-8");
    expect(md.headers.get("content-disposition")).toContain(`attachment; filename="chat-${chat.id}.md"`);
    expect(md.text.startsWith("# Bread\n")).toBe(true);
    expect(md.text).toContain("\n## User\n");
    expect(md.text).toContain("> How long do I proof?\n> # not a heading\n> ```\n");
    expect(md.text).toContain("\n## Assistant (local/edgechat-extractive-v1)\n");
    expect(md.text).toContain("1. Sourdough guide (`kitchen`)");
    expect(md.text.match(/^## /gm)).toHaveLength(2);

    expectError(await api("GET", `/api/v1/chats/${chat.id}/export?format=pdf`, { token: t }), 400, "validation.failed");
  });
});

describe("chats: auth and bad input", () => {
  it("needs a token on every route", async () => {
    const routes = [
      ["GET", "/api/v1/chats"], ["POST", "/api/v1/chats"], ["GET", "/api/v1/chats/cht_x"],
      ["PATCH", "/api/v1/chats/cht_x"], ["DELETE", "/api/v1/chats/cht_x"],
      ["GET", "/api/v1/chats/cht_x/export"], ["GET", "/api/v1/chats/cht_x/messages"],
      ["DELETE", "/api/v1/messages/msg_x"], ["POST", "/api/v1/messages/msg_x/vote"],
    ];
    for (const [method, path] of routes) {
      const body = method === "POST" || method === "PATCH" ? { value: "up" } : undefined;
      expectError(await api(method, path, { body }), 401, "auth.missing_token");
    }
  });

  it("answers bad bodies and queries with 400 and the field", async () => {
    const u = await registerUser();
    const t = u.accessToken;
    const chat = await createChat(t);
    const cases = [
      ["POST", "/api/v1/chats", { title: "x".repeat(201) }, "title"],
      ["POST", "/api/v1/chats", { title: 42 }, "title"],
      ["POST", "/api/v1/chats", { visibility: "everyone" }, "visibility"],
      ["PATCH", `/api/v1/chats/${chat.id}`, { visibility: "secret" }, "visibility"],
      ["PATCH", `/api/v1/chats/${chat.id}`, { titel: "typo" }, "titel"],
      ["PATCH", `/api/v1/chats/${chat.id}`, { title: "y".repeat(5000) }, "title"],
      ["GET", "/api/v1/chats?limit=0", undefined, "limit"],
      ["GET", "/api/v1/chats?limit=101", undefined, "limit"],
      ["GET", "/api/v1/chats?cursor=not-a-cursor", undefined, "cursor"],
      ["GET", `/api/v1/chats/${chat.id}/messages?limit=500`, undefined, "limit"],
      ["GET", `/api/v1/chats/${chat.id}/messages?cursor=${btoa("1.a'b")}`, undefined, "cursor"],
    ];
    for (const [method, path, body, field] of cases) {
      const e = expectError(await api(method, path, { token: t, body }), 400, "validation.failed");
      expect(e.fields, `${method} ${path}`).toHaveProperty(field);
    }
    expectError(await api("POST", "/api/v1/chats", { token: t, body: [1, 2] }), 400, "validation.body_not_object");
    expectError(await api("POST", "/api/v1/chats", {
      token: t, body: "{oops", headers: { "content-type": "application/json" },
    }), 400, "http.invalid_json");
    // Nothing was created by the refused requests.
    expect((await api("GET", "/api/v1/chats", { token: t })).json.chats).toHaveLength(1);
  });
});
