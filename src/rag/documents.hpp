// Documents: the unit a user ingests and searches. A document row in D1 owns its chunks, vectors
// and graph; its public id is the client's docId or a server-made one, unique per user.
//
// Ingest builds a new *generation* of chunks beside the live one and switches to it in one D1
// transaction (rag/ingest.hpp), so search never sees half a document: not while a first ingest
// runs, not during a re-ingest (the old generation stays live), not after a failure.
#pragma once

#include "auth/users.hpp"
#include "core/context.hpp"
#include "core/error.hpp"
#include "core/task.hpp"
#include "core/time.hpp"
#include "text/chunker.hpp"

#include <optional>
#include <string>
#include <vector>

namespace ec {

struct DocumentRecord {
  std::string uid;
  std::string id;
  std::string user_id;
  std::string title;
  json metadata = json::object();
  std::string source;  // content | file
  std::string file_id;
  std::string r2_key;
  std::string content_type;
  std::string format;
  int64_t chars = 0;
  std::string preview;
  std::string state;  // queued | processing | ready | failed
  int64_t generation = 0;
  std::optional<int64_t> building;
  int64_t chunk_count = 0;
  int64_t chunks_done = 0;
  int64_t chunks_total = 0;
  ChunkOptions chunking;
  std::string embed_model;
  std::string vector_store;
  std::string error_code;
  std::string error_message;
  int64_t created_ms = 0;
  int64_t updated_ms = 0;
  int64_t ready_ms = 0;
  std::string job_id;  // the job building `building` (empty for an inline build)
  json pending;        // what the build in progress will make live (rag/document_builds.hpp)
};

inline constexpr std::string_view kDocumentColumns =
    "uid, id, user_id, title, metadata, source, file_id, r2_key, content_type, format, chars, "
    "preview, state, generation, building, chunk_count, chunks_done, chunks_total, chunk_size, "
    "chunk_overlap, embed_model, vector_store, error_code, error_message, created_at, updated_at, "
    "ready_at, job_id, pending";

DocumentRecord document_from_row(const json& row);
// Canonical JSON: id, title, metadata, state, source, counts, model, progress ("job": the job's
// id, chunk counts and progress) while a generation is being built, and the last error. Times are
// ISO 8601 unless a seed route asks for its own format.
json document_json(const DocumentRecord& d, TimeFormat times = TimeFormat::kIso8601);

struct IngestRequest {
  std::string title;
  std::optional<std::string> content;
  std::optional<std::string> file_id;
  json metadata = json::object();
  std::optional<std::string> doc_id;
  std::string content_type = "text/markdown";  // of `content`; Markdown keeps plain text as is
  ChunkOptions chunking;
  bool queue = false;  // build as a job whatever the size (POST /api/v1/jobs {type: "ingest"})
  int64_t job_max_attempts = 0;  // 0: JOB_MAX_ATTEMPTS
  int64_t job_delay_s = 0;
};

// Validates a request body ({title, content | fileId, metadata, docId, chunkSize, chunkOverlap,
// contentType}) into an IngestRequest; 400 with per-field messages otherwise.
Result<IngestRequest> parse_ingest_request(const json& body);

struct IngestStarted {
  DocumentRecord doc;
  bool finished = false;  // small input: built inline (201); else queued as a job (202)
};
// Small inputs are built inside the request; larger ones (INGEST_INLINE_BYTES) and req.queue
// become an "ingest" job (jobs/), whose id the document's JSON carries.
Task<Result<IngestStarted>> start_ingest(Ctx& ctx, User user, IngestRequest req);

Task<Result<DocumentRecord>> find_document(Ctx& ctx, std::string user_id, std::string id);

struct DocumentQuery {
  size_t limit = 20;
  std::string cursor;  // opaque: from the previous page's nextCursor
  std::string title;   // substring, case-insensitive
  std::vector<std::pair<std::string, json>> metadata;  // key = value (exact)
};
struct DocumentPage {
  std::vector<DocumentRecord> items;
  std::string next_cursor;  // empty on the last page
};
Task<Result<DocumentPage>> list_documents(Ctx& ctx, std::string user_id, DocumentQuery q);

// Removes the row (and with it chunks, keyword index entries and graph), the source object in R2
// (and its file record) and the vectors in Vectorize. The vectors get a tombstone in the same D1
// transaction as the row, removed once Vectorize confirms, so a failed delete is retried by
// cleanup; an R2 object left behind is found by cleanup's orphan scan. Neither fails the delete.
// 404 "documents.not_found" when a concurrent delete removed it first (that one answers 204).
Task<Status> delete_document(Ctx& ctx, DocumentRecord d);

// SQL fragment + params for metadata filters on documents aliased `d`: "json_extract(d.metadata,
// '$.\"k\"') = ?N" per pair, numbered from first_param. Keys are limited to [A-Za-z0-9_.-].
Result<std::string> metadata_filter_sql(const std::vector<std::pair<std::string, json>>& filter,
                                        size_t first_param, json& params);
Result<std::vector<std::pair<std::string, json>>> parse_metadata_filter(const json& obj);

}  // namespace ec
