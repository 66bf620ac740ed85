// Chat answers end to end through the real Worker: retrieval over real D1, the prompt built in the
// core, every provider reached through a fake that speaks its real wire format (fakes/), the SSE
// event stream parsed with eventsource-parser, the stored messages, fallback, cancellation, resume
// from the Durable Object log, edits, the OpenAI-compatible endpoint through the official openai
// SDK, the seed routes, and the Langfuse trace.
import { env, SELF } from "cloudflare:test";
import { createParser } from "eventsource-parser";
import OpenAI from "openai";
import { describe, expect, it } from "vitest";
import { api, BASE, expectError, registerUser } from "./helpers.js";

const FAKE = env.FAKE_PROVIDER_URL;
let counter = 0;
const model = (base, suffix = "") => `${base}-c${Date.now().toString(36)}${++counter}${suffix}`;

const DOC = "# Solar panels\n\nThe rooftop array has 24 panels and produces 9.6 kW at noon. " +
  "Panels are cleaned every spring by the maintenance crew.\n\n# Garden\n\n" +
  "The garden grows tomatoes, basil and three kinds of peppers.";

async function parse(body, stopWhen) {
  const out = [];
  const parser = createParser({ onEvent: (e) => out.push(e) });
  const decoder = new TextDecoder();
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parser.feed(decoder.decode(value, { stream: true }));
    if (stopWhen && stopWhen(out)) {
      await reader.cancel();
      break;
    }
  }
  return out.map((e) => ({ event: e.event, id: e.id, data: JSON.parse(e.data) }));
}

async function ask(token, chatId, body, init = {}) {
  return SELF.fetch(`${BASE}/api/v1/chats/${chatId}/messages`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
    ...init,
  });
}

async function setup() {
  const u = await registerUser();
  const t = u.accessToken;
  const doc = await api("POST", "/api/v1/documents", { token: t, body: { title: "House notes", content: DOC } });
  expect(doc.status, doc.text).toBe(201);
  const chat = await api("POST", "/api/v1/chats", { token: t, body: {} });
  expect(chat.status).toBe(201);
  return { t, chatId: chat.json.chat.id, docId: doc.json.document.id };
}

const text = (evs) => evs.filter((e) => e.event === "delta").map((e) => e.data.text).join("");
const last = (evs) => evs[evs.length - 1];

