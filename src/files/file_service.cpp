#include "files/file_service.hpp"

#include "bindings/d1.hpp"
#include "bindings/form.hpp"
#include "bindings/r2.hpp"
#include "core/ascii.hpp"
#include "core/env.hpp"
#include "crypto/encoding.hpp"
#include "crypto/random_id.hpp"
#include "files/object_key.hpp"
#include "files/sigv4.hpp"
#include "http/range.hpp"
#include "http/reply.hpp"
#include "http/url.hpp"

#include <algorithm>
#include <charconv>

namespace ec {

namespace {

// How long an upload through a presigned URL holds its grant before another may take it over: far
// longer than any upload within MAX_UPLOAD_BYTES takes, short enough that a grant whose upload
// died with its isolate is usable again well before it expires.
constexpr int64_t kUploadLeaseMs = 15 * 60 * 1000;

bool all_digits(std::string_view s, size_t max_len) {
  if (s.empty() || s.size() > max_len) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// localhost, 127.0.0.0/8 or [::1], with an optional port, and nothing else.
bool is_loopback_host(std::string_view host) {
  std::string_view name = host;
  size_t colon = host.rfind(':');
  if (colon != std::string_view::npos && host.find(']', colon) == std::string_view::npos) {
    if (!all_digits(host.substr(colon + 1), 5)) return false;
    name = host.substr(0, colon);
  }
  if (name == "localhost" || name == "[::1]") return true;
  if (name.rfind("127.", 0) != 0) return false;
  int parts = 0;
  for (size_t pos = 0; pos <= name.size(); ++parts) {
    size_t dot = std::min(name.find('.', pos), name.size());
    std::string_view octet = name.substr(pos, dot - pos);
    if (!all_digits(octet, 3) || std::stoi(std::string(octet)) > 255) return false;
    pos = dot + 1;
  }
  return parts == 4;
}

// What a retrieval backend ingests, plus common images; ALLOWED_UPLOAD_TYPES replaces the list.
constexpr std::string_view kDefaultTypes =
    "application/pdf,text/plain,text/markdown,text/x-markdown,text/html,text/csv,"
    "application/json,image/png,image/jpeg,image/gif,image/webp";

constexpr std::string_view kFileColumns =
    "id, user_id, r2_key, filename, content_type, size, etag, route, state, created_at";

FileRecord file_from_row(const json& row) {
  FileRecord f;
  f.id = string_or(row, "id", "");
  f.user_id = string_or(row, "user_id", "");
  f.r2_key = string_or(row, "r2_key", "");
  f.filename = string_or(row, "filename", "");
  f.content_type = string_or(row, "content_type", "");
  f.size = get_int(row, "size").value_or(0);
  f.etag = string_or(row, "etag", "");
  f.route = string_or(row, "route", "");
  f.state = string_or(row, "state", "");
  f.created_ms = get_int(row, "created_at").value_or(0);
  return f;
}

std::string media_type(std::string_view content_type) {
  std::string_view mt = content_type.substr(0, content_type.find(';'));
  while (!mt.empty() && (mt.back() == ' ' || mt.back() == '\t')) mt.remove_suffix(1);
  while (!mt.empty() && (mt.front() == ' ' || mt.front() == '\t')) mt.remove_prefix(1);
  return ascii_lower(std::string(mt));
}

std::optional<int64_t> declared_length(const Ctx& ctx) {
  const std::string* v = ctx.request().header("content-length");
  if (v == nullptr || v->empty() || v->size() > 18) return std::nullopt;
  int64_t n = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc() || p != v->data() + v->size() || n < 0) return std::nullopt;
  return n;
}

ApiError too_large(int64_t max) {
  return api_error(Err::files_too_large,
                   "The file exceeds the upload limit of " + std::to_string(max) + " bytes");
}

Task<Status> insert_file(Ctx& ctx, const FileRecord& f, std::string grant_id) {
  json grant = grant_id.empty() ? json(nullptr) : json(grant_id);
  Result<RunMeta> r = co_await d1_run(
      ctx, Stmt("INSERT INTO files (id, user_id, r2_key, filename, content_type, size, etag, "
                "route, state, grant_id, created_at, updated_at) "
                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11)",
                {f.id, f.user_id, f.r2_key, f.filename, f.content_type, f.size, f.etag, f.route,
                 f.state, grant, f.created_ms}));
  if (!r.ok()) co_return r.take_error();
  co_return ok_status();
}

}  // namespace

