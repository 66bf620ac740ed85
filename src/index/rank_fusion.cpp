// Reciprocal rank fusion; see rank_fusion.hpp.
#include "index/rank_fusion.hpp"

#include <algorithm>
#include <string_view>
#include <unordered_map>

namespace ec {
namespace {

struct Hit {
  uint32_t id;    // index into the distinct ids
  uint32_t rank;  // 1-based
};

}  // namespace

std::vector<Fused> rrf(const std::vector<std::vector<std::string>>& ranked_ids, size_t k_constant,
                       size_t top_n) {
  // Views point into ranked_ids, which outlives this call. The map is only used for lookups, so
  // its (stdlib-dependent) iteration order never reaches the result.
  std::unordered_map<std::string_view, uint32_t> index;
  std::vector<std::string_view> ids;
  std::vector<size_t> last_list;  // per id: 1 + the last list it was seen in
  std::vector<Hit> hits;
  for (size_t l = 0; l < ranked_ids.size(); ++l) {
    const std::vector<std::string>& list = ranked_ids[l];
    for (size_t pos = 0; pos < list.size(); ++pos) {
      const auto [it, inserted] = index.try_emplace(list[pos], static_cast<uint32_t>(ids.size()));
      if (inserted) {
        ids.push_back(list[pos]);
        last_list.push_back(0);
      }
      if (last_list[it->second] == l + 1) continue;  // repeated within this list
      last_list[it->second] = l + 1;
      hits.push_back({it->second, static_cast<uint32_t>(pos + 1)});
    }
  }
  // Group by id with ranks ascending, so each id's terms are summed largest first in a fixed
  // order: equal rank multisets give equal doubles.
  std::sort(hits.begin(), hits.end(), [](const Hit& a, const Hit& b) {
    return a.id != b.id ? a.id < b.id : a.rank < b.rank;
  });
  std::vector<Fused> fused;
  fused.reserve(ids.size());
  for (size_t i = 0; i < hits.size();) {
    Fused f;
    f.id = std::string(ids[hits[i].id]);
    f.best_rank = hits[i].rank;
    size_t j = i;
    for (; j < hits.size() && hits[j].id == hits[i].id; ++j) {
      f.score += 1.0 / static_cast<double>(k_constant + hits[j].rank);
      ++f.lists;
    }
    fused.push_back(std::move(f));
    i = j;
  }
  const auto ahead = [](const Fused& a, const Fused& b) {
    if (a.score != b.score) return a.score > b.score;
    if (a.best_rank != b.best_rank) return a.best_rank < b.best_rank;
    return a.id < b.id;
  };
  const size_t n = std::min(top_n, fused.size());
  std::partial_sort(fused.begin(), fused.begin() + static_cast<std::ptrdiff_t>(n), fused.end(),
                    ahead);
  fused.resize(n);
  return fused;
}

}  // namespace ec
