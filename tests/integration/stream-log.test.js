// The resumable stream log (js-shim/stream-log.js), a real SQLite-backed Durable Object in workerd:
// driven directly through env.STREAM_LOG (RPC), through the streamlog.* effects the core yields
// (js-shim/effects-streamlog.js via performEffect), and through worker.js's toResponse, which pipes
// a log as the body of a core response that asks for it (Response::log_follow).
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { performEffect } from "../../js-shim/effects.js";
import { LIMITS } from "../../js-shim/stream-log.js";
import { toResponse } from "../../js-shim/worker.js";

let seq = 0;
const freshName = (tag) => `test:${tag}:${++seq}:${crypto.randomUUID()}`;
const stubFor = (name) => env.STREAM_LOG.get(env.STREAM_LOG.idFromName(name));
// An SSE event as the core formats it: `id` is the chunk's 1-based position in the log.
const event = (n, data) => `id: ${n}\ndata: ${data}\n\n`;
const events = (from, datas) => datas.map((d, i) => event(from + i + 1, d));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function newLog(tag, opts = {}) {
  const name = freshName(tag);
  const stub = stubFor(name);
  const c = await stub.create(opts);
  expect(c.created).toBe(true);
  return { name, stub };
}

// Reads a follower's stream as text, chunk by chunk.
function textReader(stream) {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let buffered = "";
  return {
    reader,
    // Reads until the text received so far ends with `suffix`; returns it (and forgets it).
    async until(suffix) {
      while (!buffered.endsWith(suffix)) {
        const { done, value } = await reader.read();
        if (done) throw new Error(`stream ended before ${JSON.stringify(suffix)}; got ${JSON.stringify(buffered)}`);
        buffered += decoder.decode(value, { stream: true });
      }
      const out = buffered;
      buffered = "";
      return out;
    },
    // Reads to the end; returns everything not yet returned.
    async rest() {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        buffered += decoder.decode(value, { stream: true });
      }
      const out = buffered;
      buffered = "";
      return out;
    },
  };
}

async function eventually(check, ms = 3000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error("condition not met in time");
    await sleep(20);
  }
}