json file_json(const FileRecord& f, TimeFormat times) {
  return {{"id", f.id},
          {"filename", f.filename},
          {"contentType", f.content_type},
          {"size", f.size},
          {"key", f.r2_key},
          {"etag", f.etag.empty() ? json(nullptr) : json(f.etag)},
          {"state", f.state},
          {"createdAt", time_json(f.created_ms, times)}};
}

UploadPolicy upload_policy(const Ctx& ctx) {
  UploadPolicy p;
  p.max_bytes = env_int(ctx.env(), "MAX_UPLOAD_BYTES", p.max_bytes);
  std::string_view list = ctx.env("ALLOWED_UPLOAD_TYPES", kDefaultTypes);
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string t = media_type(list.substr(0, comma));
    if (!t.empty()) p.allowed_types.push_back(std::move(t));
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
  }
  return p;
}

Result<std::string> check_upload_type(const UploadPolicy& p, std::string_view content_type) {
  std::string mt = media_type(content_type);
  for (const std::string& t : p.allowed_types) {
    if (t == mt) return mt;
  }
  // The message never repeats the client's header (errors do not echo submitted values).
  return api_error(Err::files_unsupported_type,
                   mt.empty() ? "The upload needs a Content-Type"
                              : "This file type is not accepted (see ALLOWED_UPLOAD_TYPES)");
}

Task<Result<FileRecord>> upload_file(Ctx& ctx, User user, std::string route,
                                     std::optional<std::string> filename_hint) {
  const UploadPolicy policy = upload_policy(ctx);
  const std::string* ct_header = ctx.request().header("content-type");
  const std::string request_type = media_type(ct_header ? *ct_header : "");
  // Refuse before reading a byte when the client says it is too big (multipart adds a little
  // framing, so the declared length is compared with a small allowance for it).
  std::optional<int64_t> length = declared_length(ctx);
  const bool multipart = request_type == "multipart/form-data";
  const int64_t body_max = multipart ? policy.max_bytes + 64 * 1024 : policy.max_bytes;
  if (length && *length > body_max) co_return too_large(policy.max_bytes);

  FileRecord f;
  f.id = co_await new_id(ctx, "fil_");
  f.user_id = user.id;
  f.route = route;
  f.state = "stored";
  f.created_ms = static_cast<int64_t>(ctx.now_ms());
  std::string raw_name;
  std::optional<FormData> form;
  if (multipart) {
    Result<FormData> fd = co_await read_form(ctx, body_max, "file");
    if (!fd.ok()) co_return fd.take_error();
    form = std::move(fd.value());
    if (!form->file) {
      co_return api_error(Err::files_missing_file);
    }
    if (form->file->size > policy.max_bytes) co_return too_large(policy.max_bytes);
    raw_name = form->file->filename;
    Result<std::string> t = check_upload_type(policy, form->file->content_type);
    if (!t.ok()) co_return t.take_error();
    f.content_type = t.value();
  } else {
    Result<std::string> t = check_upload_type(policy, request_type);
    if (!t.ok()) co_return t.take_error();
    f.content_type = t.value();
    if (filename_hint) raw_name = *filename_hint;
  }
  if (raw_name.empty()) raw_name = "upload";
  Result<std::string> safe = sanitize_filename(raw_name);
  if (!safe.ok()) co_return safe.take_error();
  f.filename = safe.value();
  f.r2_key = object_key(user.id, f.id, f.filename);

  R2PutOptions opt;
  opt.content_type = f.content_type;
  opt.custom_metadata = {{"uploader", user.id}, {"route", route}, {"fileId", f.id}};
  Result<R2Object> put = form ? co_await r2_put_form_file(ctx, f.r2_key, body_max, "file", opt)
                              : co_await r2_put_request_body(ctx, f.r2_key, policy.max_bytes, opt);
  if (!put.ok()) {
    if (put.error().status == 413) co_return too_large(policy.max_bytes);
    co_return put.take_error();
  }
  f.size = put.value().size;
  f.etag = put.value().etag;
  Status saved = co_await insert_file(ctx, f, "");
  if (!saved.ok()) {
    // Without its row the object would be unreachable and never cleaned up: remove it now.
    // Best effort: the D1 failure is what the client needs to hear about.
    Status cleaned = co_await r2_delete(ctx, {f.r2_key});
    (void)cleaned;
    co_return saved.take_error();
  }
  co_return f;
}

