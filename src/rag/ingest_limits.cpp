#include "rag/ingest_limits.hpp"

#include "bindings/d1.hpp"
#include "core/env.hpp"

namespace ec {

Status check_chunk_cap(const Ctx& ctx, size_t chunks) {
  const int64_t cap = env_int(ctx.env(), "MAX_CHUNKS_PER_DOCUMENT", kDefaultMaxChunksPerDocument);
  if (static_cast<int64_t>(chunks) <= cap) return ok_status();
  return api_error(Err::documents_too_many_chunks,
                   "The document makes " + std::to_string(chunks) + " chunks; at most " +
                       std::to_string(cap) + " are allowed (use a larger chunkSize or split it)");
}

Task<Status> check_storage_quota(Ctx& ctx, std::string user_id, std::string replaced_doc_id,
                                 int64_t incoming_bytes) {
  const int64_t quota = env_int(ctx.env(), "STORAGE_QUOTA_BYTES", kDefaultStorageQuotaBytes);
  // Refused without a query when the input alone is over: the cheapest answer to the worst case.
  int64_t used = 0;
  if (incoming_bytes <= quota) {
    Result<json> row =
        co_await d1_first(ctx, Stmt("SELECT COALESCE(SUM(chars), 0) AS used FROM documents "
                                    "WHERE user_id = ?1 AND id != ?2",
                                    {user_id, replaced_doc_id}));
    if (!row.ok()) co_return row.take_error();
    used = get_int(row.value(), "used").value_or(0);
  }
  if (used + incoming_bytes <= quota) co_return ok_status();
  co_return api_error(Err::storage_quota_exceeded,
                      "This would store " + std::to_string(used + incoming_bytes) +
                          " bytes of indexed text; your quota is " + std::to_string(quota));
}

}  // namespace ec
