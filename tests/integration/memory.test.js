// Memory streams and training examples end to end through the real Worker (js-shim + core.wasm)
// against local D1: CRUD, frames in seq order, the JSONL export parsed line by line, isolation
// between users, 401 without a token, and 400s with field errors for bad bodies.
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { api, BASE, expectError, registerUser } from "./helpers.js";

const STREAMS = "/api/v1/memory/streams";
const TRAINING = "/api/v1/training-examples";

// The export, read as bytes and decoded as UTF-8 (workerd's Response.text() warns on a media type
// it does not know to be text, such as application/jsonl).
async function exportJsonl(query, token) {
  const headers = token ? { authorization: `Bearer ${token}` } : {};
  const res = await SELF.fetch(`${BASE}${TRAINING}/export${query}`, { headers });
  const text = new TextDecoder("utf-8", { fatal: true }).decode(await res.arrayBuffer());
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  return { status: res.status, headers: res.headers, text, json };
}

function parseJsonl(text) {
  expect(text === "" || text.endsWith("\n")).toBe(true);
  return text
    .split("\n")
    .slice(0, -1)
    .map((line) => JSON.parse(line));
}

describe("memory streams", () => {
  it("creates, reads by id and streamId, appends frames in order, updates, lists, deletes", async () => {
    const u = await registerUser();
    const t = u.accessToken;

    const created = await api("POST", STREAMS, { token: t, body: { streamId: "agent-1", goal: "Learn Rust" } });
    expect(created.status, created.text).toBe(201);
    const s = created.json.stream;
    expect(s).toMatchObject({ streamId: "agent-1", goal: "Learn Rust", status: "active", frameCount: 0 });
    expect(s.id).toMatch(/^mem_[0-9a-f]{24}$/);
    expect(new Date(s.createdAt).toISOString()).toBe(s.createdAt);
    expect(created.headers.get("location")).toBe(`${STREAMS}/${s.id}`);

    expect((await api("GET", `${STREAMS}/agent-1`, { token: t })).json.stream).toEqual(s);
    expect((await api("GET", `${STREAMS}/${s.id}`, { token: t })).json.stream).toEqual(s);

    // Frames get 1, 2, 3, … even when appended concurrently.
    const appended = await Promise.all(
      ["user", "assistant", "observation", "note", "user"].map((role, i) =>
        api("POST", `${STREAMS}/agent-1/frames`, { token: t, body: { role, content: `frame ${i} ✓` } }),
      ),
    );
    for (const r of appended) expect(r.status, r.text).toBe(201);
    expect(appended.map((r) => r.json.frame.seq).sort()).toEqual([1, 2, 3, 4, 5]);

    const page1 = await api("GET", `${STREAMS}/${s.id}/frames?limit=3`, { token: t });
    expect(page1.status).toBe(200);
    expect(page1.json.frames.map((f) => f.seq)).toEqual([1, 2, 3]);
    const page2 = await api("GET", `${STREAMS}/${s.id}/frames?limit=3&cursor=${page1.json.nextCursor}`, { token: t });
    expect(page2.json.frames.map((f) => f.seq)).toEqual([4, 5]);
    expect(page2.json.nextCursor).toBeNull();
    const contents = [...page1.json.frames, ...page2.json.frames].map((f) => f.content).sort();
    expect(contents).toEqual([0, 1, 2, 3, 4].map((i) => `frame ${i} ✓`));

    // PATCH: archive, then frames are refused; reactivate and clear the goal.
    const archived = await api("PATCH", `${STREAMS}/agent-1`, { token: t, body: { status: "archived" } });
    expect(archived.json.stream).toMatchObject({ status: "archived", goal: "Learn Rust", frameCount: 5 });
    expectError(
      await api("POST", `${STREAMS}/agent-1/frames`, { token: t, body: { role: "note", content: "x" } }),
      409,
      "memory.archived",
    );
    const list = await api("GET", `${STREAMS}?status=archived`, { token: t });
    expect(list.json.streams.map((x) => x.id)).toEqual([s.id]);
    const back = await api("PATCH", `${STREAMS}/${s.id}`, { token: t, body: { status: "active", goal: null } });
    expect(back.json.stream).toMatchObject({ status: "active", goal: null });

    // Newest first, paged.
    const s2 = (await api("POST", STREAMS, { token: t })).json.stream;
    expect(s2.streamId).toBe(s2.id);
    const all = await api("GET", `${STREAMS}?limit=1`, { token: t });
    expect(all.json.streams.map((x) => x.id)).toEqual([s2.id]);
    const rest = await api("GET", `${STREAMS}?limit=1&cursor=${all.json.nextCursor}`, { token: t });
    expect(rest.json.streams.map((x) => x.id)).toEqual([s.id]);

    expect((await api("DELETE", `${STREAMS}/agent-1`, { token: t })).status).toBe(204);
    expectError(await api("GET", `${STREAMS}/agent-1`, { token: t }), 404, "memory.not_found");
    expectError(await api("GET", `${STREAMS}/${s.id}/frames`, { token: t }), 404, "memory.not_found");
  });

  it("hides other users' streams, requires a token, and rejects bad bodies with field errors", async () => {
    const a = await registerUser();
    const b = await registerUser();
    const s = (await api("POST", STREAMS, { token: a.accessToken, body: { streamId: "mine" } })).json.stream;
    for (const ref of [s.id, "mine"]) {
      expectError(await api("GET", `${STREAMS}/${ref}`, { token: b.accessToken }), 404, "memory.not_found");
      expectError(await api("PATCH", `${STREAMS}/${ref}`, { token: b.accessToken, body: { goal: "x" } }), 404, "memory.not_found");
      expectError(await api("DELETE", `${STREAMS}/${ref}`, { token: b.accessToken }), 404, "memory.not_found");
      expectError(
        await api("POST", `${STREAMS}/${ref}/frames`, { token: b.accessToken, body: { role: "note", content: "x" } }),
        404,
        "memory.not_found",
      );
    }
    expect((await api("GET", STREAMS, { token: b.accessToken })).json.streams).toEqual([]);

    expectError(await api("GET", STREAMS), 401, "auth.missing_token");
    expectError(await api("POST", STREAMS, { body: { goal: "x" } }), 401, "auth.missing_token");
    expectError(await api("GET", `${STREAMS}/${s.id}/frames`), 401, "auth.missing_token");

    const t = a.accessToken;
    const bad = async (method, path, body, field) => {
      const e = expectError(await api(method, path, { token: t, body }), 400, "validation.failed");
      expect(Object.keys(e.fields)).toContain(field);
    };
    await bad("POST", STREAMS, { streamId: "a/b" }, "streamId");
    await bad("POST", STREAMS, { streamId: "mem_x" }, "streamId");
    await bad("POST", STREAMS, { goal: 5 }, "goal");
    await bad("POST", STREAMS, { status: "gone" }, "status");
    await bad("PATCH", `${STREAMS}/mine`, { colour: "red" }, "colour");
    await bad("POST", `${STREAMS}/mine/frames`, { role: "system", content: "x" }, "role");
    await bad("POST", `${STREAMS}/mine/frames`, { role: "note", content: "" }, "content");
    await bad("POST", `${STREAMS}/mine/frames`, { role: "note", content: "x".repeat(32 * 1024 + 1) }, "content");
    expectError(await api("POST", STREAMS, { token: t, body: "[]", headers: { "content-type": "application/json" } }), 400, "validation.body_not_object");
    expectError(await api("POST", STREAMS, { token: t, body: { streamId: "mine" } }), 409, "memory.stream_exists");
    expectError(await api("GET", `${STREAMS}?limit=0`, { token: t }), 400, "validation.failed");
    expectError(await api("GET", `${STREAMS}?cursor=nope`, { token: t }), 400, "validation.failed");
  });
});