Task<Result<FileRecord>> find_file(Ctx& ctx, std::string user_id, std::string file_id) {
  Result<json> row = co_await d1_first(
      ctx, Stmt("SELECT " + std::string(kFileColumns) +
                    " FROM files WHERE id = ?1 AND user_id = ?2 AND state = 'stored'",
                {file_id, user_id}));
  if (!row.ok()) co_return row.take_error();
  if (row.value().is_null()) co_return api_error(Err::files_not_found);
  co_return file_from_row(row.value());
}

Task<Result<FileRecord>> find_file_by_key(Ctx& ctx, std::string user_id, std::string key) {
  if (!key_belongs_to(key, user_id)) co_return api_error(Err::files_not_found);
  Result<json> row = co_await d1_first(
      ctx, Stmt("SELECT " + std::string(kFileColumns) +
                    " FROM files WHERE r2_key = ?1 AND user_id = ?2 AND state = 'stored'",
                {key, user_id}));
  if (!row.ok()) co_return row.take_error();
  if (row.value().is_null()) co_return api_error(Err::files_not_found);
  co_return file_from_row(row.value());
}

Task<Result<Response>> download_file(Ctx& ctx, FileRecord f, ErrorStyle style) {
  // R2 is the truth for the size: the row could predate an overwrite by a signed upload.
  Result<std::optional<R2Object>> head = co_await r2_head(ctx, f.r2_key);
  if (!head.ok()) co_return head.take_error();
  if (!head.value()) co_return api_error(Err::files_not_found);
  const int64_t size = head.value()->size;
  RangeDecision d = decide_range(ctx.request().header("range"), size);
  if (d.kind == RangeDecision::kUnsatisfiable) {
    // The usual error envelope (with the request id), plus the size the client should ask within.
    Response e = error_reply(api_error(Err::files_range_not_satisfiable), ctx.request_id, style);
    e.headers.emplace_back("accept-ranges", "bytes");
    e.headers.emplace_back("content-range", "bytes */" + std::to_string(size));
    co_return e;
  }
  Response r;
  r.headers.emplace_back("accept-ranges", "bytes");
  ByteRange range = d.kind == RangeDecision::kPartial ? d.range : ByteRange{0, size};
  r.status = d.kind == RangeDecision::kPartial ? 206 : 200;
  if (d.kind == RangeDecision::kPartial) {
    r.headers.emplace_back("content-range", content_range(range, size));
  }
  r.headers.emplace_back("content-type",
                         f.content_type.empty() ? "application/octet-stream" : f.content_type);
  r.headers.emplace_back("content-length", std::to_string(range.length));
  r.headers.emplace_back("content-disposition", attachment_disposition(f.filename));
  r.headers.emplace_back("x-content-type-options", "nosniff");
  r.headers.emplace_back("cache-control", "private, no-store");
  if (!head.value()->etag.empty()) r.headers.emplace_back("etag", "\"" + head.value()->etag + "\"");
  if (range.length > 0) r.r2_body = Response::R2Body{f.r2_key, range.offset, range.length};
  co_return r;
}

Task<Status> delete_file(Ctx& ctx, FileRecord f) {
  Status gone = co_await r2_delete(ctx, {f.r2_key});
  if (!gone.ok()) co_return gone.take_error();
  Result<std::vector<BatchItem>> r = co_await d1_batch(
      ctx, {Stmt("DELETE FROM files WHERE id = ?1 AND user_id = ?2", {f.id, f.user_id}),
            Stmt("UPDATE documents SET file_id = NULL, r2_key = NULL, updated_at = ?3 "
                 "WHERE user_id = ?1 AND r2_key = ?2",
                 {f.user_id, f.r2_key, static_cast<int64_t>(ctx.now_ms())})});
  if (!r.ok()) co_return r.take_error();
  // Two deletes of one file can both get this far; the one whose statement removed the row won,
  // the other answers as if it had come second.
  if (r.value()[0].changes == 0) co_return api_error(Err::files_not_found);
  co_return ok_status();
}

Task<Result<std::string>> read_file_bytes(Ctx& ctx, const FileRecord& f, int64_t max_bytes) {
  co_return co_await r2_get(ctx, f.r2_key, max_bytes);
}

std::string& cached_presign_secret() {
  static std::string cached;
  return cached;
}

void reset_presign_secret_cache() { cached_presign_secret().clear(); }

