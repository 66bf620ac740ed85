#include "rag/document_jobs.hpp"

#include "bindings/d1.hpp"
#include "http/validate.hpp"
#include "jobs/job_runner.hpp"
#include "jobs/job_types.hpp"
#include "rag/document_builds.hpp"
#include "rag/ingest.hpp"

#include <algorithm>

namespace ec {

namespace {

int64_t now_ms(const Ctx& ctx) { return static_cast<int64_t>(ctx.now_ms()); }

// The job's document, if it still exists (by internal uid and owner).
Task<Result<std::optional<DocumentRecord>>> job_document(Ctx& ctx, const JobRecord& job) {
  Result<json> row =
      co_await d1_first(ctx, Stmt("SELECT " + std::string(kDocumentColumns) +
                                      " FROM documents WHERE uid = ?1 AND user_id = ?2",
                                  {job.ref, job.user_id}));
  if (!row.ok()) co_return row.take_error();
  if (row.value().is_null()) co_return std::optional<DocumentRecord>();
  // As its build sees it: what the build will make live, over the live record.
  co_return std::optional<DocumentRecord>(as_built(document_from_row(row.value())));
}

bool builds_from_chunks(const JobRecord& job) {
  return job.type == "reindex" && string_or(job.payload, "source", "file") == "chunks";
}

}  // namespace

Task<Result<json>> run_document_job(Ctx& ctx, JobRecord job) {
  std::optional<int64_t> gen = get_int(job.payload, "generation");
  if (!gen || job.ref.empty() || job.user_id.empty()) {
    co_return api_error(Err::jobs_malformed, "The job does not name a document generation");
  }
  Result<std::optional<DocumentRecord>> found = co_await job_document(ctx, job);
  if (!found.ok()) co_return found.take_error();
  if (!found.value()) co_return json{{"skipped", "the document was deleted"}};
  DocumentRecord doc = std::move(*found.value());
  if (doc.building != gen) {
    co_return json{{"documentId", doc.id}, {"skipped", "a newer build replaced this one"}};
  }
  Status built =
      builds_from_chunks(job)
          ? co_await rebuild_from_chunks(
                ctx, doc, *gen, get_int(job.payload, "fromGeneration").value_or(0), ticket_of(job))
          : co_await build_generation(ctx, doc, *gen, std::nullopt, ticket_of(job));
  if (built.ok()) {
    Result<std::optional<DocumentRecord>> after = co_await job_document(ctx, job);
    if (!after.ok()) co_return after.take_error();
    if (!after.value() || after.value()->generation != *gen) {
      co_return json{{"documentId", doc.id}, {"skipped", "a newer build replaced this one"}};
    }
    co_return json{{"documentId", doc.id},
                   {"generation", *gen},
                   {"chunkCount", after.value()->chunk_count},
                   {"vectorStore", after.value()->vector_store},
                   {"embeddingModel", after.value()->embed_model}};
  }
  ApiError e = built.take_error();
  // A transient failure with attempts left keeps the document building for the retry; anything
  // else ends this generation, and the document says why. A lost lease is the newer attempt's.
  const bool final_failure = e.status < 500 || is_last_attempt(job);
  if (!e.is(Err::jobs_lease_lost) && final_failure) {
    Status recorded = co_await record_failure(ctx, doc, *gen, e);
    if (!recorded.ok()) co_return recorded.take_error();
  }
  co_return e;
}

Task<Status> abandon_document_job(Ctx& ctx, JobRecord job, ApiError why) {
  std::optional<int64_t> gen = get_int(job.payload, "generation");
  if (!gen || job.ref.empty()) co_return ok_status();
  Result<std::optional<DocumentRecord>> found = co_await job_document(ctx, job);
  if (!found.ok()) co_return found.take_error();
  if (!found.value() || found.value()->building != gen) co_return ok_status();
  co_return co_await record_failure(ctx, std::move(*found.value()), *gen, std::move(why));
}

Task<Status> rearm_document_job(Ctx& ctx, JobRecord job) {
  std::optional<int64_t> gen = get_int(job.payload, "generation");
  if (!gen || job.ref.empty()) {
    co_return api_error(Err::jobs_not_retryable, "The job does not name a document generation");
  }
  std::string sql =
      "UPDATE documents SET building = ?3, chunks_done = 0, chunks_total = 0, error_code = NULL, "
      "error_message = NULL, job_id = ?4, updated_at = ?5, "
      "state = CASE WHEN generation > 0 THEN 'ready' ELSE 'queued' END "
      "WHERE uid = ?1 AND user_id = ?2 AND generation < ?3 AND last_generation = ?3 AND "
      "(building IS NULL OR (building = ?3 AND job_id = ?4))";
  json params = json::array({job.ref, job.user_id, *gen, job.id, now_ms(ctx)});
  if (builds_from_chunks(job)) {
    // Only the generation whose chunks it copies will do.
    sql += " AND generation = ?6";
    params.push_back(get_int(job.payload, "fromGeneration").value_or(-1));
  }
  Result<RunMeta> r = co_await d1_run(ctx, Stmt(sql, std::move(params)));
  if (!r.ok()) co_return r.take_error();
  if (r.value().changes == 0) {
    co_return api_error(Err::jobs_not_retryable,
                        "The document has changed since this job ran; start a new job");
  }
  co_return ok_status();
}

Result<ReindexRequest> parse_reindex_request(const json& payload) {
  static const Schema kReindex = {
      field("documentId").string().required().length(1, 128),
      field("chunkSize").integer().min(1).max(static_cast<int64_t>(kMaxChunkChars)),
      field("chunkOverlap").integer().min(0).max(static_cast<int64_t>(kMaxChunkChars)),
      field("userId").string().length(1, 64),  // admin only; checked by the route
  };
  Status valid = validate(payload, kReindex, false);
  if (!valid.ok()) return valid.take_error();
  ReindexRequest r;
  r.document_id = string_or(payload, "documentId", "");
  r.chunk_size = get_int(payload, "chunkSize");
  r.chunk_overlap = get_int(payload, "chunkOverlap");
  return r;
}

Task<Result<ReindexStarted>> start_reindex(Ctx& ctx, std::string user_id, ReindexRequest req) {
  Result<DocumentRecord> found = co_await find_document(ctx, user_id, req.document_id);
  if (!found.ok()) co_return found.take_error();
  DocumentRecord doc = std::move(found.value());
  const bool from_source = !doc.r2_key.empty();
  if (!from_source && doc.generation == 0) {
    co_return api_error(Err::documents_source_missing,
                        "This document has neither a stored source nor chunks to rebuild from");
  }
  ChunkOptions chunking = doc.chunking;
  if (req.chunk_size || req.chunk_overlap) {
    if (!from_source) {
      co_return field_error(req.chunk_size ? "chunkSize" : "chunkOverlap",
                            "this document's source was not kept: it can only be re-embedded "
                            "with its current chunks");
    }
    if (req.chunk_size) chunking.max_chars = static_cast<size_t>(*req.chunk_size);
    if (req.chunk_overlap) chunking.overlap = static_cast<size_t>(*req.chunk_overlap);
    Status ok = validate_chunk_options(chunking);
    if (!ok.ok()) co_return ok.take_error();
  }
  // Claim the document first: a concurrent ingest or reindex of it makes this one a 409.
  const std::string job_id = co_await new_job_id(ctx);
  ClaimRequest claim;
  claim.uid = doc.uid;
  claim.spec = spec_of(doc);
  claim.spec.chunking = chunking;
  claim.job_id = job_id;
  claim.require_generation = doc.generation;
  Result<std::optional<int64_t>> claimed = co_await claim_next_generation(ctx, std::move(claim));
  if (!claimed.ok()) co_return claimed.take_error();
  if (!claimed.value()) co_return document_busy_error();
  const int64_t gen = *claimed.value();
  NewJob job;
  job.type = "reindex";
  job.user_id = user_id;
  job.payload = {{"documentId", doc.id},
                 {"generation", gen},
                 {"source", from_source ? "file" : "chunks"},
                 {"fromGeneration", doc.generation}};
  job.ref = doc.uid;
  job.max_attempts = req.max_attempts;
  job.delay_s = req.delay_s;
  Result<RunMeta> inserted = co_await d1_run(ctx, insert_job_stmt(ctx, job_id, job));
  if (!inserted.ok()) {
    Status released = co_await release_build(ctx, doc, gen);
    (void)released;
    co_return inserted.take_error();
  }
  Status sent = co_await deliver_job(ctx, job_id, job.delay_s);
  (void)sent;  // recorded: the sweeper delivers it
  Result<DocumentRecord> fresh = co_await find_document(ctx, user_id, doc.id);
  if (!fresh.ok()) co_return fresh.take_error();
  Result<JobRecord> made = co_await find_job(ctx, job_id, std::nullopt);
  if (!made.ok()) co_return made.take_error();
  co_return ReindexStarted{std::move(fresh.value()), std::move(made.value())};
}

bool add_document_job_types() {
  return add_job_type({"ingest", run_document_job, abandon_document_job, rearm_document_job}) &&
         add_job_type({"reindex", run_document_job, abandon_document_job, rearm_document_job});
}

}  // namespace ec
