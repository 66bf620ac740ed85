#include "rag/documents.hpp"

#include "bindings/d1.hpp"
#include "bindings/r2.hpp"
#include "bindings/vectorize.hpp"
#include "core/env.hpp"
#include "crypto/encoding.hpp"
#include "crypto/random_id.hpp"
#include "extract/text.hpp"
#include "files/file_service.hpp"
#include "files/object_key.hpp"
#include "http/validate.hpp"
#include "jobs/job_store.hpp"
#include "rag/document_builds.hpp"
#include "rag/ingest.hpp"
#include "rag/ingest_limits.hpp"

#include <algorithm>
#include <charconv>

namespace ec {

namespace {

constexpr size_t kMaxTitleBytes = 300;
constexpr size_t kMaxMetadataBytes = 16 * 1024;
constexpr size_t kMaxDocIdBytes = 128;
// Inputs up to this size are built inside the request (201); larger ones become a job (202).
constexpr int64_t kDefaultInlineBytes = 256 * 1024;

bool valid_doc_id(std::string_view id) {
  if (id.empty() || id.size() > kMaxDocIdBytes) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == ':';
  });
}

bool valid_meta_key(std::string_view k) {
  if (k.empty() || k.size() > 64) return false;
  return std::all_of(k.begin(), k.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
  });
}

std::string str_col(const json& row, std::string_view k) { return string_or(row, k, ""); }

// A document whose first build failed while its client waited: it never existed.
Task<Status> remove_unready(Ctx& ctx, std::string uid, int64_t gen) {
  Result<RunMeta> r = co_await d1_run(
      ctx, Stmt("DELETE FROM documents WHERE uid = ?1 AND generation = 0 AND building = ?2",
                {uid, gen}));
  if (!r.ok()) co_return r.take_error();
  co_return ok_status();
}

// Gives back a claim whose build its client is told failed: the document is as it was before.
Task<Status> give_back_claim(Ctx& ctx, DocumentRecord doc, int64_t gen) {
  if (doc.generation == 0) co_return co_await remove_unready(ctx, doc.uid, gen);
  co_return co_await release_build(ctx, doc, gen);
}

struct ClaimedDocument {
  DocumentRecord doc;  // as the build sees it: the spec over the live record
  int64_t generation = 0;
};

// The user's document `doc_id` (or a new one) claimed for a build of `spec`; 409
// "documents.busy" while another build of it is in flight.
Task<Result<ClaimedDocument>> claim_document(Ctx& ctx, std::string user_id,
                                             std::optional<std::string> doc_id, BuildSpec spec) {
  const int64_t now = static_cast<int64_t>(ctx.now_ms());
  // Twice at most: a request that lost the race to create the row claims it on its second pass.
  for (int pass = 0; pass < 2; ++pass) {
    if (doc_id) {
      Result<DocumentRecord> existing = co_await find_document(ctx, user_id, *doc_id);
      if (existing.ok()) {
        ClaimRequest claim;
        claim.uid = existing.value().uid;
        claim.spec = spec;
        Result<std::optional<int64_t>> gen = co_await claim_next_generation(ctx, std::move(claim));
        if (!gen.ok()) co_return gen.take_error();
        if (!gen.value()) co_return document_busy_error();
        DocumentRecord doc = with_spec(std::move(existing.value()), spec);
        doc.building = *gen.value();
        co_return ClaimedDocument{std::move(doc), *gen.value()};
      }
      if (existing.error().status != 404) co_return existing.take_error();
    }
    DocumentRecord doc;
    doc.uid = co_await new_id(ctx, "doc_");
    doc.id = doc_id.value_or(doc.uid);
    doc.user_id = user_id;
    doc.state = "queued";
    doc.building = 1;
    doc.created_ms = now;
    doc.updated_ms = now;
    doc = with_spec(std::move(doc), spec);
    Result<RunMeta> ins = co_await d1_run(
        ctx, Stmt("INSERT INTO documents (uid, id, user_id, title, metadata, source, file_id, "
                  "r2_key, content_type, state, building, last_generation, pending, chunk_size, "
                  "chunk_overlap, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
                  "?9, 'queued', 1, 1, ?10, ?11, ?12, ?13, ?13)",
                  {doc.uid, doc.id, user_id, spec.title, dump_json(spec.metadata), spec.source,
                   spec.file_id.empty() ? json(nullptr) : json(spec.file_id),
                   spec.r2_key.empty() ? json(nullptr) : json(spec.r2_key), spec.content_type,
                   build_spec_json(spec), spec.chunking.max_chars, spec.chunking.overlap, now}));
    if (ins.ok()) co_return ClaimedDocument{std::move(doc), 1};
    if (!is_conflict(ins.error()) || !doc_id) co_return ins.take_error();
  }
  co_return document_busy_error();
}

}  // namespace

