// The deterministic "model" behind every fake provider (provider-server.js for OpenAI, Gemini and
// OpenAI-compatible servers; fake-ai-worker.js for Workers AI). Plain JS with no imports, so it runs
// both in Node and in workerd.
//
// The answer to a conversation is
//   "According to the sources, <first 6 words of the last user message> — voilà [1]."
// (the "—" and "à" make sure multi-byte UTF-8 crosses the wire), streamed one word per chunk.
// Token counts: prompt = ceil(total characters of all message texts / 4); completion = the number
// of chunks sent. A max-tokens limit below the chunk count cuts the answer there ("length").

const ECHO_WORDS = 6;
// A "-slow" model streams this many chunks (the answer's words, cycled), for cancellation tests.
export const SLOW_CHUNKS = 100;
// "-fail-midstream" and "-drop" models stop after this many chunks.
export const PARTIAL_CHUNKS = 3;

/** The behaviour a model name asks for, from its suffix. */
export function behaviourOf(model) {
  const m = String(model ?? "");
  for (const b of ["fail-500", "fail-429", "fail-midstream", "drop", "slow", "hang"]) {
    if (m.endsWith(`-${b}`)) return b;
  }
  return "ok";
}

export function answerText(lastUser) {
  const words = String(lastUser ?? "").trim().split(/\s+/).filter(Boolean).slice(0, ECHO_WORDS);
  return `According to the sources, ${words.join(" ")} — voilà [1].`;
}

/** The answer's chunks (each word with its following space), at most `max` of them (if > 0). */
export function answerChunks(lastUser, { slow = false, max = 0 } = {}) {
  const words = answerText(lastUser).match(/\S+\s*/g) ?? [];
  let out = words;
  if (slow) out = Array.from({ length: SLOW_CHUNKS }, (_, i) => words[i % words.length]);
  const limited = max > 0 && max < out.length;
  return { chunks: limited ? out.slice(0, max) : out, finish: limited ? "length" : "stop" };
}

export function promptTokens(texts) {
  const chars = texts.reduce((n, t) => n + String(t ?? "").length, 0);
  return Math.ceil(chars / 4);
}

/** OpenAI-style messages → the last user message's text ("" when there is none). */
export function lastUserMessage(messages) {
  const list = Array.isArray(messages) ? messages : [];
  for (let i = list.length - 1; i >= 0; i--) {
    if (list[i]?.role === "user") return contentText(list[i].content);
  }
  return "";
}

/** A message's content as text: a string, or the text parts of a content array. */
export function contentText(content) {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) return content.map((p) => (typeof p?.text === "string" ? p.text : "")).join("");
  return "";
}

/**
 * Splits one encoded event into two or three pieces, at awkward places like a real proxy would:
 * right after the first byte of the first multi-byte character (so a UTF-8 sequence straddles two
 * network writes), else at a position that moves with `i`, and between the final CR and LF of a
 * CRLF-terminated event.
 */
export function awkwardSplit(bytes, i) {
  const cuts = new Set();
  const multi = bytes.findIndex((b) => b >= 0x80);
  cuts.add(multi >= 0 ? multi + 1 : Math.min(7 + (i % 5), bytes.length - 1));
  if (bytes.length >= 2 && bytes[bytes.length - 2] === 0x0d) cuts.add(bytes.length - 1);
  const sorted = [...cuts].filter((c) => c > 0 && c < bytes.length).sort((a, b) => a - b);
  const pieces = [];
  let at = 0;
  for (const c of sorted) {
    pieces.push(bytes.subarray(at, c));
    at = c;
  }
  pieces.push(bytes.subarray(at));
  return pieces;
}
