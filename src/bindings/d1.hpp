// D1 as typed calls. Each is one effect (`d1.first`, `d1.all`, `d1.run`, `d1.batch`); the shim
// binds the params with prepare().bind(). A batch is one SQL transaction: all or nothing.
// Failures come back as ApiError: a UNIQUE/constraint violation is 409 "storage.conflict", any
// other failure 503 "storage.unavailable" (the host's message goes to logs, not to clients).
#pragma once

#include "core/context.hpp"
#include "core/error.hpp"
#include "core/task.hpp"

#include <string>
#include <vector>

namespace ec {

// D1 allows at most 100 bound parameters per statement (platform limit).
inline constexpr size_t kD1MaxParams = 100;

struct Stmt {
  // A constructor rather than an aggregate: g++ 12 miscompiles aggregate braced-init with string
  // literals inside co_await operands ("array used as initializer").
  Stmt(std::string_view sql_text, json bound = json::array())
      : sql(sql_text), params(std::move(bound)) {}
  std::string sql;
  json params;
};

struct RunMeta {
  int64_t changes = 0;
  int64_t last_row_id = 0;
};

struct BatchItem {
  std::vector<json> rows;
  int64_t changes = 0;
};

// First row as a JSON object, or null when there is none.
Task<Result<json>> d1_first(Ctx& ctx, Stmt s);
Task<Result<std::vector<json>>> d1_all(Ctx& ctx, Stmt s);
Task<Result<RunMeta>> d1_run(Ctx& ctx, Stmt s);
Task<Result<std::vector<BatchItem>>> d1_batch(Ctx& ctx, std::vector<Stmt> stmts);

bool is_conflict(const ApiError& e);

// The raw effect ("d1.first", "d1.all" or "d1.run") for a statement, for callers that run it in
// one round with other effects (ctx.all).
Effect stmt_effect(std::string op, const Stmt& s);

}  // namespace ec
