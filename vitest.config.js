// Miniflare integration tests (tests/integration): the real Worker (js-shim + core.wasm) runs in
// workerd with local D1/KV, driven through SELF.fetch. Build the core first (`bash scripts/build`).
import { readFileSync } from "node:fs";
import { defineConfig } from "vitest/config";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { startUpstream } from "./tests/integration/fakes/upstream-server.js";

export default defineConfig(async () => {
  const migrations = await readD1Migrations("migrations");
  // A real HTTP server on loopback that the Worker calls as an upstream (provider) in the tests.
  const upstream = await startUpstream();
  upstream.server.unref();
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: "./wrangler.toml" },
        remoteBindings: false,
        miniflare: {
          bindings: {
            TEST_MIGRATIONS: migrations,
            // The core reads its env once per Wasm instance, so these are fixed for the suite.
            EDGECHAT_TEST_HOOKS: "1",
            FAKE_UPSTREAM_URL: upstream.url,
            ALLOWED_ORIGINS: "https://app.example,https://admin.example",
            // Small limits so the tests reach them cheaply: uploads over 256 KiB are refused,
            // and ingests over 8 KiB run as queued jobs.
            MAX_UPLOAD_BYTES: "262144",
            INGEST_INLINE_BYTES: "8192",
            // Binary fixtures for the Worker tests (an object, so the core never sees it).
            TEST_FIXTURES: Object.fromEntries(["multipage.pdf", "encrypted.pdf", "scanned.pdf"]
              .map((f) => [f, readFileSync(`tests/fixtures/pdf/${f}`).toString("base64")])),
          },
        },
      }),
    ],
    test: {
      include: ["tests/integration/**/*.test.js"],
      setupFiles: ["./tests/integration/apply-migrations.js"],
      // The Worker logs one JSON access-log line per request; keep the output readable.
      onConsoleLog: (log) => !log.includes('"msg":"request"'),
      testTimeout: 20_000,
      hookTimeout: 20_000,
    },
  };
});
