// Serves one bundled Worker on workerd through Miniflare's Node API, in its own process so the
// load generator's event loop never handles the Worker's logs. Forked by bench/run.mjs:
//   node bench/serve.mjs '{"name","config","script","port","state","log"[,"bindings"]}'
// `bindings` (optional) is merged over the config's [vars] etc., e.g. {"INGEST_INLINE_BYTES": "4194304"}.
// Protocol over IPC: it sends {ready, url}; it answers {id, sql, params} (run on the Worker's D1
// binding DB, for seeding and migrations) with {id, rows} or {id, error}; {exit} stops it.
import { createWriteStream, mkdirSync } from "node:fs";
import path from "node:path";
import { Miniflare } from "miniflare";
import { unstable_getMiniflareWorkerOptions } from "wrangler";

const opts = JSON.parse(process.argv[2]);
const { workerOptions } = unstable_getMiniflareWorkerOptions(opts.config);
mkdirSync(opts.state, { recursive: true });
const log = createWriteStream(opts.log);

const mf = new Miniflare({
  ...workerOptions,
  bindings: { ...(workerOptions.bindings ?? {}), ...(opts.bindings ?? {}) },
  name: opts.name,
  modules: true,
  scriptPath: opts.script,
  host: "127.0.0.1",
  port: 0,
  // A socket straight into the Worker, bypassing Miniflare's entry worker (which adds a JS hop
  // per request that production does not have).
  unsafeDirectSockets: [{ host: "127.0.0.1", port: opts.port }],
  d1Persist: path.join(opts.state, "d1"),
  // The resumable chat streams' Durable Object logs (SQLite) live with the state (tmpfs), not in
  // Miniflare's default temp dir on disk: there, the per-chunk log appends paced the canonical
  // chat route (section 8: ~300 ms instead of ~75 ms to the last of 50 fast chunks).
  durableObjectsPersist: path.join(opts.state, "do"),
  // workerd's stdout/stderr (the Workers' console.log lines) go to a file, unparsed.
  handleRuntimeStdio(stdout, stderr) {
    stdout.pipe(log);
    stderr.pipe(log);
  },
});

await mf.ready;
const url = await mf.unsafeGetDirectURL(opts.name);
const db = await mf.getD1Database("DB");
process.send({ ready: true, url: url.href, pid: process.pid });

process.on("message", async (msg) => {
  if (msg.exit) {
    await mf.dispose();
    log.end(() => process.exit(0));
    return;
  }
  try {
    const stmts = msg.batch ?? [{ sql: msg.sql, params: msg.params }];
    const out = await db.batch(stmts.map((s) => {
      const st = db.prepare(s.sql);
      return s.params?.length ? st.bind(...s.params) : st;
    }));
    process.send({ id: msg.id, rows: out.map((r) => r.results ?? []) });
  } catch (e) {
    process.send({ id: msg.id, error: String(e?.message ?? e) });
  }
});
process.on("disconnect", () => mf.dispose().finally(() => process.exit(0)));
