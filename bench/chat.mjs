// Section 8 of `npm run bench`, over HTTP: time to first and last byte of a streamed chat answer,
// directly from a fake OpenAI provider on loopback (bench/lib/fake-provider.mjs, its own process)
// and through edgechat on local workerd, which bench/run.mjs starts with OPENAI_API_BASE_URL and
// OPENAI_API_KEY pointing at the fake. This module does the requests and the arithmetic; a failed
// request is recorded (status + body) and left out of the timings, never thrown.
//
// Three ways to the same answer, in alternating blocks (see below):
//   direct       POST {fake}/v1/chat/completions, stream: true
//   completions  POST {edgechat}/v1/chat/completions, stream: true, model "openai/bench-c…":
//                auth + routing + the relayed stream, nothing stored
//   messages     POST {edgechat}/api/v1/chats/:id/messages {provider: "openai", model}: also stores
//                the question and the answer and tees the events into the resumable stream's
//                Durable Object log (a fresh chat per run, created outside the timing)
// First byte = the first event carrying answer text (an OpenAI chunk with non-empty
// delta.content; edgechat's `delta` event); last byte = the end of the response body. For
// `messages`, the `done` event is recorded too.
import { modelName } from "./lib/fake-provider.mjs";
import { median, percentile } from "./wasm-core.mjs";

export const CHAT_SHAPES = [
  { chunks: 50, gapMs: 0 },
  { chunks: 50, gapMs: 20 },
];
const QUESTION = "How does the answer stream through the edge?";
const r2 = (x) => +x.toFixed(2);

// One streamed request, timed from just before fetch() to each SSE event's arrival.
async function timeStream(url, init, kind) {
  const t0 = performance.now();
  let res;
  try {
    res = await fetch(url, init);
  } catch (e) {
    return { status: 0, error: `fetch failed: ${e?.cause?.message ?? e?.message ?? e}` };
  }
  const headMs = performance.now() - t0;
  if (res.status !== 200) return { status: res.status, error: (await res.text()).slice(0, 300) };
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buf = "", firstMs = null, doneMs = null, content = 0, text = "", error = null;
  for (;;) {
    let chunk;
    try {
      chunk = await reader.read();
    } catch (e) {
      return { status: 0, error: `body failed after ${content} content events: ${e?.cause?.message ?? e?.message ?? e}` };
    }
    const { done, value } = chunk;
    if (done) break;
    const at = performance.now() - t0;
    buf += decoder.decode(value, { stream: true }).replace(/\r\n/g, "\n");
    let i;
    while ((i = buf.indexOf("\n\n")) >= 0) {
      const ev = buf.slice(0, i);
      buf = buf.slice(i + 2);
      let name = "message", data = "";
      for (const line of ev.split("\n")) {
        if (line.startsWith("event:")) name = line.slice(6).trim();
        else if (line.startsWith("data:")) data += line.slice(line[5] === " " ? 6 : 5);
      }
      let piece = "";
      const parse = () => {
        try {
          return JSON.parse(data);
        } catch {
          error ??= `unparseable event: ${data.slice(0, 200)}`;
          return {};
        }
      };
      if (kind === "openai") {
        if (data === "[DONE]") doneMs ??= at;
        else if (data) {
          const j = parse();
          if (j.error) error = JSON.stringify(j.error).slice(0, 300);
          piece = j.choices?.[0]?.delta?.content ?? "";
        }
      } else if (name === "delta") {
        piece = parse().text ?? "";
      } else if (name === "done") {
        doneMs ??= at;
      } else if (name === "error") {
        error = data.slice(0, 300);
      }
      if (piece) {
        firstMs ??= at;
        content++;
        text += piece;
      }
    }
  }
  const lastMs = performance.now() - t0;
  return { status: 200, headMs, firstMs, doneMs, lastMs, content, text, error };
}

function summarize(xs) {
  if (!xs.length) return { n: 0, medianMs: null, p95Ms: null };
  return { n: xs.length, medianMs: r2(median(xs)), p95Ms: r2(percentile(xs, 95)), minMs: r2(Math.min(...xs)) };
}

/**
 * @param {object} o
 * @param {string} o.url      edgechat's base URL (no trailing slash)
 * @param {string} o.fakeUrl  the fake provider's base URL
 * @param {string} o.fakeKey  the fake provider's API key
 * @param {boolean} o.quick
 */
