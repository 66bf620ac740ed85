#include "api/billing_access.hpp"

#include "api/caller.hpp"
#include "billing/credit_amount.hpp"
#include "bindings/d1.hpp"
#include "core/ascii.hpp"
#include "core/json.hpp"

namespace ec {

namespace {
constexpr int64_t kDefaultUsageRangeMs = int64_t{30} * 86'400'000;
}  // namespace

const Schema kUsageQuery = {
    field("from").string().describe(
        "A date (2026-11-01), an ISO time or epoch milliseconds (default: 30 days before `to`)"),
    field("to").string().describe("Same forms (a bare date includes that day; default: now)"),
    field("provider").string().length(1, 256),
    field("model").string().length(1, 256),
    field("kind").string().length(1, 256).describe("chat, completion, embedding, report …"),
    field("userId").string().describe("Whose usage (the admin key, or your own id)"),
    field("limit").integer().min(1).max(200).describe("Events per page (default 50)"),
    field("cursor").string().describe("nextCursor of the previous page"),
};

Result<UsageAccess> usage_access(const Call& call, const std::string* for_user) {
  UsageAccess who;
  if (called_by_admin(call)) {
    who.admin = true;
    if (for_user != nullptr) who.user_id = *for_user;
    return who;
  }
  const User& user = signed_in(call);
  if (for_user != nullptr && *for_user != user.id) {
    return api_error(Err::billing_forbidden);
  }
  who.user_id = user.id;
  return who;
}

Result<UsageQuery> usage_query_from(const Call& call, const UsageAccess& who) {
  UsageQuery q;
  q.user_id = who.user_id;
  const int64_t now = static_cast<int64_t>(call.ctx.now_ms());
  q.to_ms = now + 1;
  if (const std::string* t = call.query_param("to")) {
    std::optional<int64_t> v = parse_time_param(*t);
    if (!v) return field_error("to", "a date (2026-11-01), an ISO time or epoch milliseconds");
    // A bare date means the whole of that day.
    q.to_ms = t->size() == 10 && t->find('-') != std::string::npos ? *v + 86'400'000 : *v;
  }
  q.from_ms = std::max<int64_t>(0, q.to_ms - kDefaultUsageRangeMs);
  if (const std::string* f = call.query_param("from")) {
    std::optional<int64_t> v = parse_time_param(*f);
    if (!v) return field_error("from", "a date (2026-11-01), an ISO time or epoch milliseconds");
    q.from_ms = *v;
  }
  if (q.from_ms >= q.to_ms) return field_error("from", "must be before `to`");
  for (auto [name, slot] : {std::pair<std::string_view, std::string*>{"provider", &q.provider},
                            {"model", &q.model},
                            {"kind", &q.kind}}) {
    if (const std::string* v = call.query_param(name)) *slot = *v;
  }
  q.limit = static_cast<size_t>(call.query_int("limit", 50));
  if (const std::string* c = call.query_param("cursor")) q.cursor = *c;
  return q;
}

Task<Result<Response>> usage_report_reply(Call& call) {
  Result<UsageAccess> who = usage_access(call, call.query_param("userId"));
  if (!who.ok()) co_return who.take_error();
  Result<UsageQuery> q = usage_query_from(call, who.value());
  if (!q.ok()) co_return q.take_error();
  Result<json> report = co_await usage_report(call.ctx, std::move(q.value()));
  if (!report.ok()) co_return report.take_error();
  co_return json_reply(200, std::move(report.value()));
}

Response adjustment_reply(const std::string& user_id, const Adjustment& adj) {
  Response r = json_reply(200, {{"userId", user_id},
                                {"entryId", adj.entry_id},
                                {"delta", credits_json(adj.delta)},
                                {"balance", credits_json(adj.balance)}});
  r.headers.emplace_back("x-credits-balance", format_credits(adj.balance));
  return r;
}

Task<Result<std::string>> resolve_user_ref(Ctx& ctx, const json& body) {
  Stmt s{""};
  if (const std::string* id = get_string(body, "userId")) {
    s = Stmt{"SELECT id FROM users WHERE id = ?1", json::array({*id})};
  } else if (const std::string* name = get_string(body, "username")) {
    s = Stmt{"SELECT id FROM users WHERE username = ?1", json::array({ascii_lower(*name)})};
  } else if (const std::string* email = get_string(body, "email")) {
    s = Stmt{"SELECT id FROM users WHERE lower(email) = ?1 ORDER BY created_at LIMIT 1",
             json::array({ascii_lower(*email)})};
  } else {
    co_return field_error("userId", "name the user by userId, username or email");
  }
  Result<json> row = co_await d1_first(ctx, std::move(s));
  if (!row.ok()) co_return row.take_error();
  const std::string* id = row.value().is_null() ? nullptr : get_string(row.value(), "id");
  if (id == nullptr) co_return api_error(Err::users_not_found);
  co_return *id;
}

}  // namespace ec
