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

// Swagger UI virtualizes the operation list: only the blocks near the viewport are in the DOM.
// Scrolling brings the others in; two animation frames let the list render what came into view.
const settle = (page) => page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
const scrollTo = async (page, y) => { await page.evaluate((top) => window.scrollTo(0, top), y); await settle(page); };
const pageHeight = (page) => page.evaluate(() => document.documentElement.scrollHeight);

// Every operation block the page shows, scrolled through top to bottom: "id METHOD path" (the id
// names the tag, so an operation listed under two tags is two entries).
async function listedOperations(page) {
  const seen = new Set();
  for (let y = 0; y <= await pageHeight(page); y += 400) {
    await scrollTo(page, y);
    const shown = await page.locator(".opblock").evaluateAll((blocks) => blocks.map((b) =>
      `${b.id} ${b.querySelector(".opblock-summary-method")?.textContent} ${b.querySelector(".opblock-summary-path")?.dataset.path}`));
    for (const s of shown) seen.add(s);
  }
  await scrollTo(page, 0);
  return [...seen];
}

// The operation's block, scrolled into the DOM (and view) wherever it is on the page.
async function reveal(page, method, path) {
  const block = operation(page, method, path);
  for (let y = 0; (await block.count()) === 0; y += 400) {
    assert.ok(y <= await pageHeight(page), `${method} ${path} is not on the page`);
    await scrollTo(page, y);
  }
  await block.first().scrollIntoViewIfNeeded();
  return block;
}

// Expand an operation, "Try it out", "Execute"; → {status, body} of the live response as rendered.
async function tryIt(page, method, path) {
  const block = await reveal(page, method, path);
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

  assert.ok((await page.locator(".info .title").first().innerText()).includes(spec.info.title));

  // Every operation of the document is on the page, once under each of its tags.
  const operations = Object.entries(spec.paths).flatMap(([path, item]) =>
    METHODS.filter((m) => item[m]).map((m) => ({ key: `${m.toUpperCase()} ${path}`, tags: item[m].tags ?? [] })));
  const listed = await listedOperations(page);
  const listedKeys = new Set(listed.map((l) => l.split(" ").slice(1).join(" ")));
  const missing = operations.filter((o) => !listedKeys.has(o.key)).map((o) => o.key);
  assert.deepEqual(missing, [], `operations not on the page:\n  ${missing.join("\n  ")}`);
  assert.equal(listed.length, operations.reduce((n, o) => n + Math.max(1, o.tags.length), 0));
  assert.ok(listedKeys.has("GET /health") && listedKeys.has("POST /api/v1/auth/register"));

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

  // A bearer token pasted under "Authorize" is sent: GET /api/v1/auth/me is the new user.
  await authorize(page, "bearerAuth", session.accessToken);
  const me = await tryIt(page, "GET", "/api/v1/auth/me");
  assert.equal(me.status, 200, JSON.stringify(me.body));
  assert.equal(me.body.user.id, session.user.id);

  // The admin key scheme puts X-Admin-Key on the request (this server has no ADMIN_KEY, so the
  // gateway refuses it with an admin.* error: what matters is that the header was sent).
  await authorize(page, "adminKey", "docs-test-admin-key-0000");
  const admin = await tryIt(page, "GET", "/api/admin/users");
  const sent = requests.filter((r) => new URL(r.url()).pathname === "/api/admin/users").at(-1);
  assert.equal(sent.headers()["x-admin-key"], "docs-test-admin-key-0000");
  assert.ok(admin.status >= 400, `${admin.status} ${JSON.stringify(admin.body)}`);
  assert.match(admin.body.error.code, /^admin\./);

  assert.deepEqual(problems, []);
  await page.close();
});
