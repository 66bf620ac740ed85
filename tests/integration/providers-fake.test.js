// The provider fakes themselves (fakes/provider-server.js, fakes/fake-ai-worker.js): that they speak
// the real wire formats, behave as their model-name suffixes say, and reach the Worker the way the
// real providers will — over fetch.start/fetch.read (the /__test/relay hook) and, for Workers AI,
// over the AI service binding and the ai.stream effect. Every test uses its own model names, since
// all test files share one fake server.
import { env, SELF } from "cloudflare:test";
import { createParser } from "eventsource-parser";
import { describe, expect, it } from "vitest";
import { fakeEmbedding } from "./fakes/ai-bindings.js";
import { answerText, PARTIAL_CHUNKS, promptTokens, SLOW_CHUNKS } from "./fakes/answers.js";
import { BASE } from "./helpers.js";

const FAKE = env.FAKE_PROVIDER_URL;
const QUESTION = "What does the café say about llamas and their wool today?";
const ANSWER = answerText(QUESTION); // "According to the sources, What does the café say about llamas — voilà [1]."
const SYSTEM = "Answer from the sources only.";
const MESSAGES = [{ role: "system", content: SYSTEM }, { role: "user", content: QUESTION }];
const PROMPT_TOKENS = promptTokens([SYSTEM, QUESTION]);
const CHUNKS = ANSWER.match(/\S+\s*/g).length;

let counter = 0;
const model = (base, suffix = "") => `${base}-t${Date.now().toString(36)}${++counter}${suffix}`;

async function events(body) {
  const out = [];
  const parser = createParser({ onEvent: (e) => out.push(e) });
  const decoder = new TextDecoder();
  for await (const chunk of body) parser.feed(decoder.decode(chunk, { stream: true }));
  return out;
}

/** The Worker relays an upstream SSE stream: each upstream event's data as an event "delta". */
async function relay(spec, init = {}) {
  return SELF.fetch(`${BASE}/__test/relay`, {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(spec), ...init,
  });
}

async function relayed(spec) {
  const res = await relay(spec);
  expect(res.status).toBe(200);
  return events(res.body);
}

const deltas = (evs) => evs.filter((e) => e.event === "delta").map((e) => e.data);
const post = (path, body, headers = {}) => fetch(`${FAKE}${path}`, {
  method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body),
});
const requestsFor = async (m) => (await fetch(`${FAKE}/__requests?model=${encodeURIComponent(m)}`)).json();
const statsFor = async (m) => (await fetch(`${FAKE}/__stats?model=${encodeURIComponent(m)}`)).json();

