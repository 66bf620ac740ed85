#include "graph/store.hpp"

#include "bindings/d1.hpp"
#include "core/ascii.hpp"

#include <map>

namespace ec {

Task<Result<json>> document_graph(Ctx& ctx, std::string doc_uid, int64_t generation) {
  Result<std::vector<BatchItem>> r = co_await d1_batch(
      ctx, {Stmt("SELECT name, type, mentions FROM graph_entities WHERE doc_uid = ?1 AND "
                 "generation = ?2 ORDER BY mentions DESC, id",
                 {doc_uid, generation}),
            Stmt("SELECT source, target, relation, weight FROM graph_relations WHERE doc_uid = ?1 "
                 "AND generation = ?2 ORDER BY weight DESC, id",
                 {doc_uid, generation})});
  if (!r.ok()) co_return r.take_error();
  json entities = json::array();
  for (const json& row : r.value()[0].rows) {
    entities.push_back({{"name", string_or(row, "name", "")},
                        {"type", string_or(row, "type", "")},
                        {"mentions", get_int(row, "mentions").value_or(1)}});
  }
  json relations = json::array();
  for (const json& row : r.value()[1].rows) {
    relations.push_back({{"source", string_or(row, "source", "")},
                         {"target", string_or(row, "target", "")},
                         {"relation", string_or(row, "relation", "")},
                         {"weight", get_number(row, "weight").value_or(1)}});
  }
  co_return json{{"entities", std::move(entities)}, {"relations", std::move(relations)}};
}

Task<Result<json>> find_entities(Ctx& ctx, std::string user_id, std::string q, size_t limit) {
  // name_key is lower(name) (ASCII folding, as SQLite's lower()); one row per entity and document.
  // A substring match with instr, not LIKE: D1 refuses LIKE patterns over 50 bytes.
  Result<std::vector<json>> rows = co_await d1_all(
      ctx,
      Stmt("SELECT e.name, e.name_key, e.type, e.mentions, d.id AS doc_id, d.title "
           "FROM graph_entities e JOIN documents d ON d.uid = e.doc_uid "
           "AND d.generation = e.generation WHERE e.user_id = ?1 AND instr(e.name_key, ?2) > 0 "
           "ORDER BY e.mentions DESC, e.id LIMIT 500",
           {user_id, ascii_lower(q)}));
  if (!rows.ok()) co_return rows.take_error();
  std::map<std::string, size_t> index;  // name_key → position in out
  json out = json::array();
  for (const json& row : rows.value()) {
    std::string key = string_or(row, "name_key", "");
    auto it = index.find(key);
    if (it == index.end()) {
      if (out.size() == limit) continue;
      it = index.emplace(key, out.size()).first;
      out.push_back({{"name", string_or(row, "name", "")},
                     {"type", string_or(row, "type", "")},
                     {"mentions", 0},
                     {"documents", json::array()}});
    }
    json& e = out[it->second];
    e["mentions"] = e["mentions"].get<int64_t>() + get_int(row, "mentions").value_or(1);
    e["documents"].push_back(
        {{"id", string_or(row, "doc_id", "")}, {"title", string_or(row, "title", "")}});
  }
  co_return out;
}

}  // namespace ec