DocumentRecord document_from_row(const json& row) {
  DocumentRecord d;
  d.uid = str_col(row, "uid");
  d.id = str_col(row, "id");
  d.user_id = str_col(row, "user_id");
  d.title = str_col(row, "title");
  if (std::optional<json> m = parse_json(str_col(row, "metadata"))) {
    if (m->is_object()) d.metadata = std::move(*m);
  }
  d.source = str_col(row, "source");
  d.file_id = str_col(row, "file_id");
  d.r2_key = str_col(row, "r2_key");
  d.content_type = str_col(row, "content_type");
  d.format = str_col(row, "format");
  d.chars = get_int(row, "chars").value_or(0);
  d.preview = str_col(row, "preview");
  d.state = str_col(row, "state");
  d.generation = get_int(row, "generation").value_or(0);
  d.building = get_int(row, "building");
  d.chunk_count = get_int(row, "chunk_count").value_or(0);
  d.chunks_done = get_int(row, "chunks_done").value_or(0);
  d.chunks_total = get_int(row, "chunks_total").value_or(0);
  d.chunking.max_chars = static_cast<size_t>(get_int(row, "chunk_size").value_or(512));
  d.chunking.overlap = static_cast<size_t>(get_int(row, "chunk_overlap").value_or(64));
  d.embed_model = str_col(row, "embed_model");
  d.vector_store = str_col(row, "vector_store");
  d.error_code = str_col(row, "error_code");
  d.error_message = str_col(row, "error_message");
  d.created_ms = get_int(row, "created_at").value_or(0);
  d.updated_ms = get_int(row, "updated_at").value_or(0);
  d.ready_ms = get_int(row, "ready_at").value_or(0);
  d.job_id = str_col(row, "job_id");
  if (std::optional<json> p = parse_json(str_col(row, "pending")); p && p->is_object()) {
    d.pending = std::move(*p);
  }
  return d;
}

json document_json(const DocumentRecord& d, TimeFormat times) {
  auto opt_str = [](const std::string& s) { return s.empty() ? json(nullptr) : json(s); };
  json out = {{"id", d.id},
              {"title", d.title},
              {"metadata", d.metadata},
              {"state", d.state},
              {"source", d.source},
              {"fileId", opt_str(d.file_id)},
              {"contentType", opt_str(d.content_type)},
              {"format", opt_str(d.format)},
              {"chars", d.chars},
              {"chunkCount", d.chunk_count},
              {"chunking", {{"size", d.chunking.max_chars}, {"overlap", d.chunking.overlap}}},
              {"embeddingModel", opt_str(d.embed_model)},
              {"vectorStore", opt_str(d.vector_store)},
              {"createdAt", time_json(d.created_ms, times)},
              {"updatedAt", time_json(d.updated_ms, times)},
              {"readyAt", d.ready_ms ? time_json(d.ready_ms, times) : json(nullptr)}};
  if (d.building) {
    // Chunk counts are the document's own; the job (GET /api/v1/jobs/:id) has attempts and errors.
    out["job"] = {{"id", opt_str(d.job_id)},
                  {"state", d.chunks_total > 0 ? "processing" : "queued"},
                  {"chunksDone", d.chunks_done},
                  {"chunksTotal", d.chunks_total},
                  {"progress", d.chunks_total > 0 ? static_cast<double>(d.chunks_done) /
                                                        static_cast<double>(d.chunks_total)
                                                  : 0.0}};
  }
  if (!d.error_code.empty()) {
    out["error"] = {{"code", d.error_code}, {"message", d.error_message}};
  }
  return out;
}

