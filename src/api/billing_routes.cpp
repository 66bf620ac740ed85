// Credits and usage (seed 003: /api/credits, /api/credits/adjust, /api/billing/usage; and the same
// under /api/v1). A user sees their own balance, ledger and usage; the admin key (X-Admin-Key)
// adjusts any balance and reads or records anyone's usage.
#include "api/billing_access.hpp"
#include "api/caller.hpp"
#include "api/gateway.hpp"
#include "api/routes.hpp"
#include "auth/admin.hpp"
#include "auth/service.hpp"
#include "billing/credit_amount.hpp"
#include "billing/credits.hpp"
#include "billing/usage.hpp"
#include "bindings/d1.hpp"
#include "chat/model_table.hpp"
#include "core/json.hpp"
#include "core/time.hpp"
#include "http/page_cursor.hpp"

namespace ec {

namespace {

const Schema kAdjustSchema = {
    field("userId").string().length(1, 64), field("username").string().length(1, 64),
    field("email").string().length(1, 254), field("set").boolean(),
    field("reason").string().max(500),
};

const Schema kRecordUsageSchema = {
    field("userId").string().length(1, 64),
    field("provider").string().required().length(1, 64),
    field("model").string().required().length(1, 256),
    field("tokensIn").integer().required().min(0).max(kMaxTokens),
    field("tokensOut").integer().required().min(0).max(kMaxTokens),
    field("kind").one_of({"chat", "completion", "embedding", "report"}),
    field("route").string().max(100),
};

const Schema kLedgerQuery = {
    field("limit").integer().min(1).max(200).describe("Page size (default 50)"),
    field("cursor").string().describe("nextCursor of the previous page"),
};

Response with_balance(Response r, int64_t balance) {
  r.headers.emplace_back("x-credits-balance", format_credits(balance));
  return r;
}

Task<Result<Response>> do_balance(Call& call) {
  const User& user = signed_in(call);
  Result<CreditAccount> a = co_await credit_account(call.ctx, user.id);
  if (!a.ok()) co_return a.take_error();
  co_return with_balance(json_reply(200, {{"userId", user.id},
                                          {"balance", credits_json(a.value().balance)},
                                          {"unit", "credits"},
                                          {"updatedAt", iso8601_ms(a.value().updated_at)}}),
                         a.value().balance);
}

Task<Result<Response>> do_ledger(Call& call) {
  const User& user = signed_in(call);
  const size_t limit = static_cast<size_t>(call.query_int("limit", 50));
  json params = json::array({user.id});
  std::string sql = "SELECT * FROM credit_ledger WHERE user_id = ?1";
  if (const std::string* c = call.query_param("cursor")) {
    std::optional<PageCursor> cur = decode_page_cursor(*c);
    if (!cur) co_return field_error("cursor", "a nextCursor from a previous page");
    sql += " AND (created_at < ?2 OR (created_at = ?2 AND id < ?3))";
    params.push_back(cur->time_ms);
    params.push_back(cur->id);
  }
  params.push_back(static_cast<int64_t>(limit + 1));
  sql += " ORDER BY created_at DESC, id DESC LIMIT ?" + std::to_string(params.size());
  Result<std::vector<json>> rows = co_await d1_all(call.ctx, Stmt{sql, std::move(params)});
  if (!rows.ok()) co_return rows.take_error();
  json next = next_page_cursor(rows.value(), limit);
  json entries = json::array();
  for (const json& row : rows.value()) entries.push_back(ledger_entry_json(row));
  co_return json_reply(200, {{"entries", std::move(entries)}, {"nextCursor", std::move(next)}});
}

Task<Result<Response>> do_adjust(Call& call) {
  const bool set = get_bool(call.body, "set").value_or(false);
  const json* amount = find(call.body, "amount");
  if (amount == nullptr) amount = find(call.body, "delta");
  std::optional<int64_t> micros = amount ? parse_credit_amount(*amount, !set) : std::nullopt;
  if (!micros) {
    co_return field_error("amount", set ? "a balance of 0 or more credits, at most 6 decimals"
                                        : "a number of credits (negative to take away), at most "
                                          "6 decimals");
  }
  Result<std::string> user = co_await resolve_user_ref(call.ctx, call.body);
  if (!user.ok()) co_return user.take_error();
  Result<Adjustment> adj =
      co_await adjust_credits(call.ctx, user.value(), *micros, set,
                              string_or(call.body, "reason", set ? "admin set" : "admin adjust"));
  if (!adj.ok()) co_return adj.take_error();
  co_return adjustment_reply(user.value(), adj.value());
}

Task<Result<Response>> do_usage(Call& call) { co_return co_await usage_report_reply(call); }

// Records a call a client made itself (or, with the admin key, one made for any user) and
// debits its price from the model table: 402 when the balance cannot cover it.
Task<Result<Response>> do_record_usage(Call& call) {
  const std::string* for_user = get_string(call.body, "userId");
  Result<UsageAccess> who = usage_access(call, for_user);
  if (!who.ok()) co_return who.take_error();
  if (who.value().user_id.empty()) co_return field_error("userId", "required with the admin key");
  const std::string provider = canonical_provider(string_or(call.body, "provider", ""));
  if (provider.empty()) co_return field_error("provider", "a provider name, e.g. openai");
  const std::string model = string_or(call.body, "model", "");
  if (!valid_model_id(model)) co_return field_error("model", std::string(kModelIdRule));
  const ModelInfo m = model_or_unlisted(load_model_table(call.ctx), provider, model);
  UsageRecord u;
  u.user_id = who.value().user_id;
  u.kind = string_or(call.body, "kind", "report");
  u.route = string_or(call.body, "route", "");
  u.provider = provider;
  u.model = model;
  u.tokens_in = get_int(call.body, "tokensIn").value_or(0);
  u.tokens_out = get_int(call.body, "tokensOut").value_or(0);
  u.cost = token_price_micros(m.price_in_per_1k, u.tokens_in) +
           token_price_micros(m.price_out_per_1k, u.tokens_out);
  Result<Charge> c = co_await debit_credits(call.ctx, u);
  if (!c.ok()) co_return c.take_error();
  Response r = json_reply(201, {{"usageId", c.value().usage_id},
                                {"userId", u.user_id},
                                {"provider", provider},
                                {"model", model},
                                {"tokensIn", u.tokens_in},
                                {"tokensOut", u.tokens_out},
                                {"credits", credits_json(c.value().charged)},
                                {"balance", credits_json(c.value().balance)}});
  r.headers.emplace_back("x-credits-used", format_credits(c.value().charged));
  r.headers.emplace_back("x-credits-balance", format_credits(c.value().balance));
  r.headers.emplace_back("x-tokens-in", std::to_string(u.tokens_in));
  r.headers.emplace_back("x-tokens-out", std::to_string(u.tokens_out));
  r.headers.emplace_back("x-provider", provider);
  r.headers.emplace_back("x-model", model);
  co_return r;
}

}  // namespace

bool add_billing_routes(HttpApp& app) {
  const auto balance_route = [](std::string_view pattern,
                                std::initializer_list<std::string_view> tags) {
    return get(pattern, do_balance)
        .user()
        .doc("Your credit balance", tags)
        .answers(200, "CreditBalance")
        .errors({"users.not_found", "storage.unavailable"});
  };
  const auto adjust_route = [](std::string_view pattern,
                               std::initializer_list<std::string_view> tags) {
    return post(pattern, do_adjust)
        .admin()
        .rate(kRateAdmin)
        .json(kAdjustSchema)
        .doc("Adjust or set a user's credits (by userId, username or email)", tags)
        .answers(200, "CreditAdjustment")
        .errors({"users.not_found", "credits.would_go_negative", "storage.unavailable"});
  };
  const auto usage_route = [](std::string_view pattern,
                              std::initializer_list<std::string_view> tags) {
    return get(pattern, do_usage)
        .user_or_admin()
        .query(kUsageQuery)
        .doc("Usage: totals, daily sums and events (yours, or anyone's with the admin key)", tags)
        .answers(200, "UsageReport")
        .errors({"billing.forbidden", "storage.unavailable"});
  };
  const auto record_route = [](std::string_view pattern,
                               std::initializer_list<std::string_view> tags) {
    return post(pattern, do_record_usage)
        .user_or_admin()
        .json(kRecordUsageSchema)
        .doc("Record a model call you made and pay for it from the model table's prices", tags)
        .answers(201, "UsageRecorded")
        .errors({"billing.forbidden", "users.not_found", "credits.insufficient",
                 "storage.unavailable"});
  };
  return add_routes(app, {
                             balance_route("/api/credits", {"Credits", "Seed 003"}),
                             balance_route("/api/v1/credits", {"Credits"}),
                             get("/api/v1/credits/ledger", do_ledger)
                                 .user()
                                 .query(kLedgerQuery)
                                 .doc("Your credit ledger, newest first", {"Credits"})
                                 .answers(200, "LedgerPage")
                                 .errors({"storage.unavailable"}),
                             adjust_route("/api/credits/adjust", {"Credits", "Admin", "Seed 003"}),
                             adjust_route("/api/v1/credits/adjust", {"Credits", "Admin"}),
                             usage_route("/api/billing/usage", {"Usage", "Seed 003"}),
                             usage_route("/api/v1/billing/usage", {"Usage"}),
                             record_route("/api/billing/usage", {"Usage", "Seed 003"}),
                             record_route("/api/v1/billing/usage", {"Usage"}),
                         });
}

}  // namespace ec
