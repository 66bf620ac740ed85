// The ingest pipeline for one generation of one document:
//   source bytes (inline or R2) → extract → chunk → embed in batches → chunks + vectors
//   (D1 keyword index; local vectors in D1 or Vectorize) with progress → knowledge graph →
//   one D1 transaction that makes the generation live and drops the previous one.
// Every step is idempotent for (document, generation), so a queue retry simply starts over.
#pragma once

#include "bindings/d1.hpp"
#include "core/context.hpp"
#include "core/error.hpp"
#include "core/task.hpp"
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
// is not an error: the work is dropped and cleaned up.
Task<Status> build_generation(Ctx& ctx, DocumentRecord doc, int64_t gen,
                              std::optional<std::string> bytes);

// Records a failed build: drops the generation's chunks and clears `building`; the document
// stays 'ready' on its previous generation, or becomes 'failed' when it has none.
Task<Status> record_failure(Ctx& ctx, DocumentRecord doc, int64_t gen, ApiError error);

// The queue job {"kind":"ingest","user","uid","generation"} plus the shim's {"attempt","via"}.
// Returns a 5xx to have the queue retry; on the last attempt (JOB_MAX_ATTEMPTS, default 4 = 1 +
// max_retries in wrangler.toml; a waitUntil run has only one) the failure is recorded instead.
Task<Status> run_ingest_job(Ctx& ctx, json job);

}  // namespace ec
