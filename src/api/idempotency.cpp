#include "api/idempotency.hpp"

#include "api/caller.hpp"
#include "auth/admin.hpp"
#include "auth/service.hpp"
#include "bindings/d1.hpp"
#include "core/env.hpp"
#include "core/json.hpp"
#include "crypto/encoding.hpp"
#include "crypto/sha256.hpp"

namespace ec {

namespace {

// A kept result's body: larger ones (none of the write routes answer with that much) are not
// kept, and a repeat is told so instead.
constexpr size_t kMaxStoredBody = 256 * 1024;

bool is_write(Method m) {
  return m == Method::Post || m == Method::Put || m == Method::Patch || m == Method::Delete;
}

// Headers the pipeline sets afresh on every response: not part of the kept result.
bool per_response_header(std::string_view name) {
  return name == "x-request-id" || name == "cache-control" || name == "vary" ||
         name.rfind("access-control-", 0) == 0 || name.rfind("x-ratelimit-", 0) == 0 ||
         name == "retry-after";
}

std::string client_ip(const Ctx& ctx) {
  if (const std::string* ip = ctx.request().header("cf-connecting-ip"); ip && !ip->empty())
    return *ip;
  if (const std::string* fwd = ctx.request().header("x-forwarded-for"); fwd && !fwd->empty())
    return fwd->substr(0, fwd->find(','));
  return "unknown";
}

// What makes two requests "the same": method, path, query and body. Routes that read a raw body
// themselves (uploads) are identified by its declared length and type instead.
std::string request_hash(const Call& call) {
  const Envelope& req = call.ctx.request();
  std::string material = req.method + "\n" + req.path + "\n" + req.query + "\n";
  if (!call.body.is_null()) {
    material += dump_json(call.body);
  } else {
    for (std::string_view h : {"content-length", "content-type", "x-filename"}) {
      const std::string* v = req.header(h);
      material.append(v ? *v : "").push_back('\n');
    }
  }
  return hex_encode(digest_bytes(sha256(material)));
}

bool transient(int status) { return status == 402 || status == 429 || status >= 500; }

bool replayable(const Response& r) {
  const std::string* ct = r.header("content-type");
  const bool streamed = ct != nullptr && ct->rfind("text/event-stream", 0) == 0;
  return !streamed && !r.r2_body && !r.log_follow && r.body.size() <= kMaxStoredBody;
}

Response replay(const json& row) {
  Response r;
  r.status = static_cast<int>(get_int(row, "status").value_or(200));
  std::optional<json> headers = parse_json(string_or(row, "headers", "[]"), 4);
  if (headers && headers->is_array()) {
    for (const json& h : *headers) {
      if (h.is_array() && h.size() == 2 && h[0].is_string() && h[1].is_string()) {
        r.headers.emplace_back(h[0].get<std::string>(), h[1].get<std::string>());
      }
    }
  }
  r.body = string_or(row, "body", "");
  r.headers.emplace_back("idempotent-replayed", "true");
  return r;
}

ApiError key_error() {
  ApiError e = api_error(Err::idempotency_invalid_key);
  e.fields = {{"Idempotency-Key", "1-255 printable ASCII characters, no spaces"}};
  return e;
}

}  // namespace

bool valid_idempotency_key(std::string_view key) {
  if (key.empty() || key.size() > 255) return false;
  for (char c : key) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

Task<Result<Response>> run_idempotent(Call& call, const RouteDef& def) {
  const std::string* sent = call.header("idempotency-key");
  if (sent == nullptr || !is_write(def.method)) co_return co_await def.handler(call);
  if (!valid_idempotency_key(*sent)) co_return key_error();
  const std::string key = *sent;
  Ctx& ctx = call.ctx;

  // Whose key it is: the caller the gateway admitted for the route's Access.
  std::string scope;
  if (const User* u = user_if_any(call)) {
    scope = "u:" + u->id;
  } else if (called_by_admin(call)) {
    scope = "admin";
  } else {
    scope = "ip:" + client_ip(ctx);
  }
  const std::string hash = request_hash(call);
  const int64_t now = static_cast<int64_t>(ctx.now_ms());
  const int64_t ttl_ms =
      int64_t{3'600'000} *
      std::clamp<int64_t>(env_int(ctx.env(), "IDEMPOTENCY_TTL_HOURS", 24), 1, 24 * 30);

  // Claim the key — a new one, or one whose holder died or whose result expired — and read it
  // back in the same round.
  std::vector<Stmt> claim;
  claim.emplace_back(
      "INSERT INTO idempotency_keys (scope, key, request_hash, state, locked_until, created_at, "
      "expires_at) VALUES (?1, ?2, ?3, 'running', ?4, ?5, ?6) ON CONFLICT (scope, key) DO UPDATE "
      "SET request_hash = excluded.request_hash, state = 'running', status = NULL, headers = "
      "NULL, body = NULL, locked_until = excluded.locked_until, created_at = excluded.created_at, "
      "expires_at = excluded.expires_at WHERE idempotency_keys.expires_at <= ?5 OR "
      "(idempotency_keys.state = 'running' AND idempotency_keys.locked_until <= ?5)",
      json::array({scope, key, hash, now + kIdempotencyLockMs, now, now + ttl_ms}));
  claim.emplace_back(
      "SELECT request_hash, state, status, headers, body, locked_until FROM idempotency_keys "
      "WHERE scope = ?1 AND key = ?2",
      json::array({scope, key}));
  Result<std::vector<BatchItem>> claimed = co_await d1_batch(ctx, std::move(claim));
  if (!claimed.ok()) co_return claimed.take_error();
  const bool owner = claimed.value()[0].changes == 1;
  if (!owner) {
    const std::vector<json>& rows = claimed.value()[1].rows;
    if (rows.empty()) co_return api_error(Err::idempotency_in_progress, "Retry shortly");
    const json& row = rows.front();
    if (string_or(row, "request_hash", "") != hash) {
      co_return api_error(Err::idempotency_key_reused);
    }
    if (string_or(row, "state", "") != "done") {
      ApiError e = api_error(Err::idempotency_in_progress);
      co_return e;
    }
    if (row.contains("body") && row["body"].is_null()) {
      co_return api_error(Err::idempotency_not_replayable);
    }
    co_return replay(row);
  }

  Result<Response> out = co_await def.handler(call);
  const int status = out.ok() ? out.value().status : out.error().status;
  if (transient(status)) {
    Result<RunMeta> released = co_await d1_run(
        ctx, Stmt{"DELETE FROM idempotency_keys WHERE scope = ?1 AND key = ?2 AND state = "
                  "'running' AND request_hash = ?3",
                  json::array({scope, key, hash})});
    (void)released;  // if this fails the lock lapses after kIdempotencyLockMs
    co_return out;
  }
  // The result as the client saw it: an error is rendered exactly as the pipeline will render it.
  Response kept = out.ok() ? out.value() : error_reply(out.error(), ctx.request_id, def.style);
  json headers = json::array();
  for (const auto& [name, value] : kept.headers) {
    if (!per_response_header(name)) headers.push_back(json::array({name, value}));
  }
  // A credential shown once stays shown once: its answer is marked done but not kept.
  const bool secret = out.ok() && kept.status < 300 && answers_with_secret(def);
  const bool keep_body = replayable(kept) && !secret;
  Result<RunMeta> stored = co_await d1_run(
      ctx, Stmt{"UPDATE idempotency_keys SET state = 'done', status = ?1, headers = ?2, body = ?3 "
                "WHERE scope = ?4 AND key = ?5 AND request_hash = ?6",
                json::array({kept.status, dump_json(headers),
                             keep_body ? json(kept.body) : json(nullptr), scope, key, hash})});
  (void)stored;  // not kept: a repeat after the lock lapses runs again, as without a key
  co_return out;
}

}  // namespace ec