Task<Result<std::string>> presign_secret(Ctx& ctx) {
  std::string& cached = cached_presign_secret();
  std::string_view configured = ctx.env("PRESIGN_SECRET");
  if (configured.size() >= 32) co_return std::string(configured);
  if (!cached.empty()) co_return cached;
  std::string fresh = base64url_encode(co_await ctx.random_bytes(32));
  // INSERT OR IGNORE then read back: concurrent first uses agree on whichever row won.
  Result<std::vector<BatchItem>> r = co_await d1_batch(
      ctx, {Stmt("INSERT OR IGNORE INTO generated_secrets (name, value, created_at) "
                 "VALUES ('presign_hmac', ?1, ?2)",
                 {fresh, static_cast<int64_t>(ctx.now_ms())}),
            Stmt("SELECT value FROM generated_secrets WHERE name = 'presign_hmac'")});
  if (!r.ok()) co_return r.take_error();
  const std::vector<json>& rows = r.value()[1].rows;
  if (rows.empty()) co_return api_error(Err::storage_unavailable);
  cached = string_or(rows[0], "value", "");
  co_return cached;
}

Task<Result<std::string>> presign_base_url(Ctx& ctx) {
  std::string_view configured = ctx.env("PUBLIC_BASE_URL");
  if (!configured.empty()) co_return std::string(configured);
  const std::string* host = ctx.request().header("host");
  // Host is whatever the client sent: outside local development it would let a caller mint URLs
  // pointing anywhere, so it is used only when it names this machine.
  if (host == nullptr || !is_loopback_host(*host)) {
    co_return api_error(Err::config_public_base_url_missing);
  }
  EffectResult logged = co_await ctx.perform(make_effect(
      "log.write", {{"line", dump_json({{"level", "warn"},
                                        {"msg",
                                         "PUBLIC_BASE_URL is unset: presigned URL built "
                                         "from the loopback Host (local development only)"},
                                        {"requestId", ctx.request_id}})}}));
  (void)logged;
  co_return "http://" + *host;
}

std::optional<std::string> s3_presigned_url(const Ctx& ctx, std::string_view method,
                                            std::string_view key, int64_t expires_s) {
  std::string_view id = ctx.env("R2_ACCESS_KEY_ID");
  std::string_view secret = ctx.env("R2_SECRET_ACCESS_KEY");
  std::string_view account = ctx.env("R2_ACCOUNT_ID");
  if (id.empty() || secret.empty() || account.empty()) return std::nullopt;
  SigV4Params p;
  p.access_key_id = id;
  p.secret_access_key = secret;
  p.host = r2_endpoint_host(account);
  p.method = method;
  p.path = r2_object_path(ctx.env("R2_BUCKET_NAME", "edgechat-files"), key);
  p.now_s = ctx.now_s();
  p.expires_s = expires_s;
  return sigv4_presign_url(p);
}

Task<Result<UploadGrant>> create_upload_grant(Ctx& ctx, User user, std::string filename,
                                              std::string content_type, int64_t max_bytes,
                                              int64_t ttl_s) {
  const UploadPolicy policy = upload_policy(ctx);
  Result<std::string> type = check_upload_type(policy, content_type);
  if (!type.ok()) co_return type.take_error();
  if (max_bytes <= 0 || max_bytes > policy.max_bytes) max_bytes = policy.max_bytes;
  Result<std::string> safe = sanitize_filename(filename.empty() ? "upload" : filename);
  if (!safe.ok()) co_return safe.take_error();
  UploadGrant g;
  g.file.id = co_await new_id(ctx, "fil_");
  g.file.user_id = user.id;
  g.file.filename = safe.value();
  g.file.content_type = type.value();
  g.file.r2_key = object_key(user.id, g.file.id, g.file.filename);
  g.file.route = "/api/r2/upload-url";
  g.file.state = "pending";
  g.file.created_ms = static_cast<int64_t>(ctx.now_ms());
  g.grant.method = "PUT";
  g.grant.key = g.file.r2_key;
  g.grant.expires_s = ctx.now_s() + ttl_s;
  g.grant.max_bytes = max_bytes;
  g.grant.content_type = g.file.content_type;
  g.grant.grant_id = hex_encode(co_await ctx.random_bytes(16));
  Status saved = co_await insert_file(ctx, g.file, g.grant.grant_id);
  if (!saved.ok()) co_return saved.take_error();
  co_return g;
}

