// A minimal OpenAI Chat Completions server on loopback for section 8 (chat streaming): it answers
// POST /v1/chat/completions with `stream: true` as OpenAI does (chat.completion.chunk events, a
// finish chunk, a usage chunk when asked for, `data: [DONE]`, then the end of the body), fast and
// predictably. The test fake (tests/integration/fakes/provider-server.js) is not used because it
// splits every event into awkward pieces with a 1 ms pause between them, which is right for
// testing parsers and wrong for timing.
//
// The model name sets the shape: "bench-c<chunks>-g<gap ms>", e.g. bench-c50-g20 = 50 content
// chunks, 20 ms apart (the first one is sent at once, right after the head). Each event is its
// own write; with gap 0 the next write waits only for setImmediate, so events still leave as
// separate writes. Requires `authorization: Bearer <key>`.
//
// bench/chat.mjs runs it in a child process of its own (`node bench/lib/fake-provider.mjs`, IPC:
// it sends {ready, url}; {stats} is answered with its counters; {exit} stops it), so the provider
// never shares an event loop with the client that times it.
import http from "node:http";
import { fileURLToPath } from "node:url";

export const FAKE_KEY = "sk-bench-fake";

// Deterministic words of a typical token's size (leading space, 3 to 9 bytes), one accented.
const WORDS = [" The", " answer", " streams", " in", " small", " pieces", ",", " one", " token",
  " at", " a", " time", " from", " the", " café", " model", "."];

export function modelName(chunks, gapMs) {
  return `bench-c${chunks}-g${gapMs}`;
}

function shape(model) {
  const m = /^bench-c(\d+)-g(\d+)$/.exec(String(model ?? ""));
  return m ? { chunks: Math.min(10_000, Number(m[1])), gapMs: Math.min(10_000, Number(m[2])) } : null;
}

const event = (obj) => `data: ${JSON.stringify(obj)}\n\n`;

/** The OpenAI SSE events for one answer (content chunks, finish, optional usage, [DONE]). */
export function openAiEvents({ chunks, model = "bench", id = "chatcmpl-bench", created = 1_700_000_000, usage = true }) {
  const base = { id, object: "chat.completion.chunk", created, model, system_fingerprint: "fp_bench" };
  const out = [];
  for (let i = 0; i < chunks; i++) {
    const delta = i === 0 ? { role: "assistant", content: WORDS[0] } : { content: WORDS[i % WORDS.length] };
    out.push(event({ ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason: null }] }));
  }
  out.push(event({ ...base, choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: "stop" }] }));
  if (usage) {
    out.push(event({ ...base, choices: [], usage: { prompt_tokens: 20, completion_tokens: chunks, total_tokens: 20 + chunks } }));
  }
  out.push("data: [DONE]\n\n");
  return out;
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const parts = [];
    req.on("data", (c) => parts.push(c));
    req.on("end", () => resolve(Buffer.concat(parts).toString("utf8")));
    req.on("error", reject);
  });
}

const sleep = (ms) => new Promise((r) => (ms > 0 ? setTimeout(r, ms) : setImmediate(r)));

/** Starts the server on 127.0.0.1; resolves {url, stats, close()}. */
export async function startFakeProvider() {
  const stats = { requests: 0, completed: 0, aborted: 0, rejected: 0 };
  const server = http.createServer({ noDelay: true }, async (req, res) => {
    stats.requests++;
    const reject = (status, message) => {
      stats.rejected++;
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { message, type: "invalid_request_error", param: null, code: null } }));
    };
    if (req.method !== "POST" || req.url !== "/v1/chat/completions") return reject(404, `no route ${req.method} ${req.url}`);
    if (req.headers.authorization !== `Bearer ${FAKE_KEY}`) return reject(401, "Incorrect API key provided");
    let body;
    try {
      body = JSON.parse(await readBody(req));
    } catch {
      return reject(400, "invalid JSON");
    }
    const s = shape(body.model);
    if (!s || body.stream !== true) return reject(400, "bench fake: model bench-c<N>-g<ms> with stream: true only");
    res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" });
    res.flushHeaders();
    let gone = false;
    res.on("close", () => { gone = true; });
    const events = openAiEvents({ chunks: s.chunks, model: body.model, usage: body.stream_options?.include_usage === true });
    for (let i = 0; i < events.length; i++) {
      if (i > 0 && i < s.chunks) await sleep(s.gapMs);
      else if (i > 0) await sleep(0);
      if (gone) {
        stats.aborted++;
        return;
      }
      res.write(events[i]);
    }
    res.end();
    stats.completed++;
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    stats,
    close: () => new Promise((resolve) => {
      server.closeAllConnections?.();
      server.close(() => resolve());
    }),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.send) {
  const fake = await startFakeProvider();
  process.on("message", async (m) => {
    if (m.stats) process.send({ stats: { ...fake.stats } });
    if (m.exit) {
      await fake.close();
      process.exit(0);
    }
  });
  process.on("disconnect", () => process.exit(0));
  process.send({ ready: true, url: fake.url });
}
