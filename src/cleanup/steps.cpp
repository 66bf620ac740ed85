#include "cleanup/steps.hpp"

#include "billing/credits.hpp"
#include "bindings/d1.hpp"
#include "bindings/r2.hpp"
#include "bindings/vectorize.hpp"
#include "rag/document_builds.hpp"
#include "rag/ingest.hpp"

#include <algorithm>
#include <cstdlib>
#include <map>

namespace ec {

namespace {

// Vectorize tombstones resolved per run: each may stand for thousands of ids.
constexpr int64_t kTombstonesPerRun = 20;
// Pages of the bucket examined per run (CLEANUP_BATCH keys each).
constexpr int kR2PagesPerRun = 2;

Task<Result<std::string>> load_state(Ctx& ctx, std::string name) {
  Result<json> row =
      co_await d1_first(ctx, Stmt("SELECT value FROM maintenance_state WHERE name = ?1", {name}));
  if (!row.ok()) co_return row.take_error();
  co_return string_or(row.value(), "value", "");
}

Stmt save_state(int64_t now, const std::string& name, const std::string& value) {
  return Stmt(
      "INSERT INTO maintenance_state (name, value, updated_at) VALUES (?1, ?2, ?3) "
      "ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
      {name, value, now});
}

Task<Result<CleanupStepResult>> refresh_tokens(Ctx& ctx, CleanupPolicy p) {
  co_return co_await delete_expired_rows(ctx, "refresh_tokens", "expires_at < ?1",
                                         json::array({p.now_ms}), p.batch);
}

Task<Result<CleanupStepResult>> sessions(Ctx& ctx, CleanupPolicy p) {
  co_return co_await delete_expired_rows(ctx, "sessions", "expires_at < ?1",
                                         json::array({p.now_ms}), p.batch);
}

Task<Result<CleanupStepResult>> used_grants(Ctx& ctx, CleanupPolicy p) {
  co_return co_await delete_expired_rows(ctx, "used_grants", "expires_at < ?1",
                                         json::array({p.now_ms}), p.batch);
}

Task<Result<CleanupStepResult>> usage_events(Ctx& ctx, CleanupPolicy p) {
  co_return co_await delete_expired_rows(ctx, "usage_events", "created_at < ?1",
                                         json::array({p.now_ms - p.usage_ttl_ms}), p.batch);
}

Task<Result<CleanupStepResult>> idempotency_keys(Ctx& ctx, CleanupPolicy p) {
  co_return co_await delete_expired_rows(ctx, "idempotency_keys", "expires_at < ?1",
                                         json::array({p.now_ms}), p.batch);
}

// Holds of answers whose isolate died before settling: the credits go back (billing/credits.hpp).
Task<Result<CleanupStepResult>> credit_holds(Ctx& ctx, CleanupPolicy p) {
  Result<int64_t> released = co_await release_expired_holds(ctx, p.now_ms, p.batch);
  if (!released.ok()) co_return released.take_error();
  co_return CleanupStepResult{released.value(), released.value() >= p.batch};
}

Task<Result<CleanupStepResult>> finished_jobs(Ctx& ctx, CleanupPolicy p) {
  co_return co_await delete_expired_rows(
      ctx, "jobs", "finished_at < ?1 AND state IN ('succeeded', 'failed', 'dead', 'cancelled')",
      json::array({p.now_ms - p.job_ttl_ms}), p.batch);
}

Task<Result<CleanupStepResult>> streams(Ctx& ctx, CleanupPolicy p) {
  co_return co_await delete_expired_rows(ctx, "streams", "expires_at < ?1", json::array({p.now_ms}),
                                         p.batch);
}

// Pending uploads whose grant can no longer be used: the row, and the object if bytes arrived
// but the upload never completed (also one left 'uploading' by an isolate that died mid-upload).
Task<Result<CleanupStepResult>> pending_uploads(Ctx& ctx, CleanupPolicy p) {
  Result<std::vector<json>> rows = co_await d1_all(
      ctx, Stmt("SELECT id, r2_key FROM files WHERE state IN ('pending', 'uploading') AND "
                "created_at < ?1 "
                "ORDER BY created_at LIMIT ?2",
                {p.now_ms - p.pending_upload_max_ms, p.batch}));
  if (!rows.ok()) co_return rows.take_error();
  if (rows.value().empty()) co_return CleanupStepResult{};
  std::vector<std::string> keys;
  json ids = json::array();
  for (const json& row : rows.value()) {
    keys.push_back(string_or(row, "r2_key", ""));
    ids.push_back(string_or(row, "id", ""));
  }
  Status gone = co_await r2_delete(ctx, std::move(keys));
  if (!gone.ok()) co_return gone.take_error();
  Result<RunMeta> r = co_await d1_run(
      ctx,
      Stmt("DELETE FROM files WHERE state IN ('pending', 'uploading') AND id IN (SELECT value FROM "
           "json_each(?1))",
           {dump_json(ids)}));
  if (!r.ok()) co_return r.take_error();
  co_return CleanupStepResult{r.value().changes,
                              static_cast<int64_t>(rows.value().size()) >= p.batch};
}

// Inline builds whose request died mid-build (no progress for kInlineBuildStaleMs): the document
// goes back to its live generation and says why; orphanChunks then removes what the build wrote.
Task<Result<CleanupStepResult>> stale_builds(Ctx& ctx, CleanupPolicy p) {
  const ErrorInfo& why = error_info(Err::documents_build_abandoned);
  Result<RunMeta> r = co_await d1_run(
      ctx, Stmt("UPDATE documents SET " + std::string(kEndBuildSql) +
                    ", error_code = ?4, error_message = ?5, updated_at = ?1 "
                    "WHERE uid IN (SELECT uid FROM documents WHERE building IS NOT NULL AND job_id "
                    "IS NULL AND updated_at < ?2 LIMIT ?3)",
                {p.now_ms, p.now_ms - kInlineBuildStaleMs, p.batch, std::string(why.code),
                 std::string(why.message)}));
  if (!r.ok()) co_return r.take_error();
  co_return CleanupStepResult{r.value().changes, r.value().changes >= p.batch};
}

// Removes the rows of `table` (chunks, graph_entities, graph_relations) in the next window of
// p.scan ids whose generation is neither their document's live one nor the one being built.
// Returns the removed rows' (doc_uid, generation, idx, remote) when `table` is chunks.
struct ScanResult {
  std::vector<json> removed;
  bool more = false;
};
Task<Result<ScanResult>> scan_orphans(Ctx& ctx, CleanupPolicy p, std::string table) {
  const std::string cursor_name = "scan." + table;
  Result<std::string> saved = co_await load_state(ctx, cursor_name);
  if (!saved.ok()) co_return saved.take_error();
  const int64_t after = std::atoll(saved.value().c_str());
  Result<json> window =
      co_await d1_first(ctx, Stmt("SELECT max(id) AS upper, count(*) AS n FROM (SELECT id FROM " +
                                      table + " WHERE id > ?1 ORDER BY id LIMIT ?2)",
                                  {after, p.scan}));
  if (!window.ok()) co_return window.take_error();
  std::optional<int64_t> upper = get_int(window.value(), "upper");
  if (!upper) {
    // The scan reached the end: start over next run.
    Result<RunMeta> reset = co_await d1_run(ctx, save_state(p.now_ms, cursor_name, "0"));
    if (!reset.ok()) co_return reset.take_error();
    co_return ScanResult{};
  }
  const std::string returning =
      table == "chunks" ? " RETURNING doc_uid, user_id, generation, idx, vector IS NULL AS remote"
                        : "";
  Result<std::vector<BatchItem>> r = co_await d1_batch(
      ctx, {Stmt("DELETE FROM " + table + " WHERE id IN (SELECT t.id FROM " + table +
                     " t WHERE t.id > ?1 AND t.id <= ?2 AND NOT EXISTS (SELECT 1 FROM documents "
                     "d WHERE d.uid = t.doc_uid AND (d.generation = t.generation OR d.building = "
                     "t.generation)))" +
                     returning,
                 {after, *upper}),
            save_state(p.now_ms, cursor_name, std::to_string(*upper))});
  if (!r.ok()) co_return r.take_error();
  ScanResult out;
  out.more = get_int(window.value(), "n").value_or(0) >= p.scan;
  if (table == "chunks") {
    out.removed = std::move(r.value()[0].rows);
  } else {
    out.removed.resize(static_cast<size_t>(r.value()[0].changes));
  }
  co_return out;
}

Task<Result<CleanupStepResult>> orphan_chunks(Ctx& ctx, CleanupPolicy p) {
  Result<ScanResult> scanned = co_await scan_orphans(ctx, p, "chunks");
  if (!scanned.ok()) co_return scanned.take_error();
  // Chunks whose vectors live in Vectorize: delete those ids too, or leave a tombstone.
  struct Group {
    std::string user_id;
    std::vector<std::string> ids;
    int64_t count = 0;
  };
  std::map<std::pair<std::string, int64_t>, Group> remote;
  for (const json& row : scanned.value().removed) {
    if (get_int(row, "remote").value_or(0) == 0) continue;
    const std::string uid = string_or(row, "doc_uid", "");
    const int64_t gen = get_int(row, "generation").value_or(0);
    const int64_t idx = get_int(row, "idx").value_or(0);
    Group& g = remote[{uid, gen}];
    g.user_id = string_or(row, "user_id", "");
    g.ids.push_back(vector_id(uid, gen, idx));
    g.count = std::max(g.count, idx + 1);
  }
  for (auto& [key, g] : remote) {
    Status gone = co_await vectorize_delete(ctx, g.ids);
    if (!gone.ok()) {
      Result<RunMeta> kept = co_await d1_run(
          ctx, vector_tombstone_stmt(ctx, key.first, g.user_id, key.second, g.count));
      if (!kept.ok()) co_return kept.take_error();
    }
  }
  co_return CleanupStepResult{static_cast<int64_t>(scanned.value().removed.size()),
                              scanned.value().more};
}

Task<Result<CleanupStepResult>> orphan_graph(Ctx& ctx, CleanupPolicy p) {
  CleanupStepResult out;
  for (const char* table : {"graph_entities", "graph_relations"}) {
    Result<ScanResult> scanned = co_await scan_orphans(ctx, p, table);
    if (!scanned.ok()) co_return scanned.take_error();
    out.removed += static_cast<int64_t>(scanned.value().removed.size());
    out.more = out.more || scanned.value().more;
  }
  co_return out;
}

// Retries the Vectorize deletes recorded in vector_tombstones; `removed` counts vector ids.
Task<Result<CleanupStepResult>> vector_tombstones(Ctx& ctx, CleanupPolicy) {
  Result<std::vector<json>> rows =
      co_await d1_all(ctx, Stmt("SELECT doc_uid, generation, count FROM vector_tombstones "
                                "ORDER BY attempts, created_at LIMIT ?1",
                                {kTombstonesPerRun}));
  if (!rows.ok()) co_return rows.take_error();
  CleanupStepResult out;
  out.more = static_cast<int64_t>(rows.value().size()) >= kTombstonesPerRun;
  std::optional<ApiError> failure;
  for (const json& row : rows.value()) {
    const std::string uid = string_or(row, "doc_uid", "");
    const int64_t gen = get_int(row, "generation").value_or(0);
    const int64_t count = get_int(row, "count").value_or(0);
    Status gone = co_await delete_vectors(ctx, uid, gen, count);
    Stmt next = gone.ok() ? Stmt(
                                "DELETE FROM vector_tombstones WHERE doc_uid = ?1 AND "
                                "generation = ?2",
                                {uid, gen})
                          : Stmt(
                                "UPDATE vector_tombstones SET attempts = attempts + 1 "
                                "WHERE doc_uid = ?1 AND generation = ?2",
                                {uid, gen});
    Result<RunMeta> r = co_await d1_run(ctx, std::move(next));
    if (!r.ok()) co_return r.take_error();
    if (gone.ok()) {
      out.removed += count;
    } else if (!failure) {
      failure = gone.take_error();
    }
  }
  if (failure && out.removed == 0) co_return *failure;
  co_return out;
}

// R2 objects that no files or documents row names, past the grace period that covers an upload
// between its R2 write and its D1 row.
Task<Result<CleanupStepResult>> orphan_objects(Ctx& ctx, CleanupPolicy p) {
  const std::string cursor_name = "scan.r2";
  Result<std::string> saved = co_await load_state(ctx, cursor_name);
  if (!saved.ok()) co_return saved.take_error();
  std::string cursor = saved.value();
  CleanupStepResult out;
  for (int page = 0; page < kR2PagesPerRun; ++page) {
    Result<R2ListPage> listed = co_await r2_list(ctx, "", cursor, p.batch);
    if (!listed.ok()) co_return listed.take_error();
    json candidates = json::array();
    for (const R2Object& o : listed.value().objects) {
      if (o.uploaded_ms < p.now_ms - p.orphan_grace_ms) candidates.push_back(o.key);
    }
    if (!candidates.empty()) {
      Result<std::vector<json>> orphans = co_await d1_all(
          ctx, Stmt("SELECT j.value AS key FROM json_each(?1) j WHERE "
                    "NOT EXISTS (SELECT 1 FROM files f WHERE f.r2_key = j.value) AND "
                    "NOT EXISTS (SELECT 1 FROM documents d WHERE d.r2_key = j.value OR "
                    "json_extract(d.pending, '$.r2Key') = j.value)",
                    {dump_json(candidates)}));
      if (!orphans.ok()) co_return orphans.take_error();
      std::vector<std::string> keys;
      for (const json& row : orphans.value()) keys.push_back(string_or(row, "key", ""));
      if (!keys.empty()) {
        const int64_t n = static_cast<int64_t>(keys.size());
        Status gone = co_await r2_delete(ctx, std::move(keys));
        if (!gone.ok()) co_return gone.take_error();
        out.removed += n;
      }
    }
    cursor = listed.value().cursor;
    Result<RunMeta> kept = co_await d1_run(ctx, save_state(p.now_ms, cursor_name, cursor));
    if (!kept.ok()) co_return kept.take_error();
    if (cursor.empty()) break;  // the whole bucket was seen: the next run starts over
  }
  out.more = !cursor.empty();
  co_return out;
}

}  // namespace

Task<Result<CleanupStepResult>> delete_expired_rows(Ctx& ctx, std::string table, std::string where,
                                                    json params, int64_t batch) {
  Result<RunMeta> r = co_await d1_run(
      ctx, Stmt("DELETE FROM " + table + " WHERE rowid IN (SELECT rowid FROM " + table + " WHERE " +
                    where + " LIMIT " + std::to_string(batch) + ")",
                std::move(params)));
  if (!r.ok()) co_return r.take_error();
  co_return CleanupStepResult{r.value().changes, r.value().changes >= batch};
}

const std::vector<CleanupStep>& cleanup_steps() {
  static const std::vector<CleanupStep> steps = {
      {"refreshTokens", refresh_tokens},
      {"sessions", sessions},
      {"usedGrants", used_grants},
      {"pendingUploads", pending_uploads},
      {"usageEvents", usage_events},
      {"idempotencyKeys", idempotency_keys},
      {"creditHolds", credit_holds},
      {"jobs", finished_jobs},
      {"streams", streams},
      {"staleBuilds", stale_builds},
      {"orphanChunks", orphan_chunks},
      {"orphanGraph", orphan_graph},
      {"vectorTombstones", vector_tombstones},
      {"orphanObjects", orphan_objects},
  };
  return steps;
}

}  // namespace ec
