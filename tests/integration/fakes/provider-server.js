// A fake of the HTTP LLM providers (and Langfuse's ingestion API) for the integration tests: a real
// HTTP server on loopback, run in vitest's Node process (started by vitest.config.js), speaking the
// providers' own wire formats so the Worker's provider code is tested end to end (DESIGN §4).
//
//   POST /v1/chat/completions            OpenAI Chat Completions (Bearer key required)
//   POST /compat/v1/chat/completions     an OpenAI-compatible server (Ollama-like: any key or none)
//   POST /v1beta/models/{m}:streamGenerateContent?alt=sse, /v1beta/models/{m}:generateContent
//                                        Gemini (key in x-goog-api-key)
//   POST /api/public/ingestion           Langfuse batch ingestion (Basic public:secret)
//
// Answers come from answers.js (deterministic text, usage and chunking). Network writes are split at
// awkward byte positions, mid-UTF-8 included. The model name's suffix picks a behaviour:
//   -fail-500        HTTP 500 with the provider's error JSON, before any token
//   -fail-429        HTTP 429 (rate limited / quota), provider-shaped
//   -fail-midstream  a few deltas, then the provider's in-stream error event, then the stream ends
//   -drop            a few deltas, then the socket is destroyed (no terminator)
//   -slow            SLOW_CHUNKS chunks, 200 ms apart (for cancellation)
//   -hang            the response head is never sent
// Keys accepted: the configured key, or any key starting with "sk-test-" (a per-request key).
//
// Introspection (for tests; several test files share one server, so filter by a unique model name
// rather than resetting):
//   GET  /__requests[?model=&provider=]  recent requests: {method, path, query, provider, model,
//                                        auth, headers, body}, oldest first
//   GET  /__stats[?model=]               {started, completed, aborted, dropped} (+ byModel)
//   GET  /__langfuse                     the ingestion bodies received with valid credentials
//   POST /__reset                        forget all of the above
import http from "node:http";
import {
  answerChunks, behaviourOf, contentText, lastUserMessage, PARTIAL_CHUNKS, promptTokens, awkwardSplit,
} from "./answers.js";

export const FAKE_PROVIDER_KEYS = {
  openai: "test-openai-key",
  gemini: "test-gemini-key",
  langfusePublic: "pk-lf-test",
  langfuseSecret: "sk-lf-test",
};

const SLOW_DELAY_MS = 200;
const MAX_BODY = 10 * 1024 * 1024;
const MAX_RECORDED = 500;
const encoder = new TextEncoder();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Google's JSON style (": " after keys, no space after ","), so parsers are not whitespace-fragile.
function googleJson(v) {
  if (Array.isArray(v)) return `[${v.map(googleJson).join(",")}]`;
  if (v && typeof v === "object") {
    return `{${Object.entries(v).filter(([, x]) => x !== undefined)
      .map(([k, x]) => `${JSON.stringify(k)}: ${googleJson(x)}`).join(",")}}`;
  }
  return JSON.stringify(v);
}

const keyOk = (key, expected) => typeof key === "string" && (key === expected || key.startsWith("sk-test-"));
const mask = (key) => (key.length > 8 ? `${key.slice(0, 3)}***${key.slice(-4)}` : "***");

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on("data", (c) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new Error("body too large"));
        req.destroy();
      } else {
        chunks.push(c);
      }
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function sendJson(res, status, body, headers = {}) {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers });
  res.end(text);
}

// ---- errors, in each provider's shape -------------------------------------------------------

const openAiError = (message, type, code, param = null) => ({ error: { message, type, param, code } });
const OPENAI_500 = openAiError("The server had an error while processing your request. Sorry about that!", "server_error", null);
const openAi429 = (model) => openAiError(
  `Rate limit reached for ${model} in organization org-fake on tokens per min (TPM): Limit 30000, Used 30000, Requested 120. Please try again in 240ms.`,
  "tokens", "rate_limit_exceeded");

