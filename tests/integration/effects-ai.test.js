// The Workers AI and Vectorize effects (js-shim/effects-ai.js) against in-memory fakes of the two
// bindings (fakes/ai-bindings.js): the byte layout of ai.embed, the result shapes the core decodes,
// error classification, missing bindings, namespace isolation and deletes, and ai.stream's hand-off
// to fetch.read / fetch.abort. The suite's Worker has AI bound (the fake Workers AI service,
// exercised in providers-fake.test.js) but no VECTOR_INDEX; these tests pass their env explicitly.
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { runAiEffect } from "../../js-shim/effects-ai.js";
import { EffectError, performEffect } from "../../js-shim/effects.js";
import { fakeEmbedding, makeFakeAi, makeFakeVectorize } from "./fakes/ai-bindings.js";

const BGE = "@cf/baai/bge-base-en-v1.5";
const LLAMA = "@cf/meta/llama-3.1-8b-instruct";

const data = (r) => {
  expect(r.ok).toBe(true);
  return typeof r.data === "string" ? JSON.parse(r.data) : r.data;
};

/** Decodes the ai.embed payload: [u32 dims][u32 n][n×dims f32], little-endian. */
function decodeEmbeddings(u8) {
  expect(u8).toBeInstanceOf(Uint8Array);
  const view = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
  const dims = view.getUint32(0, true);
  const n = view.getUint32(4, true);
  expect(u8.byteLength).toBe(8 + n * dims * 4);
  const rows = [];
  for (let i = 0; i < n; i++) {
    const row = new Float32Array(dims);
    for (let j = 0; j < dims; j++) row[j] = view.getFloat32(8 + (i * dims + j) * 4, true);
    rows.push(row);
  }
  return { dims, n, rows };
}

async function failure(promise) {
  const e = await promise.then(() => null, (err) => err);
  expect(e, "expected the effect to fail").toBeInstanceOf(EffectError);
  return e;
}

const aiEnv = (opts) => ({ AI: makeFakeAi(opts) });
const vecEnv = (opts) => ({ VECTOR_INDEX: makeFakeVectorize(opts) });

describe("bindings", () => {
  it("without the AI or VECTOR_INDEX binding every op is unavailable", async () => {
    // The suite's Worker has the fake Workers AI bound, and no Vectorize index.
    expect(env.AI).toBeDefined();
    expect(env.VECTOR_INDEX).toBeUndefined();
    const cases = [
      ["ai.embed", { model: BGE, texts: ["x"] }, "AI"],
      ["ai.run", { model: LLAMA, input: { prompt: "x" } }, "AI"],
      ["ai.stream", { model: LLAMA, input: { prompt: "x" } }, "AI"],
      ["vectorize.upsert", { vectors: [] }, "VECTOR_INDEX"],
      ["vectorize.query", { vector: [1], topK: 1 }, "VECTOR_INDEX"],
      ["vectorize.delete", { ids: ["a"] }, "VECTOR_INDEX"],
    ];
    for (const [op, args, name] of cases) {
      const e = await failure(runAiEffect(op, args, {}, { upstreams: new Map() }));
      expect(e.code, op).toBe("unavailable");
      expect(e.message).toBe(`binding ${name} is not configured`);
    }
    const e = await failure(runAiEffect("vectorize.query", { vector: [1], topK: 1 }, env));
    expect(e.message).toBe("binding VECTOR_INDEX is not configured");
  });

  it("returns undefined for ops it does not own", async () => {
    expect(await runAiEffect("r2.head", { key: "k" }, aiEnv())).toBeUndefined();
    expect(await runAiEffect("ai.nope", {}, aiEnv())).toBeUndefined();
  });
});

