// Streamed responses (src/http/stream.hpp, js-shim/worker.js responseStream) through the real
// Worker, using the test-only route GET /__test/stream. The body is read with eventsource-parser,
// as a client would.
import { env, SELF } from "cloudflare:test";
import { createParser } from "eventsource-parser";
import { describe, expect, it } from "vitest";
import { BASE } from "./helpers.js";

async function readEvents(res) {
  const events = [];
  const parser = createParser({ onEvent: (e) => events.push(e) });
  const decoder = new TextDecoder();
  for await (const chunk of res.body) parser.feed(decoder.decode(chunk, { stream: true }));
  return events;
}

describe("streamed responses", () => {
  it("sends the head at once with SSE headers, then every event, then ends", async () => {
    const res = await SELF.fetch(`${BASE}/__test/stream?n=5`, { headers: { origin: "https://app.example" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    expect(res.headers.get("content-encoding")).toBe("identity");
    expect(res.headers.get("cache-control")).toBe("no-cache, no-transform");
    expect(res.headers.get("x-request-id")).toMatch(/^[0-9a-f]{32}$/);
    expect(res.headers.get("access-control-allow-origin")).toBe("https://app.example");
    const events = await readEvents(res);
    expect(events.map((e) => [e.event, e.id, JSON.parse(e.data).i])).toEqual(
      [0, 1, 2, 3, 4].map((i) => ["delta", String(i), i]));
  });

  it("lets the handler finish when the client leaves mid-stream", async () => {
    const mark = `m${Date.now()}`;
    const controller = new AbortController();
    const res = await SELF.fetch(`${BASE}/__test/stream?n=100000&mark=${mark}`, { signal: controller.signal });
    const reader = res.body.getReader();
    await reader.read();
    controller.abort();
    await reader.cancel().catch(() => {});
    // The handler sees its write fail, stops, and records how far it got.
    let written = null;
    for (let i = 0; i < 100 && written === null; i++) {
      written = await env.KV.get(`test:stream:${mark}`);
      if (written === null) await new Promise((r) => setTimeout(r, 50));
    }
    expect(written).not.toBeNull();
    expect(Number(written)).toBeLessThan(100000);
  });
});