const googleError = (code, status, message, details) => ({ error: { code, message, status, details } });
const GEMINI_500 = googleError(500, "INTERNAL",
  "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting");
const GEMINI_429 = googleError(429, "RESOURCE_EXHAUSTED",
  "You exceeded your current quota, please check your plan and billing details.");
const GEMINI_MIDSTREAM = googleError(503, "UNAVAILABLE", "The model is overloaded. Please try again later.");

export function startProviderServer({ keys = FAKE_PROVIDER_KEYS } = {}) {
  let requests = [];
  let langfuse = [];
  let stats = new Map(); // model → {started, completed, aborted, dropped}
  const hanging = new Set();
  let seq = 0;

  const counters = (model) => {
    let c = stats.get(model);
    if (!c) stats.set(model, (c = { started: 0, completed: 0, aborted: 0, dropped: 0 }));
    return c;
  };

  // Tracks one model call: started now; completed / aborted / dropped when it ends.
  function track(res, model) {
    const c = counters(model);
    c.started++;
    const call = { finished: false, dropped: false, closed: false };
    res.on("close", () => {
      call.closed = true;
      if (call.finished) return;
      if (call.dropped) c.dropped++;
      else c.aborted++;
    });
    call.done = () => {
      if (!call.finished && !call.closed) c.completed++;
      call.finished = true;
    };
    call.drop = () => {
      call.dropped = true;
      res.socket?.destroy();
    };
    return call;
  }

  // Writes SSE events (strings), each split into awkward pieces with a pause between them so they
  // really reach the client as separate reads. Resolves false if the client went away.
  async function writeEvents(res, call, events, { delay = 0 } = {}) {
    for (let i = 0; i < events.length; i++) {
      if (i > 0 && delay) await sleep(delay);
      for (const piece of awkwardSplit(encoder.encode(events[i]), i)) {
        if (call.closed || res.destroyed) return false;
        res.write(piece);
        await sleep(1);
      }
    }
    return !(call.closed || res.destroyed);
  }

  function openStream(res, extra = {}) {
    res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", ...extra });
    res.flushHeaders();
  }

  // A non-streamed body cut off half way: the head promises more bytes than ever arrive.
  function truncated(res, call, text) {
    res.writeHead(200, { "content-type": "application/json; charset=utf-8", "content-length": String(text.length) });
    res.write(text.slice(0, Math.floor(text.length / 2)));
    setTimeout(() => call.drop(), 20);
  }

  function hang(res) {
    hanging.add(res);
    res.on("close", () => hanging.delete(res));
  }

  // ---- OpenAI and OpenAI-compatible ------------------------------------------------------------

  async function openAiChat(req, res, body, provider) {
    const compat = provider === "compat";
    const auth = req.headers.authorization;
    const key = /^Bearer\s+(.+)$/i.exec(auth ?? "")?.[1];
    if (!compat && !key) {
      return sendJson(res, 401, openAiError("You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY). You can obtain an API key from https://platform.openai.com/account/api-keys.", "invalid_request_error", null));
    }
    if (!compat && !keyOk(key, keys.openai)) {
      return sendJson(res, 401, openAiError(`Incorrect API key provided: ${mask(key)}. You can find your API key at https://platform.openai.com/account/api-keys.`, "invalid_request_error", "invalid_api_key"));
    }
    if (body === undefined) {
      return sendJson(res, 400, openAiError("We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)", "invalid_request_error", null));
    }
    if (typeof body.model !== "string" || !body.model) {
      return sendJson(res, 400, openAiError("you must provide a model parameter", "invalid_request_error", null));
    }
    if (!Array.isArray(body.messages) || body.messages.length === 0) {
      return sendJson(res, 400, openAiError("Missing required parameter: 'messages'.", "invalid_request_error", "missing_required_parameter", "messages"));
    }
    const model = body.model;
    const behaviour = behaviourOf(model);
    const call = track(res, model);
    if (behaviour === "hang") return hang(res);
    if (behaviour === "fail-500") {
      sendJson(res, 500, OPENAI_500);
      return call.done();
    }
    if (behaviour === "fail-429") {
      sendJson(res, 429, openAi429(model), { "retry-after": "1" });
      return call.done();
    }

    const max = Number(body.max_completion_tokens ?? body.max_tokens ?? 0) || 0;
    const { chunks, finish } = answerChunks(lastUserMessage(body.messages), { slow: behaviour === "slow", max });
    const usage = {
      prompt_tokens: promptTokens(body.messages.map((m) => contentText(m?.content))),
      completion_tokens: chunks.length,
    };
    usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
    usage.prompt_tokens_details = { cached_tokens: 0, audio_tokens: 0 };
    usage.completion_tokens_details = { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 };
    const id = `chatcmpl-fake${++seq}`;
    const created = 1_700_000_000 + seq;
    const fingerprint = compat ? "fp_ollama" : "fp_fake0001";

    if (!body.stream) {
      if (behaviour === "fail-midstream" || behaviour === "drop") {
        return truncated(res, call, JSON.stringify({ id, object: "chat.completion", created, model, choices: [] }));
      }
      if (behaviour === "slow") await sleep(SLOW_DELAY_MS * 5);
      sendJson(res, 200, {
        id, object: "chat.completion", created, model,
        choices: [{ index: 0, message: { role: "assistant", content: chunks.join(""), refusal: null, annotations: [] }, logprobs: null, finish_reason: finish }],
        usage, service_tier: "default", system_fingerprint: fingerprint,
      });
      return call.done();
    }

    const includeUsage = body.stream_options?.include_usage === true;
    const chunk = (choices, extra = {}) => {
      const c = { id, object: "chat.completion.chunk", created, model, service_tier: compat ? undefined : "default", system_fingerprint: fingerprint, choices };
      if (includeUsage) c.usage = null;
      return `data: ${JSON.stringify({ ...c, ...extra })}\n\n`;
    };
    const delta = (d, finishReason = null) => ({ index: 0, delta: d, logprobs: null, finish_reason: finishReason });
    const partial = behaviour === "fail-midstream" || behaviour === "drop";
    const texts = partial ? chunks.slice(0, PARTIAL_CHUNKS) : chunks;
    const events = [chunk([delta({ role: "assistant", content: "", refusal: null })])];
    for (const t of texts) events.push(chunk([delta({ content: t })]));

    openStream(res, { "x-request-id": `req_fake${seq}`, "openai-processing-ms": "42" });
    if (!(await writeEvents(res, call, events, { delay: behaviour === "slow" ? SLOW_DELAY_MS : 0 }))) return;
    if (behaviour === "drop") return call.drop();
    if (behaviour === "fail-midstream") {
      // OpenAI reports a failure after the head as an error object in a data line; no [DONE].
      await writeEvents(res, call, [`data: ${JSON.stringify(OPENAI_500)}\n\n`]);
      res.end();
      return call.done();
    }
    const tail = [chunk([delta({}, finish)])];
    if (includeUsage) tail.push(chunk([], { usage }));
    tail.push("data: [DONE]\n\n");
    if (!(await writeEvents(res, call, tail))) return;
    res.end();
    call.done();
  }

  // ---- Gemini ----------------------------------------------------------------------------------

  async function gemini(req, res, body, model, method, alt) {
    const key = req.headers["x-goog-api-key"];
    if (!key) {
      return sendJson(res, 403, googleError(403, "PERMISSION_DENIED", "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API."));
    }
    if (!keyOk(key, keys.gemini)) {
      return sendJson(res, 400, googleError(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.", [
        { "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason: "API_KEY_INVALID", domain: "googleapis.com", metadata: { service: "generativelanguage.googleapis.com" } },
      ]));
    }
    if (body === undefined) return sendJson(res, 400, googleError(400, "INVALID_ARGUMENT", "Invalid JSON payload received."));
    if (!Array.isArray(body.contents) || body.contents.length === 0) {
      return sendJson(res, 400, googleError(400, "INVALID_ARGUMENT", "* GenerateContentRequest.contents: contents is not specified\n"));
    }
    const behaviour = behaviourOf(model);
    const call = track(res, model);
    if (behaviour === "hang") return hang(res);
    if (behaviour === "fail-500") {
      sendJson(res, 500, googleJson(GEMINI_500));
      return call.done();
    }
    if (behaviour === "fail-429") {
      sendJson(res, 429, googleJson(GEMINI_429));
      return call.done();
    }

    const partsText = (c) => (Array.isArray(c?.parts) ? c.parts.map((p) => (typeof p?.text === "string" ? p.text : "")).join("") : "");
    const lastUser = [...body.contents].reverse().find((c) => (c?.role ?? "user") === "user");
    const max = Number(body.generationConfig?.maxOutputTokens ?? 0) || 0;
    const { chunks, finish } = answerChunks(partsText(lastUser), { slow: behaviour === "slow", max });
    const prompt = promptTokens([partsText(body.systemInstruction), ...body.contents.map(partsText)]);
    const promptUsage = { promptTokenCount: prompt, totalTokenCount: prompt, promptTokensDetails: [{ modality: "TEXT", tokenCount: prompt }] };
    const fullUsage = (n) => ({
      promptTokenCount: prompt, candidatesTokenCount: n, totalTokenCount: prompt + n,
      promptTokensDetails: [{ modality: "TEXT", tokenCount: prompt }],
      candidatesTokensDetails: [{ modality: "TEXT", tokenCount: n }],
    });
    const responseId = `fakeResp${++seq}`;
    const finishReason = finish === "length" ? "MAX_TOKENS" : "STOP";
    const response = (text, last, usage) => ({
      candidates: [{ content: { parts: [{ text }], role: "model" }, finishReason: last ? finishReason : undefined, index: 0 }],
      usageMetadata: usage, modelVersion: model, responseId,
    });

    if (method === "generateContent") {
      if (behaviour === "fail-midstream" || behaviour === "drop") {
        return truncated(res, call, googleJson(response(chunks.join(""), true, fullUsage(chunks.length))));
      }
      if (behaviour === "slow") await sleep(SLOW_DELAY_MS * 5);
      sendJson(res, 200, googleJson(response(chunks.join(""), true, fullUsage(chunks.length))));
      return call.done();
    }

    const partial = behaviour === "fail-midstream" || behaviour === "drop";
    const texts = partial ? chunks.slice(0, PARTIAL_CHUNKS) : chunks;
    const docs = texts.map((t, i) => {
      const last = !partial && i === texts.length - 1;
      return response(t, last, last ? fullUsage(texts.length) : promptUsage);
    });
    if (alt !== "sse") {
      // Without alt=sse the stream is one JSON array, written element by element.
      res.writeHead(200, { "content-type": "application/json; charset=UTF-8" });
      const events = docs.map((d, i) => `${i === 0 ? "[" : ",\r\n"}${googleJson(d)}`);
      if (!(await writeEvents(res, call, [...events, "]"], { delay: behaviour === "slow" ? SLOW_DELAY_MS : 0 }))) return;
      if (behaviour === "drop") return call.drop();
      res.end();
      return call.done();
    }
    // Gemini ends each SSE event with CRLF CRLF, and has no [DONE]: the stream just ends.
    const events = docs.map((d) => `data: ${googleJson(d)}\r\n\r\n`);
    openStream(res, { "content-disposition": "attachment", "x-gemini-service-tier": "standard" });
    if (!(await writeEvents(res, call, events, { delay: behaviour === "slow" ? SLOW_DELAY_MS : 0 }))) return;
    if (behaviour === "drop") return call.drop();
    if (behaviour === "fail-midstream") {
      if (!(await writeEvents(res, call, [`data: ${googleJson(GEMINI_MIDSTREAM)}\r\n\r\n`]))) return;
    }
    res.end();
    call.done();
  }

  // ---- Langfuse --------------------------------------------------------------------------------

  function langfuseIngest(req, res, body) {
    const basic = /^Basic\s+(.+)$/i.exec(req.headers.authorization ?? "")?.[1];
    const [pub, secret] = basic ? Buffer.from(basic, "base64").toString("utf8").split(/:(.*)/s) : [];
    if (pub !== keys.langfusePublic || secret !== keys.langfuseSecret) {
      return sendJson(res, 401, { message: "Invalid credentials. Confirm that you've configured the correct host.", error: "Unauthorized" });
    }
    if (body === undefined || !Array.isArray(body?.batch)) {
      return sendJson(res, 400, { message: "Invalid request data", error: [{ code: "invalid_type", expected: "array", path: ["batch"], message: "Required" }] });
    }
    langfuse.push(body);
    // Input errors are per event in a 207, never a 4xx for the whole batch.
    const successes = [];
    const errors = [];
    for (const ev of body.batch) {
      const valid = ev && typeof ev.id === "string" && typeof ev.type === "string" && typeof ev.timestamp === "string" && ev.body && typeof ev.body === "object";
      if (valid) successes.push({ id: ev.id, status: 201 });
      else errors.push({ id: typeof ev?.id === "string" ? ev.id : "", status: 400, message: "Invalid request data", error: "event must have id, type, timestamp and body" });
    }
    sendJson(res, 207, { successes, errors });
  }

  // ---- routing ---------------------------------------------------------------------------------

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, "http://fake");
    const path = url.pathname;
    try {
      if (req.method === "GET" && path === "/__requests") {
        const model = url.searchParams.get("model");
        const provider = url.searchParams.get("provider");
        return sendJson(res, 200, requests.filter((r) => (!model || r.model === model) && (!provider || r.provider === provider)));
      }
      if (req.method === "GET" && path === "/__stats") {
        const model = url.searchParams.get("model");
        if (model) return sendJson(res, 200, counters(model));
        const total = { started: 0, completed: 0, aborted: 0, dropped: 0 };
        for (const c of stats.values()) for (const k of Object.keys(total)) total[k] += c[k];
        return sendJson(res, 200, { ...total, byModel: Object.fromEntries(stats) });
      }
      if (req.method === "GET" && path === "/__langfuse") return sendJson(res, 200, langfuse);
      if (req.method === "POST" && path === "/__reset") {
        requests = [];
        langfuse = [];
        stats = new Map();
        return sendJson(res, 200, { ok: true });
      }

      const gem = /^\/v1beta\/models\/([^/:]+):(streamGenerateContent|generateContent)$/.exec(path);
      const provider = path === "/v1/chat/completions" ? "openai"
        : path === "/compat/v1/chat/completions" ? "compat"
          : gem ? "gemini"
            : path === "/api/public/ingestion" ? "langfuse" : null;
      if (!provider || req.method !== "POST") {
        return sendJson(res, 404, { error: { message: `Unknown request URL: ${req.method} ${path}`, type: "invalid_request_error", param: null, code: "unknown_url" } });
      }
      const text = await readBody(req);
      let body;
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
      const model = gem ? decodeURIComponent(gem[1]) : body?.model ?? null;
      const auth = provider === "gemini" ? req.headers["x-goog-api-key"] ?? null : req.headers.authorization ?? null;
      requests.push({
        method: req.method, path, query: Object.fromEntries(url.searchParams), provider, model, auth,
        headers: req.headers, body: body === undefined ? text : body,
      });
      if (requests.length > MAX_RECORDED) requests = requests.slice(-MAX_RECORDED);

      if (provider === "langfuse") return langfuseIngest(req, res, body);
      if (provider === "gemini") return await gemini(req, res, body, model, gem[2], url.searchParams.get("alt"));
      return await openAiChat(req, res, body, provider);
    } catch (e) {
      if (!res.headersSent) sendJson(res, 500, { error: { message: `fake provider: ${e?.message ?? e}` } });
      else res.destroy();
    }
  });
  server.on("close", () => {
    for (const res of hanging) res.destroy();
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => resolve({ server, url: `http://127.0.0.1:${server.address().port}` }));
  });
}