Result<std::vector<std::pair<std::string, json>>> parse_metadata_filter(const json& obj) {
  std::vector<std::pair<std::string, json>> out;
  if (obj.is_null()) return out;
  if (!obj.is_object()) return field_error("metadata", "must be an object of key: value");
  if (obj.size() > 8) return field_error("metadata", "at most 8 filter keys");
  for (const auto& [k, v] : obj.items()) {
    if (!valid_meta_key(k)) return field_error("metadata", "keys are 1-64 of [A-Za-z0-9_-]");
    if (!(v.is_string() || v.is_number() || v.is_boolean())) {
      return field_error("metadata", "values must be strings, numbers or booleans");
    }
    out.emplace_back(k, v);
  }
  return out;
}

Result<std::string> metadata_filter_sql(const std::vector<std::pair<std::string, json>>& filter,
                                        size_t first_param, json& params) {
  std::string sql;
  size_t n = first_param;
  for (const auto& [k, v] : filter) {
    if (!valid_meta_key(k)) return field_error("metadata", "invalid key");
    // The key is restricted to safe characters above, so it can sit inside the JSON path.
    sql += " AND json_extract(d.metadata, '$.\"" + k + "\"') = ?" + std::to_string(n++);
    if (v.is_boolean()) {
      params.push_back(v.get<bool>() ? 1 : 0);  // SQLite's JSON true is 1
    } else {
      params.push_back(v);
    }
  }
  return sql;
}

Result<IngestRequest> parse_ingest_request(const json& body) {
  IngestRequest r;
  const json* content = find(body, "content");
  const json* file_id = find(body, "fileId");
  bool has_content = content && !content->is_null();
  bool has_file = file_id && !file_id->is_null();
  if (has_content == has_file) {
    return field_error(has_content ? "fileId" : "content", "give exactly one of content or fileId");
  }
  if (has_content) {
    if (!content->is_string()) return field_error("content", "must be a string");
    r.content = content->get<std::string>();
    if (r.content->empty()) return field_error("content", "must not be empty");
  } else {
    if (!file_id->is_string() || file_id->get<std::string>().empty()) {
      return field_error("fileId", "must be a file id");
    }
    r.file_id = file_id->get<std::string>();
  }
  if (const json* t = find(body, "title"); t && !t->is_null()) {
    if (!t->is_string()) return field_error("title", "must be a string");
    r.title = t->get<std::string>();
    // nlohmann's parser has already refused invalid UTF-8 in any JSON string.
    if (r.title.size() > kMaxTitleBytes) {
      return field_error("title", "at most 300 bytes");
    }
  }
  if (const json* m = find(body, "metadata"); m && !m->is_null()) {
    if (!m->is_object()) return field_error("metadata", "must be an object");
    if (dump_json(*m).size() > kMaxMetadataBytes) {
      return field_error("metadata", "at most 16 KiB as JSON");
    }
    r.metadata = *m;
  }
  for (const char* key : {"docId", "id"}) {
    if (const json* id = find(body, key); id && !id->is_null()) {
      if (!id->is_string() || !valid_doc_id(id->get<std::string>())) {
        return field_error(key, "1-128 characters of [A-Za-z0-9._:-]");
      }
      r.doc_id = id->get<std::string>();
      break;
    }
  }
  if (const json* ct = find(body, "contentType"); ct && !ct->is_null()) {
    if (!ct->is_string() || ct->get<std::string>().size() > 100) {
      return field_error("contentType", "must be a media type");
    }
    r.content_type = ct->get<std::string>();
  }
  if (std::optional<int64_t> size = get_int(body, "chunkSize")) {
    r.chunking.max_chars = *size > 0 ? static_cast<size_t>(*size) : 0;
  }
  if (std::optional<int64_t> ov = get_int(body, "chunkOverlap")) {
    r.chunking.overlap = *ov >= 0 ? static_cast<size_t>(*ov) : kMaxChunkChars;
  }
  Status ok = validate_chunk_options(r.chunking);
  if (!ok.ok()) return ok.take_error();
  return r;
}

Task<Result<DocumentRecord>> find_document(Ctx& ctx, std::string user_id, std::string id) {
  Result<json> row =
      co_await d1_first(ctx, Stmt("SELECT " + std::string(kDocumentColumns) +
                                      " FROM documents WHERE user_id = ?1 AND id = ?2",
                                  {user_id, id}));
  if (!row.ok()) co_return row.take_error();
  if (row.value().is_null()) co_return api_error(Err::documents_not_found);
  co_return document_from_row(row.value());
}

