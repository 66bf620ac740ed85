// Document builds as jobs (jobs/job_types.hpp; add_document_job_types registers them):
//   ingest   a queued ingest (documents.hpp start_ingest): builds the generation it queued
//   reindex  a new generation of a ready document: from its source in R2 when it was kept (files,
//            large content), else from its stored chunks, re-embedded with today's embedder into
//            today's vector store (chunking unchanged)
// payload {documentId, generation, source?: "file" | "chunks", fromGeneration?}; the job's `ref` is
// the document's internal uid, so a document deleted and re-created under the same id is never
// built by the old job.
#pragma once

#include "core/context.hpp"
#include "core/error.hpp"
#include "core/task.hpp"
#include "jobs/job_store.hpp"
#include "rag/documents.hpp"

#include <optional>
#include <string>

namespace ec {

// One attempt. A transient failure (5xx) before the last attempt leaves the document building,
// for the retry; any other failure is recorded on the document (its `error`).
Task<Result<json>> run_document_job(Ctx& ctx, JobRecord job);
// Clears the document's `building` if it is still this job's generation, recording `why`.
Task<Status> abandon_document_job(Ctx& ctx, JobRecord job, ApiError why);
// Points the document at this job's generation again; 409 "jobs.not_retryable" when the document
// has a newer generation or another build since.
Task<Status> rearm_document_job(Ctx& ctx, JobRecord job);
// Adds "ingest" and "reindex" to the engine's job types (app_init, at start-up).
bool add_document_job_types();

struct ReindexRequest {
  std::string document_id;
  std::optional<int64_t> chunk_size;  // only for a document whose source was kept
  std::optional<int64_t> chunk_overlap;
  int64_t max_attempts = 0;
  int64_t delay_s = 0;
};
// payload {documentId, chunkSize?, chunkOverlap?}; 400 with field errors otherwise.
Result<ReindexRequest> parse_reindex_request(const json& payload);

struct ReindexStarted {
  DocumentRecord doc;
  JobRecord job;
};
// 404 "documents.not_found" for a document the user does not have; 409 "documents.busy" while
// another build of it runs, "documents.source_missing" when there is nothing to rebuild from.
Task<Result<ReindexStarted>> start_reindex(Ctx& ctx, std::string user_id, ReindexRequest req);

}  // namespace ec
