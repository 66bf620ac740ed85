#include "rag/search.hpp"

#include "bindings/d1.hpp"
#include "bindings/vectorize.hpp"
#include "core/ascii.hpp"
#include "http/validate.hpp"
#include "index/embedder.hpp"
#include "index/fts_query.hpp"
#include "index/lexical_embedder.hpp"
#include "index/local_index.hpp"
#include "index/rank_fusion.hpp"
#include "index/vector_index.hpp"
#include "rag/documents.hpp"

#include <algorithm>
#include <charconv>
#include <map>

namespace ec {

namespace {

constexpr size_t kMaxQueryBytes = 2000;
constexpr size_t kSnippetBytes = 240;

// Candidates each retriever contributes: enough for fusion to reorder, within Vectorize's topK.
size_t candidates(size_t top_k) { return std::min<size_t>(std::max<size_t>(top_k * 2, 20), 100); }

bool is_cont(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// A window of the chunk around the first query word it contains (ASCII case-insensitive), cut on
// code-point boundaries, with ellipses where text was dropped.
std::string make_snippet(const std::string& text, const std::vector<std::string>& words) {
  if (text.size() <= kSnippetBytes) return text;
  std::string lower = ascii_lower(text);
  size_t hit = std::string::npos;
  for (const std::string& w : words) {
    if (w.size() < 2) continue;
    size_t p = lower.find(w);
    if (p < hit) hit = p;
  }
  size_t start = hit == std::string::npos || hit < 60 ? 0 : hit - 60;
  while (start > 0 && is_cont(text[start])) --start;
  size_t end = std::min(text.size(), start + kSnippetBytes);
  while (end < text.size() && is_cont(text[end])) --end;
  std::string out = start > 0 ? "…" : "";
  out.append(text, start, end - start);
  if (end < text.size()) out += "…";
  return out;
}

struct Filters {
  std::string sql;  // " AND ..." over documents d
  json params = json::array();
};

// documentIds and metadata as SQL, numbered from `first`.
Result<Filters> filter_sql(const SearchRequest& req, size_t first) {
  Filters f;
  size_t n = first;
  if (!req.document_ids.empty()) {
    f.sql += " AND d.id IN (";
    for (size_t i = 0; i < req.document_ids.size(); ++i) {
      f.sql += (i ? ", ?" : "?") + std::to_string(n++);
      f.params.push_back(req.document_ids[i]);
    }
    f.sql += ")";
  }
  Result<std::string> meta = metadata_filter_sql(req.metadata, n, f.params);
  if (!meta.ok()) return meta.take_error();
  f.sql += meta.value();
  return f;
}

bool has_filters(const SearchRequest& req) {
  return !req.document_ids.empty() || !req.metadata.empty();
}

struct Ranked {
  std::vector<std::pair<std::string, double>> items;  // (key, score), best first
};

// Local index: the user's allowed documents (when filtered) as a row mask, then top-k.
Task<Result<Ranked>> local_vector_search(Ctx& ctx, const std::string& user,
                                         const SearchRequest& req, const EmbedderChoice& emb,
                                         const std::vector<float>& qv) {
  Result<std::shared_ptr<const LocalIndex>> loaded =
      co_await load_local_index(ctx, user, emb.model);
  if (!loaded.ok()) co_return loaded.take_error();
  const LocalIndex& index = *loaded.value();
  Ranked out;
  if (index.rows() == 0) co_return out;
  std::vector<uint8_t> mask;
  if (has_filters(req)) {
    Result<Filters> f = filter_sql(req, 2);
    if (!f.ok()) co_return f.take_error();
    json params = json::array({user});
    for (json& p : f.value().params) params.push_back(std::move(p));
    Result<std::vector<json>> docs = co_await d1_all(
        ctx, Stmt("SELECT d.uid FROM documents d WHERE d.user_id = ?1" + f.value().sql, params));
    if (!docs.ok()) co_return docs.take_error();
    std::vector<uint8_t> allowed_doc(index.doc_uids.size(), 0);
    for (const json& row : docs.value()) {
      std::string uid = string_or(row, "uid", "");
      for (size_t i = 0; i < index.doc_uids.size(); ++i) {
        if (index.doc_uids[i] == uid) allowed_doc[i] = 1;
      }
    }
    mask.resize(index.rows());
    for (size_t r = 0; r < index.rows(); ++r) mask[r] = allowed_doc[index.doc_of_row[r]];
  }
  int8_t q[kEmbeddingDims];
  float qscale = 0;
  quantize_int8(qv.data(), kEmbeddingDims, q, &qscale);
  std::vector<Scored> top;
  top_k_int8(index.matrix.data(), index.scales.data(), index.rows(), kEmbeddingDims, q, qscale,
             candidates(req.top_k), top, mask.empty() ? nullptr : mask.data());
  for (const Scored& s : top) {
    out.items.emplace_back("r" + std::to_string(index.chunk_rows[s.row]), s.score);
  }
  co_return out;
}

Task<Result<Ranked>> vectorize_search(Ctx& ctx, const std::string& user, const SearchRequest& req,
                                      std::vector<float> qv) {
  Result<std::vector<VectorMatch>> m =
      co_await vectorize_query(ctx, std::move(qv), candidates(req.top_k), user);
  if (!m.ok()) co_return m.take_error();
  Ranked out;
  for (const VectorMatch& v : m.value()) out.items.emplace_back("v" + v.id, v.score);
  co_return out;
}

Task<Result<Ranked>> keyword_search(Ctx& ctx, const std::string& user, const SearchRequest& req) {
  Ranked out;
  std::string match = fts5_match_query(req.query);
  if (match.empty()) co_return out;
  Result<Filters> f = filter_sql(req, 4);
  if (!f.ok()) co_return f.take_error();
  json params = json::array({match, user, static_cast<int64_t>(candidates(req.top_k))});
  for (json& p : f.value().params) params.push_back(std::move(p));
  Result<std::vector<json>> rows = co_await d1_all(
      ctx, Stmt("SELECT c.id, bm25(chunks_fts) AS rank FROM chunks_fts "
                "JOIN chunks c ON c.id = chunks_fts.rowid "
                "JOIN documents d ON d.uid = c.doc_uid AND d.generation = c.generation "
                "WHERE chunks_fts MATCH ?1 AND c.user_id = ?2" +
                    f.value().sql + " ORDER BY rank LIMIT ?3",
                params));
  if (!rows.ok()) co_return rows.take_error();
  for (const json& row : rows.value()) {
    out.items.emplace_back("r" + std::to_string(get_int(row, "id").value_or(0)),
                           -get_number(row, "rank").value_or(0));
  }
  co_return out;
}

// Re-reads the hits by chunk row ("r…") or vector id ("v…") through the owner and live-generation
// join, applying the filters once more (Vectorize knows nothing of them).
Task<Result<std::map<std::string, SearchHit>>> hydrate(Ctx& ctx, const std::string& user,
                                                       const SearchRequest& req,
                                                       std::vector<std::string> keys) {
  std::map<std::string, SearchHit> out;
  for (char kind : {'r', 'v'}) {
    std::vector<std::string> ids;
    for (const std::string& k : keys) {
      if (!k.empty() && k[0] == kind) ids.push_back(k.substr(1));
    }
    // D1 binds at most 100 parameters: the owner, the filters, and as many ids as fit.
    const size_t per_query = kD1MaxParams - 1 - req.document_ids.size() - req.metadata.size();
    for (size_t start = 0; start < ids.size(); start += per_query) {
      size_t end = std::min(ids.size(), start + per_query);
      json params = json::array({user});
      std::string in;
      for (size_t i = start; i < end; ++i) {
        in += (i > start ? ", ?" : "?") + std::to_string(params.size() + 1);
        if (kind == 'r') {
          int64_t row = 0;
          std::from_chars(ids[i].data(), ids[i].data() + ids[i].size(), row);
          params.push_back(row);
        } else {
          params.push_back(ids[i]);
        }
      }
      Result<Filters> f = filter_sql(req, params.size() + 1);
      if (!f.ok()) co_return f.take_error();
      for (json& p : f.value().params) params.push_back(std::move(p));
      Result<std::vector<json>> rows = co_await d1_all(
          ctx, Stmt(std::string("SELECT c.id, c.vid, c.idx, c.text, c.char_start, c.char_end, "
                                "c.heading_path, d.id AS doc_id, d.title, d.metadata "
                                "FROM chunks c JOIN documents d ON d.uid = c.doc_uid "
                                "AND d.generation = c.generation WHERE c.user_id = ?1 AND ") +
                        (kind == 'r' ? "c.id" : "c.vid") + " IN (" + in + ")" + f.value().sql,
                    params));
      if (!rows.ok()) co_return rows.take_error();
      for (const json& row : rows.value()) {
        SearchHit h;
        h.chunk_row = get_int(row, "id").value_or(0);
        h.document_id = string_or(row, "doc_id", "");
        h.title = string_or(row, "title", "");
        h.metadata = parse_json(string_or(row, "metadata", "{}")).value_or(json::object());
        h.chunk_index = get_int(row, "idx").value_or(0);
        h.char_start = get_int(row, "char_start").value_or(0);
        h.char_end = get_int(row, "char_end").value_or(0);
        h.heading_path = parse_json(string_or(row, "heading_path", "[]")).value_or(json::array());
        h.text = string_or(row, "text", "");
        std::string key =
            kind == 'r' ? "r" + std::to_string(h.chunk_row) : "v" + string_or(row, "vid", "");
        out.emplace(std::move(key), std::move(h));
      }
    }
  }
  co_return out;
}

}  // namespace

Result<SearchRequest> parse_search_request(const json& body) {
  SearchRequest r;
  const std::string* q = get_string(body, "query");
  if (!q) return field_error("query", "is required (a string)");
  r.query = *q;
  if (r.query.find_first_not_of(" \t\r\n") == std::string::npos) {
    return field_error("query", "must not be empty");
  }
  if (r.query.size() > kMaxQueryBytes) return field_error("query", "at most 2000 bytes");
  if (const json* k = find(body, "topK"); k && !k->is_null()) {
    std::optional<int64_t> v = get_int(body, "topK");
    if (!v || *v < 1 || *v > static_cast<int64_t>(kMaxSearchTopK)) {
      return field_error("topK", "an integer from 1 to 50");
    }
    r.top_k = static_cast<size_t>(*v);
  }
  if (const json* t = find(body, "threshold"); t && !t->is_null()) {
    std::optional<double> v = get_number(body, "threshold");
    if (!v || *v < -1 || *v > 1) return field_error("threshold", "a number from -1 to 1");
    r.threshold = *v;
  }
  if (const json* m = find(body, "mode"); m && !m->is_null()) {
    std::string mode = m->is_string() ? m->get<std::string>() : "";
    if (mode == "vector") {
      r.mode = SearchMode::kVector;
    } else if (mode == "keyword") {
      r.mode = SearchMode::kKeyword;
    } else if (mode == "hybrid") {
      r.mode = SearchMode::kHybrid;
    } else {
      return field_error("mode", "one of vector, keyword, hybrid");
    }
  }
  if (const json* ids = find(body, "documentIds"); ids && !ids->is_null()) {
    if (!ids->is_array() || ids->size() > 50) {
      return field_error("documentIds", "an array of at most 50 document ids");
    }
    for (const json& id : *ids) {
      if (!id.is_string() || id.get<std::string>().empty() || id.get<std::string>().size() > 128) {
        return field_error("documentIds", "each must be a document id");
      }
      r.document_ids.push_back(id.get<std::string>());
    }
  }
  const json* meta = find(body, "metadata");
  if (!meta) meta = find(body, "filter");
  if (meta) {
    Result<std::vector<std::pair<std::string, json>>> f = parse_metadata_filter(*meta);
    if (!f.ok()) return f.take_error();
    r.metadata = std::move(f.value());
  }
  return r;
}

Task<Result<SearchResult>> search_chunks(Ctx& ctx, std::string user_id, SearchRequest req) {
  SearchResult result;
  Ranked vec;
  Ranked kw;
  if (req.mode != SearchMode::kKeyword) {
    const EmbedderChoice emb = choose_embedder(ctx);
    Result<std::vector<float>> qv = co_await embed_texts(ctx, emb, {req.query});
    if (!qv.ok()) {
      if (req.mode == SearchMode::kVector || qv.error().status < 500) co_return qv.take_error();
      result.notes.push_back("vector search unavailable (" + qv.error().code +
                             "): keyword results only");
    } else {
      result.embedding_model = emb.model;
      Result<Ranked> local = co_await local_vector_search(ctx, user_id, req, emb, qv.value());
      if (!local.ok()) co_return local.take_error();
      vec = std::move(local.value());
      if (use_vectorize(ctx)) {
        Result<Ranked> remote = co_await vectorize_search(ctx, user_id, req, qv.value());
        if (remote.ok()) {
          vec.items.insert(vec.items.end(), remote.value().items.begin(),
                           remote.value().items.end());
          std::stable_sort(vec.items.begin(), vec.items.end(),
                           [](const auto& a, const auto& b) { return a.second > b.second; });
        } else {
          result.notes.push_back("Vectorize unavailable: local vectors only");
        }
      }
      if (req.threshold) {
        std::erase_if(vec.items, [&](const auto& it) { return it.second < *req.threshold; });
      }
    }
  }
  if (req.mode != SearchMode::kVector) {
    Result<Ranked> k = co_await keyword_search(ctx, user_id, req);
    if (!k.ok()) co_return k.take_error();
    kw = std::move(k.value());
  }

  std::vector<std::string> keys;
  for (const auto& it : vec.items) keys.push_back(it.first);
  for (const auto& it : kw.items) keys.push_back(it.first);
  Result<std::map<std::string, SearchHit>> hits = co_await hydrate(ctx, user_id, req, keys);
  if (!hits.ok()) co_return hits.take_error();
  std::map<std::string, SearchHit>& found = hits.value();

  // Vector hits are keyed by row ("r…", local) or vector id ("v…", Vectorize); both resolve to a
  // chunk row, which is the identity fusion and de-duplication use.
  auto row_key = [&](const std::string& key) -> std::string {
    auto it = found.find(key);
    return it == found.end() ? std::string() : "r" + std::to_string(it->second.chunk_row);
  };
  std::map<std::string, SearchHit> by_row;
  std::vector<std::string> vec_rows;
  std::vector<std::string> kw_rows;
  for (const auto& [key, score] : vec.items) {
    std::string rk = row_key(key);
    if (rk.empty() || (by_row.count(rk) && by_row[rk].vector_score)) continue;
    SearchHit& h = by_row.emplace(rk, found[key]).first->second;
    h.vector_score = score;
    vec_rows.push_back(rk);
  }
  for (const auto& [key, score] : kw.items) {
    std::string rk = row_key(key);
    if (rk.empty()) continue;
    SearchHit& h = by_row.emplace(rk, found[key]).first->second;
    h.keyword_score = score;
    kw_rows.push_back(rk);
  }

  std::vector<std::pair<std::string, double>> ranked;
  if (req.mode == SearchMode::kHybrid) {
    for (const Fused& f : rrf({vec_rows, kw_rows}, 60, req.top_k))
      ranked.emplace_back(f.id, f.score);
  } else {
    const std::vector<std::string>& rows = req.mode == SearchMode::kVector ? vec_rows : kw_rows;
    for (const std::string& rk : rows) {
      if (ranked.size() == req.top_k) break;
      const SearchHit& h = by_row[rk];
      ranked.emplace_back(rk, req.mode == SearchMode::kVector ? *h.vector_score : *h.keyword_score);
    }
  }
  std::vector<std::string> words = lexical_words(req.query);
  for (auto& [rk, score] : ranked) {
    SearchHit h = std::move(by_row[rk]);
    h.score = score;
    h.snippet = make_snippet(h.text, words);
    result.hits.push_back(std::move(h));
  }
  co_return result;
}

json search_hit_json(const SearchHit& h) {
  auto opt = [](const std::optional<double>& v) { return v ? json(*v) : json(nullptr); };
  return {{"documentId", h.document_id},
          {"title", h.title},
          {"metadata", h.metadata},
          {"chunkIndex", h.chunk_index},
          {"charStart", h.char_start},
          {"charEnd", h.char_end},
          {"headingPath", h.heading_path},
          {"score", h.score},
          {"scores", {{"vector", opt(h.vector_score)}, {"keyword", opt(h.keyword_score)}}},
          {"snippet", h.snippet},
          {"text", h.text}};
}

}  // namespace ec
