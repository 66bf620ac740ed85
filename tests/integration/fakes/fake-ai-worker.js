// A fake Workers AI, bound as `AI` to the Worker under test (vitest.config.js: an auxiliary worker
// plus a service binding to its FakeAi entrypoint). The Worker calls `env.AI.run(model, input)`
// over RPC exactly as it would call the real binding, so the shim's effect code runs unchanged.
//
//  - Text generation (any model, input {messages} or {prompt}): with `stream: true` a ReadableStream
//    of Workers AI SSE bytes — `data: {"response":"…","p":"…"}` per word (the `p` padding the real
//    service adds to some events), then `data: {"response":"","usage":{…}}` and `data: [DONE]` —
//    split at awkward byte positions (mid-UTF-8 included); else {response, tool_calls, usage}.
//    Text, chunking and token counts come from answers.js, shared with provider-server.js.
//  - Embeddings (@cf/baai/bge-small|base|large-en-v1.5): {shape: [n, dims], data}, deterministic
//    (fakeEmbedding in ai-bindings.js), with the real input limits.
//  - Model name suffixes: "-fail" throws like the real binding ("3040: Capacity temporarily
//    exceeded…"); "-fail-midstream" errors the stream after a few chunks (over RPC the reader
//    sees "ReadableStream received over RPC disconnected prematurely"; the 3040 message is lost);
//    "-slow" streams SLOW_CHUNKS chunks 200 ms apart (for cancellation).
// RPC methods `fakeCalls(model?)` and `fakeStats(model)` let tests see what the Worker asked for and
// how far it read a stream. Note: workerd does not yet tell an RPC stream's source that the reader
// cancelled it (cloudflare/workerd#7298: the origin's pump just parks), so `cancelled` stays 0 over
// the service binding; `pulled` (event batches the consumer asked for) shows reading stopped.
import { WorkerEntrypoint } from "cloudflare:workers";
import { makeFakeAi } from "./ai-bindings.js";
import { answerChunks, awkwardSplit, contentText, lastUserMessage, PARTIAL_CHUNKS, promptTokens } from "./answers.js";

const EMBEDDING_MODELS = new Set(["@cf/baai/bge-small-en-v1.5", "@cf/baai/bge-base-en-v1.5", "@cf/baai/bge-large-en-v1.5"]);
const SLOW_DELAY_MS = 200;
const encoder = new TextEncoder();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Module state lives as long as the fake's isolate, i.e. the test run.
const calls = [];
const stats = new Map(); // model → {started, completed, cancelled, failed, pulled}
const embedder = makeFakeAi();

function counters(model) {
  let c = stats.get(model);
  if (!c) stats.set(model, (c = { started: 0, completed: 0, cancelled: 0, failed: 0, pulled: 0 }));
  return c;
}

function aiError(code, message) {
  const e = new Error(`${code}: ${message}`);
  e.name = "AiError";
  return e;
}

function textGeneration(model, input) {
  const messages = Array.isArray(input.messages) ? input.messages : [{ role: "user", content: String(input.prompt ?? "") }];
  const user = lastUserMessage(messages);
  if (!user) throw aiError(5006, "Error: required properties at '/' are 'prompt' or 'messages'");
  const slow = model.endsWith("-slow");
  const { chunks } = answerChunks(user, { slow, max: Number(input.max_tokens ?? 0) || 0 });
  const prompt = promptTokens(messages.map((m) => contentText(m?.content)));
  const usage = { prompt_tokens: prompt, completion_tokens: chunks.length, total_tokens: prompt + chunks.length };
  const c = counters(model);
  c.started++;
  if (!input.stream) {
    c.completed++;
    return { response: chunks.join(""), tool_calls: [], usage };
  }

  const midstream = model.endsWith("-fail-midstream");
  const texts = midstream ? chunks.slice(0, PARTIAL_CHUNKS) : chunks;
  const events = texts.map((t, i) => `data: ${JSON.stringify(i % 3 === 1 ? { response: t, p: "abcdefghijklmnop".slice(0, 4 + i) } : { response: t })}\n\n`);
  if (!midstream) events.push(`data: ${JSON.stringify({ response: "", usage })}\n\n`, "data: [DONE]\n\n");
  const pieces = events.map((e, i) => awkwardSplit(encoder.encode(e), i));
  let next = 0;
  let cancelled = false;
  return new ReadableStream({
    async pull(controller) {
      if (next === pieces.length) {
        if (midstream) {
          c.failed++;
          controller.error(aiError(3040, "Capacity temporarily exceeded, please try again."));
        } else {
          c.completed++;
          controller.close();
        }
        return;
      }
      c.pulled++;
      if (slow && next > 0) await sleep(SLOW_DELAY_MS);
      if (cancelled) return;
      // Each piece is its own chunk so the reader sees the event split where awkwardSplit cut it.
      for (const piece of pieces[next++]) controller.enqueue(piece.slice());
    },
    cancel() {
      cancelled = true;
      c.cancelled++;
    },
  });
}

export class FakeAi extends WorkerEntrypoint {
  async run(model, input, _options) {
    calls.push({ model, input });
    if (calls.length > 500) calls.shift();
    if (typeof model === "string" && model.endsWith("-fail")) {
      counters(model).failed++;
      throw aiError(3040, "Capacity temporarily exceeded, please try again.");
    }
    if (EMBEDDING_MODELS.has(model) || typeof model !== "string" || !model) return embedder.run(model, input);
    if (!input || typeof input !== "object" || (input.messages === undefined && input.prompt === undefined)) {
      throw aiError(5006, "Error: required properties at '/' are 'prompt' or 'messages'");
    }
    return textGeneration(model, input);
  }

  /** Recorded run() calls, oldest first (only those for `model` when given). */
  fakeCalls(model) {
    return model ? calls.filter((c) => c.model === model) : calls;
  }

  /** {started, completed, cancelled, failed, pulled} for one model. */
  fakeStats(model) {
    return { ...counters(model) };
  }
}

export default {
  fetch() {
    return new Response("fake Workers AI: use the AI service binding (RPC)", { status: 404 });
  },
};
