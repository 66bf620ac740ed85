#include "bindings/d1.hpp"

namespace ec {

namespace {

// {"sql":…,"params":[…]} written directly: every D1 call makes one, and building a json object
// around the SQL text only to escape it again was the largest cost of a cached-token request.
void append_stmt(std::string& out, const Stmt& s) {
  out.append("{\"sql\":");
  append_json_string(out, s.sql);
  out.append(",\"params\":");
  out.append(dump_json(s.params));
  out.push_back('}');
}

ApiError storage_error(const EffectResult& r) {
  if (r.error == EffectError::kConflict) {
    return api_error(Err::storage_conflict);
  }
  // The database refused the statement itself: retrying cannot help, so not 503.
  if (r.error == EffectError::kTooLarge) {
    return api_error(Err::storage_value_too_large);
  }
  if (r.error == EffectError::kInvalid) {
    return api_error(Err::storage_query_rejected);
  }
  return api_error(Err::storage_unavailable, "The database is unavailable; try again");
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

Effect stmt_effect(std::string op, const Stmt& s) {
  Effect e{std::move(op), {}};
  e.payload.reserve(s.sql.size() + 64);
  append_stmt(e.payload, s);
  return e;
}

bool is_conflict(const ApiError& e) { return e.is(Err::storage_conflict); }

Task<Result<json>> d1_first(Ctx& ctx, Stmt s) {
  EffectResult r = co_await ctx.perform(stmt_effect("d1.first", s));
  if (!r.ok()) co_return storage_error(r);
  co_return r.as_json();
}

Task<Result<std::vector<json>>> d1_all(Ctx& ctx, Stmt s) {
  EffectResult r = co_await ctx.perform(stmt_effect("d1.all", s));
  if (!r.ok()) co_return storage_error(r);
  co_return rows_of(r.as_json());
}

Task<Result<RunMeta>> d1_run(Ctx& ctx, Stmt s) {
  EffectResult r = co_await ctx.perform(stmt_effect("d1.run", s));
  if (!r.ok()) co_return storage_error(r);
  json v = r.as_json();
  co_return RunMeta{get_int(v, "changes").value_or(0), get_int(v, "lastRowId").value_or(0)};
}

Task<Result<std::vector<BatchItem>>> d1_batch(Ctx& ctx, std::vector<Stmt> stmts) {
  Effect batch{"d1.batch", "{\"statements\":["};
  for (size_t i = 0; i < stmts.size(); ++i) {
    if (i > 0) batch.payload.push_back(',');
    append_stmt(batch.payload, stmts[i]);
  }
  batch.payload.append("]}");
  EffectResult r = co_await ctx.perform(std::move(batch));
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
    co_return api_error(Err::storage_unavailable, "The database returned a partial batch");
  }
  co_return out;
}

}  // namespace ec
