// Jobs end to end through the real Worker: the JOBS queue and its consumer (js-shim/worker.js
// `queue`), the core's runner (claims, retries, dead-letter, cancel), the routes under /api/v1/jobs
// and seed 003's /api/jobs, document ingest and reindex as jobs, and the cron trigger. The suite
// runs with JOB_RETRY_BASE_SECONDS = 0 (vitest.config.js), so retries come straight back through
// the queue; the "test" job type exists because EDGECHAT_TEST_HOOKS = 1.
import { createExecutionContext, createMessageBatch, createScheduledController, env, getQueueResult,
  waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import worker from "./worker-entry.js";
import { api, expectError, registerUser } from "./helpers.js";

const ADMIN = { "x-admin-key": env.ADMIN_KEY };

const admin = (method, path, body) => api(method, path, { headers: ADMIN, body });

async function createJob(body, headers = ADMIN) {
  const r = await api("POST", "/api/v1/jobs", { headers, body });
  expect(r.status, r.text).toBe(202);
  expect(r.headers.get("location")).toBe(`/api/v1/jobs/${r.json.job.id}`);
  return r.json;
}

/** Polls GET /api/v1/jobs/:id until done(job) holds. */
async function waitJob(id, done, { token, timeoutMs = 15000 } = {}) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const r = token ? await api("GET", `/api/v1/jobs/${id}`, { token })
      : await admin("GET", `/api/v1/jobs/${id}`);
    expect(r.status, r.text).toBe(200);
    if (done(r.json.job)) return r.json.job;
    if (Date.now() > until) throw new Error(`job ${id} is still ${r.json.job.state}: ${r.text}`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

const bigText = (n) => Array.from({ length: n },
  (_, i) => `Paragraph ${i} is about lighthouse number ${i} and the keepers who tended its lamp.`).join("\n\n");

describe("jobs: the queue, retries, dead-letter, cancel", () => {
  it("retries a failing job through the queue, then dead-letters it; progress stays visible", async () => {
    const { job } = await createJob({ type: "test", payload: { steps: 2, failAttempts: 99 }, maxAttempts: 3 });
    expect(job).toMatchObject({ type: "test", state: "queued", attempts: 0, maxAttempts: 3, userId: null });
    const dead = await waitJob(job.id, (j) => j.state === "dead");
    expect(dead).toMatchObject({ attempts: 3, error: { code: "test.transient" }, progressNote: "step 2 of 2" });
    expect(dead.progress).toBeCloseTo(2 / 3);
    expect(dead.finishedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(Date.parse(dead.finishedAt)).toBeGreaterThanOrEqual(Date.parse(dead.createdAt));

    // Retried by hand, it runs its attempts again (and, still failing, ends dead again).
    const retried = await admin("PATCH", `/api/jobs/${job.id}`, { action: "retry" });
    expect(retried.status, retried.text).toBe(200);
    expect(retried.json.job).toMatchObject({ state: "queued", attempts: 0, error: null });
    // Seed 003's /api/jobs keeps epoch milliseconds; /api/v1 answers ISO 8601 (above).
    expect(retried.json.job.createdAt).toBe(Date.parse(dead.createdAt));
    const again = await waitJob(job.id, (j) => j.state === "dead");
    expect(again.attempts).toBe(3);
  });

  it("fails a job with a permanent error at once, and records a successful one's result", async () => {
    const bad = await createJob({ type: "test", payload: { permanent: true } });
    const failed = await waitJob(bad.job.id, (j) => j.state === "failed");
    expect(failed).toMatchObject({ attempts: 1, error: { code: "test.permanent" } });
    const good = await createJob({ type: "test", payload: { steps: 3 } });
    const done = await waitJob(good.job.id, (j) => j.state === "succeeded");
    expect(done).toMatchObject({ attempts: 1, progress: 1, result: { attempt: 1, steps: 3 }, error: null });
    expectError(await admin("PATCH", `/api/v1/jobs/${good.job.id}`, { action: "cancel" }), 409, "jobs.finished");
    expectError(await admin("PATCH", `/api/v1/jobs/${good.job.id}`, { action: "retry" }), 409, "jobs.not_retryable");
  });

  it("cancels a queued job at once, and a running one at its next checkpoint", async () => {
    // Delayed an hour: it waits in the queue (and in D1) until then.
    const { job } = await createJob({ type: "test", delaySeconds: 3600 });
    const c = await admin("PATCH", `/api/v1/jobs/${job.id}`, { state: "cancelled" });
    expect(c.status, c.text).toBe(200);
    expect(c.json.job).toMatchObject({ state: "cancelled", cancelRequested: true, error: { code: "jobs.cancelled" } });
    expectError(await admin("POST", "/api/v1/jobs/run", { jobId: job.id }), 409, "jobs.not_runnable");

    // A running attempt (claimed, its lease live) is only flagged...
    const running = await createJob({ type: "test", payload: { steps: 2 }, delaySeconds: 3600 });
    await env.DB.prepare("UPDATE jobs SET state = 'running', attempts = 1, lease_until = ? WHERE id = ?")
      .bind(Date.now() + 60_000, running.job.id).run();
    const flagged = await admin("PATCH", `/api/v1/jobs/${running.job.id}`, { action: "cancel" });
    expect(flagged.status, flagged.text).toBe(202);
    expect(flagged.json.job).toMatchObject({ state: "running", cancelRequested: true });
    // ...and when that attempt is gone (its lease over), the next claim ends the job as cancelled.
    await env.DB.prepare("UPDATE jobs SET lease_until = 0 WHERE id = ?").bind(running.job.id).run();
    const ran = await admin("POST", "/api/v1/jobs/run", { jobId: running.job.id });
    expect(ran.status, ran.text).toBe(200);
    expect(ran.json.ran[0]).toMatchObject({ id: running.job.id, state: "cancelled", attempts: 1 });
  });

  it("POST /api/jobs/run runs a delayed job now, and the due ones in a batch", async () => {
    const { job } = await createJob({ type: "test", payload: { steps: 1 }, delaySeconds: 3600 });
    const r = await admin("POST", "/api/jobs/run", { jobId: job.id });
    expect(r.status, r.text).toBe(200);
    expect(r.json).toMatchObject({ count: 1, ran: [{ id: job.id, state: "succeeded", progress: 1 }] });
    const batch = await admin("POST", "/api/jobs/run");
    expect(batch.status, batch.text).toBe(200);
    expect(Array.isArray(batch.json.ran)).toBe(true);
    expectError(await admin("POST", "/api/jobs/run", { jobId: "job_missing" }), 404, "jobs.not_found");
    expectError(await admin("POST", "/api/jobs/run", { limit: 100 }), 400, "validation.failed");
  });

  it("acks a queue message once the core has recorded the outcome", async () => {
    const { job } = await createJob({ type: "test", delaySeconds: 3600 });
    const batch = createMessageBatch("edgechat-jobs", [
      { id: "m1", timestamp: new Date(), attempts: 1, body: { jobId: job.id } },
      { id: "m2", timestamp: new Date(), attempts: 1, body: { jobId: "job_gone" } },
    ]);
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks.sort()).toEqual(["m1", "m2"]);
    expect(result.retryMessages).toEqual([]);
    // Not yet due: the message did nothing.
    expect((await admin("GET", `/api/v1/jobs/${job.id}`)).json.job.state).toBe("queued");
  });
});

describe("jobs: documents, privacy and input", () => {
  it("ingests a large document as a job the document points at, with visible progress", async () => {
    const u = await registerUser();
    const r = await api("POST", "/api/v1/documents", { token: u.accessToken, body: { docId: "lights", content: bigText(150) } });
    expect(r.status, r.text).toBe(202);
    const jobId = r.json.document.job.id;
    expect(jobId).toMatch(/^job_/);
    const seen = await api("GET", `/api/jobs/${jobId}`, { token: u.accessToken });
    expect(seen.status, seen.text).toBe(200);
    expect(seen.json.job).toMatchObject({ type: "ingest", userId: u.user.id, payload: { documentId: "lights", generation: 1 } });
    const done = await waitJob(jobId, (j) => j.state === "succeeded", { token: u.accessToken });
    expect(done.progress).toBe(1);
    expect(done.result).toMatchObject({ documentId: "lights", generation: 1, vectorStore: "local" });
    expect(done.result.chunkCount).toBeGreaterThan(5);
    const doc = await api("GET", "/api/v1/documents/lights", { token: u.accessToken });
    expect(doc.json.document.state).toBe("ready");
    expect(doc.json.document.job).toBeUndefined();
    const list = await api("GET", "/api/v1/jobs?type=ingest&state=succeeded", { token: u.accessToken });
    expect(list.json.jobs.map((j) => j.id)).toEqual([jobId]);
  });

  it("reindexes a document from its stored chunks as a new generation", async () => {
    const u = await registerUser();
    const t = u.accessToken;
    expect((await api("POST", "/api/v1/documents", { token: t, body: { docId: "keep", content: "Foghorns warn ships in thick weather." } })).status).toBe(201);
    const before = await env.DB.prepare("SELECT text, char_start, char_end FROM chunks WHERE user_id = ? ORDER BY idx").bind(u.user.id).all();
    const made = await createJob({ type: "reindex", payload: { documentId: "keep" } }, { authorization: `Bearer ${t}` });
    expect(made.job.payload).toMatchObject({ documentId: "keep", generation: 2, source: "chunks" });
    expect(made.document.job.id).toBe(made.job.id);
    const done = await waitJob(made.job.id, (j) => j.state === "succeeded", { token: t });
    expect(done.result).toMatchObject({ documentId: "keep", generation: 2 });
    const after = await env.DB.prepare("SELECT text, char_start, char_end, generation FROM chunks WHERE user_id = ? ORDER BY idx").bind(u.user.id).all();
    expect(after.results.map(({ generation, ...c }) => c)).toEqual(before.results);
    expect(after.results.every((c) => c.generation === 2)).toBe(true);
    const hit = await api("POST", "/api/v1/search", { token: t, body: { query: "foghorns ships" } });
    expect(hit.json.results[0].documentId).toBe("keep");
  });

  it("keeps each user's jobs to themselves; the admin key sees all", async () => {
    const a = await registerUser();
    const b = await registerUser();
    expect((await api("POST", "/api/v1/documents", { token: a.accessToken, body: { docId: "x", content: "Beacons and buoys." } })).status).toBe(201);
    const { job } = await createJob({ type: "reindex", payload: { documentId: "x" } }, { authorization: `Bearer ${a.accessToken}` });
    for (const base of ["/api/v1/jobs", "/api/jobs"]) {
      expectError(await api("GET", `${base}/${job.id}`, { token: b.accessToken }), 404, "jobs.not_found");
      expectError(await api("PATCH", `${base}/${job.id}`, { token: b.accessToken, body: { action: "cancel" } }), 404, "jobs.not_found");
    }
    expect((await api("GET", "/api/v1/jobs", { token: b.accessToken })).json.jobs).toEqual([]);
    expectError(await api("POST", "/api/v1/jobs", { token: b.accessToken, body: { type: "reindex", payload: { documentId: "x" } } }), 404, "documents.not_found");
    const all = await admin("GET", `/api/v1/jobs?userId=${a.user.id}`);
    expect(all.json.jobs.map((j) => j.id)).toContain(job.id);
    expectError(await api("GET", `/api/v1/jobs?userId=${a.user.id}`, { token: a.accessToken }), 400, "validation.failed");
    expectError(await api("POST", "/api/v1/jobs", { token: a.accessToken, body: { type: "cleanup" } }), 403, "jobs.admin_only");
  });

  it("refuses bad input on every route with a clear 4xx", async () => {
    const u = await registerUser();
    const t = u.accessToken;
    for (const body of [
      {}, { type: "nope" }, { type: "reindex" }, { type: "reindex", payload: [] },
      { type: "reindex", payload: { documentId: "" } }, { type: "reindex", payload: { documentId: "x" }, maxAttempts: 0 },
      { type: "reindex", payload: { documentId: "x" }, delaySeconds: "soon" }, { type: "ingest", payload: {} },
      { type: "reindex", payload: { documentId: "x" }, extra: 1 },
    ]) {
      expectError(await api("POST", "/api/v1/jobs", { token: t, body }), 400, "validation.failed");
    }
    expectError(await api("POST", "/api/v1/jobs", { token: t, body: "not json", headers: { "content-type": "application/json" } }), 400, "http.invalid_json");
    expectError(await api("GET", "/api/v1/jobs?state=sleeping", { token: t }), 400, "validation.failed");
    expectError(await api("GET", "/api/v1/jobs?limit=1000", { token: t }), 400, "validation.failed");
    expectError(await api("GET", "/api/v1/jobs?cursor=bm90LWEtY3Vyc29y", { token: t }), 400, "validation.failed");
    expectError(await api("GET", "/api/v1/jobs/job_nope", { token: t }), 404, "jobs.not_found");
    const { job } = await createJob({ type: "test", delaySeconds: 3600 });
    for (const body of [{}, { action: "explode" }, { state: "succeeded" }, { action: "cancel", state: "cancelled" }]) {
      expectError(await admin("PATCH", `/api/v1/jobs/${job.id}`, body), 400, "validation.failed");
    }
    expectError(await api("GET", "/api/v1/jobs"), 401, "auth.missing_token");
    expectError(await api("GET", "/api/v1/jobs", { headers: { "x-admin-key": "wrong-wrong-wrong-wrong" }, token: t }), 403, "admin.key_invalid");
  });

  it("never runs the shim's internal routes for a client", async () => {
    const { job } = await createJob({ type: "test", delaySeconds: 3600 });
    for (const path of ["/internal/jobs/run", "/internal/cron"]) {
      expectError(await api("POST", path, { body: { jobId: job.id }, headers: { "x-edgechat-internal": "guess" } }), 404, "http.not_found");
    }
    expect((await admin("GET", `/api/v1/jobs/${job.id}`)).json.job.state).toBe("queued");
  });
});

describe("jobs: the cron trigger", () => {
  it("runs a cleanup job on every tick", async () => {
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: "*/15 * * * *", scheduledTime: Date.now() }), env, ctx);
    await waitOnExecutionContext(ctx);
    const r = await admin("GET", "/api/v1/jobs?type=cleanup");
    expect(r.json.jobs.length).toBeGreaterThan(0);
    const job = r.json.jobs[0];
    expect(job).toMatchObject({ state: "succeeded", userId: null, payload: { trigger: "cron" }, progress: 1 });
    expect(job.result.removed).toMatchObject({ jobs: expect.any(Number), orphanObjects: expect.any(Number) });
    expect(job.result.errors).toEqual({});
  });

  it("runs a job the queue has not delivered for ten minutes itself (a stalled local queue)", async () => {
    // A job row whose message never arrived, due eleven minutes ago, and one only just overdue.
    const now = Date.now();
    await env.DB.prepare(
      "INSERT INTO jobs (id, type, state, payload, max_attempts, run_after, created_at, updated_at) VALUES " +
        "('job_stalled', 'test', 'queued', '{}', 4, ?1, ?1, ?1), ('job_late', 'test', 'queued', '{}', 4, ?2, ?2, ?2)",
    ).bind(now - 11 * 60_000, now - 2 * 60_000).run();
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: "*/15 * * * *", scheduledTime: now }), env, ctx);
    await waitOnExecutionContext(ctx);
    const stalled = (await admin("GET", "/api/v1/jobs/job_stalled")).json.job;
    expect(stalled).toMatchObject({ state: "succeeded", attempts: 1 });
    // The other was only sent to the queue again (which, here, delivers it: it runs or has run).
    expect(["queued", "running", "succeeded"]).toContain((await admin("GET", "/api/v1/jobs/job_late")).json.job.state);
  });
});
