// The ingest pipeline for one generation of one document:
//   source bytes (inline or R2) → extract → chunk → embed in batches → chunks + vectors
//   (D1 keyword index; local vectors in D1 or Vectorize) with progress → knowledge graph →
//   one D1 transaction that makes the generation live and drops the previous one.
// Every step is idempotent for (document, generation), so a retried job simply starts over. Run as
// a job (rag/document_jobs.hpp), a build records its progress with each batch of chunks and stops
// at the next batch when the job is cancelled.
#pragma once

#include "bindings/d1.hpp"
#include "core/context.hpp"
#include "core/error.hpp"
#include "core/task.hpp"
#include "jobs/job_runner.hpp"
#include "rag/documents.hpp"

#include <optional>
#include <string>

namespace ec {

// "{uid}:{generation}:{idx}": the id of a chunk's vector in either store (≤ 64 bytes).
std::string vector_id(std::string_view uid, int64_t generation, int64_t idx);

// Statement bumping the user's vector_versions row (invalidates cached local indexes).
Stmt bump_vector_version(const std::string& user_id);

// Builds generation `gen` of doc (doc.building must be gen). bytes: the source when the caller
// has it (inline ingest); otherwise it is read from doc.r2_key. A superseded or deleted document
// is not an error: the work is dropped and cleaned up. ticket: the job running the build, whose
// progress it records and whose cancel request it obeys (409 "jobs.cancelled", with this
// generation's rows and vectors dropped).
Task<Status> build_generation(Ctx& ctx, DocumentRecord doc, int64_t gen,
                              std::optional<std::string> bytes,
                              std::optional<JobTicket> ticket = std::nullopt);

// Builds generation `gen` from the chunks of generation `from` — the same boundaries, text and
// headings, re-embedded with today's embedder into today's vector store. A reindex of a document
// whose source was not kept (small inline content) uses this.
Task<Status> rebuild_from_chunks(Ctx& ctx, DocumentRecord doc, int64_t gen, int64_t from,
                                 std::optional<JobTicket> ticket);

// Ends an inline build whose client was told it failed: drops the generation's rows and clears
// `building`, recording nothing, so the document is as it was before the request.
Task<Status> release_build(Ctx& ctx, DocumentRecord doc, int64_t gen);

// Records a failed build: drops the generation's chunks and clears `building`; the document
// stays 'ready' on its previous generation, or becomes 'failed' when it has none. An empty
// error.code only drops the rows.
Task<Status> record_failure(Ctx& ctx, DocumentRecord doc, int64_t gen, ApiError error);

// Vectorize ids "{uid}:{gen}:{0..count-1}": deletes them, and when Vectorize refuses records a
// tombstone (vector_tombstones) that cleanup retries. Returns the delete's status.
Task<Status> delete_vectors(Ctx& ctx, std::string uid, int64_t gen, int64_t count);
Task<Status> delete_vectors_or_tombstone(Ctx& ctx, std::string uid, std::string user_id,
                                         int64_t gen, int64_t count);
Stmt vector_tombstone_stmt(const Ctx& ctx, const std::string& uid, const std::string& user_id,
                           int64_t gen, int64_t count);

}  // namespace ec
