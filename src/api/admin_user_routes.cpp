// Admin views of users and usage (seed 003's admin, seed 004's /api/v1/admin/*): list and look up
// users with their balances, disable or re-enable them (a disabled user is refused by every route
// at once: each request re-reads the user, and disabling also ends their sessions), set or adjust
// credits, and usage across all users. Every route needs X-Admin-Key (auth/admin.hpp).
#include "api/billing_access.hpp"
#include "api/caller.hpp"
#include "api/gateway.hpp"
#include "api/routes.hpp"
#include "auth/admin.hpp"
#include "auth/users.hpp"
#include "billing/credit_amount.hpp"
#include "billing/credits.hpp"
#include "bindings/d1.hpp"
#include "core/ascii.hpp"
#include "core/json.hpp"
#include "core/time.hpp"
#include "http/page_cursor.hpp"

namespace ec {

namespace {

const Schema kPatchUserSchema = {
    field("disabled").boolean().required(),
    field("reason").string().max(500),
};

const Schema kListUsersQuery = {
    field("limit").integer().min(1).max(200).describe("Page size (default 50)"),
    field("cursor").string().describe("nextCursor of the previous page"),
    field("q").string().length(1, 254).describe("A prefix of the username or email"),
    field("disabled").one_of({"true", "false"}),
};

const Schema kCreditsSchema = {
    field("set").boolean(),
    field("reason").string().max(500),
};

json admin_user_json(const json& row) {
  std::optional<User> u = user_from_row(row);
  json out = u ? user_json(*u) : json::object();
  std::optional<int64_t> disabled_at = get_int(row, "disabled_at");
  out["disabled"] = disabled_at.has_value();
  out["disabledAt"] = disabled_at ? json(iso8601_ms(*disabled_at)) : json(nullptr);
  std::optional<int64_t> balance = get_int(row, "balance");
  out["balance"] = balance ? credits_json(*balance) : json(nullptr);
  return out;
}

constexpr std::string_view kAdminUserSelect =
    "SELECT u.id, u.username, u.email, u.role, u.is_guest, u.disabled_at, u.created_at, "
    "a.balance FROM users u LEFT JOIN credit_accounts a ON a.user_id = u.id";

Task<Result<Response>> do_list_users(Call& call) {
  const size_t limit = static_cast<size_t>(call.query_int("limit", 50));
  const std::string* disabled = call.query_param("disabled");
  std::string sql = std::string(kAdminUserSelect) + " WHERE 1 = 1";
  json params = json::array();
  auto bind = [&](json v) {
    params.push_back(std::move(v));
    return "?" + std::to_string(params.size());
  };
  if (const std::string* q = call.query_param("q")) {
    // A prefix of the username or email, compared without LIKE so no character is special.
    const std::string lower = ascii_lower(*q);
    const std::string n = bind(static_cast<int64_t>(lower.size()));
    const std::string v = bind(lower);
    sql += " AND (substr(u.username, 1, " + n + ") = " + v + " OR substr(lower(u.email), 1, " + n +
           ") = " + v + ")";
  }
  if (disabled && *disabled == "true") sql += " AND u.disabled_at IS NOT NULL";
  if (disabled && *disabled == "false") sql += " AND u.disabled_at IS NULL";
  if (const std::string* c = call.query_param("cursor")) {
    std::optional<PageCursor> cur = decode_page_cursor(*c);
    if (!cur) co_return field_error("cursor", "a nextCursor from a previous page");
    const std::string t = bind(cur->time_ms);
    const std::string i = bind(cur->id);
    sql += " AND (u.created_at < " + t + " OR (u.created_at = " + t + " AND u.id < " + i + "))";
  }
  sql += " ORDER BY u.created_at DESC, u.id DESC LIMIT " + bind(static_cast<int64_t>(limit + 1));
  Result<std::vector<json>> rows = co_await d1_all(call.ctx, Stmt{sql, std::move(params)});
  if (!rows.ok()) co_return rows.take_error();
  json next = next_page_cursor(rows.value(), limit);
  json users = json::array();
  for (const json& row : rows.value()) users.push_back(admin_user_json(row));
  co_return json_reply(200, {{"users", std::move(users)}, {"nextCursor", std::move(next)}});
}

Task<Result<json>> load_admin_user(Ctx& ctx, const std::string& id) {
  Result<json> row =
      co_await d1_first(ctx, Stmt{std::string(kAdminUserSelect) + " WHERE u.id = ?1", {id}});
  if (!row.ok()) co_return row.take_error();
  if (row.value().is_null()) co_return api_error(Err::users_not_found);
  co_return admin_user_json(row.value());
}

Task<Result<Response>> do_get_user(Call& call) {
  Result<json> u = co_await load_admin_user(call.ctx, *call.param("id"));
  if (!u.ok()) co_return u.take_error();
  co_return json_reply(200, {{"user", std::move(u.value())}});
}

Task<Result<Response>> do_patch_user(Call& call) {
  const std::string id = *call.param("id");
  const std::optional<bool> disabled = get_bool(call.body, "disabled");  // required: a boolean
  const int64_t now = static_cast<int64_t>(call.ctx.now_ms());
  std::vector<Stmt> stmts;
  if (*disabled) {
    // Sessions end too, so not even a refresh token outlives the decision.
    stmts.emplace_back(
        "UPDATE users SET disabled_at = COALESCE(disabled_at, ?1), updated_at = ?1 WHERE id = ?2",
        json::array({now, id}));
    stmts.emplace_back(
        "UPDATE sessions SET revoked_at = ?1, revoke_reason = 'disabled' WHERE user_id = ?2 AND "
        "revoked_at IS NULL",
        json::array({now, id}));
  } else {
    stmts.emplace_back("UPDATE users SET disabled_at = NULL, updated_at = ?1 WHERE id = ?2",
                       json::array({now, id}));
  }
  Result<std::vector<BatchItem>> r = co_await d1_batch(call.ctx, std::move(stmts));
  if (!r.ok()) co_return r.take_error();
  if (r.value()[0].changes == 0) co_return api_error(Err::users_not_found);
  EffectResult logged = co_await call.ctx.perform(make_effect(
      "log.write", {{"line", dump_json({{"level", "info"},
                                        {"msg", *disabled ? "user disabled" : "user enabled"},
                                        {"requestId", call.ctx.request_id},
                                        {"userId", id},
                                        {"reason", string_or(call.body, "reason", "")}})}}));
  (void)logged;
  Result<json> u = co_await load_admin_user(call.ctx, id);
  if (!u.ok()) co_return u.take_error();
  co_return json_reply(200, {{"user", std::move(u.value())}});
}

Task<Result<Response>> do_user_credits(Call& call) {
  const std::string id = *call.param("id");
  const bool set = get_bool(call.body, "set").value_or(false);
  const json* amount = find(call.body, "amount");
  std::optional<int64_t> micros = amount ? parse_credit_amount(*amount, !set) : std::nullopt;
  if (!micros) co_return field_error("amount", "a number of credits, at most 6 decimals");
  Result<Adjustment> adj =
      co_await adjust_credits(call.ctx, id, *micros, set,
                              string_or(call.body, "reason", set ? "admin set" : "admin adjust"));
  if (!adj.ok()) co_return adj.take_error();
  co_return adjustment_reply(id, adj.value());
}

Task<Result<Response>> do_admin_usage(Call& call) {
  // The key is required here (the billing route would fall back to the signed-in user).
  co_return co_await usage_report_reply(call);
}

}  // namespace

bool add_admin_user_routes(HttpApp& app) {
  // Their own rate-limit group, so an operator can size it (RATE_LIMITS {"admin": …}) apart from
  // users' traffic.
  return add_routes(
      app,
      {
          get("/api/admin/users", do_list_users)
              .admin()
              .rate(kRateAdmin)
              .query(kListUsersQuery)
              .doc("List users with their balances (seed 003)", {"Admin", "Seed 003"})
              .answers(200, "AdminUserPage")
              .errors({"storage.unavailable"}),
          get("/api/v1/admin/users", do_list_users)
              .admin()
              .rate(kRateAdmin)
              .query(kListUsersQuery)
              .doc("List users with their balances", {"Admin"})
              .answers(200, "AdminUserPage")
              .errors({"storage.unavailable"}),
          get("/api/admin/users/:id", do_get_user)
              .admin()
              .rate(kRateAdmin)
              .doc("Get a user (seed 003)", {"Admin", "Seed 003"})
              .answers(200, "AdminUserEnvelope")
              .errors({"users.not_found", "storage.unavailable"}),
          get("/api/v1/admin/users/:id", do_get_user)
              .admin()
              .rate(kRateAdmin)
              .doc("Get a user", {"Admin"})
              .answers(200, "AdminUserEnvelope")
              .errors({"users.not_found", "storage.unavailable"}),
          patch("/api/admin/users/:id", do_patch_user)
              .admin()
              .rate(kRateAdmin)
              .json(kPatchUserSchema)
              .doc("Disable or re-enable a user (seed 003)", {"Admin", "Seed 003"})
              .answers(200, "AdminUserEnvelope")
              .errors({"users.not_found", "storage.unavailable"}),
          patch("/api/v1/admin/users/:id", do_patch_user)
              .admin()
              .rate(kRateAdmin)
              .json(kPatchUserSchema)
              .doc("Disable or re-enable a user (ending their sessions)", {"Admin"})
              .answers(200, "AdminUserEnvelope")
              .errors({"users.not_found", "storage.unavailable"}),
          post("/api/admin/users/:id/credits", do_user_credits)
              .admin()
              .rate(kRateAdmin)
              .json(kCreditsSchema)
              .doc("Adjust or set a user's credits (seed 003)", {"Admin", "Credits", "Seed 003"})
              .answers(200, "CreditAdjustment")
              .errors({"users.not_found", "credits.would_go_negative", "storage.unavailable"}),
          post("/api/v1/admin/users/:id/credits", do_user_credits)
              .admin()
              .rate(kRateAdmin)
              .json(kCreditsSchema)
              .doc("Adjust or set a user's credits", {"Admin", "Credits"})
              .answers(200, "CreditAdjustment")
              .errors({"users.not_found", "credits.would_go_negative", "storage.unavailable"}),
          get("/api/admin/usage", do_admin_usage)
              .admin()
              .rate(kRateAdmin)
              .query(kUsageQuery)
              .doc("Usage across all users (seed 003)", {"Admin", "Usage", "Seed 003"})
              .answers(200, "UsageReport")
              .errors({"storage.unavailable"}),
          get("/api/v1/admin/usage", do_admin_usage)
              .admin()
              .rate(kRateAdmin)
              .query(kUsageQuery)
              .doc("Usage across all users (or ?userId=)", {"Admin", "Usage"})
              .answers(200, "UsageReport")
              .errors({"storage.unavailable"}),
      });
}

}  // namespace ec