export async function benchChat({ url, fakeUrl, fakeKey, quick }) {
  const out = { failures: [], shapes: [] };
  const post = (token, body) => ({
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  const fail = (what, r) => {
    if (out.failures.length < 20) out.failures.push({ what, status: r.status, body: String(r.error ?? r.text ?? "").slice(0, 300) });
  };

  const username = `bench_chat_${Math.random().toString(36).slice(2, 10)}`;
  const reg = await fetch(`${url}/api/v1/auth/register`, post(null, { username, password: "bench-password-1" }));
  const regBody = await reg.json().catch(() => null);
  if (reg.status !== 201 || !regBody?.accessToken) {
    out.error = `register answered ${reg.status}`;
    return out;
  }
  const token = regBody.accessToken;

  const newChat = async () => {
    const r = await fetch(`${url}/api/v1/chats`, post(token, {}));
    const b = await r.json().catch(() => null);
    if (r.status !== 201 || !b?.chat?.id) {
      fail("POST /api/v1/chats", { status: r.status, error: JSON.stringify(b) });
      return null;
    }
    return b.chat.id;
  };

  for (const shape of CHAT_SHAPES) {
    const model = modelName(shape.chunks, shape.gapMs);
    const messages = [{ role: "user", content: QUESTION }];
    const targets = {
      direct: () => timeStream(`${fakeUrl}/v1/chat/completions`,
        post(fakeKey, { model, messages, stream: true, stream_options: { include_usage: true } }), "openai"),
      completions: () => timeStream(`${url}/v1/chat/completions`,
        post(token, { model: `openai/${model}`, messages, stream: true }), "openai"),
      messages: async () => {
        const chat = await newChat();
        if (!chat) return { status: 0, error: "no chat" };
        return timeStream(`${url}/api/v1/chats/${chat}/messages`,
          post(token, { content: QUESTION, provider: "openai", model }), "events");
      },
    };
    // Blocks of `block` runs of one way, the first of each untimed, so every timed run follows one
    // of its own kind. (Interleaving run by run made whichever way came after a direct run pay for
    // waking the idle Worker: ~1 s idle cost ~3 ms on every hop, /health included.) The blocks go
    // D C M, then M C D, so drift on a shared machine hits all three alike.
    const block = quick && shape.gapMs ? 5 : 6;
    const rounds = quick ? (shape.gapMs ? 2 : 3) : 6;
    const runs = rounds * (block - 1);
    const acc = Object.fromEntries(Object.keys(targets).map((k) => [k, { first: [], last: [], done: [], head: [], failed: 0 }]));
    const timed = Object.fromEntries(Object.keys(targets).map((k) => [k, []])); // [round][run] → r
    let sample = null;
    const names = Object.keys(targets);
    for (let round = 0; round < rounds; round++) {
      for (const name of round % 2 ? [...names].reverse() : names) {
        const got = [];
        timed[name].push(got);
        for (let i = 0; i < block; i++) {
          const r = await targets[name]();
          const a = acc[name];
          const bad = r.status !== 200 ? r : r.error ? r : r.content !== shape.chunks ? { ...r, error: `${r.content} content events, expected ${shape.chunks}` } : null;
          if (bad) {
            a.failed++;
            fail(`${name} ${model}`, bad);
            got.push(null);
            continue;
          }
          sample ??= r.text;
          if (i === 0) continue; // the block's warm-up
          got.push(r);
          a.first.push(r.firstMs);
          a.last.push(r.lastMs);
          a.head.push(r.headMs);
          if (r.doneMs !== null) a.done.push(r.doneMs);
        }
      }
    }
    // Run k of a round's completions block against run k of the same round's direct block.
    const pairs = [];
    timed.completions.forEach((cs, round) => cs.forEach((c, k) => {
      const d = timed.direct[round][k];
      if (c && d) pairs.push({ first: c.firstMs - d.firstMs, last: c.lastMs - d.lastMs });
    }));
    const s = { model, chunks: shape.chunks, gapMs: shape.gapMs, runs, rounds, block, answerSample: sample?.slice(0, 80) };
    for (const [name, a] of Object.entries(acc)) {
      s[name] = {
        firstByte: summarize(a.first), lastByte: summarize(a.last), head: summarize(a.head), failed: a.failed,
        ...(name === "messages" ? { done: summarize(a.done) } : {}),
      };
    }
    const d = s.direct, c = s.completions, m = s.messages;
    const diff = (x, y) => (x === null || y === null ? null : r2(x - y));
    const ratio = (x, y) => (x === null || y === null || y <= 0 ? null : +(x / y).toFixed(2));
    s.added = {
      // edgechat − direct, from the medians; and the median of the paired differences (run k of a
      // round's completions block − run k of its direct block).
      completionsFirstMs: diff(c.firstByte.medianMs, d.firstByte.medianMs),
      completionsLastMs: diff(c.lastByte.medianMs, d.lastByte.medianMs),
      completionsFirstPairedMs: pairs.length ? r2(median(pairs.map((p) => p.first))) : null,
      completionsLastPairedMs: pairs.length ? r2(median(pairs.map((p) => p.last))) : null,
      messagesFirstMs: diff(m.firstByte.medianMs, d.firstByte.medianMs),
      messagesLastMs: diff(m.lastByte.medianMs, d.lastByte.medianMs),
    };
    s.ratio = {
      completionsFirst: ratio(c.firstByte.medianMs, d.firstByte.medianMs),
      completionsLast: ratio(c.lastByte.medianMs, d.lastByte.medianMs),
      messagesFirst: ratio(m.firstByte.medianMs, d.firstByte.medianMs),
      messagesLast: ratio(m.lastByte.medianMs, d.lastByte.medianMs),
    };
    out.shapes.push(s);
  }
  return out;
}
