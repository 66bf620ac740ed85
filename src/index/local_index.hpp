// The local vector store's in-memory side: a user's live int8 vectors, loaded from D1 once and
// reused until their vector_versions row changes (every commit or delete bumps it). Searching a
// cached index costs one tiny D1 read plus the SIMD scan (index/vector_index.hpp); without the
// cache every query would pull ~1 KB per chunk out of D1.
#pragma once

#include "core/context.hpp"
#include "core/error.hpp"
#include "core/task.hpp"

#include <memory>
#include <string>
#include <vector>

namespace ec {

struct LocalIndex {
  int64_t version = -1;
  std::string model;
  std::vector<int64_t> chunk_rows;   // chunks.id per row
  std::vector<uint32_t> doc_of_row;  // index into doc_uids
  std::vector<std::string> doc_uids;
  std::vector<int8_t> matrix;  // rows × kEmbeddingDims
  std::vector<float> scales;
  size_t rows() const { return chunk_rows.size(); }
  size_t bytes() const { return matrix.size() + scales.size() * 4 + chunk_rows.size() * 12; }
};

// The user's index for `model` (vectors of other models are not included).
Task<Result<std::shared_ptr<const LocalIndex>>> load_local_index(Ctx& ctx, std::string user_id,
                                                                 std::string model);

// Forgets every cached index (core_init: a new environment may mean another database).
void clear_local_index_cache();

// Total bytes the cache may hold across users (least recently used goes first).
inline constexpr size_t kLocalIndexCacheBytes = size_t{96} << 20;

}  // namespace ec
