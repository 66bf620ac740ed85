// Reference worker for `npm run bench`: GET /health and GET /api/v1/auth/me as a typical Hono
// Worker would write them, doing the same work as edgechat so the load test compares like with like:
//   - request id (x-request-id echoed if sane, else 16 random bytes hex), cache-control: no-store,
//     one JSON access-log line per request, the same error shape;
//   - /me: RS256 bearer token verified with hono/jwt against the key named by its kid, loaded from
//     the same D1 signing_keys table (ring cached per isolate for 60 s like edgechat's, each
//     CryptoKey imported once), iss/aud/exp/nbf/iat checked, then the same user ⋈ session query.
// Unlike edgechat it keeps no cache of verified tokens: every request runs the RSA verify.
import { Hono } from "hono";
import { decode, verify } from "hono/jwt";

const RING_TTL_MS = 60_000;
const FORCE_RELOAD_MIN_MS = 2_000;
const ACCESS_TTL_S = 900;
const LEEWAY_S = 60;
const RS256 = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
const SANE_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const USER_SQL =
  "SELECT u.id, u.username, u.email, u.role, u.is_guest, u.disabled_at, u.created_at, " +
  "s.revoked_at AS session_revoked_at, s.id AS session_id FROM users u LEFT JOIN sessions s " +
  "ON s.id = ?2 AND s.user_id = u.id WHERE u.id = ?1";
const RING_SQL =
  "SELECT kid, public_jwk, private_jwk, created_at, retired_at FROM signing_keys " +
  "WHERE retired_at IS NULL OR retired_at > ?1 ORDER BY created_at DESC, kid";

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

// Per-isolate key ring: kid → CryptoKey. Keys already imported are kept across reloads.
const ring = { loadedAt: -1, keys: new Map() };

async function loadRing(db) {
  const now = Date.now();
  const { results } = await db.prepare(RING_SQL).bind(now - (ACCESS_TTL_S + LEEWAY_S) * 1000).all();
  const keys = new Map();
  for (const row of results) {
    let key = ring.keys.get(row.kid);
    if (!key) {
      key = await crypto.subtle.importKey("jwk", JSON.parse(row.public_jwk), RS256, false, ["verify"]);
    }
    keys.set(row.kid, key);
  }
  ring.keys = keys;
  ring.loadedAt = now;
}

async function keyFor(db, kid) {
  const age = Date.now() - ring.loadedAt;
  if (ring.loadedAt < 0 || age > RING_TTL_MS) await loadRing(db);
  let key = ring.keys.get(kid);
  if (!key && Date.now() - ring.loadedAt > FORCE_RELOAD_MIN_MS) {
    await loadRing(db);  // minted by another instance after our load?
    key = ring.keys.get(kid);
  }
  return key;
}

function bearer(value) {
  const m = /^bearer +(\S+) *$/i.exec(value ?? "");
  return m ? m[1] : null;
}

const app = new Hono();

app.use("*", async (c, next) => {
  const start = Date.now();
  const given = c.req.header("x-request-id");
  const requestId = given && SANE_ID.test(given) ? given : hex(crypto.getRandomValues(new Uint8Array(16)));
  c.set("requestId", requestId);
  await next();
  c.header("x-request-id", requestId);
  if (!c.res.headers.has("cache-control")) c.header("cache-control", "no-store");
  const status = c.res.status;
  console.log(JSON.stringify({
    level: status >= 500 ? "error" : status >= 400 ? "warn" : "info",
    msg: "request",
    requestId,
    method: c.req.method,
    route: c.req.routePath === "*" ? "-" : c.req.routePath,
    status,
    durationMs: Date.now() - start,
    userId: c.get("userId") ?? null,
  }));
});

app.onError((err, c) => {
  const e = err instanceof ApiError ? err : new ApiError(500, "internal", "Internal error");
  return c.json({ error: { code: e.code, message: e.message }, requestId: c.get("requestId") }, e.status);
});

app.notFound((c) =>
  c.json({ error: { code: "http.not_found", message: "No route matches this path" },
    requestId: c.get("requestId") }, 404));

app.get("/health", (c) => c.json({ status: "ok", version: "0.1.0" }));

// The bearer's user, as edgechat's authenticate() loads it: RS256 verify, then user ⋈ session.
async function authenticate(c) {
  const token = bearer(c.req.header("authorization"));
  if (!token) throw new ApiError(401, "auth.missing_token", "Send an access token: Authorization: Bearer …");
  let header;
  try {
    ({ header } = decode(token));
  } catch {
    throw new ApiError(401, "auth.token_malformed", "The access token is malformed");
  }
  const key = typeof header.kid === "string" ? await keyFor(c.env.DB, header.kid) : undefined;
  if (!key) throw new ApiError(401, "auth.token_unknown_kid", "token 'kid' matches no known key");
  let claims;
  try {
    claims = await verify(token, key, { alg: "RS256", iss: c.env.JWT_ISSUER, aud: c.env.JWT_AUDIENCE });
  } catch {
    throw new ApiError(401, "auth.token_invalid", "The access token is not valid");
  }
  if (typeof claims.sub !== "string" || !claims.sub) {
    throw new ApiError(401, "auth.token_invalid_claims", "token claim 'sub' must be a non-empty string");
  }
  const sid = typeof claims.sid === "string" ? claims.sid : "";
  const row = await c.env.DB.prepare(USER_SQL).bind(claims.sub, sid).first();
  if (!row) throw new ApiError(401, "auth.user_not_found", "The token's user no longer exists");
  c.set("userId", row.id);
  if (row.disabled_at != null) throw new ApiError(403, "auth.user_disabled", "This account has been disabled");
  if (sid && (row.session_id == null || row.session_revoked_at != null)) {
    throw new ApiError(401, "auth.session_revoked", "This session has ended; sign in again");
  }
  return row;
}

