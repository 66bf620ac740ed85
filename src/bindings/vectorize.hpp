// Vectorize (binding VECTOR_INDEX) as typed calls. Every vector is written with the owner's id as
// its namespace, and queries always name it, so one user's query can never match another's
// vectors whatever the metadata says. Mutations are asynchronous on the platform (visible seconds
// later): readers re-check every match against D1.
#pragma once

#include "core/context.hpp"
#include "core/error.hpp"
#include "core/task.hpp"

#include <string>
#include <vector>

namespace ec {

// Platform limits (developers.cloudflare.com/vectorize/platform/limits).
inline constexpr size_t kVectorizeUpsertBatch = 1000;
inline constexpr size_t kVectorizeMaxTopK = 100;  // without values or metadata in the reply

struct VectorRecord {
  std::string id;  // ≤ 64 bytes
  const float* values = nullptr;
  size_t dims = 0;
  std::string ns;  // the owner's user id
  json metadata = json::object();
};

struct VectorMatch {
  std::string id;
  float score = 0;
};

Task<Status> vectorize_upsert(Ctx& ctx, const std::vector<VectorRecord>& records);
Task<Result<std::vector<VectorMatch>>> vectorize_query(Ctx& ctx, std::vector<float> query,
                                                       size_t top_k, std::string ns);
Task<Status> vectorize_delete(Ctx& ctx, std::vector<std::string> ids);

}  // namespace ec