describe("training examples", () => {
  const example = (source, q, output) => ({
    source,
    messages: [
      { role: "system", content: "Be brief." },
      { role: "user", content: q },
    ],
    output,
    model: "gpt-4o-mini",
  });

  it("creates, lists, gets, deletes, and exports OpenAI fine-tuning JSONL", async () => {
    const u = await registerUser();
    const t = u.accessToken;
    const made = [];
    for (const [source, q, out] of [
      ["rag_chat", "What is D1?", "SQLite at the edge."],
      ["prompt_lab", "empty answer", ""],
      ["agent_simulation", 'Quote "this"\nand that', "Done\u2028really ✓"],
    ]) {
      const r = await api("POST", TRAINING, { token: t, body: example(source, q, out) });
      expect(r.status, r.text).toBe(201);
      made.push(r.json.example);
    }
    const viaInput = await api("POST", TRAINING, {
      token: t,
      body: { source: "prompt_lab", input: { messages: [{ role: "user", content: "2+2?" }] }, output: "4", metadata: { score: 1 } },
    });
    expect(viaInput.status, viaInput.text).toBe(201);
    expect(viaInput.json.example).toMatchObject({ model: null, metadata: { score: 1 }, messages: [{ role: "user", content: "2+2?" }] });
    made.push(viaInput.json.example);

    const got = await api("GET", `${TRAINING}/${made[0].id}`, { token: t });
    expect(got.json.example).toEqual(made[0]);
    const list = await api("GET", `${TRAINING}?source=prompt_lab`, { token: t });
    expect(list.json.examples.map((e) => e.id).sort()).toEqual([made[1].id, made[3].id].sort());
    expect(list.json.examples.every((e) => e.source === "prompt_lab" && typeof e.messageCount === "number")).toBe(true);

    // /export is its own route, not an example id.
    const ex = await exportJsonl("", t);
    expect(ex.status, ex.text).toBe(200);
    expect(ex.headers.get("content-type")).toBe("application/jsonl; charset=utf-8");
    expect(ex.headers.get("content-disposition")).toMatch(/^attachment; filename="training-examples\.jsonl"$/);
    expect(ex.headers.get("x-export-count")).toBe("3");
    expect(ex.headers.get("x-export-truncated")).toBe("false");
    const lines = parseJsonl(ex.text);
    expect(lines).toHaveLength(3); // the empty answer is skipped
    for (const line of lines) {
      expect(Object.keys(line)).toEqual(["messages"]);
      for (const m of line.messages) {
        expect(Object.keys(m).sort()).toEqual(["content", "role"]);
        expect(["system", "user", "assistant"]).toContain(m.role);
      }
      expect(line.messages.at(-1).role).toBe("assistant");
    }
    const byAnswer = Object.fromEntries(lines.map((l) => [l.messages.at(-1).content, l.messages]));
    expect(byAnswer["SQLite at the edge."]).toEqual([
      { role: "system", content: "Be brief." },
      { role: "user", content: "What is D1?" },
      { role: "assistant", content: "SQLite at the edge." },
    ]);
    expect(byAnswer["Done\u2028really ✓"][1].content).toBe('Quote "this"\nand that');
    expect(byAnswer["4"]).toEqual([
      { role: "user", content: "2+2?" },
      { role: "assistant", content: "4" },
    ]);

    // Capped export: says so, and the cursor continues it without gaps or repeats.
    const first = await exportJsonl("?limit=2", t);
    expect(first.headers.get("x-export-truncated")).toBe("true");
    const cursor = first.headers.get("x-export-next-cursor");
    expect(cursor).toBeTruthy();
    const second = await exportJsonl(`?limit=2&cursor=${cursor}`, t);
    expect(second.headers.get("x-export-truncated")).toBe("false");
    expect([...parseJsonl(first.text), ...parseJsonl(second.text)]).toEqual(lines);

    const rag = await exportJsonl("?source=rag_chat", t);
    expect(parseJsonl(rag.text)).toHaveLength(1);

    expect((await api("DELETE", `${TRAINING}/${made[0].id}`, { token: t })).status).toBe(204);
    expectError(await api("GET", `${TRAINING}/${made[0].id}`, { token: t }), 404, "training.not_found");
    expect(parseJsonl((await exportJsonl("", t)).text)).toHaveLength(2);
  });

  it("isolates users, requires a token, and rejects bad bodies with field errors", async () => {
    const a = await registerUser();
    const b = await registerUser();
    const id = (await api("POST", TRAINING, { token: a.accessToken, body: example("rag_chat", "q", "secret") })).json.example.id;
    expectError(await api("GET", `${TRAINING}/${id}`, { token: b.accessToken }), 404, "training.not_found");
    expectError(await api("DELETE", `${TRAINING}/${id}`, { token: b.accessToken }), 404, "training.not_found");
    expect((await api("GET", TRAINING, { token: b.accessToken })).json.examples).toEqual([]);
    const bx = await exportJsonl("", b.accessToken);
    expect(bx.status).toBe(200);
    expect(bx.text).toBe("");

    expectError(await api("GET", TRAINING), 401, "auth.missing_token");
    expectError(await exportJsonl(""), 401, "auth.missing_token");
    expectError(await api("POST", TRAINING, { body: example("rag_chat", "q", "a") }), 401, "auth.missing_token");

    const t = a.accessToken;
    const bad = async (body, field) => {
      const e = expectError(await api("POST", TRAINING, { token: t, body }), 400, "validation.failed");
      expect(Object.keys(e.fields)).toContain(field);
    };
    await bad({ ...example("rag_chat", "q", "a"), source: "web" }, "source");
    await bad({ source: "rag_chat", output: "a" }, "messages");
    await bad({ ...example("rag_chat", "q", "a"), messages: [{ role: "tool", content: "x" }] }, "messages");
    await bad({ ...example("rag_chat", "q", "a"), messages: [{ role: "user", content: 1 }] }, "messages");
    await bad({ ...example("rag_chat", "q", "a"), output: null }, "output");
    await bad({ ...example("rag_chat", "q", "a"), metadata: [1] }, "metadata");
    expectError(await api("GET", `${TRAINING}?source=nope`, { token: t }), 400, "validation.failed");
    expectError(await exportJsonl("?limit=0", t), 400, "validation.failed");
  });
});
