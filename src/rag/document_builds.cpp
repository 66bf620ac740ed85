#include "rag/document_builds.hpp"

#include "bindings/d1.hpp"

namespace ec {

BuildSpec spec_of(const DocumentRecord& d) {
  return BuildSpec{d.title, d.metadata, d.source, d.file_id, d.r2_key, d.content_type, d.chunking};
}

std::string build_spec_json(const BuildSpec& s) {
  auto opt_str = [](const std::string& v) { return v.empty() ? json(nullptr) : json(v); };
  return dump_json(json{{"title", s.title},
                        {"metadata", s.metadata},
                        {"source", s.source},
                        {"fileId", opt_str(s.file_id)},
                        {"r2Key", opt_str(s.r2_key)},
                        {"contentType", opt_str(s.content_type)},
                        {"chunkSize", s.chunking.max_chars},
                        {"chunkOverlap", s.chunking.overlap}});
}

DocumentRecord with_spec(DocumentRecord d, const BuildSpec& s) {
  d.title = s.title;
  d.metadata = s.metadata;
  d.source = s.source;
  d.file_id = s.file_id;
  d.r2_key = s.r2_key;
  d.content_type = s.content_type;
  d.chunking = s.chunking;
  return d;
}

DocumentRecord as_built(DocumentRecord d) {
  if (!d.pending.is_object()) return d;
  BuildSpec s = spec_of(d);
  const json& p = d.pending;
  s.title = string_or(p, "title", s.title);
  if (const json* m = find(p, "metadata"); m && m->is_object()) s.metadata = *m;
  s.source = string_or(p, "source", s.source);
  s.file_id = string_or(p, "fileId", "");
  s.r2_key = string_or(p, "r2Key", "");
  s.content_type = string_or(p, "contentType", "");
  s.chunking.max_chars = static_cast<size_t>(
      get_int(p, "chunkSize").value_or(static_cast<int64_t>(s.chunking.max_chars)));
  s.chunking.overlap = static_cast<size_t>(
      get_int(p, "chunkOverlap").value_or(static_cast<int64_t>(s.chunking.overlap)));
  return with_spec(std::move(d), s);
}

// Nullable fields are copied as they are (a file-less build clears file_id); the others only when
// present, so a row written before `pending` existed keeps its values.
const std::string_view kApplyPendingSql =
    "title = coalesce(json_extract(pending, '$.title'), title), "
    "metadata = coalesce(json_extract(pending, '$.metadata'), metadata), "
    "source = coalesce(json_extract(pending, '$.source'), source), "
    "file_id = CASE WHEN pending IS NULL THEN file_id ELSE json_extract(pending, '$.fileId') END, "
    "r2_key = CASE WHEN pending IS NULL THEN r2_key ELSE json_extract(pending, '$.r2Key') END, "
    "content_type = CASE WHEN pending IS NULL THEN content_type "
    "ELSE json_extract(pending, '$.contentType') END, "
    "chunk_size = coalesce(json_extract(pending, '$.chunkSize'), chunk_size), "
    "chunk_overlap = coalesce(json_extract(pending, '$.chunkOverlap'), chunk_overlap), "
    "pending = NULL";

const std::string_view kEndBuildSql =
    "building = NULL, chunks_done = chunk_count, chunks_total = chunk_count, "
    "state = CASE WHEN generation > 0 THEN 'ready' ELSE 'failed' END";

Task<Result<std::optional<int64_t>>> claim_next_generation(Ctx& ctx, ClaimRequest req) {
  const int64_t now = static_cast<int64_t>(ctx.now_ms());
  // SQLite evaluates every assignment against the row as it was, so `building` and
  // `last_generation` receive the same, never-before-used number.
  std::string sql =
      "UPDATE documents SET "
      "building = max(last_generation, generation, coalesce(building, 0)) + 1, "
      "last_generation = max(last_generation, generation, coalesce(building, 0)) + 1, "
      "pending = ?2, job_id = ?3, chunks_done = 0, chunks_total = 0, error_code = NULL, "
      "error_message = NULL, updated_at = ?4, "
      "state = CASE WHEN generation > 0 THEN 'ready' ELSE 'queued' END "
      "WHERE uid = ?1 AND (building IS NULL OR (job_id IS NULL AND updated_at < ?5))";
  json params =
      json::array({req.uid, build_spec_json(req.spec),
                   req.job_id ? json(*req.job_id) : json(nullptr), now, now - kInlineBuildStaleMs});
  if (req.require_generation) {
    sql += " AND generation = ?6";
    params.push_back(*req.require_generation);
  }
  sql += " RETURNING building";
  Result<json> row = co_await d1_first(ctx, Stmt(sql, std::move(params)));
  if (!row.ok()) co_return row.take_error();
  if (row.value().is_null()) co_return std::optional<int64_t>();
  co_return get_int(row.value(), "building");
}

ApiError document_busy_error() { return api_error(Err::documents_busy); }

}  // namespace ec