describe("ai.embed", () => {
  it("packs the bge reply as dims, n and little-endian float32 rows", async () => {
    const e = aiEnv();
    const texts = ["an orange cloud", "a llama", "a hugging emoji"];
    const r = await runAiEffect("ai.embed", { model: BGE, texts }, e);
    const { dims, n, rows } = decodeEmbeddings(data(r));
    expect(dims).toBe(768);
    expect(n).toBe(3);
    texts.forEach((t, i) => {
      const want = Float32Array.from(fakeEmbedding(t, 768));
      expect(Array.from(rows[i])).toEqual(Array.from(want));
    });
    // The binding was called once, with the documented input shape.
    expect(e.AI.calls).toEqual([{ model: BGE, input: { text: texts } }]);
    // Header bytes, spelled out.
    expect(Array.from(data(r).subarray(0, 8))).toEqual([0x00, 0x03, 0, 0, 3, 0, 0, 0]);
  });

  it("follows the model's dimension count (bge-small: 384)", async () => {
    const r = await runAiEffect("ai.embed", { model: "@cf/baai/bge-small-en-v1.5", texts: ["x"] }, aiEnv());
    const { dims, n } = decodeEmbeddings(data(r));
    expect([dims, n]).toEqual([384, 1]);
  });

  it("rejects a reply of the wrong shape as invalid", async () => {
    const replies = [
      () => ({ shape: [1, 3], data: [[1, 2, 3]] }), // one row for two texts
      () => ({ shape: [2, 3], data: [[1, 2, 3], [1, 2]] }), // ragged
      () => ({ shape: [2, 4], data: [[1, 2, 3], [4, 5, 6]] }), // shape disagrees with data
      () => ({ shape: [2, 0], data: [[], []] }), // empty vectors
      () => ({ data: [[1, "2", 3], [4, 5, 6]] }), // non-number
      () => ({ data: [[1, NaN, 3], [4, 5, 6]] }), // non-finite
      () => ({ result: "nope" }), // no data
      () => null,
    ];
    for (const reply of replies) {
      const e = await failure(runAiEffect("ai.embed", { model: BGE, texts: ["a", "b"] }, aiEnv({ reply })));
      expect(e.code, JSON.stringify(reply())).toBe("invalid");
    }
    // Without a shape field, well-formed data is accepted.
    const ok = await runAiEffect("ai.embed", { model: BGE, texts: ["a", "b"] },
      aiEnv({ reply: () => ({ data: [[1, 2, 3], [4, 5, 6]] }) }));
    expect(decodeEmbeddings(data(ok)).rows.map((r) => Array.from(r))).toEqual([[1, 2, 3], [4, 5, 6]]);
  });

  it("rejects malformed arguments before calling the model", async () => {
    const e = aiEnv();
    for (const args of [null, {}, { model: BGE }, { model: BGE, texts: [] }, { model: BGE, texts: "x" },
      { model: BGE, texts: ["a", 1] }, { texts: ["a"] }]) {
      expect((await failure(runAiEffect("ai.embed", args, e))).code).toBe("invalid");
    }
    expect(e.AI.calls).toEqual([]);
  });

  it("maps the model's own input errors to invalid", async () => {
    const e1 = await failure(runAiEffect("ai.embed", { model: BGE, texts: ["ok", ""] }, aiEnv()));
    expect(e1.code).toBe("invalid");
    const e2 = await failure(runAiEffect("ai.embed", { model: BGE, texts: Array(101).fill("x") }, aiEnv()));
    expect(e2.code).toBe("invalid");
    const e3 = await failure(runAiEffect("ai.embed", { model: "@cf/nope/model", texts: ["x"] }, aiEnv()));
    expect(e3.code).toBe("invalid");
    expect(e3.message).toMatch(/5007/);
  });

  it("classifies platform errors: capacity and rate limits, timeouts, the rest", async () => {
    const cases = [
      [new Error("3040: Capacity temporarily exceeded, please try again."), "unavailable"],
      [new Error("AiError: 3036: You have used up your daily free allocation of 10,000 neurons."), "unavailable"],
      [new Error("4006: you have used up your daily free allocation of 10,000 neurons"), "unavailable"],
      [new Error("Too Many Requests (429)"), "unavailable"],
      [new Error("3007: Request timeout"), "timeout"],
      [new Error("AiError: AiError: Request timeout (a613c7db-647c-4c07-ba94-a5702bc99d52)"), "timeout"],
      [Object.assign(new Error("The operation was aborted due to timeout"), { name: "TimeoutError" }), "timeout"],
      [new Error("3006: Request is too large"), "invalid"],
      [new Error("5004: Invalid data type for base64 input: number"), "invalid"],
      [new Error("InferenceUpstreamError: something broke"), "internal"],
      ["a thrown string", "internal"],
    ];
    for (const [err, code] of cases) {
      const e = await failure(runAiEffect("ai.embed", { model: BGE, texts: ["x"] }, aiEnv({ failWith: () => err })));
      expect(e.code, String(err?.message ?? err)).toBe(code);
      expect(e.message.startsWith("ai.embed: ")).toBe(true);
    }
  });

  it("never passes credentials or long identifiers through in error messages", async () => {
    const secret = "sk_live_0123456789abcdefghijklmnopqrstuvwxyz";
    const err = new Error(`5007: No such model; Authorization: Bearer ${secret} account 0123456789abcdef0123456789abcdef api_key=${secret}\nstack line with ${secret}`);
    const e = await failure(runAiEffect("ai.embed", { model: BGE, texts: ["x"] }, aiEnv({ failWith: () => err })));
    expect(e.code).toBe("invalid");
    expect(e.message).not.toContain(secret);
    expect(e.message).not.toContain("0123456789abcdef0123456789abcdef");
    expect(e.message).not.toContain("stack line");
    expect(e.message.length).toBeLessThanOrEqual(320);
  });
});