async function until(check, what) {
  for (let i = 0; i < 200; i++) {
    const v = await check();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe("chat: a RAG conversation", () => {
  it("streams start, sources, deltas, usage and done, cites its sources and stores both messages", async () => {
    const { t, chatId, docId } = await setup();
    const res = await ask(t, chatId, { content: "How many panels are on the roof?", provider: "local" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect(res.headers.get("content-encoding")).toBe("identity");
    const evs = await parse(res.body);
    expect(evs.map((e) => e.event)).toEqual(["start", "sources", ...evs.slice(2, -2).map(() => "delta"), "usage", "done"]);
    evs.forEach((e, i) => expect(e.id).toBe(String(i + 1)));
    const [start, sources] = evs;
    expect(start.data).toMatchObject({ chatId, streamId: expect.stringMatching(/^str_/) });
    expect(sources.data.sources[0]).toMatchObject({ n: 1, documentId: docId, title: "House notes" });
    const answer = text(evs);
    expect(answer).toContain("24 panels");
    expect(answer).toMatch(/\[1\]/);
    const done = last(evs).data;
    expect(done).toMatchObject({ status: "complete", provider: "local", model: "edgechat-extractive-v1", citations: [1] });

    const msgs = await api("GET", `/api/v1/chats/${chatId}/messages`, { token: t });
    expect(msgs.status).toBe(200);
    const [q, a] = msgs.json.messages;
    expect(q).toMatchObject({ role: "user", content: "How many panels are on the roof?" });
    expect(a).toMatchObject({ id: done.messageId, role: "assistant", content: answer, status: "complete",
      provider: "local", citations: [1], replyTo: q.id });
    expect(a.sources[0].documentId).toBe(docId);
    // The first question named the chat.
    const chat = await api("GET", `/api/v1/chats/${chatId}`, { token: t });
    expect(chat.json.chat.title).toBe("How many panels are on the roof?");
  });

  it("sends the history and the numbered sources to the provider, and its usage comes back", async () => {
    const { t, chatId } = await setup();
    await parse((await ask(t, chatId, { content: "What grows in the garden?", provider: "local" })).body);
    const m = model("gpt-hist");
    const evs = await parse((await ask(t, chatId, { content: "Which peppers?", provider: "openai", model: m })).body);
    expect(last(evs).data).toMatchObject({ status: "complete", provider: "openai", model: m });
    expect(text(evs)).toContain("According to the sources");
    const usage = evs.find((e) => e.event === "usage").data;
    expect(usage.estimated).toBe(false);
    expect(usage.tokensIn).toBeGreaterThan(10);
    const [req] = await (await fetch(`${FAKE}/__requests?model=${m}`)).json();
    expect(req.auth).toBe("Bearer test-openai-key");
    const sent = req.body.messages;
    expect(sent[0].role).toBe("system");
    expect(sent.map((x) => x.role)).toEqual(["system", "user", "assistant", "user"]);
    expect(sent[1].content).toBe("What grows in the garden?");
    expect(sent[3].content).toContain("<sources>");
    expect(sent[3].content).toContain("[1] House notes");
    expect(sent[3].content).toMatch(/Which peppers\?$/);
  });
});

describe("chat: providers through their fakes", () => {
  for (const [provider, base] of [["openai", "gpt"], ["google", "gemini"], ["openai-compatible", "llama"], ["workers-ai", "@cf/meta/llama"]]) {
    it(`${provider}: streamed, normalised, usage reported`, async () => {
      const { t, chatId } = await setup();
      const m = model(base);
      const evs = await parse((await ask(t, chatId, { content: "Tell me about the café garden", provider, model: m, useDocuments: false })).body);
      expect(last(evs).event, JSON.stringify(last(evs))).toBe("done");
      expect(last(evs).data).toMatchObject({ provider, model: m, finishReason: "stop" });
      expect(text(evs)).toBe("According to the sources, Tell me about the café garden — voilà [1].");
      expect(evs.find((e) => e.event === "usage").data.tokensOut).toBeGreaterThan(0);
    });
  }

  it("a per-request API key is used for that call only and never stored", async () => {
    const { t, chatId } = await setup();
    const m = model("gpt-key");
    const evs = await parse((await ask(t, chatId, { content: "hello", provider: "openai", model: m, apiKey: "sk-test-mine", useDocuments: false })).body);
    expect(last(evs).event).toBe("done");
    const [req] = await (await fetch(`${FAKE}/__requests?model=${m}`)).json();
    expect(req.auth).toBe("Bearer sk-test-mine");
    const rows = await env.DB.prepare("SELECT * FROM messages WHERE chat_id = ?").bind(chatId).all();
    expect(JSON.stringify(rows.results)).not.toContain("sk-test-mine");
  });
});

describe("chat: failures", () => {
  it("falls back to the next provider when one fails before its first token", async () => {
    const { t, chatId } = await setup();
    const m = model("gpt", "-fail-500");
    const evs = await parse((await ask(t, chatId, { content: "How many panels?", provider: "openai", model: m })).body);
    const done = last(evs).data;
    expect(last(evs).event).toBe("done");
    expect(done.provider).not.toBe("openai");
    expect(done.attempts[0]).toMatchObject({ provider: "openai", model: m, outcome: "provider.error" });
    expect(done.attempts.at(-1).outcome).toBe("ok");
  });

  it("without fallback, a failing provider ends the stream with an error and a stored error message", async () => {
    const { t, chatId } = await setup();
    const evs = await parse((await ask(t, chatId, { content: "hi", provider: "openai", model: model("gpt", "-fail-429"), fallback: false })).body);
    expect(last(evs).event).toBe("error");
    expect(last(evs).data).toMatchObject({ code: "provider.error", partial: false });
    const msgs = await api("GET", `/api/v1/chats/${chatId}/messages`, { token: t });
    expect(msgs.json.messages[1]).toMatchObject({ role: "assistant", status: "error" });
  });

  it("an error mid-stream ends with an error event and a stored partial answer", async () => {
    const { t, chatId } = await setup();
    const evs = await parse((await ask(t, chatId, { content: "Tell me everything now", provider: "openai", model: model("gpt", "-fail-midstream") })).body);
    expect(last(evs).event).toBe("error");
    expect(last(evs).data.partial).toBe(true);
    const partial = text(evs);
    expect(partial.length).toBeGreaterThan(0);
    const msgs = await api("GET", `/api/v1/chats/${chatId}/messages`, { token: t });
    expect(msgs.json.messages[1]).toMatchObject({ status: "partial", content: partial, provider: "openai" });
  });

  it("a client that disconnects cancels the upstream call; the partial answer is stored", async () => {
    const { t, chatId } = await setup();
    const m = model("gpt", "-slow");
    const res = await ask(t, chatId, { content: "Tell me a long story", provider: "openai", model: m, resumable: false, useDocuments: false });
    await parse(res.body, (evs) => evs.filter((e) => e.event === "delta").length >= 2);
    await until(async () => (await (await fetch(`${FAKE}/__stats?model=${m}`)).json()).aborted >= 1, "the upstream abort");
    const msg = await until(async () => {
      const r = await api("GET", `/api/v1/chats/${chatId}/messages`, { token: t });
      return r.json.messages[1];
    }, "the stored partial answer");
    expect(msg).toMatchObject({ status: "partial", error: "http.client_gone" });
  });

  it("rejects bad requests before storing anything", async () => {
    const { t, chatId } = await setup();
    expectError(await api("POST", `/api/v1/chats/${chatId}/messages`, { token: t, body: { content: "  " } }), 400, "validation.failed");
    expectError(await api("POST", `/api/v1/chats/${chatId}/messages`, { token: t, body: { content: "x", provider: "nope" } }), 400, "chat.unknown_provider");
    expectError(await api("POST", `/api/v1/chats/${chatId}/messages`, { token: t, body: { content: "x", maxTokens: -1 } }), 400, "validation.failed");
    expectError(await api("POST", `/api/v1/chats/${chatId}/messages`, { token: t, body: "not json", headers: { "content-type": "application/json" } }), 400, "http.invalid_json");
    expectError(await api("POST", `/api/v1/chats/${chatId}/messages`, { body: { content: "x" } }), 401, "auth.missing_token");
    const other = await registerUser();
    expectError(await api("POST", `/api/v1/chats/${chatId}/messages`, { token: other.accessToken, body: { content: "x" } }), 404, "chat.not_found");
    const msgs = await api("GET", `/api/v1/chats/${chatId}/messages`, { token: t });
    expect(msgs.json.messages).toEqual([]);
  });
});

describe("chat: resumable streams", () => {
  it("a dropped connection resumes with Last-Event-ID: the missed events, then the rest", async () => {
    const { t, chatId } = await setup();
    const m = model("gpt", "-slow");
    const first = await parse((await ask(t, chatId, { content: "Tell me a long story", provider: "openai", model: m, useDocuments: false, maxTokens: 12 })).body,
      (evs) => evs.filter((e) => e.event === "delta").length >= 2);
    const streamId = first[0].data.streamId;
    const seen = Number(last(first).id);
    const res = await SELF.fetch(`${BASE}/api/v1/streams/${streamId}`, {
      headers: { authorization: `Bearer ${t}`, "last-event-id": String(seen) },
    });
    expect(res.status).toBe(200);
    const rest = await parse(res.body);
    expect(Number(rest[0].id)).toBe(seen + 1);
    rest.forEach((e, i) => expect(Number(e.id)).toBe(seen + 1 + i));
    expect(last(rest).event).toBe("done");
    expect(last(rest).data.finishReason).toBe("length");
    const full = text(first) + text(rest);
    const msgs = await api("GET", `/api/v1/chats/${chatId}/messages`, { token: t });
    expect(msgs.json.messages[1]).toMatchObject({ status: "complete", content: full, streamId });
    // Someone else's stream is not found; a finished one replays whole.
    const other = await registerUser();
    expectError(await api("GET", `/api/v1/streams/${streamId}`, { token: other.accessToken }), 404, "stream.not_found");
    const again = await parse((await SELF.fetch(`${BASE}/api/v1/streams/${streamId}`, { headers: { authorization: `Bearer ${t}` } })).body);
    expect(text(again)).toBe(full);
  });

  it("seed 004's client streams: create, append, follow, close", async () => {
    const { t } = await setup();
    const created = await api("POST", "/api/v1/streams", { token: t, body: {} });
    expect(created.status).toBe(201);
    const id = created.json.stream.id;
    expect((await api("POST", `/api/v1/streams/${id}/append`, { token: t, body: { event: "note", data: { a: 1 } } })).json).toMatchObject({ length: 1 });
    expect((await api("POST", `/api/v1/streams/${id}/append`, { token: t, body: { events: [{ data: "two" }, { event: "note", data: { b: 3 } }] } })).json.length).toBe(3);
    expectError(await api("POST", `/api/v1/streams/${id}/append`, { token: t, body: { events: [] } }), 400, "validation.failed");
    expect((await api("DELETE", `/api/v1/streams/${id}`, { token: t })).status).toBe(204);
    const evs = [];
    const parser = createParser({ onEvent: (e) => evs.push(e) });
    parser.feed(await (await SELF.fetch(`${BASE}/api/v1/streams/${id}?lastEventId=1`, { headers: { authorization: `Bearer ${t}` } })).text());
    expect(evs.map((e) => [e.id, e.event, e.data])).toEqual([["2", "message", "two"], ["3", "note", '{"b":3}']]);
    expectError(await api("POST", `/api/v1/streams/${id}/append`, { token: t, body: { data: 1 } }), 409, "stream.closed");
    expectError(await api("GET", `/api/v1/streams/${id}?lastEventId=abc`, { token: t }), 400, "validation.failed");
  });
});

describe("chat: edits, votes and export", () => {
  it("editing a question drops the later messages and streams a new answer", async () => {
    const { t, chatId } = await setup();
    await parse((await ask(t, chatId, { content: "What grows in the garden?", provider: "local" })).body);
    await parse((await ask(t, chatId, { content: "And on the roof?", provider: "local" })).body);
    let msgs = (await api("GET", `/api/v1/chats/${chatId}/messages`, { token: t })).json.messages;
    expect(msgs).toHaveLength(4);
    const res = await SELF.fetch(`${BASE}/api/v1/messages/${msgs[0].id}`, {
      method: "PATCH", headers: { "content-type": "application/json", authorization: `Bearer ${t}` },
      body: JSON.stringify({ content: "How often are the panels cleaned?", provider: "local" }),
    });
    const evs = await parse(res.body);
    expect(last(evs).event).toBe("done");
    expect(text(evs)).toContain("spring");
    msgs = (await api("GET", `/api/v1/chats/${chatId}/messages`, { token: t })).json.messages;
    expect(msgs.map((m) => m.role)).toEqual(["user", "assistant"]);
    expect(msgs[0].content).toBe("How often are the panels cleaned?");
    expect(msgs[1].replyTo).toBe(msgs[0].id);
    // An answer cannot be edited.
    expectError(await api("PATCH", `/api/v1/messages/${msgs[1].id}`, { token: t, body: { content: "x", provider: "local" } }), 409, "message.not_editable");
    // Votes and the Markdown export see the new answer.
    const up = await api("POST", `/api/v1/messages/${msgs[1].id}/vote`, { token: t, body: { value: "up" } });
    expect(up.json.message.votes).toMatchObject({ up: 1, mine: "up" });
    const md = await api("GET", `/api/v1/chats/${chatId}/export?format=markdown`, { token: t });
    expect(md.text).toContain("spring");
  });
});

describe("OpenAI-compatible endpoint", () => {
  const client = (apiKey) => new OpenAI({ apiKey, baseURL: `${BASE}/v1`, fetch: (url, init) => SELF.fetch(url, init) });

  it("the official openai SDK reads completions, streams and the model list", async () => {
    const u = await registerUser();
    const keyRes = await api("POST", "/api/v1/api-keys", { token: u.accessToken, body: { name: "sdk" } });
    expect(keyRes.status, keyRes.text).toBe(201);
    const c = client(keyRes.json.apiKey.key);
    const m = model("gpt");
    const done = await c.chat.completions.create({ model: `openai/${m}`, messages: [{ role: "user", content: "Say hi about llamas" }] });
    expect(done.object).toBe("chat.completion");
    expect(done.choices[0].message.content).toContain("According to the sources");
    expect(done.usage.total_tokens).toBeGreaterThan(0);

    const stream = await c.chat.completions.create({ model: "local", messages: [{ role: "user", content: "hi" }], stream: true, stream_options: { include_usage: true } });
    let streamed = "";
    let usage = null;
    for await (const chunk of stream) {
      streamed += chunk.choices[0]?.delta?.content ?? "";
      if (chunk.usage) usage = chunk.usage;
    }
    expect(streamed.length).toBeGreaterThan(0);
    expect(usage.total_tokens).toBeGreaterThan(0);

    const models = await c.models.list();
    const ids = [];
    for await (const mm of models) ids.push(mm.id);
    expect(ids).toContain("edgechat-extractive-v1");

    await expect(c.chat.completions.create({ model: "local", messages: [] })).rejects.toBeInstanceOf(OpenAI.BadRequestError);
    await expect(client("ec_nope").chat.completions.create({ model: "local", messages: [{ role: "user", content: "x" }] }))
      .rejects.toBeInstanceOf(OpenAI.AuthenticationError);
  });

  it("RAG through the edgechat extension field", async () => {
    const { t } = await setup();
    const r = await api("POST", "/v1/chat/completions", { token: t, body: {
      model: "local", messages: [{ role: "user", content: "How many panels are on the roof?" }], edgechat: { rag: true },
    } });
    expect(r.status, r.text).toBe(200);
    expect(r.json.choices[0].message.content).toContain("24 panels");
    expect(r.headers.get("x-provider")).toBe("local");
  });
});

describe("seed chat routes", () => {
  it("seed 000: POST /api/chat {query} answers in JSON and keeps the session", async () => {
    const { t } = await setup();
    const r = await api("POST", "/api/chat", { token: t, body: { query: "How many panels are on the roof?", provider: "openai", model: model("gpt") } });
    expect(r.status, r.text).toBe(200);
    expect(r.json.success).toBe(true);
    expect(r.json.data).toMatchObject({ provider: "openai", status: "complete" });
    expect(r.json.data.sources.length).toBeGreaterThan(0);
    const again = await api("POST", "/api/chat", { token: t, body: { query: "Thanks", sessionId: r.json.data.sessionId, provider: "local" } });
    expect(again.json.data.sessionId).toBe(r.json.data.sessionId);
    const hist = await api("GET", `/api/chat/history/${r.json.data.sessionId}`, { token: t });
    expect(hist.json.data.messages).toHaveLength(4);
    const bad = await api("POST", "/api/chat", { token: t, body: { query: "" } });
    expect(bad.status).toBe(400);
    expect(typeof bad.json.error).toBe("string");
  });

  it("seed 001: POST /api/chat {message} streams, anonymously too", async () => {
    const res = await SELF.fetch(`${BASE}/api/chat`, { method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ message: "hello there", widgetId: "w1", isEmbedded: true, sessionId: "visitor-1", provider: "local" }) });
    expect(res.status).toBe(200);
    const evs = await parse(res.body);
    expect(last(evs).event).toBe("done");
    expect(evs[0].data.streamId).toBeNull(); // anonymous: not resumable
  });

  it("seed 003: /api/si/ask, /api/ai/binding, /api/ai/test", async () => {
    const { t } = await setup();
    const ask3 = await api("POST", "/api/si/ask", { token: t, body: { prompt: "Say hi", provider: "google", model: model("gemini") } });
    expect(ask3.status, ask3.text).toBe(200);
    expect(ask3.json).toMatchObject({ provider: "google", status: "complete" });
    expect(ask3.headers.get("x-provider")).toBe("google");
    expect(Number(ask3.headers.get("x-tokens-out"))).toBeGreaterThan(0);
    // A validation error names the field the route takes: `prompt` (not the chat routes' `message`).
    const noPrompt = await api("POST", "/api/si/ask", { token: t, body: { provider: "local" } });
    expect(expectError(noPrompt, 400, "validation.failed").fields).toEqual({ prompt: expect.any(String) });
    const b = await api("GET", "/api/ai/binding", { token: t });
    expect(b.json.binding).toBe(true);
    expect(b.json.providers.map((p) => p.provider)).toContain("local");
    expect(JSON.stringify(b.json)).not.toContain("test-openai-key");
    const ok = await api("POST", "/api/ai/test", { token: t, body: { provider: "local" } });
    expect(ok.json).toMatchObject({ ok: true, provider: "local" });
    const failing = await api("POST", "/api/ai/test", { token: t, body: { provider: "openai", model: model("gpt", "-fail-500") } });
    expect(failing.json.ok).toBe(false);
  });
});

describe("observability", () => {
  it("sends a Langfuse trace for an answer", async () => {
    const { t, chatId } = await setup();
    const evs = await parse((await ask(t, chatId, { content: "Which peppers grow?", provider: "local" })).body);
    const id = last(evs).data.messageId;
    const batch = await until(async () => {
      const all = await (await fetch(`${FAKE}/__langfuse`)).json();
      return all.flatMap((b) => b.batch ?? b.body?.batch ?? []).find((e) => e.type === "trace-create" && e.body.id === id);
    }, "the trace");
    expect(batch.body).toMatchObject({ name: "chat", input: "Which peppers grow?", sessionId: chatId });
  });
});

describe("chat: memory and training data", () => {
  it("a memory stream's goal reaches the prompt, each turn adds two frames, and the chat remembers it", async () => {
    const { t, chatId } = await setup();
    const mem = await api("POST", "/api/v1/memory/streams", { token: t, body: { streamId: "house-agent", goal: "Keep the house running smoothly" } });
    expect(mem.status, mem.text).toBe(201);
    const m1 = model("gpt-mem");
    const evs = await parse((await ask(t, chatId, { content: "What grows in the garden?", provider: "openai", model: m1, memoryStreamId: "house-agent" })).body);
    expect(last(evs).event).toBe("done");
    const [req1] = await (await fetch(`${FAKE}/__requests?model=${m1}`)).json();
    expect(req1.body.messages[0].content).toContain("Goal: Keep the house running smoothly");
    const frames = await api("GET", "/api/v1/memory/streams/house-agent/frames", { token: t });
    expect(frames.json.frames.map((f) => f.role)).toEqual(["user", "assistant"]);
    // The next turn names no stream: the chat's is used, and its frames are in the summary.
    const m2 = model("gpt-mem");
    await parse((await ask(t, chatId, { content: "And on the roof?", provider: "openai", model: m2 })).body);
    const [req2] = await (await fetch(`${FAKE}/__requests?model=${m2}`)).json();
    expect(req2.body.messages[0].content).toContain("What grows in the garden?");
    expectError(await api("POST", `/api/v1/chats/${chatId}/messages`, { token: t, body: { content: "x", memoryStreamId: "nope" } }), 404, "memory.not_found");
  });

  it("recordTraining stores the exact prompt and answer, exported as fine-tuning JSONL", async () => {
    const { t, chatId } = await setup();
    const evs = await parse((await ask(t, chatId, { content: "How many panels are on the roof?", provider: "local", recordTraining: true })).body);
    expect(last(evs).event).toBe("done");
    const out = await api("GET", "/api/v1/training-examples/export", { token: t });
    expect(out.status).toBe(200);
    const lines = out.text.trim().split("\n").map((l) => JSON.parse(l));
    expect(lines).toHaveLength(1);
    const msgs = lines[0].messages;
    expect(msgs[0].role).toBe("system");
    expect(msgs.at(-2).content).toContain("How many panels are on the roof?");
    expect(msgs.at(-1)).toEqual({ role: "assistant", content: text(evs) });
  });
});
