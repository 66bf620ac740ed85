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
    // The handler sees its write fail, stops, and records how far it got (in R2).
    let written = null;
    for (let i = 0; i < 100 && written === null; i++) {
      written = await (await env.BUCKET.get(`test/stream/${mark}`))?.text() ?? null;
      if (written === null) await new Promise((r) => setTimeout(r, 50));
    }
    expect(written).not.toBeNull();
    expect(Number(written)).toBeLessThan(100000);
  });
});

describe("upstream relay (fetch.start / fetch.read / fetch.abort)", () => {
  const stats = async () => (await fetch(`${env.FAKE_UPSTREAM_URL}/stats`)).json();

  it("relays a real upstream SSE stream split at odd places, event by event", async () => {
    const res = await SELF.fetch(`${BASE}/__test/relay`, {
      method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ url: `${env.FAKE_UPSTREAM_URL}/sse?n=4` }),
    });
    expect(res.status).toBe(200);
    const events = await readEvents(res);
    const deltas = events.filter((e) => e.event === "delta").map((e) => e.data);
    expect(deltas.slice(0, 4).map((d) => JSON.parse(d).choices[0].delta.content)).toEqual(["w0 ", "w1 ", "w2 ", "w3 "]);
    expect(deltas[4]).toBe("[DONE]");
    expect(events.at(-1).event).toBe("done");
  });

  it("aborts the upstream call when the client leaves", async () => {
    const before = await stats();
    const controller = new AbortController();
    const res = await SELF.fetch(`${BASE}/__test/relay`, {
      method: "POST", headers: { "content-type": "application/json" }, signal: controller.signal,
      body: JSON.stringify({ url: `${env.FAKE_UPSTREAM_URL}/sse?n=1000&delayMs=20` }),
    });
    const reader = res.body.getReader();
    await reader.read();
    controller.abort();
    await reader.cancel().catch(() => {});
    let after = await stats();
    for (let i = 0; i < 100 && after.aborted === before.aborted; i++) {
      await new Promise((r) => setTimeout(r, 50));
      after = await stats();
    }
    expect(after.aborted).toBe(before.aborted + 1);
    expect(after.completed).toBe(before.completed);
  });

  it("maps an unreachable upstream to 502 in the usual error shape", async () => {
    const r = await SELF.fetch(`${BASE}/__test/relay`, {
      method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ url: "http://127.0.0.1:1/nothing" }),
    });
    expect(r.status).toBe(502);
    expect((await r.json()).error.code).toBe("upstream.unreachable");
  });
});