describe("StreamLog over RPC", () => {
  it("create is idempotent and keeps the first TTL; info describes the log", async () => {
    const name = freshName("create");
    const stub = stubFor(name);
    expect(await stub.info()).toEqual({ exists: false, length: 0, closed: false, followers: 0, createdAt: null });
    const first = await stub.create({ ttlMs: 60_000 });
    expect(first).toMatchObject({ created: true, exists: true, length: 0, closed: false, followers: 0 });
    expect(typeof first.createdAt).toBe("number");
    const again = await stub.create({ ttlMs: 5_000 });
    expect(again).toMatchObject({ created: false, exists: true, createdAt: first.createdAt });
    const alarm = await runInDurableObject(stub, (_, state) => state.storage.getAlarm());
    expect(alarm).toBe(first.createdAt + 60_000);
    expect(await stubFor(freshName("bad")).create({ ttlMs: -1 })).toMatchObject({ error: "invalid" });
  });

  it("appends in order, and replays from 0 and from N", async () => {
    const { stub } = await newLog("replay");
    const a = await stub.append(0, events(0, ["a", "b"]));
    expect(a).toMatchObject({ length: 2, followers: 0 });
    expect(Math.abs(a.now - Date.now())).toBeLessThan(60_000);
    expect(await stub.append(2, events(2, ["c"]))).toMatchObject({ length: 3 });
    expect(await stub.append(3, [])).toMatchObject({ length: 3 });
    expect(await stub.close()).toEqual({ length: 3 });
    expect(await textReader(await stub.follow(0)).rest()).toBe(events(0, ["a", "b", "c"]).join(""));
    expect(await textReader(await stub.follow(2)).rest()).toBe(event(3, "c"));
    expect(await textReader(await stub.follow(3)).rest()).toBe("");
    expect(await textReader(await stub.follow(99)).rest()).toBe("");
    expect(await stub.info()).toMatchObject({ exists: true, length: 3, closed: true, followers: 0 });
  });

  it("keeps non-ASCII text intact (UTF-8 on the wire)", async () => {
    const { stub } = await newLog("utf8");
    const chunks = events(0, ["héllo 日本語 🙂", "second"]);
    await stub.append(0, chunks);
    await stub.close();
    expect(await textReader(await stub.follow(0)).rest()).toBe(chunks.join(""));
  });

  it("a live follower gets the replay, then later appends, and ends when the log closes", async () => {
    const { stub } = await newLog("live");
    await stub.append(0, events(0, ["a"]));
    const t = textReader(await stub.follow(0));
    expect(await t.until("data: a\n\n")).toBe(event(1, "a"));
    expect((await stub.info()).followers).toBe(1);
    const r = await stub.append(1, events(1, ["b", "c"]));
    expect(r.followers).toBe(1);
    expect(await t.until("data: c\n\n")).toBe(events(1, ["b", "c"]).join(""));
    await stub.append(3, events(3, ["d"]));
    await stub.close();
    expect(await t.rest()).toBe(event(4, "d"));
    await eventually(async () => (await stub.info()).followers === 0);
  });

  it("two followers from different positions both receive every later append", async () => {
    const { stub } = await newLog("two");
    await stub.append(0, events(0, ["a", "b"]));
    const one = textReader(await stub.follow(0));
    const two = textReader(await stub.follow(1));
    await one.until("data: b\n\n");
    expect(await two.until("data: b\n\n")).toBe(event(2, "b"));
    expect(await stub.append(2, events(2, ["c"]))).toMatchObject({ length: 3, followers: 2 });
    await stub.close();
    expect(await one.rest()).toBe(event(3, "c"));
    expect(await two.rest()).toBe(event(3, "c"));
  });

  it("refuses an append at the wrong position (conflict) and after close (closed)", async () => {
    const { stub } = await newLog("conflict");
    await stub.append(0, events(0, ["a", "b"]));
    expect(await stub.append(1, events(1, ["x"]))).toMatchObject({ error: "conflict", length: 2 });
    expect(await stub.append(5, events(5, ["x"]))).toMatchObject({ error: "conflict", length: 2 });
    expect(await stub.append(0, [])).toMatchObject({ error: "conflict" });
    await stub.close();
    expect(await stub.close()).toEqual({ length: 2 }); // idempotent
    expect(await stub.append(2, events(2, ["c"]))).toMatchObject({ error: "closed" });
    expect(await stub.info()).toMatchObject({ length: 2, closed: true });
  });

  it("refuses bad arguments and appends to a log that does not exist", async () => {
    const { stub } = await newLog("invalid");
    expect(await stub.append(-1, [])).toMatchObject({ error: "invalid" });
    expect(await stub.append(0.5, [])).toMatchObject({ error: "invalid" });
    expect(await stub.append(0, "a")).toMatchObject({ error: "invalid" });
    expect(await stub.append(0, ["a", 2])).toMatchObject({ error: "invalid" });
    const missing = stubFor(freshName("missing"));
    expect(await missing.append(0, ["a"])).toMatchObject({ error: "not_found" });
    expect(await missing.close()).toMatchObject({ error: "not_found" });
    // Following a log that does not exist (expired) ends at once.
    expect(await textReader(await missing.follow(0)).rest()).toBe("");
  });

  it("enforces the chunk count and byte limits, storing nothing from a refused append", async () => {
    const { stub } = await newLog("limits");
    expect(await stub.append(0, new Array(LIMITS.maxChunks + 1).fill("x"))).toMatchObject({ error: "too_large" });
    expect(await stub.append(0, ["x".repeat(LIMITS.maxChunkBytes + 1)])).toMatchObject({ error: "too_large" });
    // UTF-8 bytes count, not UTF-16 units: 2 bytes each.
    expect(await stub.append(0, ["é".repeat(LIMITS.maxChunkBytes / 2 + 1)])).toMatchObject({ error: "too_large" });
    expect((await stub.info()).length).toBe(0);
    // A follower that does not read while the log fills up.
    const idle = (await stub.follow(0)).getReader();
    const mib = "y".repeat(LIMITS.maxChunkBytes);
    const n = LIMITS.maxBytes / LIMITS.maxChunkBytes;
    for (let i = 0; i < n; i++) expect(await stub.append(i, [mib])).toMatchObject({ length: i + 1 });
    expect(await stub.append(n, ["z"])).toMatchObject({ error: "too_large" });
    expect((await stub.info()).length).toBe(n);
    // Its unread chunks stayed in storage: its cursor lags, nothing queued up for it.
    const cursor = await runInDurableObject(stub, (log) => [...log.followers][0].next);
    expect(cursor).toBeLessThan(n / 2);
    await stub.close();
    let total = 0;
    for (;;) {
      const { done, value } = await idle.read();
      if (done) break;
      total += value.byteLength;
    }
    expect(total).toBe(LIMITS.maxBytes);
    // A big log replays whole through a follower that reads slowly.
    const t = textReader(await stub.follow(n - 2));
    total = 0;
    for (;;) {
      const { done, value } = await t.reader.read();
      if (done) break;
      total += value.byteLength;
      await sleep(1);
    }
    expect(total).toBe(2 * LIMITS.maxChunkBytes);

    const counted = await newLog("count");
    expect(await counted.stub.append(0, new Array(LIMITS.maxChunks).fill("x"))).toMatchObject({ length: LIMITS.maxChunks });
    expect(await counted.stub.append(LIMITS.maxChunks, ["x"])).toMatchObject({ error: "too_large" });
  });

  it("a follower with nothing to read gets SSE keep-alive comments", async () => {
    const { stub } = await newLog("keepalive");
    const t = textReader(await stub.follow(0, { keepAliveMs: 30 }));
    expect(await t.until("\n\n")).toBe(": keep-alive\n\n");
    await stub.append(0, events(0, ["a"]));
    expect(await t.until("data: a\n\n")).toMatch(/^(: keep-alive\n\n)*id: 1\ndata: a\n\n$/);
    await stub.close();
    await t.rest();
  });

  it("a follower that goes away is removed", async () => {
    const { stub } = await newLog("cancel");
    await stub.append(0, events(0, ["a"]));
    const keep = textReader(await stub.follow(0));
    const gone = textReader(await stub.follow(0, { keepAliveMs: 30 }));
    await keep.until("data: a\n\n");
    await gone.until("data: a\n\n");
    expect((await stub.info()).followers).toBe(2);
    await gone.reader.cancel();
    // The object learns of it on its next write to that follower (here a keep-alive).
    await eventually(async () => (await stub.info()).followers === 1);
    expect(await stub.append(1, events(1, ["b"]))).toMatchObject({ followers: 1 });
    await stub.close();
    expect(await keep.rest()).toBe(event(2, "b"));
  });

  it("expires: the alarm at createdAt + ttlMs deletes the log and ends its followers", async () => {
    const { stub } = await newLog("ttl", { ttlMs: 3_600_000 });
    await stub.append(0, events(0, ["a"]));
    const t = textReader(await stub.follow(0));
    await t.until("data: a\n\n");
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await t.rest()).toBe("");
    expect(await stub.info()).toEqual({ exists: false, length: 0, closed: false, followers: 0, createdAt: null });
    expect(await stub.append(1, ["b"])).toMatchObject({ error: "not_found" });
    expect(await runDurableObjectAlarm(stub)).toBe(false);
    // The name can be used again, as a new log.
    expect(await stub.create({})).toMatchObject({ created: true, length: 0 });
  });

  it("destroy deletes the log, its alarm and ends its followers", async () => {
    const { stub } = await newLog("destroy");
    await stub.append(0, events(0, ["a"]));
    const t = textReader(await stub.follow(1));
    expect(await stub.destroy()).toBe(true);
    expect(await t.rest()).toBe("");
    expect((await stub.info()).exists).toBe(false);
    expect(await runInDurableObject(stub, (_, state) => state.storage.getAlarm())).toBe(null);
    expect(await stub.destroy()).toBe(true);
  });
});

