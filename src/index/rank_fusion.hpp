// Reciprocal rank fusion (Cormack, Clarke & Büttcher, SIGIR 2009): merges ranked lists from
// retrievers whose scores are not comparable (vector similarity, keyword match) using ranks only.
// An id's fused score is the sum over the lists containing it of 1 / (k_constant + rank), with
// rank starting at 1; k_constant = 60 is the paper's value, damping the weight of the very top.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace ec {

struct Fused {
  std::string id;
  double score = 0;        // sum of 1 / (k_constant + rank)
  uint32_t best_rank = 0;  // best (smallest) 1-based rank in any list
  uint32_t lists = 0;      // number of lists the id appears in
};

// The top_n ids by fused score, descending. Exact ties go to the better best_rank, then to the
// smaller id (bytewise), so the result never depends on hash-table order. Within one list only
// an id's first occurrence counts. Contributions are summed from largest to smallest so ids with
// the same ranks get bit-identical scores whatever the order of the lists.
std::vector<Fused> rrf(const std::vector<std::vector<std::string>>& ranked_ids,
                       size_t k_constant = 60, size_t top_n = 10);

}  // namespace ec
