// Per-request cost of edgechat and the Hono reference measured inside one workerd isolate:
// N sequential requests per call, timed from outside (workerd's clock does not advance during
// compute), alternating E R R E. Both see the same D1 and the same Request objects, so the
// difference is the Workers' own work — without the load generator that shares the 2 cores in
// the req/s figures.
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { build } from "esbuild";
import { Miniflare } from "miniflare";
import { unstable_splitSqlQuery } from "wrangler";

export async function compareInIsolate({ root, fixture, outdir, n = 2000, rounds = 4, compatibilityFlags }) {
  await build({
    entryPoints: [path.join(root, "bench", "isolate", "entry.js")], bundle: true, format: "esm",
    // cloudflare:workers (the StreamLog Durable Object's base class) is workerd's own module.
    outfile: path.join(outdir, "entry.js"), external: ["*.wasm", "cloudflare:*"], logLevel: "error",
  });
  const wasm = readFileSync(path.join(root, "js-shim", "core.wasm"));
  const mf = new Miniflare({
    modules: [
      { type: "ESModule", path: path.join(outdir, "entry.js") },
      // Externals keep their specifiers: entry.js's "../../js-shim/core.wasm" now resolves from
      // the bundle's folder.
      { type: "CompiledWasm", path: path.join(outdir, "../../js-shim/core.wasm"), contents: wasm },
    ],
    compatibilityDate: "2026-04-01", compatibilityFlags, d1Databases: ["DB"], bindings: fixture.env,
    // Thousands of access-log lines (the Workers' stdout) would bury the bench's own output.
    handleRuntimeStdio(stdout, stderr) {
      stdout.resume();
      stderr.pipe(process.stderr);
    },
  });
  try {
    const db = await mf.getD1Database("DB");
    const dir = path.join(root, "migrations");
    for (const file of readdirSync(dir).filter((f) => f.endsWith(".sql")).sort()) {
      for (const sql of unstable_splitSqlQuery(readFileSync(path.join(dir, file), "utf8"))) await db.prepare(sql).run();
    }
    const k = fixture.keyRows[0], u = fixture.userRow;
    await db.batch([
      db.prepare("INSERT INTO signing_keys (kid, alg, public_jwk, private_jwk, source, created_at) VALUES (?1, 'RS256', ?2, ?3, 'generated', ?4)")
        .bind(k.kid, k.public_jwk, k.private_jwk, k.created_at),
      db.prepare("INSERT INTO users (id, username, email, role, is_guest, created_at, updated_at) VALUES (?1, ?2, ?3, 'user', 0, ?4, ?4)")
        .bind(u.id, u.username, u.email, u.created_at),
      db.prepare("INSERT INTO sessions (id, user_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)")
        .bind(u.session_id, u.id, u.created_at, fixture.nowMs + 86_400_000),
    ]);
    const run = async (w, p, count) => {
      const t = performance.now();
      const res = await mf.dispatchFetch(`http://bench/?w=${w}&n=${count}&p=${encodeURIComponent(p)}`,
        { headers: { "x-bearer": `Bearer ${fixture.tokens[0]}` } });
      const status = await res.text();
      if (status !== "200") throw new Error(`${w === "e" ? "edgechat" : "reference"} ${p} answered ${status}`);
      return ((performance.now() - t) * 1000) / count;
    };
    const out = {};
    for (const p of ["/health", "/api/v1/auth/me"]) {
      await run("e", p, 200);
      await run("r", p, 200);
      const us = { e: [], r: [] };
      for (let i = 0; i < rounds; i++) for (const w of ["e", "r", "r", "e"]) us[w].push(await run(w, p, n));
      const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
      out[p] = { edgechatUs: +med(us.e).toFixed(1), referenceUs: +med(us.r).toFixed(1) };
      out[p].ratio = +(out[p].referenceUs / out[p].edgechatUs).toFixed(3);  // throughput ratio E/R
    }
    return out;
  } finally {
    await mf.dispose();
  }
}