app.get("/api/v1/auth/me", async (c) => {
  const row = await authenticate(c);
  return c.json({
    user: {
      createdAt: new Date(row.created_at).toISOString(),
      email: row.email ?? null,
      id: row.id,
      isGuest: row.is_guest !== 0,
      role: row.role,
      username: row.username,
    },
  });
});

// A debit for usage a client reports, written the usual way: validate, price, then one D1 batch
// that creates the account on first use and debits only if the balance covers the price (the same
// guarded statements as edgechat's, without its Idempotency-Key or rate limit).
const PRICES = { "openai/gpt-4o-mini": [150, 600] };  // micro-credits per 1k tokens in / out
const price = (perK, tokens) => Math.ceil((perK * tokens) / 1000);

app.post("/api/v1/billing/usage", async (c) => {
  const row = await authenticate(c);
  let body;
  try {
    body = await c.req.json();
  } catch {
    throw new ApiError(400, "http.invalid_json", "The request body is not valid JSON");
  }
  const { provider, model, tokensIn, tokensOut } = body ?? {};
  const perK = PRICES[`${provider}/${model}`];
  if (!perK) throw new ApiError(400, "validation.failed", "unknown model");
  if (!Number.isInteger(tokensIn) || !Number.isInteger(tokensOut) || tokensIn < 0 || tokensOut < 0) {
    throw new ApiError(400, "validation.failed", "tokensIn and tokensOut are integers ≥ 0");
  }
  const cost = price(perK[0], tokensIn) + price(perK[1], tokensOut);
  const now = Date.now();
  const usageId = `use_${hex(crypto.getRandomValues(new Uint8Array(12)))}`;
  const ledgerId = `led_${hex(crypto.getRandomValues(new Uint8Array(12)))}`;
  const db = c.env.DB;
  const out = await db.batch([
    db.prepare("INSERT OR IGNORE INTO credit_accounts (user_id, balance, updated_at) SELECT id, " +
      "CASE WHEN is_guest = 1 THEN ?2 ELSE ?3 END, ?4 FROM users WHERE id = ?1").bind(row.id, 1e6, 10e6, now),
    db.prepare("INSERT OR IGNORE INTO credit_ledger (id, user_id, delta, balance_after, kind, reason, created_at) " +
      "SELECT 'grant_' || id, id, CASE WHEN is_guest = 1 THEN ?2 ELSE ?3 END, CASE WHEN is_guest = 1 THEN ?2 ELSE ?3 END, " +
      "'grant', 'signup', ?4 FROM users WHERE id = ?1").bind(row.id, 1e6, 10e6, now),
    db.prepare("INSERT INTO usage_events (id, user_id, kind, route, provider, model, tokens_in, tokens_out, estimated, " +
      "cost, charged, request_id, created_at) SELECT ?1, ?2, 'report', '', ?3, ?4, ?5, ?6, 0, ?7, ?7, ?8, ?9 " +
      "FROM credit_accounts WHERE user_id = ?2 AND balance >= ?7")
      .bind(usageId, row.id, provider, model, tokensIn, tokensOut, cost, c.get("requestId"), now),
    db.prepare("UPDATE credit_accounts SET balance = balance - ?1, updated_at = ?2 WHERE user_id = ?3 AND ?1 > 0 " +
      "AND EXISTS (SELECT 1 FROM usage_events WHERE id = ?4)").bind(cost, now, row.id, usageId),
    db.prepare("INSERT INTO credit_ledger (id, user_id, delta, balance_after, kind, ref, request_id, created_at) " +
      "SELECT ?1, user_id, -?2, balance, 'debit', ?3, ?4, ?5 FROM credit_accounts WHERE user_id = ?6 AND ?2 > 0 " +
      "AND EXISTS (SELECT 1 FROM usage_events WHERE id = ?3)")
      .bind(ledgerId, cost, usageId, c.get("requestId"), now, row.id),
    db.prepare("SELECT balance, EXISTS (SELECT 1 FROM usage_events WHERE id = ?1) AS debited " +
      "FROM credit_accounts WHERE user_id = ?2").bind(usageId, row.id),
  ]);
  const result = out[5].results[0];
  if (!result?.debited) throw new ApiError(402, "credits.insufficient", "Not enough credits");
  return c.json({ usageId, userId: row.id, provider, model, tokensIn, tokensOut,
    credits: cost / 1e6, balance: result.balance / 1e6 }, 201);
});

export default app;
