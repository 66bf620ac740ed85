// Miniflare integration tests (tests/integration): the real Worker runs in workerd with local D1,
// R2, Durable Objects and Queues, driven through SELF.fetch. It is the shim over the test build of the
// core (tests/integration/worker-entry.js: js-shim/core-test.wasm, which has the /__test/* routes);
// everything else comes from wrangler.toml. Build the core first (`bash scripts/build`).
import { readFileSync } from "node:fs";
import { defineConfig } from "vitest/config";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { FAKE_PROVIDER_KEYS, startProviderServer } from "./tests/integration/fakes/provider-server.js";
import { startUpstream } from "./tests/integration/fakes/upstream-server.js";

export default defineConfig(async () => {
  const migrations = await readD1Migrations("migrations");
  // Real HTTP servers on loopback that the Worker calls: a generic SSE upstream, and fakes of the
  // LLM providers (OpenAI, Gemini, an OpenAI-compatible server) and Langfuse speaking their real
  // wire formats (tests/integration/fakes/provider-server.js).
  const upstream = await startUpstream();
  upstream.server.unref();
  const provider = await startProviderServer();
  provider.server.unref();
  return {
    plugins: [
      cloudflareTest({
        main: "./tests/integration/worker-entry.js",
        wrangler: { configPath: "./wrangler.toml" },
        remoteBindings: false,
        miniflare: {
          bindings: {
            TEST_MIGRATIONS: migrations,
            // The core reads its env once per Wasm instance, so these are fixed for the suite.
            EDGECHAT_TEST_HOOKS: "1",
            FAKE_UPSTREAM_URL: upstream.url,
            // The providers point at the fake: OpenAI at {url}/v1/chat/completions, the
            // OpenAI-compatible provider at {url}/compat/v1/chat/completions (a path the fake tells
            // apart), Gemini at {url}/v1beta/models/…, Langfuse at {url}/api/public/ingestion.
            FAKE_PROVIDER_URL: provider.url,
            OPENAI_API_BASE_URL: provider.url,
            OPENAI_API_KEY: FAKE_PROVIDER_KEYS.openai,
            OPENAI_BASE_URL: `${provider.url}/compat/v1`,
            GEMINI_BASE_URL: provider.url,
            GEMINI_API_KEY: FAKE_PROVIDER_KEYS.gemini,
            LANGFUSE_BASE_URL: provider.url,
            LANGFUSE_PUBLIC_KEY: FAKE_PROVIDER_KEYS.langfusePublic,
            LANGFUSE_SECRET_KEY: FAKE_PROVIDER_KEYS.langfuseSecret,
            // AI is bound (the fake below), but documents and files keep the offline embedder and
            // summariser so their expectations do not depend on the fake's answers.
            EMBEDDINGS: "local",
            LLM_TASKS: "local",
            ALLOWED_ORIGINS: "https://app.example,https://admin.example",
            // Presigned URLs are built on this (a non-loopback Host without it is refused).
            PUBLIC_BASE_URL: "https://edgechat.test",
            // Small limits so the tests reach them cheaply: uploads over 256 KiB are refused,
            // and ingests over 8 KiB run as queued jobs.
            MAX_UPLOAD_BYTES: "262144",
            INGEST_INLINE_BYTES: "8192",
            // Ingest bounds (tests/integration/hostile-ingest.test.js): 5,000 chunks a document and
            // 2 MB of indexed text a user, far above what the other files store.
            MAX_CHUNKS_PER_DOCUMENT: "5000",
            STORAGE_QUOTA_BYTES: "2000000",
            // Rate limits: the real groups far above anything a test sends (anonymous requests here
            // share one "unknown" address), and a low-limit group that only /__test/limited is in
            // (tests/integration/rate-limit.test.js), so that file reaches its limits while the
            // others never do. The path — pipeline, ratelimit.check, the RateLimiter Durable Object,
            // the core's GCRA — is production's.
            RATE_LIMITS: JSON.stringify({
              default: { anonymous: 1000000, user: 1000000, periodSeconds: 60 },
              test: { anonymous: 20, user: 40, periodSeconds: 3600 },
            }),
            // Admin routes (/api/admin/*, POST /api/jobs/run, system jobs) answer to this key.
            ADMIN_KEY: "test-admin-key-0123456789abcdef",
            // Jobs retry at once (the backoff's doubling is a native test), and cleanup may remove
            // an unreferenced R2 object at once (no grace period for uploads in flight: only the
            // admin tests run cleanup, and they upload nothing while it runs).
            JOB_RETRY_BASE_SECONDS: "0",
            CLEANUP_ORPHAN_GRACE_SECONDS: "0",
            // Binary fixtures for the Worker tests (an object, so the core never sees it).
            TEST_FIXTURES: Object.fromEntries(["multipage.pdf", "encrypted.pdf", "scanned.pdf"]
              .map((f) => [f, readFileSync(`tests/fixtures/pdf/${f}`).toString("base64")])),
          },
          // Workers AI: the fake's FakeAi entrypoint, called over RPC like the real binding.
          serviceBindings: { AI: { name: "fake-ai", entrypoint: "FakeAi" } },
          workers: [{
            name: "fake-ai",
            modules: true,
            scriptPath: "tests/integration/fakes/fake-ai-worker.js",
            // Its imports (answers.js, ai-bindings.js) are ES modules too; Miniflare's default for
            // a bare .js import is CommonJS.
            modulesRules: [{ type: "ESModule", include: ["**/*.js"] }],
            compatibilityDate: "2026-04-01",
          }],
        },
      }),
    ],
    test: {
      include: ["tests/integration/**/*.test.js"],
      setupFiles: ["./tests/integration/apply-migrations.js"],
      // The Worker logs one JSON access-log line per request; keep the output readable.
      onConsoleLog: (log) => !log.includes('"msg":"request"') && !log.includes('"msg":"provider call"'),
      testTimeout: 20_000,
      hookTimeout: 20_000,
    },
  };
});
