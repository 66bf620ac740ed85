#include "index/local_index.hpp"

#include "bindings/d1.hpp"
#include "crypto/encoding.hpp"
#include "index/lexical_embedder.hpp"
#include "index/vector_index.hpp"

#include <algorithm>
#include <cstring>
#include <list>

namespace ec {

namespace {

constexpr int64_t kPageRows = 2000;

struct CacheEntry {
  std::string user_id;
  std::shared_ptr<const LocalIndex> index;
};

// Most recently used first. One Wasm instance serves one isolate; nothing here is shared wider.
std::list<CacheEntry>& cache() {
  static std::list<CacheEntry> entries;
  return entries;
}

std::shared_ptr<const LocalIndex> cached(const std::string& user, const std::string& model,
                                         int64_t version) {
  auto& c = cache();
  for (auto it = c.begin(); it != c.end(); ++it) {
    if (it->user_id == user && it->index->model == model && it->index->version == version) {
      c.splice(c.begin(), c, it);
      return c.front().index;
    }
  }
  return nullptr;
}

void remember(const std::string& user, std::shared_ptr<const LocalIndex> index) {
  auto& c = cache();
  c.remove_if([&](const CacheEntry& e) { return e.user_id == user; });
  if (index->bytes() > kLocalIndexCacheBytes) return;
  c.push_front({user, std::move(index)});
  size_t total = 0;
  for (auto it = c.begin(); it != c.end();) {
    total += it->index->bytes();
    it = total > kLocalIndexCacheBytes ? c.erase(it) : std::next(it);
  }
}

}  // namespace

void clear_local_index_cache() { cache().clear(); }

Task<Result<std::shared_ptr<const LocalIndex>>> load_local_index(Ctx& ctx, std::string user_id,
                                                                 std::string model) {
  Result<json> v = co_await d1_first(
      ctx, Stmt("SELECT version FROM vector_versions WHERE user_id = ?1", {user_id}));
  if (!v.ok()) co_return v.take_error();
  const int64_t version = v.value().is_null() ? 0 : get_int(v.value(), "version").value_or(0);
  if (auto hit = cached(user_id, model, version)) co_return hit;

  auto index = std::make_shared<LocalIndex>();
  index->version = version;
  index->model = model;
  int64_t after = 0;
  for (;;) {
    Result<std::vector<json>> rows = co_await d1_all(
        ctx, Stmt("SELECT c.id, c.doc_uid, c.vector FROM chunks c JOIN documents d "
                  "ON d.uid = c.doc_uid AND d.generation = c.generation "
                  "WHERE c.user_id = ?1 AND d.vector_store = 'local' AND d.embed_model = ?2 "
                  "AND c.vector IS NOT NULL AND c.id > ?3 ORDER BY c.id LIMIT ?4",
                  {user_id, model, after, kPageRows}));
    if (!rows.ok()) co_return rows.take_error();
    std::vector<int8_t> codes;
    for (const json& row : rows.value()) {
      after = get_int(row, "id").value_or(after);
      std::optional<std::string> blob = base64url_decode(string_or(row, "vector", ""));
      float scale = 0;
      if (!blob || !decode_i8_blob(*blob, codes, scale, kEmbeddingDims)) continue;  // corrupt row
      std::string uid = string_or(row, "doc_uid", "");
      if (index->doc_uids.empty() || index->doc_uids.back() != uid) {
        auto found = std::find(index->doc_uids.begin(), index->doc_uids.end(), uid);
        if (found == index->doc_uids.end()) {
          index->doc_uids.push_back(uid);
          found = index->doc_uids.end() - 1;
        }
        index->doc_of_row.push_back(static_cast<uint32_t>(found - index->doc_uids.begin()));
      } else {
        index->doc_of_row.push_back(static_cast<uint32_t>(index->doc_uids.size() - 1));
      }
      index->chunk_rows.push_back(after);
      index->scales.push_back(scale);
      index->matrix.insert(index->matrix.end(), codes.begin(), codes.end());
    }
    if (static_cast<int64_t>(rows.value().size()) < kPageRows) break;
  }
  std::shared_ptr<const LocalIndex> out = std::move(index);
  remember(user_id, out);
  co_return out;
}

}  // namespace ec
