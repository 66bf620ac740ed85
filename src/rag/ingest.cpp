#include "rag/ingest.hpp"

#include "bindings/r2.hpp"
#include "bindings/sched.hpp"
#include "bindings/vectorize.hpp"
#include "core/utf8.hpp"
#include "crypto/encoding.hpp"
#include "extract/document.hpp"
#include "extract/text.hpp"
#include "graph/extract.hpp"
#include "index/embedder.hpp"
#include "index/lexical_embedder.hpp"
#include "index/vector_index.hpp"
#include "jobs/job_runner.hpp"
#include "rag/document_builds.hpp"
#include "rag/ingest_limits.hpp"
#include "text/llm_text.hpp"

#include <algorithm>

namespace ec {

namespace {

constexpr size_t kChunkParams = 10;                             // columns per chunk row
constexpr size_t kRowsPerInsert = kD1MaxParams / kChunkParams;  // D1: ≤ 100 bound parameters
constexpr size_t kPreviewChars = 1000;
// A build's share of its job's progress: reading and extracting the source is the first tenth,
// embedding and writing the chunks most of the rest; the graph and the commit end it.
constexpr double kProgressClaimed = 0.02;
constexpr double kProgressChunked = 0.1;
constexpr double kProgressEmbedded = 0.9;

int64_t now_ms(const Ctx& ctx) { return static_cast<int64_t>(ctx.now_ms()); }

std::string vector_blob(const float* v) {
  int8_t q[kEmbeddingDims];
  float scale = 0;
  quantize_int8(v, kEmbeddingDims, q, &scale);
  return base64url_encode(encode_i8_blob(q, kEmbeddingDims, scale));
}

// INSERT statements for chunks [from, to), kRowsPerInsert rows each.
void chunk_inserts(const DocumentRecord& doc, int64_t gen, const ExtractedText& text,
                   const std::vector<Chunk>& chunks, size_t from, size_t to,
                   const std::vector<float>* vectors, std::vector<Stmt>& out) {
  for (size_t start = from; start < to; start += kRowsPerInsert) {
    size_t end = std::min(to, start + kRowsPerInsert);
    std::string sql =
        "INSERT INTO chunks (doc_uid, user_id, generation, idx, vid, text, char_start, char_end, "
        "heading_path, vector) VALUES ";
    json params = json::array();
    for (size_t i = start; i < end; ++i) {
      const Chunk& c = chunks[i];
      size_t p = params.size();
      if (i > start) sql += ", ";
      sql += "(";
      for (size_t k = 1; k <= kChunkParams; ++k) {
        sql += "?" + std::to_string(p + k) + (k < kChunkParams ? ", " : "");
      }
      sql += ")";
      json path = json::array();
      for (const std::string& h : c.heading_path) path.push_back(h);
      params.push_back(doc.uid);
      params.push_back(doc.user_id);
      params.push_back(gen);
      params.push_back(c.index);
      params.push_back(vector_id(doc.uid, gen, static_cast<int64_t>(c.index)));
      params.push_back(std::string(chunk_view(text, c)));
      params.push_back(c.char_start);
      params.push_back(c.char_end);
      params.push_back(dump_json(path));
      params.push_back(vectors ? json(vector_blob(vectors->data() + (i - from) * kEmbeddingDims))
                               : json(nullptr));
    }
    out.emplace_back(sql, std::move(params));
  }
}

// Graph rows, batched within the parameter limit.
void graph_inserts(const DocumentRecord& doc, int64_t gen, const Graph& g, std::vector<Stmt>& out) {
  for (size_t start = 0; start < g.entities.size(); start += 16) {
    std::string sql =
        "INSERT INTO graph_entities (doc_uid, generation, user_id, name, name_key, type, "
        "mentions) VALUES ";
    json params = json::array();
    for (size_t i = start; i < std::min(g.entities.size(), start + 16); ++i) {
      const GraphEntity& e = g.entities[i];
      const std::string p = "?" + std::to_string(params.size() + 1);
      auto q = [&](size_t k) { return "?" + std::to_string(params.size() + k); };
      sql += std::string(i > start ? ", " : "") + "(" + p + ", " + q(2) + ", " + q(3) + ", " +
             q(4) + ", lower(" + q(4) + "), " + q(5) + ", " + q(6) + ")";
      params.push_back(doc.uid);
      params.push_back(gen);
      params.push_back(doc.user_id);
      params.push_back(e.name);
      params.push_back(e.type);
      params.push_back(e.mentions);
    }
    out.emplace_back(sql, std::move(params));
  }
  for (size_t start = 0; start < g.relations.size(); start += 14) {
    std::string sql =
        "INSERT INTO graph_relations (doc_uid, generation, user_id, source, target, relation, "
        "weight) VALUES ";
    json params = json::array();
    for (size_t i = start; i < std::min(g.relations.size(), start + 14); ++i) {
      const GraphRelation& r = g.relations[i];
      size_t p = params.size();
      sql += std::string(i > start ? ", " : "") + "(";
      for (size_t k = 1; k <= 7; ++k) sql += "?" + std::to_string(p + k) + (k < 7 ? ", " : ")");
      params.push_back(doc.uid);
      params.push_back(gen);
      params.push_back(doc.user_id);
      params.push_back(r.source);
      params.push_back(r.target);
      params.push_back(r.relation);
      params.push_back(static_cast<double>(r.weight));
    }
    out.emplace_back(sql, std::move(params));
  }
}

// The LLM's graph when one is configured and answers sensibly, else the local extractor's.
Task<Graph> extract_graph(Ctx& ctx, const std::string& text) {
  if (llm_configured(ctx)) {
    Result<LlmText> reply = co_await complete_text(
        ctx, "You extract knowledge graphs as strict JSON.", graph_extraction_prompt(text), 1024);
    if (reply.ok()) {
      Result<Graph> g = parse_llm_graph(reply.value().text);
      if (g.ok() && !g.value().entities.empty()) co_return std::move(g.value());
    }
  }
  co_return extract_graph_local(text);
}

// A build that lost to a newer ingest, a delete or a cancel: its rows and vectors are garbage.
Task<Status> discard_generation(Ctx& ctx, DocumentRecord doc, int64_t gen, int64_t upserted) {
  Status cleaned = co_await record_failure(ctx, doc, gen, ApiError{});
  if (!cleaned.ok()) co_return cleaned;
  if (upserted > 0) {
    co_return co_await delete_vectors_or_tombstone(ctx, doc.uid, doc.user_id, gen, upserted);
  }
  co_return ok_status();
}

// Claim: start from a clean slate for this generation (a retried job may have left rows).
// ok(false) when the generation was superseded or the document deleted meanwhile.
Task<Result<bool>> claim_generation(Ctx& ctx, const DocumentRecord& doc, int64_t gen,
                                    const std::optional<JobTicket>& ticket) {
  std::vector<Stmt> stmts;
  stmts.emplace_back("DELETE FROM chunks WHERE doc_uid = ?1 AND generation = ?2",
                     json::array({doc.uid, gen}));
  stmts.emplace_back(
      "UPDATE documents SET chunks_done = 0, updated_at = ?3, "
      "state = CASE WHEN generation > 0 THEN state ELSE 'processing' END "
      "WHERE uid = ?1 AND building = ?2",
      json::array({doc.uid, gen, now_ms(ctx)}));
  if (ticket) {
    stmts.push_back(job_progress_stmt(ctx, *ticket, kProgressClaimed, "reading the source"));
    stmts.push_back(job_cancel_probe(*ticket));
  }
  Result<std::vector<BatchItem>> claim = co_await d1_batch(ctx, std::move(stmts));
  if (!claim.ok()) co_return claim.take_error();
  if (claim.value()[1].changes == 0) co_return false;
  if (ticket) {
    Status go_on = job_checkpoint_status(claim.value(), 2);
    if (!go_on.ok()) co_return go_on.take_error();
  }
  co_return true;
}

// Embeds and writes the chunks of generation `gen`, then makes it live: the part of a build after
// the text and its chunks are known, shared by ingest and by a reindex from stored chunks.
Task<Status> index_generation(Ctx& ctx, DocumentRecord doc, int64_t gen, ExtractedText text,
                              std::vector<Chunk> chunks, std::optional<JobTicket> ticket) {
  const int64_t total = static_cast<int64_t>(chunks.size());
  const int64_t chars = static_cast<int64_t>(chunks.back().char_end);
  std::vector<Stmt> started;
  started.emplace_back(
      "UPDATE documents SET chunks_total = ?3, updated_at = ?4 WHERE uid = ?1 AND building = ?2",
      json::array({doc.uid, gen, total, now_ms(ctx)}));
  if (ticket) {
    started.push_back(job_progress_stmt(ctx, *ticket, kProgressChunked,
                                        std::to_string(total) + " chunks to embed"));
    started.push_back(job_cancel_probe(*ticket));
  }
  Result<std::vector<BatchItem>> began = co_await d1_batch(ctx, std::move(started));
  if (!began.ok()) co_return began.take_error();
  if (ticket) {
    Status go_on = job_checkpoint_status(began.value(), 1);
    if (!go_on.ok()) {
      if (go_on.error().is(Err::jobs_cancelled)) {
        Status dropped = co_await discard_generation(ctx, doc, gen, 0);
        (void)dropped;  // the cancel is what the runner records; cleanup takes leftover rows
      }
      co_return go_on;
    }
  }

  const EmbedderChoice embedder = choose_embedder(ctx);
  bool to_vectorize = use_vectorize(ctx);
  int64_t upserted = 0;  // vectors of this generation already in Vectorize
  for (size_t from = 0; from < chunks.size(); from += embedder.batch) {
    const size_t to = std::min(chunks.size(), from + embedder.batch);
    std::vector<std::string> texts;
    for (size_t i = from; i < to; ++i) texts.emplace_back(chunk_view(text, chunks[i]));
    Result<std::vector<float>> vecs = co_await embed_texts(ctx, embedder, std::move(texts));
    if (!vecs.ok()) co_return vecs.take_error();
    if (to_vectorize) {
      std::vector<VectorRecord> records;
      for (size_t i = from; i < to; ++i) {
        VectorRecord r;
        r.id = vector_id(doc.uid, gen, static_cast<int64_t>(i));
        r.values = vecs.value().data() + (i - from) * kEmbeddingDims;
        r.dims = kEmbeddingDims;
        r.ns = doc.user_id;
        r.metadata = {{"user", doc.user_id}, {"doc", doc.uid}, {"generation", gen}, {"chunk", i}};
        records.push_back(std::move(r));
      }
      Status up = co_await vectorize_upsert(ctx, records);
      if (!up.ok()) {
        // Unusable before anything was written: this document uses the local index instead.
        if (upserted == 0 && up.error().status == 503) {
          to_vectorize = false;
        } else {
          co_return up.take_error();
        }
      } else {
        upserted += static_cast<int64_t>(to - from);
      }
    }
    std::vector<Stmt> batch;
    chunk_inserts(doc, gen, text, chunks, from, to, to_vectorize ? nullptr : &vecs.value(), batch);
    const size_t doc_update = batch.size();
    batch.emplace_back(
        "UPDATE documents SET chunks_done = ?3, updated_at = ?4 "
        "WHERE uid = ?1 AND building = ?2",
        json::array({doc.uid, gen, static_cast<int64_t>(to), now_ms(ctx)}));
    if (ticket) {
      // Progress commits with the chunks it counts.
      const double done = static_cast<double>(to) / static_cast<double>(chunks.size());
      batch.push_back(job_progress_stmt(
          ctx, *ticket, kProgressChunked + (kProgressEmbedded - kProgressChunked) * done,
          "embedded " + std::to_string(to) + " of " + std::to_string(total) + " chunks"));
      batch.push_back(job_cancel_probe(*ticket));
    }
    Result<std::vector<BatchItem>> wrote = co_await d1_batch(ctx, std::move(batch));
    if (!wrote.ok()) co_return wrote.take_error();
    if (wrote.value()[doc_update].changes == 0) {  // superseded or deleted meanwhile
      co_return co_await discard_generation(ctx, doc, gen, upserted);
    }
    if (ticket) {
      Status go_on = job_checkpoint_status(wrote.value(), doc_update + 1);
      if (!go_on.ok()) {
        // A cancel drops what this build wrote; a lost lease leaves it to the newer attempt.
        if (go_on.error().is(Err::jobs_cancelled)) {
          Status dropped = co_await discard_generation(ctx, doc, gen, upserted);
          (void)dropped;
        }
        co_return go_on;
      }
    }
  }

  co_await yield_to_host(ctx);  // the graph is one more CPU stretch (≤ kMaxGraphInputBytes)
  Graph graph = co_await extract_graph(ctx, text.text);

  // Commit: the new generation goes live, the old one and its graph go, in one transaction.
  std::vector<Stmt> commit;
  commit.emplace_back(
      "UPDATE documents SET generation = ?2, building = NULL, state = 'ready', chunk_count = ?3, "
      "chunks_done = ?3, chunks_total = ?3, format = ?4, chars = ?5, preview = ?6, "
      "embed_model = ?7, vector_store = ?8, error_code = NULL, error_message = NULL, "
      "ready_at = ?9, updated_at = ?9, " +
          std::string(kApplyPendingSql) + " WHERE uid = ?1 AND building = ?2",
      json::array({doc.uid, gen, total, text.format, chars,
                   text.text.substr(0, utf8_prefix_chars(text.text, kPreviewChars)), embedder.model,
                   to_vectorize ? "vectorize" : "local", now_ms(ctx)}));
  // Guarded by the UPDATE above having happened (generation = gen), so a superseded build
  // deletes nothing of the winner's.
  const std::string live =
      " AND EXISTS (SELECT 1 FROM documents WHERE uid = ?1 AND generation = ?2)";
  commit.emplace_back("DELETE FROM chunks WHERE doc_uid = ?1 AND generation != ?2" + live,
                      json::array({doc.uid, gen}));
  commit.emplace_back("DELETE FROM graph_entities WHERE doc_uid = ?1 AND generation != ?2" + live,
                      json::array({doc.uid, gen}));
  commit.emplace_back("DELETE FROM graph_relations WHERE doc_uid = ?1 AND generation != ?2" + live,
                      json::array({doc.uid, gen}));
  graph_inserts(doc, gen, graph, commit);
  commit.push_back(bump_vector_version(doc.user_id));
  Result<std::vector<BatchItem>> done = co_await d1_batch(ctx, std::move(commit));
  if (!done.ok()) co_return done.take_error();
  if (done.value()[0].changes == 0) {
    // Lost a race with a newer ingest or a delete: drop this generation's rows and vectors.
    co_return co_await discard_generation(ctx, doc, gen, upserted);
  }
  // The previous generation's vectors are unreachable now (search checks D1); remove them, or
  // leave a tombstone for cleanup when Vectorize refuses.
  if (doc.generation > 0 && doc.vector_store == "vectorize" && doc.chunk_count > 0) {
    Status gone = co_await delete_vectors_or_tombstone(ctx, doc.uid, doc.user_id, doc.generation,
                                                       doc.chunk_count);
    (void)gone;  // stale vectors are filtered out by every query
  }
  co_return ok_status();
}

// Rebuilds the extracted text from stored chunks: they cover every non-whitespace character in
// order and overlap only their neighbours, so laying them out by their code-point offsets (a gap
// becomes that many newlines) gives back the text with the same offsets, and the same chunks.
void reassemble(const std::vector<json>& rows, ExtractedText& text, std::vector<Chunk>& chunks) {
  size_t covered = 0;  // code points of text so far
  for (const json& row : rows) {
    const std::string part = string_or(row, "text", "");
    const size_t cs = static_cast<size_t>(get_int(row, "char_start").value_or(0));
    const size_t ce = static_cast<size_t>(get_int(row, "char_end").value_or(0));
    if (cs > covered) {
      text.text.append(cs - covered, '\n');
      covered = cs;
    }
    // The chunk's first (covered − cs) code points are the end of the text already laid out.
    const size_t overlap = utf8_prefix_chars(part, covered - cs);
    Chunk c;
    c.index = chunks.size();
    c.start = text.text.size() - std::min(overlap, text.text.size());
    text.text.append(part, overlap);
    c.end = text.text.size();
    c.char_start = cs;
    c.char_end = ce;
    if (std::optional<json> path = parse_json(string_or(row, "heading_path", "[]"));
        path && path->is_array()) {
      for (const json& h : *path) {
        if (h.is_string()) c.heading_path.push_back(h.get<std::string>());
      }
    }
    covered = std::max(covered, ce);
    chunks.push_back(std::move(c));
  }
}

}  // namespace

std::string vector_id(std::string_view uid, int64_t generation, int64_t idx) {
  return std::string(uid) + ":" + std::to_string(generation) + ":" + std::to_string(idx);
}

Stmt bump_vector_version(const std::string& user_id) {
  return Stmt(
      "INSERT INTO vector_versions (user_id, version) VALUES (?1, 1) "
      "ON CONFLICT (user_id) DO UPDATE SET version = version + 1",
      {user_id});
}

Stmt vector_tombstone_stmt(const Ctx& ctx, const std::string& uid, const std::string& user_id,
                           int64_t gen, int64_t count) {
  return Stmt(
      "INSERT INTO vector_tombstones (doc_uid, generation, count, user_id, created_at) "
      "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (doc_uid, generation) DO UPDATE SET "
      "count = max(count, excluded.count)",
      {uid, gen, count, user_id, now_ms(ctx)});
}

Task<Status> delete_vectors(Ctx& ctx, std::string uid, int64_t gen, int64_t count) {
  for (int64_t start = 0; start < count; start += static_cast<int64_t>(kVectorizeUpsertBatch)) {
    std::vector<std::string> ids;
    for (int64_t i = start; i < std::min<int64_t>(count, start + kVectorizeUpsertBatch); ++i) {
      ids.push_back(vector_id(uid, gen, i));
    }
    Status s = co_await vectorize_delete(ctx, std::move(ids));
    if (!s.ok()) co_return s;
  }
  co_return ok_status();
}

Task<Status> delete_vectors_or_tombstone(Ctx& ctx, std::string uid, std::string user_id,
                                         int64_t gen, int64_t count) {
  Status gone = co_await delete_vectors(ctx, uid, gen, count);
  if (gone.ok()) co_return gone;
  Result<RunMeta> kept = co_await d1_run(ctx, vector_tombstone_stmt(ctx, uid, user_id, gen, count));
  if (!kept.ok()) co_return kept.take_error();
  co_return gone;
}

Task<Status> build_generation(Ctx& ctx, DocumentRecord doc, int64_t gen,
                              std::optional<std::string> bytes, std::optional<JobTicket> ticket) {
  Result<bool> claimed = co_await claim_generation(ctx, doc, gen, ticket);
  if (!claimed.ok()) co_return claimed.take_error();
  if (!claimed.value()) co_return ok_status();  // superseded or deleted

  if (!bytes) {
    if (doc.r2_key.empty()) {
      co_return api_error(Err::documents_source_missing, "The document's file was deleted");
    }
    Result<std::string> got =
        co_await r2_get(ctx, doc.r2_key, static_cast<int64_t>(kMaxExtractBytes));
    if (!got.ok()) co_return got.take_error();
    bytes = std::move(got.value());
  }
  std::string filename = doc.r2_key.substr(doc.r2_key.rfind('/') + 1);
  Result<ExtractedText> text =
      co_await extract_document(ctx, std::move(*bytes), doc.content_type, filename);
  if (!text.ok()) co_return text.take_error();
  co_await yield_to_host(ctx);  // extraction and chunking are each one CPU stretch: not both
  Result<std::vector<Chunk>> chunked = chunk_text(text.value(), doc.chunking);
  if (!chunked.ok()) co_return chunked.take_error();
  if (chunked.value().empty()) {
    co_return api_error(Err::extract_no_text);
  }
  Status capped = check_chunk_cap(ctx, chunked.value().size());
  if (!capped.ok()) co_return capped;
  co_await yield_to_host(ctx);
  co_return co_await index_generation(ctx, std::move(doc), gen, std::move(text.value()),
                                      std::move(chunked.value()), std::move(ticket));
}

Task<Status> rebuild_from_chunks(Ctx& ctx, DocumentRecord doc, int64_t gen, int64_t from,
                                 std::optional<JobTicket> ticket) {
  Result<bool> claimed = co_await claim_generation(ctx, doc, gen, ticket);
  if (!claimed.ok()) co_return claimed.take_error();
  if (!claimed.value()) co_return ok_status();
  ExtractedText text;
  text.format = doc.format;
  std::vector<Chunk> chunks;
  // Paged by idx so a large document never needs one huge D1 result.
  for (int64_t next = 0;;) {
    Result<std::vector<json>> rows = co_await d1_all(
        ctx, Stmt("SELECT idx, text, char_start, char_end, heading_path FROM chunks "
                  "WHERE doc_uid = ?1 AND generation = ?2 AND idx >= ?3 ORDER BY idx LIMIT 500",
                  {doc.uid, from, next}));
    if (!rows.ok()) co_return rows.take_error();
    if (rows.value().empty()) break;
    reassemble(rows.value(), text, chunks);
    next = get_int(rows.value().back(), "idx").value_or(next) + 1;
    if (rows.value().size() < 500) break;
  }
  if (chunks.empty()) {
    co_return api_error(Err::documents_source_missing,
                        "The document's chunks are gone; ingest it again");
  }
  co_return co_await index_generation(ctx, std::move(doc), gen, std::move(text), std::move(chunks),
                                      std::move(ticket));
}

namespace {

// Drops generation `gen`'s chunks and graph (never the live generation's graph).
void drop_generation_rows(const DocumentRecord& doc, int64_t gen, std::vector<Stmt>& stmts) {
  for (const char* table : {"chunks", "graph_entities", "graph_relations"}) {
    stmts.emplace_back(std::string("DELETE FROM ") + table +
                           " WHERE doc_uid = ?1 AND generation = ?2 AND generation IS NOT "
                           "(SELECT generation FROM documents WHERE uid = ?1)",
                       json::array({doc.uid, gen}));
  }
}

}  // namespace

Task<Status> release_build(Ctx& ctx, DocumentRecord doc, int64_t gen) {
  std::vector<Stmt> stmts;
  drop_generation_rows(doc, gen, stmts);
  stmts.emplace_back("UPDATE documents SET pending = NULL, " + std::string(kEndBuildSql) +
                         " WHERE uid = ?1 AND building = ?2",
                     json::array({doc.uid, gen}));
  Result<std::vector<BatchItem>> r = co_await d1_batch(ctx, std::move(stmts));
  if (!r.ok()) co_return r.take_error();
  co_return ok_status();
}

Task<Status> record_failure(Ctx& ctx, DocumentRecord doc, int64_t gen, ApiError error) {
  std::vector<Stmt> stmts;
  drop_generation_rows(doc, gen, stmts);
  if (!error.code.empty()) {
    stmts.emplace_back(
        "UPDATE documents SET " + std::string(kEndBuildSql) +
            ", error_code = ?3, error_message = ?4, updated_at = ?5 WHERE uid = ?1 AND "
            "building = ?2",
        json::array({doc.uid, gen, error.code, error.message, now_ms(ctx)}));
  }
  Result<std::vector<BatchItem>> r = co_await d1_batch(ctx, std::move(stmts));
  if (!r.ok()) co_return r.take_error();
  co_return ok_status();
}

}  // namespace ec