Task<Result<IngestStarted>> start_ingest(Ctx& ctx, User user, IngestRequest req) {
  BuildSpec spec;
  spec.source = req.content ? "content" : "file";
  spec.content_type = req.content_type;
  spec.metadata = req.metadata;
  spec.chunking = req.chunking;
  int64_t size = req.content ? static_cast<int64_t>(req.content->size()) : 0;
  if (req.file_id) {
    Result<FileRecord> f = co_await find_file(ctx, user.id, *req.file_id);
    if (!f.ok()) co_return f.take_error();
    spec.file_id = *req.file_id;
    spec.r2_key = f.value().r2_key;
    spec.content_type = f.value().content_type;
    size = f.value().size;
    if (req.title.empty()) req.title = f.value().filename;
    if (size > static_cast<int64_t>(kMaxExtractBytes)) {
      co_return api_error(Err::extract_too_large);
    }
  }
  spec.title = req.title.empty() ? "Untitled" : req.title;
  Status quota = co_await check_storage_quota(ctx, user.id, req.doc_id.value_or(""), size);
  if (!quota.ok()) co_return quota.take_error();

  // Create the row, or claim the next generation of an existing one (re-ingest of the same
  // docId). Nothing about the document changes unless the claim is won.
  Result<ClaimedDocument> claimed = co_await claim_document(ctx, user.id, req.doc_id, spec);
  if (!claimed.ok()) co_return claimed.take_error();
  DocumentRecord doc = std::move(claimed.value().doc);
  const int64_t gen = claimed.value().generation;

  const int64_t inline_max = env_int(ctx.env(), "INGEST_INLINE_BYTES", kDefaultInlineBytes);
  if (size <= inline_max && !req.queue) {
    std::optional<std::string> bytes;
    if (req.content) bytes = std::move(*req.content);
    Status built = co_await build_generation(ctx, doc, gen, std::move(bytes));
    if (!built.ok()) {
      // The client hears of the failure now, so the document is left as it was: one that never
      // became ready is removed, a re-ingest keeps its live generation and records nothing.
      Status released = co_await give_back_claim(ctx, doc, gen);
      (void)released;  // the build error is what the client needs to see
      co_return built.take_error();
    }
    Result<DocumentRecord> fresh = co_await find_document(ctx, user.id, doc.id);
    if (!fresh.ok()) co_return fresh.take_error();
    co_return IngestStarted{std::move(fresh.value()), true};
  }

  // Large: keep the text in R2 (the job may run in another isolate), then queue the build. Each
  // generation has its own object, so the live generation's source is never overwritten. The
  // document points at its job and the job row is written in one transaction.
  if (req.content) {
    doc.r2_key = object_key(user.id, doc.uid, "content-" + std::to_string(gen) + ".txt");
    R2PutOptions opt;
    opt.content_type = "text/plain; charset=utf-8";
    opt.custom_metadata = {{"uploader", user.id}, {"route", "/api/v1/documents"}};
    Result<R2Object> put = co_await r2_put(ctx, doc.r2_key, std::move(*req.content), opt);
    if (!put.ok()) {
      Status released = co_await give_back_claim(ctx, doc, gen);
      (void)released;
      co_return put.take_error();
    }
  }
  NewJob job;
  job.type = "ingest";
  job.user_id = user.id;
  job.payload = {{"documentId", doc.id}, {"generation", gen}};
  job.ref = doc.uid;
  job.max_attempts = req.job_max_attempts;
  job.delay_s = req.job_delay_s;
  doc.job_id = co_await new_job_id(ctx);
  const json key = doc.r2_key.empty() ? json(nullptr) : json(doc.r2_key);
  Result<std::vector<BatchItem>> queued = co_await d1_batch(
      ctx, {Stmt("UPDATE documents SET pending = json_set(pending, '$.r2Key', ?2), job_id = ?3, "
                 "r2_key = CASE WHEN generation = 0 THEN ?2 ELSE r2_key END "
                 "WHERE uid = ?1 AND building = ?4",
                 {doc.uid, key, doc.job_id, gen}),
            insert_job_stmt(ctx, doc.job_id, job)});
  if (!queued.ok()) {
    Status recorded = co_await record_failure(ctx, doc, gen, queued.error());
    (void)recorded;
    co_return queued.take_error();
  }
  Status sent = co_await deliver_job(ctx, doc.job_id, job.delay_s);
  (void)sent;  // the job is recorded: the cron sweeper delivers it if the queue did not take it
  Result<DocumentRecord> fresh = co_await find_document(ctx, user.id, doc.id);
  if (!fresh.ok()) co_return fresh.take_error();
  co_return IngestStarted{std::move(fresh.value()), false};
}

