#include "bindings/d1.hpp"

namespace ec {

namespace {

json stmt_json(const Stmt& s) { return {{"sql", s.sql}, {"params", s.params}}; }

ApiError storage_error(const EffectResult& r) {
  if (r.error == EffectError::kConflict) {
    return api_error(409, "storage.conflict", "The record conflicts with an existing one");
  }
  return api_error(503, "storage.unavailable", "The database is unavailable; try again");
}

std::vector<json> rows_of(const json& v) {
  std::vector<json> rows;
  if (v.is_array()) {
    rows.reserve(v.size());
    for (const auto& row : v) rows.push_back(row);
  }
  return rows;
}

}  // namespace

bool is_conflict(const ApiError& e) { return e.code == "storage.conflict"; }

Task<Result<json>> d1_first(Ctx& ctx, Stmt s) {
  EffectResult r = co_await ctx.perform(make_effect("d1.first", stmt_json(s)));
  if (!r.ok()) co_return storage_error(r);
  co_return r.as_json();
}

Task<Result<std::vector<json>>> d1_all(Ctx& ctx, Stmt s) {
  EffectResult r = co_await ctx.perform(make_effect("d1.all", stmt_json(s)));
  if (!r.ok()) co_return storage_error(r);
  co_return rows_of(r.as_json());
}

Task<Result<RunMeta>> d1_run(Ctx& ctx, Stmt s) {
  EffectResult r = co_await ctx.perform(make_effect("d1.run", stmt_json(s)));
  if (!r.ok()) co_return storage_error(r);
  json v = r.as_json();
  co_return RunMeta{get_int(v, "changes").value_or(0), get_int(v, "lastRowId").value_or(0)};
}

Task<Result<std::vector<BatchItem>>> d1_batch(Ctx& ctx, std::vector<Stmt> stmts) {
  json list = json::array();
  for (const Stmt& s : stmts) list.push_back(stmt_json(s));
  EffectResult r = co_await ctx.perform(make_effect("d1.batch", {{"statements", list}}));
  if (!r.ok()) co_return storage_error(r);
  json v = r.as_json();
  std::vector<BatchItem> out;
  if (v.is_array()) {
    for (const auto& item : v) {
      const json* rows = get_array(item, "results");
      out.push_back(BatchItem{rows ? rows_of(*rows) : std::vector<json>{},
                              get_int(item, "changes").value_or(0)});
    }
  }
  if (out.size() != stmts.size()) {
    co_return api_error(503, "storage.unavailable", "The database returned a partial batch");
  }
  co_return out;
}

}  // namespace ec