describe("ai.run", () => {
  it("returns the model's JSON result", async () => {
    const r = data(await runAiEffect("ai.run", {
      model: LLAMA,
      input: { messages: [{ role: "system", content: "be brief" }, { role: "user", content: "hello" }], max_tokens: 16 },
    }, aiEnv()));
    expect(r.response).toBe("echo: hello");
    expect(r.usage.total_tokens).toBeGreaterThan(0);
  });

  it("refuses streaming, binary output and malformed arguments as invalid", async () => {
    expect((await failure(runAiEffect("ai.run", { model: LLAMA, input: { prompt: "x", stream: true } }, aiEnv()))).code).toBe("invalid");
    const streamy = aiEnv({ reply: () => new ReadableStream({ start(c) { c.close(); } }) });
    expect((await failure(runAiEffect("ai.run", { model: LLAMA, input: { prompt: "x" } }, streamy))).code).toBe("invalid");
    const binary = aiEnv({ reply: () => new Uint8Array([137, 80, 78, 71]) });
    expect((await failure(runAiEffect("ai.run", { model: "@cf/some/image-model", input: { prompt: "x" } }, binary))).code).toBe("invalid");
    for (const args of [null, { model: LLAMA }, { model: LLAMA, input: "x" }, { model: LLAMA, input: [] }, { input: {} }]) {
      expect((await failure(runAiEffect("ai.run", args, aiEnv()))).code).toBe("invalid");
    }
  });

  it("classifies platform errors like ai.embed", async () => {
    const e = await failure(runAiEffect("ai.run", { model: LLAMA, input: { prompt: "x" } },
      aiEnv({ failWith: new Error("3040: Capacity temporarily exceeded, please try again.") })));
    expect(e.code).toBe("unavailable");
    expect(e.message.startsWith("ai.run: ")).toBe(true);
    expect((await failure(runAiEffect("ai.run", { model: LLAMA, input: {} }, aiEnv()))).code).toBe("invalid");
  });
});

