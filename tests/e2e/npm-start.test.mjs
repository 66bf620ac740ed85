// End to end exactly as a user runs it: `npm start` (setup, build, local D1 migrations,
// `wrangler dev --local`), then real HTTP over loopback. Tokens are checked with jose against the
// served JWKS, independently of the core; chat answers are read with eventsource-parser and the
// official openai SDK, as clients would. Offline: answers come from the local extractive provider.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { createParser } from "eventsource-parser";
import { createLocalJWKSet, jwtVerify } from "jose";
import OpenAI from "openai";

const PORT = Number(process.env.E2E_PORT ?? 8797);
const BASE = `http://127.0.0.1:${PORT}`;
const state = mkdtempSync(join(tmpdir(), "edgechat-e2e-"));
let server;
let output = "";

async function waitForHealth(deadlineMs) {
  while (Date.now() < deadlineMs) {
    try {
      const r = await fetch(`${BASE}/health`);
      if (r.ok) return;
    } catch { /* not listening yet */ }
    if (server.exitCode !== null) throw new Error(`npm start exited:\n${output}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`npm start did not become healthy:\n${output}`);
}

// The run uses the default rate limits (10 a minute anonymous, 30 signed in, per route group), as a
// user's `npm start` does. A well-behaved client waits Retry-After and tries again; so does this one
// (the limit itself is checked by the last test, which calls plain fetch).
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function politeFetch(url, init) {
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(url, init);
    if (res.status !== 429 || attempt === 5) return res;
    await res.arrayBuffer();
    await sleep(Number(res.headers.get("retry-after") ?? 1) * 1000);
  }
}

const post = (path, body, token) => politeFetch(`${BASE}${path}`, {
  method: "POST",
  headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
  body: JSON.stringify(body),
});

before(async () => {
  // EDGECHAT_TEST_HOOKS=1 as a var: the shipped core must ignore it (the last test checks).
  server = spawn("npm", ["start", "--", "--var", "EDGECHAT_TEST_HOOKS:1"], {
    env: { ...process.env, PORT: String(PORT), PERSIST_DIR: state },
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  server.stdout.on("data", (d) => { output += d; });
  server.stderr.on("data", (d) => { output += d; });
  await waitForHealth(Date.now() + 240_000);
});

after(() => {
  if (server?.exitCode === null) process.kill(-server.pid, "SIGTERM");
  rmSync(state, { recursive: true, force: true });
});

test("health and readiness (migrations applied by npm start)", async () => {
  assert.equal((await politeFetch(`${BASE}/health`)).status, 200);
  const ready = await politeFetch(`${BASE}/ready`);
  assert.equal(ready.status, 200);
  assert.equal((await ready.json()).checks.d1, "ok");
});

// README "Try it", run as written there (only `npm start &` is left out: the suite's server is up,
// on its own port). It runs before the other tests so that its two anonymous auth requests (it sends
// them with curl, which does not wait out a 429) fit in the default allowance of 10 a minute.
test("README: the Try it block works pasted as is", async () => {
  const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
  const block = readme.split("\n## Try it\n")[1]?.match(/```sh\n([\s\S]*?)\n```/)?.[1];
  assert.ok(block, "README has a ## Try it section with a sh block");
  const lines = block.split("\n");
  assert.match(lines[0], /^npm start &/);
  const script = lines.slice(1).join("\n").replaceAll("localhost:8787", `127.0.0.1:${PORT}`);
  assert.doesNotMatch(script, /8787/);
  const root = new URL("../..", import.meta.url).pathname;
  const { stdout } = await promisify(execFile)("bash", ["-c", `set -euo pipefail\n${script}`], {
    cwd: root, timeout: 120_000, maxBuffer: 16 << 20,
  }).catch((e) => assert.fail(`the block failed (${e.code}):\n${e.stdout}\n${e.stderr}`));
  // One JSON answer a line until the event stream.
  const answers = stdout.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
  assert.ok(answers.some((a) => a.user?.username === "ada"), stdout);
  assert.ok(answers.some((a) => a.document?.id === "sample" && a.document.state === "ready"), stdout);
  assert.ok(answers.some((a) => a.results?.[0]?.documentId === "sample"), stdout);
  // The chat answer: an event stream that cites the sample and ends well.
  const sse = stdout.slice(stdout.indexOf("event: start"));
  const events = [];
  const parser = createParser({ onEvent: (e) => events.push({ event: e.event, data: JSON.parse(e.data) }) });
  parser.feed(sse);
  assert.deepEqual(events.map((e) => e.event).slice(0, 2), ["start", "sources"], sse);
  assert.equal(events[1].data.sources[0].documentId, "sample");
  assert.match(answerText(events), /\[1\]/);
  const done = events.at(-1);
  assert.equal(done.event, "done", sse);
  assert.equal(done.data.status, "complete");
  assert.deepEqual(done.data.citations, [1]);
});

// Workers static assets (wrangler.toml [assets], public/, headers from public/_headers). These are
// checked here rather than in tests/integration: vitest-pool-workers' SELF.fetch calls the Worker's
// default export directly, past the asset router, so there every asset path is the Worker's 404.
test("the API reference: /openapi.json and /docs are static assets, served without the Worker", async () => {
  const spec = await fetch(`${BASE}/openapi.json`, { headers: { origin: "https://elsewhere.example" } });
  assert.equal(spec.status, 200);
  assert.match(spec.headers.get("content-type"), /^application\/json/);
  assert.equal(spec.headers.get("access-control-allow-origin"), "*");
  assert.equal(spec.headers.get("cache-control"), "public, max-age=300, must-revalidate");
  assert.ok(spec.headers.get("etag"));
  // The Worker stamps every response it makes with X-Request-Id: this one never reached it.
  assert.equal(spec.headers.get("x-request-id"), null);
  assert.equal(await spec.text(), readFileSync(new URL("../../openapi.json", import.meta.url), "utf8"));

  const redirect = await fetch(`${BASE}/docs`, { redirect: "manual" });
  assert.equal(redirect.status, 307);
  assert.equal(redirect.headers.get("location"), "/docs/");
  const page = await fetch(`${BASE}/docs/`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get("content-type"), /^text\/html/);
  const csp = page.headers.get("content-security-policy");
  assert.match(csp, /script-src 'self';/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  const html = await page.text();
  const scripts = [...html.matchAll(/<script\b[^>]*>([^<]*)<\/script>/g)];
  assert.deepEqual(scripts.map((m) => m[0]), [
    '<script src="/docs/vendor/swagger-ui-bundle.js"></script>',
    '<script src="/docs/docs.js"></script>',
  ]);
  for (const [path, type] of [
    ["/docs/docs.js", /javascript/], ["/docs/docs.css", /^text\/css/],
    ["/docs/vendor/swagger-ui-bundle.js", /javascript/], ["/docs/vendor/swagger-ui.css", /^text\/css/],
  ]) {
    const r = await fetch(`${BASE}${path}`);
    assert.equal(r.status, 200, path);
    assert.match(r.headers.get("content-type"), type, path);
    await r.arrayBuffer();
  }

  // A path under /docs/ that is no file still reaches the Worker, which answers its JSON 404.
  const missing = await politeFetch(`${BASE}/docs/nothing-here`);
  assert.equal(missing.status, 404);
  assert.ok(missing.headers.get("x-request-id"));
  assert.equal((await missing.json()).error.code, "http.not_found");
});

test("the cron trigger runs (wrangler dev --test-scheduled serves /__scheduled)", async () => {
  // The Worker's scheduled handler throws when the core could not run the tick, which wrangler
  // reports as a 500; a 200 means stale jobs were swept and a cleanup job ran.
  const r = await fetch(`${BASE}/__scheduled?cron=${encodeURIComponent("*/15 * * * *")}`);
  assert.equal(r.status, 200, await r.text());
});

test("register → JWKS-verified token → me → refresh → logout", async () => {
  const username = `e2e_${Date.now()}`;
  const reg = await post("/api/v1/auth/register", { username, password: "correct horse battery" });
  assert.equal(reg.status, 201);
  const session = await reg.json();
  const jwks = await (await politeFetch(`${BASE}/.well-known/jwks.json`)).json();
  const { payload } = await jwtVerify(session.accessToken, createLocalJWKSet(jwks), {
    issuer: "edgechat", audience: "edgechat-api", algorithms: ["RS256"],
  });
  assert.equal(payload.sub, session.user.id);

  const me = await politeFetch(`${BASE}/api/v1/auth/me`, { headers: { authorization: `Bearer ${session.accessToken}` } });
  assert.equal(me.status, 200);
  assert.equal((await me.json()).user.username, username);

  const refreshed = await post("/api/v1/auth/refresh", { refreshToken: session.refreshToken });
  assert.equal(refreshed.status, 200);
  const next = await refreshed.json();
  assert.notEqual(next.refreshToken, session.refreshToken);

  assert.equal((await post("/api/v1/auth/logout", {}, next.accessToken)).status, 204);
  const after = await politeFetch(`${BASE}/api/v1/auth/me`, { headers: { authorization: `Bearer ${next.accessToken}` } });
  assert.equal(after.status, 401);
  assert.equal((await after.json()).error.code, "auth.session_revoked");
});

test("bad input gets a clear 4xx JSON error", async () => {
  const r = await politeFetch(`${BASE}/api/v1/auth/login`, { method: "POST", body: "not json", headers: { "content-type": "application/json" } });
  assert.equal(r.status, 400);
  const body = await r.json();
  assert.equal(body.error.code, "http.invalid_json");
  assert.equal(body.requestId, r.headers.get("x-request-id"));
});

test("upload a PDF → ingest → search finds it → download → delete (local R2, D1, FTS5, queue)", async () => {
  const reg = await post("/api/v1/auth/register", { username: `e2e_rag_${Date.now()}`, password: "correct horse battery" });
  const { accessToken: token } = await reg.json();
  const auth = { authorization: `Bearer ${token}` };
  const pdf = readFileSync(new URL("../fixtures/pdf/multipage.pdf", import.meta.url));
  const up = await politeFetch(`${BASE}/api/v1/files?filename=notes.pdf`, {
    method: "POST", headers: { ...auth, "content-type": "application/pdf" }, body: pdf,
  });
  assert.equal(up.status, 201);
  const { file } = await up.json();

  const made = await post("/api/v1/documents", { fileId: file.id, docId: "manual" }, token);
  assert.equal(made.status, 201);
  assert.equal((await made.json()).document.state, "ready");

  // Big enough to be queued (over INGEST_INLINE_BYTES): the local queue consumer builds it.
  const big = Array.from({ length: 9000 }, (_, i) => `Line ${i} about nothing in particular.`);
  big[7100] = "The lighthouse keeper logs every passing ship in a green ledger.";
  const queued = await post("/api/v1/documents", { docId: "big", content: big.join("\n\n") }, token);
  assert.equal(queued.status, 202);
  for (let i = 0; ; i++) {
    const d = (await (await politeFetch(`${BASE}/api/v1/documents/big`, { headers: auth })).json()).document;
    if (d.state === "ready" && !d.job) break;
    assert.ok(i < 120, `queued ingest did not finish: ${JSON.stringify(d)}`);
    await sleep(500);
  }

  const search = async (query) => (await (await post("/api/v1/search", { query, topK: 3 }, token)).json()).results;
  assert.equal((await search("how does retrieval rank chunks"))[0].documentId, "manual");
  assert.match((await search("lighthouse keeper ledger"))[0].text, /green ledger/);

  const dl = await politeFetch(`${BASE}/api/v1/files/${file.id}/download`, { headers: { ...auth, range: "bytes=0-4" } });
  assert.equal(dl.status, 206);
  assert.equal(await dl.text(), "%PDF-");

  const del = await politeFetch(`${BASE}/api/v1/documents/manual`, { method: "DELETE", headers: auth });
  assert.equal(del.status, 204);
  assert.ok((await search("how does retrieval rank chunks")).every((r) => r.documentId !== "manual"));
  assert.equal((await politeFetch(`${BASE}/api/v1/files/${file.id}`, { headers: auth })).status, 404);
});

// An SSE body → [{event, id, data (parsed JSON)}], in order, until the server ends the stream.
async function readEvents(res) {
  const events = [];
  const parser = createParser({ onEvent: (e) => events.push({ event: e.event, id: e.id, data: JSON.parse(e.data) }) });
  const decoder = new TextDecoder();
  for await (const chunk of res.body) parser.feed(decoder.decode(chunk, { stream: true }));
  return events;
}

const answerText = (events) => events.filter((e) => e.event === "delta").map((e) => e.data.text).join("");

test("chat: ask about an uploaded Markdown document → SSE answer citing it → history, export, resume, OpenAI SDK, seed 000", async () => {
  const reg = await post("/api/v1/auth/register", { username: `e2e_chat_${Date.now()}`, password: "correct horse battery" });
  const { accessToken: token } = await reg.json();
  const auth = { authorization: `Bearer ${token}` };
  const get = (path, headers = {}) => politeFetch(`${BASE}${path}`, { headers: { ...auth, ...headers } });

  const markdown = "# Observatory\n\nThe observatory telescope has a 40 cm mirror and tracks comets every winter.\n\n" +
    "# Café\n\nThe café serves hot chocolate with cardamom.\n";
  const up = await politeFetch(`${BASE}/api/v1/files?filename=observatory.md`, {
    method: "POST", headers: { ...auth, "content-type": "text/markdown" }, body: markdown,
  });
  assert.equal(up.status, 201);
  const { file } = await up.json();
  const made = await post("/api/v1/documents", { fileId: file.id, title: "Observatory notes" }, token);
  assert.equal(made.status, 201);
  const { document } = await made.json();
  assert.equal(document.state, "ready");

  const created = await post("/api/v1/chats", {}, token);
  assert.equal(created.status, 201);
  const chatId = (await created.json()).chat.id;

  // 1. Ask: one SSE stream of start, sources, delta…, usage, done, ids 1..n.
  const question = "How big is the observatory telescope mirror?";
  const asked = await post(`/api/v1/chats/${chatId}/messages`, { content: question, provider: "local" }, token);
  assert.equal(asked.status, 200);
  assert.match(asked.headers.get("content-type"), /^text\/event-stream/);
  const events = await readEvents(asked);
  const names = events.map((e) => e.event);
  assert.deepEqual(names.slice(0, 2), ["start", "sources"]);
  assert.deepEqual(names.slice(-2), ["usage", "done"]);
  assert.ok(names.length > 4 && names.slice(2, -2).every((n) => n === "delta"), names.join(","));
  events.forEach((e, i) => assert.equal(e.id, String(i + 1)));
  const [start, sources] = events;
  assert.equal(start.data.chatId, chatId);
  assert.match(start.data.streamId, /^str_/);
  assert.equal(sources.data.sources[0].n, 1);
  assert.equal(sources.data.sources[0].documentId, document.id);
  const answer = answerText(events);
  assert.match(answer, /\[1\]/);
  assert.match(answer, /40 cm mirror/);
  const done = events.at(-1).data;
  assert.equal(done.status, "complete");
  assert.equal(done.provider, "local");
  assert.equal(done.model, "edgechat-extractive-v1");
  assert.deepEqual(done.citations, [1]);

  // 2. Both messages are stored, the answer with its sources; the Markdown export has the answer.
  const listed = await get(`/api/v1/chats/${chatId}/messages`);
  assert.equal(listed.status, 200);
  const [q, a] = (await listed.json()).messages;
  assert.equal(q.role, "user");
  assert.equal(q.content, question);
  assert.equal(a.role, "assistant");
  assert.equal(a.id, done.messageId);
  assert.equal(a.content, answer);
  assert.equal(a.replyTo, q.id);
  assert.equal(a.sources[0].documentId, document.id);
  const md = await get(`/api/v1/chats/${chatId}/export?format=markdown`);
  assert.equal(md.status, 200);
  assert.match(md.headers.get("content-type"), /^text\/markdown/);
  assert.ok((await md.text()).includes(answer));

  // 3. Resume from the stream's Durable Object log: everything after event 2, through done.
  const resumed = await get(`/api/v1/streams/${start.data.streamId}`, { "last-event-id": "2" });
  assert.equal(resumed.status, 200);
  const rest = await readEvents(resumed);
  assert.deepEqual(rest.map((e) => [e.id, e.event]), events.slice(2).map((e) => [e.id, e.event]));
  assert.equal(answerText(rest), answer);

  // 4. An API key with the official openai SDK against /v1.
  const keyRes = await post("/api/v1/api-keys", { name: "e2e-sdk" }, token);
  assert.equal(keyRes.status, 201);
  const client = new OpenAI({ apiKey: (await keyRes.json()).apiKey.key, baseURL: `${BASE}/v1`, maxRetries: 0 });
  const completion = await client.chat.completions.create({
    model: "local", messages: [{ role: "user", content: "Say something about comets" }],
  });
  assert.equal(completion.object, "chat.completion");
  assert.equal(completion.choices[0].message.role, "assistant");
  assert.ok(completion.choices[0].message.content.length > 0);
  assert.ok(completion.usage.total_tokens > 0);
  const stream = await client.chat.completions.create({
    model: "local", messages: [{ role: "user", content: "Say something about comets" }], stream: true,
  });
  let streamed = "";
  let finish = null;
  for await (const chunk of stream) {
    streamed += chunk.choices[0]?.delta?.content ?? "";
    finish = chunk.choices[0]?.finish_reason ?? finish;
  }
  assert.ok(streamed.length > 0);
  assert.equal(finish, "stop");
  const modelIds = [];
  for await (const m of await client.models.list()) modelIds.push(m.id);
  assert.ok(modelIds.includes("edgechat-extractive-v1"), modelIds.join(","));

  // 5. Seed 000's JSON chat route.
  const seed = await post("/api/chat", { query: "What does the café serve?", provider: "local" }, token);
  assert.equal(seed.status, 200);
  const seedBody = await seed.json();
  assert.equal(seedBody.success, true);
  assert.match(seedBody.data.response, /cardamom/);
  assert.equal(seedBody.data.provider, "local");
  assert.ok(seedBody.data.sessionId);

  // 6. Bad input is a 400 JSON error; someone else's chat does not exist for them.
  const empty = await post(`/api/v1/chats/${chatId}/messages`, { content: "", provider: "local" }, token);
  assert.equal(empty.status, 400);
  assert.equal((await empty.json()).error.code, "validation.failed");
  const other = await (await post("/api/v1/auth/register", { username: `e2e_other_${Date.now()}`, password: "correct horse battery" })).json();
  const foreign = await post(`/api/v1/chats/${chatId}/messages`, { content: "hello?", provider: "local" }, other.accessToken);
  assert.equal(foreign.status, 404);
  assert.equal((await foreign.json()).error.code, "chat.not_found");
  assert.equal((await (await get(`/api/v1/chats/${chatId}/messages`)).json()).messages.length, 2);
});

test("credits: a new account's grant, a debit kept under its Idempotency-Key, the usage report", async () => {
  const reg = await post("/api/v1/auth/register", { username: `e2e_c_${Date.now()}`, password: "correct horse battery" });
  assert.equal(reg.status, 201);
  const { accessToken: token } = await reg.json();
  const auth = { authorization: `Bearer ${token}` };
  const start = await politeFetch(`${BASE}/api/credits`, { headers: auth });
  assert.equal((await start.json()).balance, 10);
  const report = () => politeFetch(`${BASE}/api/billing/usage`, {
    method: "POST",
    headers: { ...auth, "content-type": "application/json", "idempotency-key": "e2e-debit-1" },
    body: JSON.stringify({ provider: "openai", model: "gpt-4o-mini", tokensIn: 2000, tokensOut: 500 }),
  });
  const first = await report();
  assert.equal(first.status, 201);
  const used = Number(first.headers.get("x-credits-used"));
  assert.ok(used > 0);
  const again = await report();
  assert.equal(again.status, 201);
  assert.equal(again.headers.get("idempotent-replayed"), "true");
  assert.deepEqual(await again.json(), await first.json());
  const end = await (await politeFetch(`${BASE}/api/credits`, { headers: auth })).json();
  assert.ok(Math.abs(end.balance - (10 - used)) < 1e-9, `charged once: ${end.balance}`);
  const usage = await (await politeFetch(`${BASE}/api/billing/usage`, { headers: auth })).json();
  assert.equal(usage.totals.calls, 1);
  assert.equal(usage.daily[0].model, "gpt-4o-mini");
  // Without ADMIN_KEY configured the admin routes are closed to everyone.
  const adminRes = await politeFetch(`${BASE}/api/admin/users`, { headers: { "x-admin-key": "not-the-key-000000" } });
  assert.ok([401, 403].includes(adminRes.status));
  assert.match((await adminRes.json()).error.code, /^admin\./);
});

test("rate limits: past the default allowance, 429 with Retry-After and the X-RateLimit headers", async () => {
  // A client address of its own (wrangler dev, like Cloudflare's edge, passes CF-Connecting-IP on),
  // anonymous in the default group: 10 a minute.
  const headers = { "cf-connecting-ip": "198.51.100.77" };
  const answers = [];
  for (let i = 0; i < 11; i++) {
    const r = await fetch(`${BASE}/api/v1/auth/me`, { headers });
    answers.push({ status: r.status, remaining: r.headers.get("x-ratelimit-remaining"), r });
    await r.arrayBuffer();
  }
  assert.deepEqual(answers.map((a) => a.status), [...Array(10).fill(401), 429]);
  assert.deepEqual(answers.slice(0, 10).map((a) => a.remaining), ["9", "8", "7", "6", "5", "4", "3", "2", "1", "0"]);
  const refused = answers[10].r;
  assert.equal(refused.headers.get("retry-after"), "6"); // 60 s / 10
  assert.equal(refused.headers.get("x-ratelimit-limit"), "10");
  assert.equal(refused.headers.get("x-ratelimit-remaining"), "0");
  assert.equal(refused.headers.get("x-ratelimit-reset"), "60");
  // Another address is not affected.
  const other = await fetch(`${BASE}/api/v1/auth/me`, { headers: { "cf-connecting-ip": "198.51.100.78" } });
  assert.equal(other.status, 401);
  assert.equal(other.headers.get("x-ratelimit-remaining"), "9");
});

test("no test-only routes: /__test/* is 404 although EDGECHAT_TEST_HOOKS=1 is set", async () => {
  assert.match(output, /EDGECHAT_TEST_HOOKS/);  // wrangler lists the var among the bindings
  const headers = { "cf-connecting-ip": "198.51.100.79", "content-type": "application/json" };
  for (const [method, path] of [["POST", "/__test/trap"], ["POST", "/__test/relay"], ["GET", "/__test/limited"]]) {
    const r = await fetch(`${BASE}${path}`, { method, headers, body: method === "POST" ? "{}" : undefined });
    assert.equal(r.status, 404, path);
    assert.equal((await r.json()).error.code, "http.not_found");
  }
  // Nor the `test` job type.
  const reg = await post("/api/v1/auth/register", { username: `e2e_hooks_${Date.now()}`, password: "correct horse battery" });
  const job = await post("/api/v1/jobs", { type: "test" }, (await reg.json()).accessToken);
  assert.equal(job.status, 400);
  assert.equal((await job.json()).error.fields.type, "one of ingest, reindex, cleanup");
});
