// Seed-compatible file and document routes over the same services:
//   seed 000 (Metacogna): /api/r2/upload-url, /api/r2/upload, /api/r2/access-url, /api/r2/file,
//                         /api/ingest, /api/documents[/:id] → {success:true,data:…},
//                         errors {error:"…",details}
//   seed 003 (Cognomega): POST /api/upload/direct (uploader and route recorded in R2 metadata)
// Times are epoch milliseconds, as seed 000's tables keep them (the canonical API's are ISO 8601).
#include "api/caller.hpp"
#include "api/gateway.hpp"
#include "api/ingest_schema.hpp"
#include "api/routes.hpp"
#include "auth/service.hpp"
#include "files/file_service.hpp"
#include "rag/documents.hpp"

namespace ec {

namespace {

constexpr int64_t kDefaultUrlTtl = 900;  // seconds
constexpr int64_t kMaxUrlTtl = 86400;    // worker-signed URLs; SigV4 allows up to 7 days
constexpr ErrorStyle kSeed = ErrorStyle::kSeed000;

const Schema kUploadUrlSchema = {
    field("filename").string().nullable(),
    field("fileName").string().nullable().describe("Same as filename"),
    field("contentType").string().required().min(1),
    field("size").integer().nullable().describe("The most bytes the URL accepts (capped)"),
    field("expiresIn").integer().nullable().describe("Seconds, 60 to 86400 (default 900)"),
};

const Schema kPutUploadQuery = {
    field("filename").string().describe("Without a signature: the uploaded file's name"),
};

const Schema kFileRefQuery = {
    field("key").string().describe("The file's R2 key (or fileId)"),
    field("fileId").string().describe("The file's id (or key)"),
};

const Schema kAccessUrlQuery = {
    field("key").string().describe("The file's R2 key (or fileId)"),
    field("fileId").string().describe("The file's id (or key)"),
    field("expiresIn").integer().describe("Seconds, 60 to 86400 (default 900)"),
};

Response seed_ok(int status, json data) {
  return json_reply(status, {{"success", true}, {"data", std::move(data)}});
}

int64_t ttl_from(const json& v) {
  if (!v.is_number_integer()) return kDefaultUrlTtl;
  int64_t t = v.get<int64_t>();
  return t < 60 ? 60 : (t > kMaxUrlTtl ? kMaxUrlTtl : t);
}

Task<Result<Response>> upload_url(Call& call) {
  const User& user = signed_in(call);
  std::string filename = string_or(call.body, "filename", string_or(call.body, "fileName", ""));
  std::string type = string_or(call.body, "contentType", "");  // required, non-empty
  int64_t size = get_int(call.body, "size").value_or(0);
  int64_t ttl = ttl_from(call.body.value("expiresIn", json(nullptr)));
  Result<std::string> base = co_await presign_base_url(call.ctx);
  if (!base.ok()) co_return base.take_error();
  Result<std::string> secret = co_await presign_secret(call.ctx);
  if (!secret.ok()) co_return secret.take_error();
  Result<UploadGrant> g = co_await create_upload_grant(call.ctx, user, filename, type, size, ttl);
  if (!g.ok()) co_return g.take_error();
  const PresignGrant& grant = g.value().grant;
  json data = {
      {"uploadUrl", presign_worker_url(base.value(), "/api/r2/upload", grant, secret.value())},
      {"method", "PUT"},
      {"headers", {{"content-type", grant.content_type}}},
      {"key", grant.key},
      {"fileId", g.value().file.id},
      {"maxBytes", grant.max_bytes},
      {"expiresAt", grant.expires_s * 1000}};
  if (auto s3 = s3_presigned_url(call.ctx, "PUT", grant.key, ttl)) data["s3Url"] = *s3;
  co_return seed_ok(200, data);
}

Task<Result<Response>> put_upload(Call& call) {
  if (call.query_param("sig") != nullptr) {
    Result<std::string> secret = co_await presign_secret(call.ctx);
    if (!secret.ok()) co_return secret.take_error();
    Result<PresignGrant> grant =
        verify_worker_url("PUT", call.ctx.request().query, call.ctx.now_s(), secret.value());
    if (!grant.ok()) co_return grant.take_error();
    Result<FileRecord> f = co_await complete_signed_upload(call.ctx, std::move(grant.value()));
    if (!f.ok()) co_return f.take_error();
    co_return seed_ok(200, file_json(f.value(), TimeFormat::kEpochMs));
  }
  // Without a signature: an authenticated direct upload (the "proxy" alternative).
  const User& user = signed_in(call);
  std::optional<std::string> name;
  if (const std::string* n = call.query_param("filename")) name = *n;
  Result<FileRecord> f = co_await upload_file(call.ctx, user, "/api/r2/upload", name);
  if (!f.ok()) co_return f.take_error();
  co_return seed_ok(201, file_json(f.value(), TimeFormat::kEpochMs));
}

Task<Result<FileRecord>> file_by_key_param(Call& call, const User& user) {
  const std::string* key = call.query_param("key");
  const std::string* id = call.query_param("fileId");
  if (key) co_return co_await find_file_by_key(call.ctx, user.id, *key);
  if (id) co_return co_await find_file(call.ctx, user.id, *id);
  co_return field_error("key", "give key or fileId");
}

Task<Result<Response>> access_url(Call& call) {
  const User& user = signed_in(call);
  Result<FileRecord> f = co_await file_by_key_param(call, user);
  if (!f.ok()) co_return f.take_error();
  const int64_t ttl = ttl_from(json(call.query_int("expiresIn", kDefaultUrlTtl)));
  Result<std::string> base = co_await presign_base_url(call.ctx);
  if (!base.ok()) co_return base.take_error();
  Result<std::string> secret = co_await presign_secret(call.ctx);
  if (!secret.ok()) co_return secret.take_error();
  PresignGrant grant;
  grant.method = "GET";
  grant.key = f.value().r2_key;
  grant.expires_s = call.ctx.now_s() + ttl;
  grant.grant_id = f.value().id;
  json data = {{"url", presign_worker_url(base.value(), "/api/r2/file", grant, secret.value())},
               {"key", grant.key},
               {"expiresAt", grant.expires_s * 1000}};
  if (auto s3 = s3_presigned_url(call.ctx, "GET", grant.key, ttl)) data["s3Url"] = *s3;
  co_return seed_ok(200, data);
}

Task<Result<Response>> get_file(Call& call) {
  if (call.query_param("sig") != nullptr) {
    Result<std::string> secret = co_await presign_secret(call.ctx);
    if (!secret.ok()) co_return secret.take_error();
    Result<PresignGrant> grant =
        verify_worker_url("GET", call.ctx.request().query, call.ctx.now_s(), secret.value());
    if (!grant.ok()) co_return grant.take_error();
    // The grant names the key; the owner is the key's first segment, checked against D1.
    std::string owner = grant.value().key.substr(0, grant.value().key.find('/'));
    Result<FileRecord> f = co_await find_file_by_key(call.ctx, owner, grant.value().key);
    if (!f.ok()) co_return f.take_error();
    co_return co_await download_file(call.ctx, std::move(f.value()), kSeed);
  }
  const User& user = signed_in(call);
  Result<FileRecord> f = co_await file_by_key_param(call, user);
  if (!f.ok()) co_return f.take_error();
  co_return co_await download_file(call.ctx, std::move(f.value()), kSeed);
}

Task<Result<Response>> delete_file_route(Call& call) {
  const User& user = signed_in(call);
  Result<FileRecord> f = co_await file_by_key_param(call, user);
  if (!f.ok()) co_return f.take_error();
  std::string key = f.value().r2_key;
  Status s = co_await delete_file(call.ctx, std::move(f.value()));
  if (!s.ok()) co_return s.take_error();
  co_return seed_ok(200, {{"deleted", key}});
}

Task<Result<Response>> upload_direct(Call& call) {
  const User& user = signed_in(call);
  std::optional<std::string> name;
  if (const std::string* n = call.query_param("filename")) name = *n;
  if (const std::string* h = call.header("x-filename"); h && !name) name = *h;
  Result<FileRecord> f = co_await upload_file(call.ctx, user, "/api/upload/direct", name);
  if (!f.ok()) co_return f.take_error();
  const FileRecord& r = f.value();
  co_return json_reply(201, {{"ok", true},
                             {"key", r.r2_key},
                             {"fileId", r.id},
                             {"size", r.size},
                             {"contentType", r.content_type},
                             {"uploader", r.user_id},
                             {"route", r.route}});
}

// Seed 000's document shape: id, title, content (truncated), metadata, r2Key, createdAt.
json seed_document(const DocumentRecord& d) {
  return {{"id", d.id},
          {"title", d.title},
          {"content", d.preview},
          {"metadata", d.metadata},
          {"r2Key", d.r2_key.empty() ? json(nullptr) : json(d.r2_key)},
          {"createdAt", d.created_ms},
          {"state", d.state},
          {"chunkCount", d.chunk_count}};
}

Task<Result<Response>> seed_ingest(Call& call) {
  const User& user = signed_in(call);
  Result<IngestRequest> req = parse_ingest_request(call.body);
  if (!req.ok()) co_return req.take_error();
  Result<IngestStarted> s = co_await start_ingest(call.ctx, user, std::move(req.value()));
  if (!s.ok()) co_return s.take_error();
  json data = seed_document(s.value().doc);
  data["docId"] = s.value().doc.id;
  co_return seed_ok(s.value().finished ? 200 : 202, data);
}

Task<Result<Response>> seed_list(Call& call) {
  const User& user = signed_in(call);
  DocumentQuery q;
  q.limit = 100;
  Result<DocumentPage> page = co_await list_documents(call.ctx, user.id, q);
  if (!page.ok()) co_return page.take_error();
  json items = json::array();
  for (const DocumentRecord& d : page.value().items) items.push_back(seed_document(d));
  co_return seed_ok(200, items);
}

Task<Result<Response>> seed_get(Call& call) {
  const User& user = signed_in(call);
  Result<DocumentRecord> d = co_await find_document(call.ctx, user.id, *call.param("id"));
  if (!d.ok()) co_return d.take_error();
  co_return seed_ok(200, seed_document(d.value()));
}

}  // namespace

bool add_seed_file_routes(HttpApp& app) {
  const auto s000 = [](RouteDef d, std::string_view summary, bool document = false) {
    return document ? d.styled(kSeed).doc(summary, {"Documents", "Seed 000"})
                    : d.styled(kSeed).doc(summary, {"Files", "Seed 000"});
  };
  return add_routes(
      app,
      {
          s000(post("/api/r2/upload-url", upload_url).user().json(kUploadUrlSchema),
               "A presigned URL to upload a file to")
              .answers(200, "Seed000UploadUrl")
              .errors({"files.unsupported_type", "files.invalid_filename",
                       "config.public_base_url_missing", "storage.unavailable",
                       "storage.conflict"}),
          s000(put("/api/r2/upload", put_upload)
                   .presigned_or_user()
                   .query(kPutUploadQuery)
                   .takes("application/octet-stream"),
               "Upload a file: to a presigned URL (200), or signed in (201)")
              .answers(200, "Seed000FileEnvelope")
              .answers(201, "Seed000FileEnvelope")
              .errors({"files.bad_signature", "files.url_expired", "files.url_used",
                       "files.upload_in_progress", "files.not_found", "files.too_large",
                       "files.unsupported_type", "files.missing_file", "files.bad_upload",
                       "files.invalid_filename", "storage.unavailable", "storage.conflict"}),
          s000(get("/api/r2/access-url", access_url).user().query(kAccessUrlQuery),
               "A presigned URL to download a file")
              .answers(200, "Seed000AccessUrl")
              .errors({"files.not_found", "config.public_base_url_missing", "storage.unavailable",
                       "storage.conflict"}),
          s000(get("/api/r2/file", get_file).presigned_or_user().query(kFileRefQuery),
               "Download a file (presigned, or signed in by key or fileId)")
              .answers(200, "FileBytes", "application/octet-stream")
              .answers(206, "FileBytes", "application/octet-stream")
              .errors({"files.bad_signature", "files.url_expired", "files.not_found",
                       "files.range_not_satisfiable", "storage.unavailable", "storage.conflict"}),
          s000(del("/api/r2/file", delete_file_route).user().query(kFileRefQuery),
               "Delete a file (by key or fileId)")
              .answers(200, "Seed000Deleted")
              .errors({"files.not_found", "storage.unavailable"}),
          s000(post("/api/ingest", seed_ingest).user().json(kIngestSchema).limit(size_t{10} << 20),
               "Ingest a document (built now: 200; queued: 202)", true)
              .answers(200, "Seed000IngestStarted")
              .answers(202, "Seed000IngestStarted")
              .errors(kIngestErrors),
          s000(get("/api/documents", seed_list).user(), "Your latest 100 documents", true)
              .answers(200, "Seed000DocumentList")
              .errors({"storage.unavailable"}),
          s000(get("/api/documents/:id", seed_get).user().owns("document"), "Get a document", true)
              .answers(200, "Seed000DocumentEnvelope")
              .errors({"documents.not_found", "storage.unavailable"}),
          post("/api/upload/direct", upload_direct)
              .user()
              .query(kPutUploadQuery)
              .takes("application/octet-stream")
              .doc("Upload a file (uploader and route kept in R2 metadata)", {"Files", "Seed 003"})
              .answers(201, "Seed003DirectUpload")
              .errors({"files.too_large", "files.unsupported_type", "files.missing_file",
                       "files.bad_upload", "files.invalid_filename", "storage.unavailable",
                       "storage.conflict"}),
      });
}

}  // namespace ec
