// What one document and one user may make ingest store: the bounds that keep a hostile input (a
// flood of headings, a tiny chunkSize, document after document) from multiplying into D1 rows,
// embeddings and CPU time. Both are checked before the work they bound: the quota before anything
// is written, the chunk cap right after chunking, before any embedding or chunk row.
#pragma once

#include "core/context.hpp"
#include "core/error.hpp"
#include "core/task.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

namespace ec {

// MAX_CHUNKS_PER_DOCUMENT: chunks one generation of one document may have.
inline constexpr int64_t kDefaultMaxChunksPerDocument = 20000;
// STORAGE_QUOTA_BYTES: indexed text per user (1 GiB).
inline constexpr int64_t kDefaultStorageQuotaBytes = int64_t{1} << 30;

// 422 "documents.too_many_chunks" when `chunks` exceeds MAX_CHUNKS_PER_DOCUMENT.
Status check_chunk_cap(const Ctx& ctx, size_t chunks);

// The quota counts indexed text: the extracted text (`chars`) of each of the user's documents,
// plus the incoming source's bytes for the document being ingested (an upper bound on its text for
// text formats). A re-ingest replaces its document's text, so that document's own chars do not
// count. 413 "storage.quota_exceeded" when the sum exceeds STORAGE_QUOTA_BYTES.
Task<Status> check_storage_quota(Ctx& ctx, std::string user_id, std::string replaced_doc_id,
                                 int64_t incoming_bytes);

}  // namespace ec