describe("ai.stream", () => {
  const encoder = new TextEncoder();
  const SSE = ['data: {"response":"Caf', 'é"}\n\ndata: {"response":"","usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}\n\n', "data: [DONE]\n\n"];
  const MESSAGES = [{ role: "user", content: "hello" }];

  /** A stream of the given byte pieces (the "é" above is split across two of them) that records cancel. */
  function sseStream(pieces, { errorAfter, error } = {}) {
    const bytes = encoder.encode(pieces.join(""));
    // Re-cut the joined bytes in the middle of "é" (0xC3 0xA9) so a chunk ends mid-character.
    const cut = bytes.indexOf(0xc3) + 1;
    const chunks = [bytes.subarray(0, cut), bytes.subarray(cut)];
    const state = { cancelled: null };
    let i = 0;
    const stream = new ReadableStream({
      pull(c) {
        if (errorAfter !== undefined && i === errorAfter) return c.error(error);
        if (i === chunks.length) return c.close();
        c.enqueue(chunks[i++]);
      },
      cancel(reason) { state.cancelled = reason ?? true; },
    });
    return { stream, state };
  }

  const effect = (op, args) => ({ op, payload: JSON.stringify(args) });

  async function readAll(e, ctx, id) {
    const out = [];
    for (let n = 0; n < 100; n++) {
      const r = await performEffect(effect("fetch.read", { stream: id }), null, e, ctx);
      expect(r.ok, r.message).toBe(true);
      if (r.data.byteLength === 0) return out;
      out.push(r.data);
    }
    throw new Error("stream never ended");
  }

  it("hands the binding's SSE stream to fetch.read, which reads it to the end", async () => {
    const { stream } = sseStream(SSE);
    const e = aiEnv({ reply: () => stream });
    const ctx = { upstreams: new Map() };
    const r = data(await runAiEffect("ai.stream", { model: LLAMA, input: { messages: MESSAGES, max_tokens: 8 } }, e, ctx));
    expect(r).toEqual({ status: 200, headers: { "content-type": "text/event-stream" }, stream: 1 });
    // The binding was asked to stream, with the rest of the input untouched.
    expect(e.AI.calls).toEqual([{ model: LLAMA, input: { messages: MESSAGES, max_tokens: 8, stream: true } }]);
    expect(ctx.upstreams.has(1)).toBe(true);
    const chunks = await readAll(e, ctx, 1);
    expect(chunks).toHaveLength(2); // the bytes arrive as the binding produced them, split mid-"é"
    expect(await new Blob(chunks).text()).toBe(SSE.join(""));
    expect(ctx.upstreams.size).toBe(0); // the end of the stream releases it
  });

  it("numbers streams per request, alongside fetch.start's", async () => {
    const e = aiEnv({ reply: () => sseStream(SSE).stream });
    const ctx = { upstreams: new Map(), upstreamSeq: 4 };
    expect(data(await runAiEffect("ai.stream", { model: LLAMA, input: { prompt: "x" } }, e, ctx)).stream).toBe(5);
    expect(data(await runAiEffect("ai.stream", { model: LLAMA, input: { prompt: "y" } }, e, ctx)).stream).toBe(6);
    expect([...ctx.upstreams.keys()]).toEqual([5, 6]);
  });

  it("fetch.abort cancels the model's stream, as does the end of the request", async () => {
    const { stream, state } = sseStream(SSE);
    const e = aiEnv({ reply: () => stream });
    const ctx = { upstreams: new Map() };
    const { stream: id } = data(await runAiEffect("ai.stream", { model: LLAMA, input: { prompt: "x" } }, e, ctx));
    const first = await performEffect(effect("fetch.read", { stream: id }), null, e, ctx);
    expect(first.ok).toBe(true);
    expect(data(await performEffect(effect("fetch.abort", { stream: id }), null, e, ctx))).toBe(true);
    await new Promise((r) => setTimeout(r, 0));
    expect(state.cancelled).not.toBeNull();
    expect(ctx.upstreams.size).toBe(0);
    const gone = await performEffect(effect("fetch.read", { stream: id }), null, e, ctx);
    expect(gone).toMatchObject({ ok: false, code: "invalid" });

    // worker.js aborts every upstream still open when the request ends: the same controller.
    const second = sseStream(SSE);
    const ctx2 = { upstreams: new Map() };
    await runAiEffect("ai.stream", { model: LLAMA, input: { prompt: "x" } }, aiEnv({ reply: () => second.stream }), ctx2);
    for (const up of ctx2.upstreams.values()) up.controller.abort();
    await new Promise((r) => setTimeout(r, 0));
    expect(second.state.cancelled).not.toBeNull();
  });

  it("classifies failures like ai.run, before and during the stream, with secrets scrubbed", async () => {
    const secret = "sk_live_0123456789abcdefghijklmnopqrstuvwxyz";
    const ctx = () => ({ upstreams: new Map() });
    const cases = [
      [new Error("3040: Capacity temporarily exceeded, please try again."), "unavailable"],
      [new Error("3007: Request timeout"), "timeout"],
      [new Error(`5007: No such model; Authorization: Bearer ${secret}`), "invalid"],
      [new Error("InferenceUpstreamError: something broke"), "internal"],
    ];
    for (const [err, code] of cases) {
      const e = await failure(runAiEffect("ai.stream", { model: LLAMA, input: { prompt: "x" } }, aiEnv({ failWith: () => err }), ctx()));
      expect(e.code, err.message).toBe(code);
      expect(e.message.startsWith("ai.stream: ")).toBe(true);
      expect(e.message).not.toContain(secret);
    }
    // A model that fails after it started streaming errors the stream: fetch.read reports it,
    // classified and scrubbed the same way.
    const broken = sseStream(SSE, { errorAfter: 1, error: new Error(`3040: Capacity temporarily exceeded; api_key=${secret}`) });
    const c = ctx();
    const e = aiEnv({ reply: () => broken.stream });
    await runAiEffect("ai.stream", { model: LLAMA, input: { prompt: "x" } }, e, c);
    expect((await performEffect(effect("fetch.read", { stream: 1 }), null, e, c)).ok).toBe(true);
    const failed = await performEffect(effect("fetch.read", { stream: 1 }), null, e, c);
    expect(failed).toMatchObject({ ok: false, code: "unavailable" });
    expect(failed.message).toMatch(/^ai\.stream: .*3040/);
    expect(failed.message).not.toContain(secret);
  });

  it("refuses a non-stream reply and malformed arguments as invalid, and needs a request", async () => {
    const json = aiEnv({ reply: () => ({ response: "not streamed" }) });
    expect((await failure(runAiEffect("ai.stream", { model: LLAMA, input: { prompt: "x" } }, json, { upstreams: new Map() }))).code).toBe("invalid");
    const e = aiEnv();
    for (const args of [null, { model: LLAMA }, { model: LLAMA, input: "x" }, { model: LLAMA, input: [] }, { input: {} }, { model: "", input: {} }]) {
      expect((await failure(runAiEffect("ai.stream", args, e, { upstreams: new Map() }))).code).toBe("invalid");
    }
    expect(e.AI.calls).toEqual([]);
    const noCtx = await failure(runAiEffect("ai.stream", { model: LLAMA, input: { prompt: "x" } }, e));
    expect(noCtx.code).toBe("unavailable");
    expect(e.AI.calls).toEqual([]);
  });
});