async function until(check, what) {
  for (let i = 0; i < 100; i++) {
    const v = await check();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const openAiSpec = (m, extra = {}, key = env.OPENAI_API_KEY) => ({
  url: `${env.OPENAI_API_BASE_URL}/v1/chat/completions`, method: "POST",
  headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
  body: { model: m, messages: MESSAGES, stream: true, stream_options: { include_usage: true }, ...extra },
});

const geminiSpec = (m, extra = {}, stream = true) => ({
  url: `${env.GEMINI_BASE_URL}/v1beta/models/${m}:${stream ? "streamGenerateContent?alt=sse" : "generateContent"}`,
  method: "POST",
  headers: { "content-type": "application/json", "x-goog-api-key": env.GEMINI_API_KEY },
  body: {
    contents: [{ role: "user", parts: [{ text: QUESTION }] }],
    systemInstruction: { parts: [{ text: SYSTEM }] },
    ...extra,
  },
});

describe("the suite's provider settings", () => {
  it("point every provider at the fakes, AI included, with the offline embedder kept", () => {
    expect(env.OPENAI_API_BASE_URL).toBe(FAKE);
    expect(env.OPENAI_BASE_URL).toBe(`${FAKE}/compat/v1`);
    expect(env.GEMINI_BASE_URL).toBe(FAKE);
    expect(env.LANGFUSE_BASE_URL).toBe(FAKE);
    expect(env.OPENAI_API_KEY).toBe("test-openai-key");
    expect(env.GEMINI_API_KEY).toBe("test-gemini-key");
    expect([env.EMBEDDINGS, env.LLM_TASKS]).toEqual(["local", "local"]);
    expect(typeof env.AI.run).toBe("function");
  });
});

describe("fake OpenAI (through the Worker's fetch.start / fetch.read)", () => {
  it("streams chat.completion.chunk events, a usage chunk with no choices, then [DONE]", async () => {
    const m = model("gpt-4o-mini");
    const evs = await relayed(openAiSpec(m));
    const data = deltas(evs);
    expect(data.at(-1)).toBe("[DONE]");
    expect(evs.at(-1).event).toBe("done");
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d));
    for (const c of chunks) {
      expect(c).toMatchObject({ id: chunks[0].id, object: "chat.completion.chunk", model: m });
    }
    expect(chunks[0].choices[0].delta).toEqual({ role: "assistant", content: "", refusal: null });
    const text = chunks.flatMap((c) => c.choices.map((ch) => ch.delta.content ?? "")).join("");
    expect(text).toBe(ANSWER); // multi-byte characters survived the awkward network splits
    // Every chunk but the last carries usage: null; the last has choices [] and the totals.
    expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true);
    const finish = chunks.at(-2);
    expect(finish.choices).toEqual([{ index: 0, delta: {}, logprobs: null, finish_reason: "stop" }]);
    const usage = chunks.at(-1);
    expect(usage.choices).toEqual([]);
    expect(usage.usage).toMatchObject({ prompt_tokens: PROMPT_TOKENS, completion_tokens: CHUNKS, total_tokens: PROMPT_TOKENS + CHUNKS });

    const [req] = await requestsFor(m);
    expect(req).toMatchObject({ provider: "openai", path: "/v1/chat/completions", auth: "Bearer test-openai-key" });
    expect(req.body.stream_options).toEqual({ include_usage: true });
    expect(await statsFor(m)).toEqual({ started: 1, completed: 1, aborted: 0, dropped: 0 });
  });

  it("without include_usage chunks carry no usage; max_tokens cuts the answer with finish_reason length", async () => {
    const m = model("gpt-4o-mini");
    const spec = openAiSpec(m, { stream_options: undefined, max_tokens: 3 });
    const chunks = deltas(await relayed(spec)).slice(0, -1).map((d) => JSON.parse(d));
    expect(chunks.every((c) => !("usage" in c))).toBe(true);
    expect(chunks.map((c) => c.choices[0].delta.content ?? "").join("")).toBe("According to the ");
    expect(chunks.at(-1).choices[0].finish_reason).toBe("length");
  });

  it("answers a non-streamed request with a chat.completion object", async () => {
    const m = model("gpt-4o-mini");
    const r = await post("/v1/chat/completions", { model: m, messages: MESSAGES }, { authorization: "Bearer test-openai-key" });
    expect(r.status).toBe(200);
    const body = await r.json();
    expect(body).toMatchObject({
      object: "chat.completion", model: m,
      choices: [{ index: 0, message: { role: "assistant", content: ANSWER }, finish_reason: "stop" }],
      usage: { prompt_tokens: PROMPT_TOKENS, completion_tokens: CHUNKS, total_tokens: PROMPT_TOKENS + CHUNKS },
    });
  });

  it("refuses a wrong or missing key with OpenAI's 401; accepts per-request sk-test- keys", async () => {
    const m = model("gpt-4o-mini");
    const wrong = await post("/v1/chat/completions", { model: m, messages: MESSAGES }, { authorization: "Bearer sk-live-0123456789" });
    expect(wrong.status).toBe(401);
    const err = (await wrong.json()).error;
    expect(err).toMatchObject({ type: "invalid_request_error", code: "invalid_api_key", param: null });
    expect(err.message).not.toContain("sk-live-0123456789"); // OpenAI masks the key it echoes
    const missing = await post("/v1/chat/completions", { model: m, messages: MESSAGES });
    expect(missing.status).toBe(401);
    const perRequest = await post("/v1/chat/completions", { model: m, messages: MESSAGES }, { authorization: "Bearer sk-test-user-42" });
    expect(perRequest.status).toBe(200);
    expect((await requestsFor(m)).map((r) => r.auth)).toEqual(["Bearer sk-live-0123456789", null, "Bearer sk-test-user-42"]);
  });

  it("-fail-500 and -fail-429 fail before any token with OpenAI's error JSON", async () => {
    const r500 = await relay(openAiSpec(model("gpt-4o", "-fail-500")));
    expect(r500.status).toBe(502);
    expect((await r500.json()).error).toMatchObject({ code: "upstream.bad_status", message: "The upstream answered 500" });
    const direct = await post("/v1/chat/completions", { model: model("gpt-4o", "-fail-500"), messages: MESSAGES }, { authorization: "Bearer test-openai-key" });
    expect(direct.status).toBe(500);
    expect((await direct.json()).error).toMatchObject({ type: "server_error", code: null });
    const r429 = await post("/v1/chat/completions", { model: model("gpt-4o", "-fail-429"), messages: MESSAGES, stream: true }, { authorization: "Bearer test-openai-key" });
    expect(r429.status).toBe(429);
    expect(r429.headers.get("retry-after")).toBe("1");
    expect((await r429.json()).error).toMatchObject({ type: "tokens", code: "rate_limit_exceeded" });
  });

  it("-fail-midstream sends a few deltas, then an error object, and no [DONE]", async () => {
    const data = deltas(await relayed(openAiSpec(model("gpt-4o", "-fail-midstream"))));
    const parsed = data.map((d) => JSON.parse(d));
    expect(parsed.filter((c) => c.choices?.[0]?.delta?.content)).toHaveLength(PARTIAL_CHUNKS);
    expect(parsed.at(-1)).toEqual({ error: { message: expect.any(String), type: "server_error", param: null, code: null } });
    expect(data).not.toContain("[DONE]");
  });

  it("-drop breaks the connection after a few deltas: the Worker's read fails", async () => {
    const m = model("gpt-4o", "-drop");
    const evs = await relayed(openAiSpec(m));
    const contents = deltas(evs).map((d) => JSON.parse(d).choices[0].delta.content).filter(Boolean);
    expect(contents).toHaveLength(PARTIAL_CHUNKS);
    expect(evs.at(-1)).toMatchObject({ event: "error" });
    expect(JSON.parse(evs.at(-1).data).code).toBe("upstream.unreachable");
    expect(await statsFor(m)).toMatchObject({ started: 1, dropped: 1, completed: 0 });
  });

  it("-slow keeps streaming until the client leaves; the fake sees the abort", async () => {
    const m = model("gpt-4o", "-slow");
    const controller = new AbortController();
    const res = await relay(openAiSpec(m), { signal: controller.signal });
    const reader = res.body.getReader();
    await reader.read();
    controller.abort();
    await reader.cancel().catch(() => {});
    const s = await until(async () => { const v = await statsFor(m); return v.aborted ? v : null; }, "the abort");
    expect(s).toEqual({ started: 1, completed: 0, aborted: 1, dropped: 0 });
  });

  it("-hang never answers: the Worker's fetch times out and aborts it", async () => {
    const m = model("gpt-4o", "-hang");
    const r = await relay(openAiSpec(m));
    expect(r.status).toBe(504);
    expect((await r.json()).error.code).toBe("upstream.timeout");
    await until(async () => (await statsFor(m)).aborted === 1, "the abort");
  });
});