// Why a grant could not be claimed: spent (403), or another upload holds it right now (409, and
// the client may retry once that one has finished or failed).
static Task<Result<FileRecord>> unclaimable_grant(Ctx& ctx, PresignGrant grant) {
  Result<std::vector<BatchItem>> r = co_await d1_batch(
      ctx, {Stmt("SELECT 1 FROM used_grants WHERE grant_id = ?1", {grant.grant_id}),
            Stmt("SELECT state FROM files WHERE grant_id = ?1 AND r2_key = ?2",
                 {grant.grant_id, grant.key})});
  if (!r.ok()) co_return r.take_error();
  if (!r.value()[0].rows.empty()) {
    co_return api_error(Err::files_url_used);
  }
  const std::vector<json>& rows = r.value()[1].rows;
  if (rows.empty()) co_return api_error(Err::files_not_found, "No such upload");
  if (string_or(rows[0], "state", "") == "uploading") {
    co_return api_error(Err::files_upload_in_progress);
  }
  co_return api_error(Err::files_url_used);
}

Task<Result<FileRecord>> complete_signed_upload(Ctx& ctx, PresignGrant grant) {
  const std::string* ct = ctx.request().header("content-type");
  if (!grant.content_type.empty() && media_type(ct ? *ct : "") != grant.content_type) {
    co_return api_error(Err::files_unsupported_type,
                        "The upload must have Content-Type " + grant.content_type);
  }
  std::optional<int64_t> length = declared_length(ctx);
  if (length && !grant_allows_size(grant, *length)) co_return too_large(grant.max_bytes);
  // One upload at a time per grant: a lease on the pending row (state 'uploading', its start in
  // updated_at). A lease left behind by an upload that died with its isolate lapses after
  // kUploadLeaseMs. The grant is spent only when an upload completes (used_grants below), so a
  // cut upload can be retried with the same URL.
  const auto lease = static_cast<int64_t>(ctx.now_ms());
  Result<RunMeta> claim = co_await d1_run(
      ctx, Stmt("UPDATE files SET state = 'uploading', updated_at = ?3 WHERE grant_id = ?1 AND "
                "r2_key = ?2 AND (state = 'pending' OR (state = 'uploading' AND updated_at < ?4))",
                {grant.grant_id, grant.key, lease, lease - kUploadLeaseMs}));
  if (!claim.ok()) co_return claim.take_error();
  if (claim.value().changes == 0) co_return co_await unclaimable_grant(ctx, grant);
  Result<json> row = co_await d1_first(
      ctx, Stmt("SELECT " + std::string(kFileColumns) + " FROM files WHERE grant_id = ?1",
                {grant.grant_id}));
  if (!row.ok()) co_return row.take_error();
  if (row.value().is_null()) co_return api_error(Err::files_not_found, "No such upload");
  FileRecord f = file_from_row(row.value());
  R2PutOptions opt;
  opt.content_type = f.content_type;
  opt.custom_metadata = {{"uploader", f.user_id}, {"route", "/api/r2/upload"}, {"fileId", f.id}};
  Result<R2Object> put = co_await r2_put_request_body(
      ctx, f.r2_key, grant.max_bytes > 0 ? grant.max_bytes : upload_policy(ctx).max_bytes, opt);
  if (!put.ok()) {
    // Release the lease so the client can retry at once; best effort (it lapses anyway).
    Result<RunMeta> released = co_await d1_run(
        ctx, Stmt("UPDATE files SET state = 'pending' WHERE id = ?1 AND state = 'uploading' AND "
                  "updated_at = ?2",
                  {f.id, lease}));
    (void)released;
    co_return put.take_error();
  }
  f.size = put.value().size;
  f.etag = put.value().etag;
  f.state = "stored";
  // Spending the grant and storing the file are one transaction: if another upload spent it in
  // the meantime (our lease lapsed), the INSERT conflicts and nothing of ours is recorded.
  Result<std::vector<BatchItem>> done = co_await d1_batch(
      ctx, {Stmt("INSERT INTO used_grants (grant_id, expires_at) VALUES (?1, ?2)",
                 {grant.grant_id, grant.expires_s * 1000}),
            Stmt("UPDATE files SET state = 'stored', size = ?2, etag = ?3, updated_at = ?4 "
                 "WHERE id = ?1",
                 {f.id, f.size, f.etag, static_cast<int64_t>(ctx.now_ms())})});
  if (!done.ok()) {
    if (is_conflict(done.error())) {
      co_return api_error(Err::files_url_used);
    }
    co_return done.take_error();
  }
  co_return f;
}

}  // namespace ec