Task<Result<DocumentPage>> list_documents(Ctx& ctx, std::string user_id, DocumentQuery q) {
  json params = json::array({user_id});
  std::string sql =
      "SELECT " + std::string(kDocumentColumns) + " FROM documents d WHERE d.user_id = ?1";
  if (!q.cursor.empty()) {
    // Cursor: "{created_at}.{uid}" of the last item, base64url so clients treat it as opaque.
    std::optional<std::string> raw = base64url_decode(q.cursor);
    size_t dot = raw ? raw->find('.') : std::string::npos;
    if (dot == std::string::npos) co_return field_error("cursor", "not a cursor from this API");
    int64_t created = 0;
    auto [p, ec] = std::from_chars(raw->data(), raw->data() + dot, created);
    if (ec != std::errc() || p != raw->data() + dot) {
      co_return field_error("cursor", "not a cursor from this API");
    }
    params.push_back(created);
    params.push_back(raw->substr(dot + 1));
    sql += " AND (d.created_at < ?2 OR (d.created_at = ?2 AND d.uid < ?3))";
  }
  if (q.title.size() > kMaxTitleBytes) co_return field_error("title", "at most 300 bytes");
  if (!q.title.empty()) {
    // A substring, ASCII case-insensitive (as LIKE was): instr has no pattern-length limit, where
    // D1 refuses LIKE patterns over 50 bytes, and no character in it is special.
    params.push_back(q.title);
    sql += " AND instr(lower(d.title), lower(?" + std::to_string(params.size()) + ")) > 0";
  }
  Result<std::string> meta = metadata_filter_sql(q.metadata, params.size() + 1, params);
  if (!meta.ok()) co_return meta.take_error();
  sql += meta.value();
  sql += " ORDER BY d.created_at DESC, d.uid DESC LIMIT " + std::to_string(q.limit + 1);
  Result<std::vector<json>> rows = co_await d1_all(ctx, Stmt(sql, params));
  if (!rows.ok()) co_return rows.take_error();
  DocumentPage page;
  for (const json& row : rows.value()) page.items.push_back(document_from_row(row));
  if (page.items.size() > q.limit) {
    page.items.pop_back();
    const DocumentRecord& last = page.items.back();
    page.next_cursor = base64url_encode(std::to_string(last.created_ms) + "." + last.uid);
  }
  co_return page;
}

Task<Status> delete_document(Ctx& ctx, DocumentRecord d) {
  // Vectors of the live generation (one being built is the job's: it discards its own).
  const bool vectors = d.vector_store == "vectorize" && d.chunk_count > 0;
  std::vector<Stmt> stmts;
  stmts.emplace_back("DELETE FROM documents WHERE uid = ?1 AND user_id = ?2",
                     json::array({d.uid, d.user_id}));
  stmts.emplace_back("DELETE FROM files WHERE user_id = ?1 AND r2_key = ?2",
                     json::array({d.user_id, d.r2_key.empty() ? json(nullptr) : json(d.r2_key)}));
  stmts.push_back(bump_vector_version(d.user_id));
  if (vectors) {
    stmts.push_back(vector_tombstone_stmt(ctx, d.uid, d.user_id, d.generation, d.chunk_count));
  }
  Result<std::vector<BatchItem>> r = co_await d1_batch(ctx, std::move(stmts));
  if (!r.ok()) co_return r.take_error();
  // A concurrent delete got there first: it answers 204 and does the rest.
  if (r.value()[0].changes == 0) co_return api_error(Err::documents_not_found);
  if (!d.r2_key.empty()) {
    Status removed = co_await r2_delete(ctx, {d.r2_key});
    (void)removed;  // an object left behind is an orphan: cleanup's R2 scan removes it
  }
  if (!vectors) co_return ok_status();
  Status gone = co_await delete_vectors(ctx, d.uid, d.generation, d.chunk_count);
  if (gone.ok()) {
    Result<RunMeta> done = co_await d1_run(
        ctx, Stmt("DELETE FROM vector_tombstones WHERE doc_uid = ?1 AND generation = ?2",
                  {d.uid, d.generation}));
    (void)done;  // a tombstone left behind only makes cleanup delete the ids once more
  }
  co_return ok_status();
}

}  // namespace ec