describe("fake OpenAI-compatible server", () => {
  it("lives under /compat (OPENAI_BASE_URL ends in /v1) and needs no key", async () => {
    const m = model("llama3.2");
    const spec = { ...openAiSpec(m), url: `${env.OPENAI_BASE_URL}/chat/completions`, headers: { "content-type": "application/json" } };
    const chunks = deltas(await relayed(spec)).slice(0, -1).map((d) => JSON.parse(d));
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? "").join("")).toBe(ANSWER);
    expect(chunks[0].system_fingerprint).toBe("fp_ollama");
    const [req] = await requestsFor(m);
    expect(req).toMatchObject({ provider: "compat", path: "/compat/v1/chat/completions", auth: null });
  });
});

describe("fake Gemini", () => {
  it("streams GenerateContentResponses over alt=sse with CRLF framing, usage on the last", async () => {
    const m = model("gemini-2.0-flash");
    const evs = await relayed(geminiSpec(m));
    const docs = deltas(evs).map((d) => JSON.parse(d));
    expect(docs.map((d) => d.candidates[0].content.parts.map((p) => p.text).join("")).join("")).toBe(ANSWER);
    for (const d of docs) expect(d).toMatchObject({ modelVersion: m, responseId: docs[0].responseId });
    expect(docs.slice(0, -1).every((d) => d.candidates[0].finishReason === undefined)).toBe(true);
    expect(docs.at(-1).candidates[0].finishReason).toBe("STOP");
    expect(docs[0].usageMetadata).toMatchObject({ promptTokenCount: PROMPT_TOKENS, totalTokenCount: PROMPT_TOKENS });
    expect(docs.at(-1).usageMetadata).toMatchObject({
      promptTokenCount: PROMPT_TOKENS, candidatesTokenCount: CHUNKS, totalTokenCount: PROMPT_TOKENS + CHUNKS,
    });
    const [req] = await requestsFor(m);
    expect(req).toMatchObject({ provider: "gemini", query: { alt: "sse" }, auth: "test-gemini-key" });
    expect(req.path).toBe(`/v1beta/models/${m}:streamGenerateContent`);
  });

  it("raw bytes: CRLF CRLF between events, no [DONE], Google's JSON spacing", async () => {
    const m = model("gemini-2.0-flash");
    const spec = geminiSpec(m);
    const r = await post(`/v1beta/models/${m}:streamGenerateContent?alt=sse`, spec.body, { "x-goog-api-key": "test-gemini-key" });
    expect(r.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const text = await r.text();
    expect(text.startsWith('data: {"candidates": [{"content": {"parts": [{"text": "According "}]')).toBe(true);
    expect(text.endsWith("}\r\n\r\n")).toBe(true);
    expect(text.split("\r\n\r\n").filter(Boolean)).toHaveLength(CHUNKS);
    expect(text).not.toContain("[DONE]");
  });

  it("generateContent answers in one response; maxOutputTokens stops at MAX_TOKENS", async () => {
    const m = model("gemini-2.5-flash");
    const whole = await post(`/v1beta/models/${m}:generateContent`, geminiSpec(m).body, { "x-goog-api-key": "sk-test-per-user" });
    expect(whole.status).toBe(200);
    const doc = await whole.json();
    expect(doc.candidates[0]).toMatchObject({ content: { parts: [{ text: ANSWER }], role: "model" }, finishReason: "STOP" });
    const cut = deltas(await relayed(geminiSpec(m, { generationConfig: { maxOutputTokens: 2 } }))).map((d) => JSON.parse(d));
    expect(cut).toHaveLength(2);
    expect(cut.at(-1).candidates[0].finishReason).toBe("MAX_TOKENS");
  });

  it("a bad key is 400 API_KEY_INVALID, a missing key 403, both google.rpc.Status", async () => {
    const m = model("gemini-2.0-flash");
    const bad = await post(`/v1beta/models/${m}:generateContent`, geminiSpec(m).body, { "x-goog-api-key": "AIza-wrong" });
    expect(bad.status).toBe(400);
    const badErr = (await bad.json()).error;
    expect(badErr).toMatchObject({ code: 400, status: "INVALID_ARGUMENT" });
    expect(badErr.details[0]).toMatchObject({ reason: "API_KEY_INVALID" });
    const missing = await post(`/v1beta/models/${m}:generateContent`, geminiSpec(m).body);
    expect(missing.status).toBe(403);
    expect((await missing.json()).error).toMatchObject({ code: 403, status: "PERMISSION_DENIED" });
  });

  it("-fail-429, -fail-500 and -fail-midstream speak google.rpc.Status too", async () => {
    const r429 = await post(`/v1beta/models/${model("gemini-2.0-flash", "-fail-429")}:streamGenerateContent?alt=sse`, geminiSpec("x").body, { "x-goog-api-key": "test-gemini-key" });
    expect(r429.status).toBe(429);
    expect((await r429.json()).error).toMatchObject({ code: 429, status: "RESOURCE_EXHAUSTED" });
    const r500 = await post(`/v1beta/models/${model("gemini-2.0-flash", "-fail-500")}:generateContent`, geminiSpec("x").body, { "x-goog-api-key": "test-gemini-key" });
    expect(r500.status).toBe(500);
    expect((await r500.json()).error).toMatchObject({ code: 500, status: "INTERNAL" });
    const docs = deltas(await relayed(geminiSpec(model("gemini-2.0-flash", "-fail-midstream")))).map((d) => JSON.parse(d));
    expect(docs).toHaveLength(PARTIAL_CHUNKS + 1);
    expect(docs.at(-1)).toEqual({ error: { code: 503, message: expect.any(String), status: "UNAVAILABLE" } });
  });
});

describe("fake Langfuse ingestion", () => {
  it("takes a batch with Basic public:secret and answers 207 per event", async () => {
    const id = `ev-${Date.now()}-${Math.random().toString(36).slice(2)}`;
    const auth = `Basic ${btoa(`${env.LANGFUSE_PUBLIC_KEY}:${env.LANGFUSE_SECRET_KEY}`)}`;
    const batch = [
      { id, type: "trace-create", timestamp: new Date().toISOString(), body: { id: `trace-${id}`, name: "chat" } },
      { id: `${id}-bad`, type: "generation-create" }, // no timestamp or body
    ];
    const r = await post("/api/public/ingestion", { batch }, { authorization: auth });
    expect(r.status).toBe(207);
    expect(await r.json()).toEqual({
      successes: [{ id, status: 201 }],
      errors: [{ id: `${id}-bad`, status: 400, message: expect.any(String), error: expect.any(String) }],
    });
    const wrong = await post("/api/public/ingestion", { batch }, { authorization: `Basic ${btoa("pk-lf-test:nope")}` });
    expect(wrong.status).toBe(401);
    const received = await (await fetch(`${FAKE}/__langfuse`)).json();
    expect(received.filter((b) => b.batch.some((e) => e.id === id))).toHaveLength(1);
  });
});

describe("fake Workers AI (env.AI over RPC)", () => {
  const LLAMA = "@cf/meta/llama-3.1-8b-instruct";

  it("streams Workers AI SSE as a ReadableStream of bytes across the service binding", async () => {
    const m = model(LLAMA);
    const stream = await env.AI.run(m, { messages: MESSAGES, stream: true });
    expect(stream).toBeInstanceOf(ReadableStream);
    const evs = await events(stream);
    expect(evs.at(-1).data).toBe("[DONE]");
    const docs = evs.slice(0, -1).map((e) => JSON.parse(e.data));
    expect(docs.map((d) => d.response).join("")).toBe(ANSWER);
    expect(docs.at(-1)).toEqual({ response: "", usage: { prompt_tokens: PROMPT_TOKENS, completion_tokens: CHUNKS, total_tokens: PROMPT_TOKENS + CHUNKS } });
    expect(docs.some((d) => typeof d.p === "string")).toBe(true); // the service's padding field
    expect(await env.AI.fakeStats(m)).toMatchObject({ started: 1, completed: 1, cancelled: 0 });
  });

  it("answers {response, usage} without stream, and embeds deterministically", async () => {
    const out = await env.AI.run(LLAMA, { messages: MESSAGES });
    expect(out).toMatchObject({ response: ANSWER, usage: { prompt_tokens: PROMPT_TOKENS, completion_tokens: CHUNKS } });
    const emb = await env.AI.run("@cf/baai/bge-base-en-v1.5", { text: ["a llama", "wool"] });
    expect(emb.shape).toEqual([2, 768]);
    expect(emb.data[0]).toEqual(fakeEmbedding("a llama", 768));
  });

  it("-fail throws like the real binding (3040: capacity)", async () => {
    const err = await env.AI.run(model(LLAMA, "-fail"), { messages: MESSAGES, stream: true }).then(() => null, (e) => e);
    expect(err?.message).toMatch(/3040: Capacity temporarily exceeded/);
  });

  it("ai.stream through the core: relayed event by event", async () => {
    const m = model(LLAMA);
    const evs = await relayed({ ai: { model: m, input: { messages: MESSAGES, max_tokens: 64 } } });
    const data = deltas(evs);
    expect(data.at(-1)).toBe("[DONE]");
    expect(data.slice(0, -1).map((d) => JSON.parse(d).response).join("")).toBe(ANSWER);
    expect(evs.at(-1).event).toBe("done");
    const [call] = await env.AI.fakeCalls(m);
    expect(call.input).toEqual({ messages: MESSAGES, max_tokens: 64, stream: true });
  });

  it("ai.stream failures: before the stream a 503, during it an error event", async () => {
    const before = await relay({ ai: { model: model(LLAMA, "-fail"), input: { messages: MESSAGES } } });
    expect(before.status).toBe(503);
    expect((await before.json()).error.code).toBe("ai.unavailable");
    const evs = await relayed({ ai: { model: model(LLAMA, "-fail-midstream"), input: { messages: MESSAGES } } });
    expect(deltas(evs)).toHaveLength(PARTIAL_CHUNKS);
    expect(evs.at(-1).event).toBe("error");
    expect(JSON.parse(evs.at(-1).data).code).toBe("upstream.unreachable");
  });

  it("ai.stream stops being read when the client leaves", async () => {
    const m = model(LLAMA, "-slow");
    const controller = new AbortController();
    const res = await relay({ ai: { model: m, input: { messages: MESSAGES } } }, { signal: controller.signal });
    expect(res.status).toBe(200);
    const reader = res.body.getReader();
    await reader.read();
    controller.abort();
    await reader.cancel().catch(() => {});
    // The shim cancels its reader (fetch.abort). Over a service binding workerd does not pass the
    // cancel on to the source (cloudflare/workerd#7298), so what the fake can see is that nobody
    // asks for more: its pull count stops growing long before the SLOW_CHUNKS it would send.
    await new Promise((r) => setTimeout(r, 600));
    const a = await env.AI.fakeStats(m);
    await new Promise((r) => setTimeout(r, 800));
    const b = await env.AI.fakeStats(m);
    expect(b).toMatchObject({ started: 1, completed: 0, pulled: a.pulled });
    expect(b.pulled).toBeLessThan(SLOW_CHUNKS / 4);
  });
});