// The effects as the core yields them: {op, payload: JSON}; results as the core reads them.
const run = (op, args, e = env) => performEffect({ op, payload: JSON.stringify(args) }, new Request("http://x/"), e);
const data = (r) => {
  expect(r).toMatchObject({ ok: true });
  return JSON.parse(r.data);
};

describe("streamlog.* effects", () => {
  it("create, append, info, close and delete with the shapes the core reads", async () => {
    const name = freshName("effects");
    const created = data(await run("streamlog.create", { name, ttlMs: 60_000 }));
    expect(created).toMatchObject({ created: true, exists: true, length: 0, closed: false, followers: 0 });
    expect(data(await run("streamlog.create", { name }))).toMatchObject({ created: false });
    const appended = data(await run("streamlog.append", { name, from: 0, chunks: events(0, ["a", "b"]) }));
    expect(Object.keys(appended).sort()).toEqual(["followers", "length", "now"]);
    expect(appended).toMatchObject({ length: 2, followers: 0 });
    expect(data(await run("streamlog.info", { name }))).toEqual({
      exists: true, length: 2, closed: false, followers: 0, createdAt: created.createdAt,
    });
    expect(data(await run("streamlog.close", { name }))).toEqual({ length: 2 });
    expect(await textReader(await stubFor(name).follow(0)).rest()).toBe(events(0, ["a", "b"]).join(""));
    expect(data(await run("streamlog.delete", { name }))).toBe(true);
    expect(data(await run("streamlog.info", { name }))).toMatchObject({ exists: false });
  });

  it("maps the object's refusals to the core's effect codes", async () => {
    const name = freshName("codes");
    expect(await run("streamlog.append", { name, from: 0, chunks: ["a"] })).toMatchObject({ ok: false, code: "not_found" });
    expect(await run("streamlog.close", { name })).toMatchObject({ ok: false, code: "not_found" });
    await run("streamlog.create", { name });
    expect(await run("streamlog.create", { name: freshName("ttl"), ttlMs: 0 })).toMatchObject({ ok: false, code: "invalid" });
    await run("streamlog.append", { name, from: 0, chunks: ["a"] });
    expect(await run("streamlog.append", { name, from: 0, chunks: ["b"] }))
      .toMatchObject({ ok: false, code: "conflict", message: expect.stringContaining("length is 1") });
    expect(await run("streamlog.append", { name, from: 1, chunks: ["x".repeat(LIMITS.maxChunkBytes + 1)] }))
      .toMatchObject({ ok: false, code: "too_large" });
    expect(await run("streamlog.append", { name, from: 1, chunks: [1] })).toMatchObject({ ok: false, code: "invalid" });
    await run("streamlog.close", { name });
    expect(await run("streamlog.append", { name, from: 1, chunks: ["b"] })).toMatchObject({ ok: false, code: "cancelled" });
  });

  it("checks the name, and is unavailable without the binding", async () => {
    for (const name of ["", "n".repeat(129), 7, undefined]) {
      expect(await run("streamlog.info", { name })).toMatchObject({ ok: false, code: "invalid" });
    }
    expect(data(await run("streamlog.info", { name: "n".repeat(128) }))).toMatchObject({ exists: false });
    for (const op of ["streamlog.create", "streamlog.append", "streamlog.info", "streamlog.close", "streamlog.delete"]) {
      expect(await run(op, { name: "x", from: 0, chunks: [] }, {})).toMatchObject({ ok: false, code: "unavailable" });
    }
    expect(await run("streamlog.nope", { name: "x" })).toMatchObject({ ok: false, code: "invalid" });
  });
});

