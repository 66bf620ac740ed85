#include "rag/ingest.hpp"

#include "auth/config.hpp"
#include "bindings/r2.hpp"
#include "bindings/vectorize.hpp"
#include "core/utf8.hpp"
#include "crypto/encoding.hpp"
#include "rag/embedder.hpp"
#include "rag/extract_document.hpp"
#include "rag/extract_text.hpp"
#include "rag/graph_extract.hpp"
#include "rag/lexical_embedder.hpp"
#include "rag/llm_text.hpp"
#include "rag/vector_index.hpp"

#include <algorithm>

namespace ec {

namespace {

constexpr size_t kChunkParams = 10;                             // columns per chunk row
constexpr size_t kRowsPerInsert = kD1MaxParams / kChunkParams;  // D1: ≤ 100 bound parameters
constexpr size_t kPreviewChars = 1000;

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

// A build that lost to a newer ingest or a delete: its rows and vectors are garbage.
Task<Status> discard_generation(Ctx& ctx, DocumentRecord doc, int64_t gen, int64_t upserted) {
  Status cleaned = co_await record_failure(ctx, doc, gen, ApiError{});
  if (!cleaned.ok()) co_return cleaned;
  if (upserted > 0) co_return co_await delete_vectors(ctx, doc.uid, gen, upserted);
  co_return ok_status();
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

Task<Status> build_generation(Ctx& ctx, DocumentRecord doc, int64_t gen,
                              std::optional<std::string> bytes) {
  // Claim: start from a clean slate for this generation (a retried job may have left rows).
  Result<std::vector<BatchItem>> claim = co_await d1_batch(
      ctx, {Stmt("DELETE FROM chunks WHERE doc_uid = ?1 AND generation = ?2", {doc.uid, gen}),
            Stmt("UPDATE documents SET chunks_done = 0, updated_at = ?3, "
                 "state = CASE WHEN generation > 0 THEN state ELSE 'processing' END "
                 "WHERE uid = ?1 AND building = ?2",
                 {doc.uid, gen, now_ms(ctx)})});
  if (!claim.ok()) co_return claim.take_error();
  if (claim.value()[1].changes == 0) co_return ok_status();  // superseded or deleted

  if (!bytes) {
    if (doc.r2_key.empty()) {
      co_return api_error(422, "documents.source_missing", "The document's file was deleted");
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
  Result<std::vector<Chunk>> chunked = chunk_text(text.value(), doc.chunking);
  if (!chunked.ok()) co_return chunked.take_error();
  const std::vector<Chunk>& chunks = chunked.value();
  if (chunks.empty()) {
    co_return api_error(422, "extract.no_text", "The document contains no indexable text");
  }
  const int64_t total = static_cast<int64_t>(chunks.size());
  const int64_t chars = static_cast<int64_t>(chunks.back().char_end);
  Result<RunMeta> started =
      co_await d1_run(ctx, Stmt("UPDATE documents SET chunks_total = ?3, updated_at = ?4 "
                                "WHERE uid = ?1 AND building = ?2",
                                {doc.uid, gen, total, now_ms(ctx)}));
  if (!started.ok()) co_return started.take_error();

  const EmbedderChoice embedder = choose_embedder(ctx);
  bool to_vectorize = use_vectorize(ctx);
  int64_t upserted = 0;  // vectors of this generation already in Vectorize
  for (size_t from = 0; from < chunks.size(); from += embedder.batch) {
    const size_t to = std::min(chunks.size(), from + embedder.batch);
    std::vector<std::string> texts;
    for (size_t i = from; i < to; ++i) texts.emplace_back(chunk_view(text.value(), chunks[i]));
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
    chunk_inserts(doc, gen, text.value(), chunks, from, to, to_vectorize ? nullptr : &vecs.value(),
                  batch);
    batch.emplace_back(
        "UPDATE documents SET chunks_done = ?3, updated_at = ?4 "
        "WHERE uid = ?1 AND building = ?2",
        json::array({doc.uid, gen, static_cast<int64_t>(to), now_ms(ctx)}));
    Result<std::vector<BatchItem>> wrote = co_await d1_batch(ctx, std::move(batch));
    if (!wrote.ok()) co_return wrote.take_error();
    if (wrote.value().back().changes == 0) {  // superseded or deleted meanwhile
      co_return co_await discard_generation(ctx, doc, gen, upserted);
    }
  }

  Graph graph = co_await extract_graph(ctx, text.value().text);

  // Commit: the new generation goes live, the old one and its graph go, in one transaction.
  std::vector<Stmt> commit;
  commit.emplace_back(
      "UPDATE documents SET generation = ?2, building = NULL, state = 'ready', chunk_count = ?3, "
      "chunks_done = ?3, chunks_total = ?3, format = ?4, chars = ?5, preview = ?6, "
      "embed_model = ?7, vector_store = ?8, error_code = NULL, error_message = NULL, "
      "ready_at = ?9, updated_at = ?9 WHERE uid = ?1 AND building = ?2",
      json::array({doc.uid, gen, total, text.value().format, chars,
                   text.value().text.substr(0, utf8_prefix_chars(text.value().text, kPreviewChars)),
                   embedder.model, to_vectorize ? "vectorize" : "local", now_ms(ctx)}));
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
  // The previous generation's vectors are unreachable now (search checks D1); remove them.
  if (doc.generation > 0 && doc.vector_store == "vectorize" && doc.chunk_count > 0) {
    Status gone = co_await delete_vectors(ctx, doc.uid, doc.generation, doc.chunk_count);
    (void)gone;  // stale vectors are filtered out by every query; a later delete retries
  }
  co_return ok_status();
}

Task<Status> record_failure(Ctx& ctx, DocumentRecord doc, int64_t gen, ApiError error) {
  std::vector<Stmt> stmts;
  stmts.emplace_back("DELETE FROM chunks WHERE doc_uid = ?1 AND generation = ?2",
                     json::array({doc.uid, gen}));
  for (const char* table : {"graph_entities", "graph_relations"}) {
    stmts.emplace_back(std::string("DELETE FROM ") + table +
                           " WHERE doc_uid = ?1 AND generation = ?2 AND generation != "
                           "(SELECT generation FROM documents WHERE uid = ?1)",
                       json::array({doc.uid, gen}));
  }
  if (!error.code.empty()) {
    stmts.emplace_back(
        "UPDATE documents SET building = NULL, chunks_done = 0, chunks_total = 0, "
        "state = CASE WHEN generation > 0 THEN 'ready' ELSE 'failed' END, error_code = ?3, "
        "error_message = ?4, updated_at = ?5 WHERE uid = ?1 AND building = ?2",
        json::array({doc.uid, gen, error.code, error.message, now_ms(ctx)}));
  }
  Result<std::vector<BatchItem>> r = co_await d1_batch(ctx, std::move(stmts));
  if (!r.ok()) co_return r.take_error();
  co_return ok_status();
}

Task<Status> run_ingest_job(Ctx& ctx, json job) {
  std::string uid = string_or(job, "uid", "");
  std::string user = string_or(job, "user", "");
  std::optional<int64_t> gen = get_int(job, "generation");
  if (uid.empty() || user.empty() || !gen) {
    co_return api_error(400, "jobs.malformed", "Malformed ingest job");
  }
  Result<json> row =
      co_await d1_first(ctx, Stmt("SELECT " + std::string(kDocumentColumns) +
                                      " FROM documents WHERE uid = ?1 AND user_id = ?2",
                                  {uid, user}));
  if (!row.ok()) co_return row.take_error();
  if (row.value().is_null()) co_return ok_status();  // deleted since: nothing to do
  DocumentRecord doc = document_from_row(row.value());
  if (doc.building != gen) co_return ok_status();  // superseded
  Status built = co_await build_generation(ctx, doc, *gen, std::nullopt);
  if (built.ok()) co_return built;
  // A transient failure (storage, AI) is retried by the queue, unless this was the last attempt:
  // then the document records the failure instead of staying "processing" forever.
  const int64_t attempt = get_int(job, "attempt").value_or(1);
  const bool last = string_or(job, "via", "queue") != "queue" ||
                    attempt >= env_int(ctx.env(), "JOB_MAX_ATTEMPTS", 4);
  if (built.error().status >= 500 && !last) co_return built;
  Status recorded = co_await record_failure(ctx, doc, *gen, built.error());
  if (!recorded.ok()) co_return recorded;
  co_return ok_status();
}

}  // namespace ec
