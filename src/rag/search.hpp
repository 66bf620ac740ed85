// Retrieval over the caller's own documents: vector (local index or Vectorize), keyword (D1
// FTS5, bm25) or hybrid (both, fused by reciprocal rank fusion). Every path ends in one D1 query
// that re-reads the hits joined to their documents' live generation and owner, so a stale vector
// (Vectorize is eventually consistent), another user's row or a half-built generation can never
// come back.
#pragma once

#include "core/context.hpp"
#include "core/error.hpp"
#include "core/task.hpp"

#include <optional>
#include <string>
#include <vector>

namespace ec {

enum class SearchMode { kVector, kKeyword, kHybrid };

struct SearchRequest {
  std::string query;
  size_t top_k = 5;                 // 1..50
  std::optional<double> threshold;  // minimum vector similarity (vector and hybrid modes)
  SearchMode mode = SearchMode::kHybrid;
  std::vector<std::string> document_ids;               // restrict to these (public ids)
  std::vector<std::pair<std::string, json>> metadata;  // document metadata equality filter
};

inline constexpr size_t kMaxSearchTopK = 50;

// Validates a body {query, topK, threshold, mode, documentIds, metadata}; 400 with fields.
Result<SearchRequest> parse_search_request(const json& body);

struct SearchHit {
  int64_t chunk_row = 0;
  std::string document_id;
  std::string title;
  json metadata;
  int64_t chunk_index = 0;
  int64_t char_start = 0;
  int64_t char_end = 0;
  json heading_path;
  std::string text;
  std::string snippet;
  double score = 0;                     // the mode's score (similarity, bm25 or fused)
  std::optional<double> vector_score;   // cosine similarity, when the vector side found it
  std::optional<double> keyword_score;  // -bm25 (higher is better), when keywords found it
};

struct SearchResult {
  std::vector<SearchHit> hits;
  std::string embedding_model;     // empty for keyword-only
  std::vector<std::string> notes;  // e.g. "vector search unavailable: keyword results only"
};

Task<Result<SearchResult>> search_chunks(Ctx& ctx, std::string user_id, SearchRequest req);

json search_hit_json(const SearchHit& h);

}  // namespace ec