describe("worker.js pipes a log as a response body (Response::log_follow)", () => {
  const frame = (name, after, extra = {}) => ({
    kind: 2, session: 0, status: 200, body: new Uint8Array(0), log: "", r2: null,
    headers: { "content-type": "text/event-stream", "cache-control": "no-store", "x-request-id": "req-1" },
    follow: { name, after }, ...extra,
  });

  it("streams the log after `after` with the core's status and headers, until it closes", async () => {
    const { name, stub } = await newLog("pipe");
    await stub.append(0, events(0, ["a", "b"]));
    const res = await toResponse(frame(name, 1), "GET", env);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    expect(res.headers.get("x-request-id")).toBe("req-1");
    const t = textReader(res.body);
    expect(await t.until("data: b\n\n")).toBe(event(2, "b"));
    await stub.append(2, events(2, ["c"]));
    await stub.close();
    expect(await t.rest()).toBe(event(3, "c"));
  });

  it("a client that leaves cancels its follower (noticed at a later write)", async () => {
    const { name, stub } = await newLog("pipe-cancel");
    await stub.append(0, events(0, ["a"]));
    const res = await toResponse(frame(name, 0), "GET", env);
    const t = textReader(res.body);
    await t.until("data: a\n\n");
    expect((await stub.info()).followers).toBe(1);
    await t.reader.cancel();
    // The first write after the cancel is taken by the RPC pipe's buffer; the second one fails.
    await stub.append(1, events(1, ["b"]));
    await sleep(50);
    await stub.append(2, events(2, ["c"]));
    await eventually(async () => (await stub.info()).followers === 0);
  });

  it("sends no body for HEAD, and 503 JSON when the binding is missing", async () => {
    const { name } = await newLog("head");
    const head = await toResponse(frame(name, 0), "HEAD", env);
    expect(head.status).toBe(200);
    expect(head.body).toBe(null);
    const res = await toResponse(frame(name, 0), "GET", {});
    expect(res.status).toBe(503);
    expect(res.headers.get("x-request-id")).toBe("req-1");
    expect(await res.json()).toEqual({
      error: { code: "streams.unavailable", message: "Resumable streams are unavailable; try again" }, requestId: "req-1",
    });
  });
});