describe("vectorize.*", () => {
  const vec = (text) => fakeEmbedding(text, 768);

  async function seed(e) {
    const r = data(await runAiEffect("vectorize.upsert", { vectors: [
      { id: "a1", values: vec("cats purr softly"), namespace: "tenant-a", metadata: { doc: "d1", title: "Cats" } },
      { id: "a2", values: vec("dogs bark loudly"), namespace: "tenant-a", metadata: { doc: "d2", title: "Dogs" } },
      { id: "b1", values: vec("cats purr softly"), namespace: "tenant-b", metadata: { doc: "d9", title: "B cats" } },
    ] }, e));
    return r;
  }

  it("upsert reports {count, mutationId}", async () => {
    const e = vecEnv();
    const r = await seed(e);
    expect(r).toEqual({ count: 3, mutationId: expect.any(String) });
    expect(e.VECTOR_INDEX.vectors.size).toBe(3);
    expect(e.VECTOR_INDEX.vectors.get("a1")).toMatchObject({ namespace: "tenant-a", metadata: { doc: "d1" } });
  });

  it("a legacy (V1) index's {count, ids} is normalised to {count, mutationId: null}", async () => {
    const e = vecEnv({ legacyV1: true });
    expect(await seed(e)).toEqual({ count: 3, mutationId: null });
    expect(data(await runAiEffect("vectorize.delete", { ids: ["a1", "zz"] }, e))).toEqual({ count: 1, mutationId: null });
  });

  it("query ranks by cosine score and stays inside its namespace", async () => {
    const e = vecEnv({ metadataIndexes: ["doc"] });
    await seed(e);
    const a = data(await runAiEffect("vectorize.query", { vector: vec("cats purr"), topK: 5, namespace: "tenant-a", returnMetadata: "all" }, e));
    expect(a.matches.map((m) => m.id)).toEqual(["a1", "a2"]);
    expect(a.matches[0].score).toBeGreaterThan(a.matches[1].score);
    expect(a.matches[0].score).toBeGreaterThan(0.5);
    expect(a.matches[0].metadata).toEqual({ doc: "d1", title: "Cats" });
    for (const m of a.matches) expect(Object.keys(m).sort()).toEqual(["id", "metadata", "score"]);

    const b = data(await runAiEffect("vectorize.query", { vector: vec("cats purr"), topK: 5, namespace: "tenant-b" }, e));
    expect(b.matches.map((m) => m.id)).toEqual(["b1"]);
    expect(b.matches[0]).not.toHaveProperty("metadata"); // returnMetadata defaults to "none"

    const none = data(await runAiEffect("vectorize.query", { vector: vec("cats"), topK: 5, namespace: "tenant-c" }, e));
    expect(none).toEqual({ matches: [] });
  });

  it("an exact vector scores 1; topK bounds the result", async () => {
    const e = vecEnv();
    await seed(e);
    const r = data(await runAiEffect("vectorize.query", { vector: vec("dogs bark loudly"), topK: 1 }, e));
    expect(r.matches).toHaveLength(1);
    expect(r.matches[0].id).toBe("a2");
    expect(r.matches[0].score).toBeCloseTo(1, 5);
  });

  it('returnMetadata "indexed" returns only indexed properties; filter applies to them', async () => {
    const e = vecEnv({ metadataIndexes: ["doc"] });
    await seed(e);
    const r = data(await runAiEffect("vectorize.query", {
      vector: vec("cats purr softly"), topK: 10, namespace: "tenant-a", filter: { doc: { $in: ["d2"] } }, returnMetadata: "indexed",
    }, e));
    expect(r.matches).toEqual([{ id: "a2", score: expect.any(Number), metadata: { doc: "d2" } }]);
  });

  it("upsert replaces a vector in full; delete removes it from queries", async () => {
    const e = vecEnv();
    await seed(e);
    data(await runAiEffect("vectorize.upsert", { vectors: [{ id: "a1", values: vec("fresh bread"), namespace: "tenant-a" }] }, e));
    expect(e.VECTOR_INDEX.vectors.get("a1").metadata).toBeUndefined();

    const del = data(await runAiEffect("vectorize.delete", { ids: ["a1", "b1"] }, e));
    expect(del).toEqual({ count: 2, mutationId: expect.any(String) });
    const left = data(await runAiEffect("vectorize.query", { vector: vec("cats purr softly"), topK: 10 }, e));
    expect(left.matches.map((m) => m.id)).toEqual(["a2"]);
  });

  it("empty upsert and delete are no-ops that do not call the binding", async () => {
    const e = vecEnv({ failWith: new Error("must not be called") });
    expect(data(await runAiEffect("vectorize.upsert", { vectors: [] }, e))).toEqual({ count: 0, mutationId: null });
    expect(data(await runAiEffect("vectorize.delete", { ids: [] }, e))).toEqual({ count: 0, mutationId: null });
  });

  it("malformed arguments are invalid", async () => {
    const e = vecEnv();
    const bad = [
      ["vectorize.upsert", null],
      ["vectorize.upsert", { vectors: [{ values: [1] }] }],
      ["vectorize.upsert", { vectors: [{ id: "x", values: [] }] }],
      ["vectorize.upsert", { vectors: [{ id: "x", values: [1, null] }] }],
      ["vectorize.query", { vector: [], topK: 1 }],
      ["vectorize.query", { vector: vec("x"), topK: 0 }],
      ["vectorize.query", { vector: vec("x"), topK: 1.5 }],
      ["vectorize.query", { vector: vec("x"), topK: 1, returnMetadata: true }],
      ["vectorize.query", { vector: vec("x"), topK: 1, returnValues: true }],
      ["vectorize.delete", { ids: "a1" }],
      ["vectorize.delete", { ids: ["a1", 2] }],
    ];
    for (const [op, args] of bad) {
      expect((await failure(runAiEffect(op, args, e))).code, `${op} ${JSON.stringify(args)?.slice(0, 60)}`).toBe("invalid");
    }
  });

  it("the index's own rejections are invalid (dimensions, topK limits, batch size, id length)", async () => {
    const e = vecEnv();
    const cases = [
      ["vectorize.upsert", { vectors: [{ id: "x", values: [1, 2, 3] }] }],
      ["vectorize.upsert", { vectors: [{ id: "x".repeat(65), values: vec("x") }] }],
      ["vectorize.upsert", { vectors: [{ id: "x", values: vec("x"), namespace: "n".repeat(65) }] }],
      ["vectorize.upsert", { vectors: Array.from({ length: 1001 }, (_, i) => ({ id: `v${i}`, values: vec("x") })) }],
      ["vectorize.query", { vector: vec("x"), topK: 101 }],
      ["vectorize.query", { vector: vec("x"), topK: 21, returnMetadata: "all" }],
      ["vectorize.query", { vector: [1, 2, 3], topK: 1 }],
    ];
    for (const [op, args] of cases) {
      const err = await failure(runAiEffect(op, args, e));
      expect(err.code, op).toBe("invalid");
      expect(err.message.startsWith(`${op}: VECTOR_`)).toBe(true);
    }
    // topK 100 without metadata and 20 with "all" are within the limits.
    expect(data(await runAiEffect("vectorize.query", { vector: vec("x"), topK: 100 }, e)).matches).toEqual([]);
    expect(data(await runAiEffect("vectorize.query", { vector: vec("x"), topK: 20, returnMetadata: "all" }, e)).matches).toEqual([]);
  });

  it("service-side failures are unavailable or timeout; unknown ones internal", async () => {
    const cases = [
      [new Error("VECTOR_QUERY_ERROR: Status + 500"), "unavailable"],
      [new Error("VECTOR_QUERY_ERROR (code = 429): too many requests"), "unavailable"],
      [Object.assign(new Error("timed out"), { name: "TimeoutError" }), "timeout"],
      [new Error("Network connection lost."), "internal"],
    ];
    for (const [err, code] of cases) {
      const e = vecEnv({ failWith: () => err });
      expect((await failure(runAiEffect("vectorize.query", { vector: vec("x"), topK: 1 }, e))).code, err.message).toBe(code);
      expect((await failure(runAiEffect("vectorize.delete", { ids: ["a"] }, e))).code, err.message).toBe(code);
    }
  });
});

describe("embed → upsert → query round trip", () => {
  it("embeddings decoded from ai.embed bytes retrieve the matching chunk", async () => {
    const e = { ...aiEnv(), ...vecEnv({ metadataIndexes: ["doc"] }) };
    const chunks = ["Workers run at the edge", "Vectorize stores embeddings", "D1 is SQLite"];
    const { rows } = decodeEmbeddings(data(await runAiEffect("ai.embed", { model: BGE, texts: chunks }, e)));
    data(await runAiEffect("vectorize.upsert", {
      vectors: rows.map((r, i) => ({ id: `c${i}`, values: Array.from(r), namespace: "u1", metadata: { doc: "d", i } })),
    }, e));
    const q = decodeEmbeddings(data(await runAiEffect("ai.embed", { model: BGE, texts: ["where are embeddings stored"] }, e))).rows[0];
    const r = data(await runAiEffect("vectorize.query", { vector: Array.from(q), topK: 3, namespace: "u1", returnMetadata: "all" }, e));
    expect(r.matches[0]).toMatchObject({ id: "c1", metadata: { doc: "d", i: 1 } });
  });
});
