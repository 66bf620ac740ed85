#include "billing/credits.hpp"

#include "billing/credit_amount.hpp"
#include "bindings/d1.hpp"
#include "core/json.hpp"
#include "core/time.hpp"
#include "crypto/random_id.hpp"

namespace ec {

namespace {

// A hold outlives any real call (streams are cut at 24 h, most end in seconds); cleanup releases
// one that is still open after this, i.e. whose isolate died before it could settle.
constexpr int64_t kHoldTtlMs = int64_t{2} * 3600 * 1000;

int64_t grant_env(const Ctx& ctx, std::string_view name, int64_t fallback) {
  std::string_view v = ctx.env(name, "");
  if (v.empty()) return fallback;
  std::optional<int64_t> m = parse_credit_amount(json(std::string(v)), false);
  return m ? *m : fallback;
}

int64_t now_ms(const Ctx& ctx) { return static_cast<int64_t>(ctx.now_ms()); }

// The account and its grant row, both INSERT OR IGNORE on keys fixed by the user id: the first
// use creates both, every later one changes nothing. The grant depends on the user's kind.
void push_ensure_account(std::vector<Stmt>& out, const Ctx& ctx, const std::string& user_id) {
  const CreditGrants g = credit_grants(ctx);
  const int64_t now = now_ms(ctx);
  out.emplace_back(
      "INSERT OR IGNORE INTO credit_accounts (user_id, balance, updated_at) "
      "SELECT id, CASE WHEN is_guest = 1 THEN ?2 ELSE ?3 END, ?4 FROM users WHERE id = ?1",
      json::array({user_id, g.guest, g.signup, now}));
  out.emplace_back(
      "INSERT OR IGNORE INTO credit_ledger (id, user_id, delta, balance_after, kind, reason, "
      "created_at) SELECT 'grant_' || id, id, CASE WHEN is_guest = 1 THEN ?2 ELSE ?3 END, "
      "CASE WHEN is_guest = 1 THEN ?2 ELSE ?3 END, 'grant', "
      "CASE WHEN is_guest = 1 THEN 'guest' ELSE 'signup' END, ?4 FROM users WHERE id = ?1",
      json::array({user_id, g.guest, g.signup, now}));
}

ApiError insufficient(int64_t required, int64_t balance) {
  ApiError e = api_error(Err::credits_insufficient,
                         "Not enough credits: this needs up to " + format_credits(required) +
                             " and the balance is " + format_credits(balance));
  e.fields = {{"required", credits_json(required)}, {"balance", credits_json(balance)}};
  return e;
}

const json* last_row(const std::vector<BatchItem>& items) {
  if (items.empty() || items.back().rows.empty()) return nullptr;
  return &items.back().rows.front();
}

Stmt usage_insert(const UsageRecord& u, const std::string& id, const std::string& request_id,
                  int64_t now, std::string_view charged_expr, std::string_view from_where,
                  json extra_params) {
  json params = json::array({id, u.user_id, u.kind, u.route, u.provider, u.model, u.tokens_in,
                             u.tokens_out, u.estimated ? 1 : 0, u.cost, request_id, now});
  for (json& p : extra_params) params.push_back(std::move(p));
  std::string sql =
      "INSERT INTO usage_events (id, user_id, kind, route, provider, model, tokens_in, tokens_out, "
      "estimated, cost, charged, request_id, created_at) SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
      "?9, ?10, ";
  sql.append(charged_expr).append(", ?11, ?12 ").append(from_where);
  return Stmt{sql, std::move(params)};
}

}  // namespace

CreditGrants credit_grants(const Ctx& ctx) {
  return {grant_env(ctx, "GUEST_CREDITS", 1 * kMicroPerCredit),
          grant_env(ctx, "SIGNUP_CREDITS", 10 * kMicroPerCredit)};
}

Task<Result<CreditAccount>> credit_account(Ctx& ctx, std::string user_id) {
  std::vector<Stmt> stmts;
  push_ensure_account(stmts, ctx, user_id);
  stmts.emplace_back("SELECT balance, updated_at FROM credit_accounts WHERE user_id = ?1",
                     json::array({user_id}));
  Result<std::vector<BatchItem>> r = co_await d1_batch(ctx, std::move(stmts));
  if (!r.ok()) co_return r.take_error();
  const json* row = last_row(r.value());
  if (row == nullptr) co_return api_error(Err::users_not_found);
  co_return CreditAccount{get_int(*row, "balance").value_or(0),
                          get_int(*row, "updated_at").value_or(0)};
}

Task<Result<CreditHold>> reserve_credits(Ctx& ctx, std::string user_id, int64_t amount) {
  CreditHold hold;
  hold.user_id = user_id;
  if (amount <= 0) {
    Result<CreditAccount> acct = co_await credit_account(ctx, std::move(user_id));
    if (!acct.ok()) co_return acct.take_error();
    hold.balance = acct.value().balance;
    co_return hold;
  }
  hold.id = co_await new_id(ctx, "hold_");
  const std::string ledger_id = co_await new_id(ctx, "led_");
  const int64_t now = now_ms(ctx);
  std::vector<Stmt> stmts;
  push_ensure_account(stmts, ctx, user_id);
  // The hold row exists only if the balance covered it; the two statements after it act only if
  // it does, so the whole batch is all-or-nothing on that one guard.
  stmts.emplace_back(
      "INSERT INTO credit_holds (id, user_id, amount, request_id, created_at, expires_at) "
      "SELECT ?1, user_id, ?2, ?3, ?4, ?5 FROM credit_accounts WHERE user_id = ?6 AND balance >= "
      "?2",
      json::array({hold.id, amount, ctx.request_id, now, now + kHoldTtlMs, user_id}));
  stmts.emplace_back(
      "UPDATE credit_accounts SET balance = balance - ?1, updated_at = ?2 "
      "WHERE user_id = ?3 AND EXISTS (SELECT 1 FROM credit_holds WHERE id = ?4)",
      json::array({amount, now, user_id, hold.id}));
  stmts.emplace_back(
      "INSERT INTO credit_ledger (id, user_id, delta, balance_after, kind, ref, request_id, "
      "created_at) SELECT ?1, a.user_id, -h.amount, a.balance, 'hold', h.id, ?2, ?3 "
      "FROM credit_holds h JOIN credit_accounts a ON a.user_id = h.user_id WHERE h.id = ?4",
      json::array({ledger_id, ctx.request_id, now, hold.id}));
  stmts.emplace_back(
      "SELECT balance, EXISTS (SELECT 1 FROM credit_holds WHERE id = ?1) AS held "
      "FROM credit_accounts WHERE user_id = ?2",
      json::array({hold.id, user_id}));
  Result<std::vector<BatchItem>> r = co_await d1_batch(ctx, std::move(stmts));
  if (!r.ok()) co_return r.take_error();
  const json* row = last_row(r.value());
  if (row == nullptr) co_return api_error(Err::users_not_found);
  hold.balance = get_int(*row, "balance").value_or(0);
  if (get_int(*row, "held").value_or(0) != 1) co_return insufficient(amount, hold.balance);
  hold.amount = amount;
  co_return hold;
}

Task<Result<Charge>> settle_credits(Ctx& ctx, CreditHold hold, UsageRecord usage) {
  Charge out;
  out.usage_id = co_await new_id(ctx, "use_");
  const int64_t now = now_ms(ctx);
  const int64_t cost = std::max<int64_t>(usage.cost, 0);
  std::vector<Stmt> stmts;
  if (hold.id.empty()) {
    // Nothing was reserved: a free call, metered but not charged.
    push_ensure_account(stmts, ctx, usage.user_id);
    stmts.push_back(usage_insert(usage, out.usage_id, ctx.request_id, now, "0", "", json::array()));
    stmts.emplace_back("SELECT balance, 0 AS charged FROM credit_accounts WHERE user_id = ?1",
                       json::array({usage.user_id}));
  } else {
    // settle_token marks this attempt as the one that settled; the statements after the first
    // act only for it, so a repeated settlement changes nothing.
    const std::string token = co_await new_id(ctx, "stl_");
    const std::string ledger_id = co_await new_id(ctx, "led_");
    stmts.emplace_back(
        "UPDATE credit_holds SET settled_at = ?1, settle_token = ?2, charged = MIN(amount, ?3) "
        "WHERE id = ?4 AND settled_at IS NULL",
        json::array({now, token, cost, hold.id}));
    stmts.emplace_back(
        "UPDATE credit_accounts SET balance = balance + (SELECT amount - charged FROM "
        "credit_holds WHERE id = ?1), updated_at = ?2 WHERE user_id = ?3 AND EXISTS (SELECT 1 "
        "FROM credit_holds WHERE id = ?1 AND settle_token = ?4)",
        json::array({hold.id, now, hold.user_id, token}));
    stmts.emplace_back(
        "INSERT INTO credit_ledger (id, user_id, delta, balance_after, kind, ref, request_id, "
        "created_at) SELECT ?1, a.user_id, h.amount - h.charged, a.balance, 'settle', h.id, ?2, "
        "?3 FROM credit_holds h JOIN credit_accounts a ON a.user_id = h.user_id "
        "WHERE h.id = ?4 AND h.settle_token = ?5 AND h.amount <> h.charged",
        json::array({ledger_id, ctx.request_id, now, hold.id, token}));
    stmts.push_back(usage_insert(usage, out.usage_id, ctx.request_id, now, "charged",
                                 "FROM credit_holds WHERE id = ?13 AND settle_token = ?14",
                                 json::array({hold.id, token})));
    stmts.emplace_back(
        "SELECT balance, (SELECT charged FROM credit_holds WHERE id = ?1 AND settle_token = ?2) "
        "AS charged FROM credit_accounts WHERE user_id = ?3",
        json::array({hold.id, token, hold.user_id}));
  }
  Result<std::vector<BatchItem>> r = co_await d1_batch(ctx, std::move(stmts));
  if (!r.ok()) co_return r.take_error();
  const json* row = last_row(r.value());
  if (row == nullptr) co_return api_error(Err::users_not_found);
  out.balance = get_int(*row, "balance").value_or(0);
  std::optional<int64_t> charged = get_int(*row, "charged");
  if (!charged) {
    co_return api_error(Err::credits_already_settled);
  }
  out.charged = *charged;
  co_return out;
}

Task<Result<Charge>> debit_credits(Ctx& ctx, UsageRecord usage) {
  Charge out;
  out.usage_id = co_await new_id(ctx, "use_");
  const std::string ledger_id = co_await new_id(ctx, "led_");
  const int64_t now = now_ms(ctx);
  const int64_t cost = std::max<int64_t>(usage.cost, 0);
  std::vector<Stmt> stmts;
  push_ensure_account(stmts, ctx, usage.user_id);
  // The usage row is the guard: it exists only if the balance covered the cost.
  stmts.push_back(usage_insert(usage, out.usage_id, ctx.request_id, now, "?10",
                               "FROM credit_accounts WHERE user_id = ?2 AND balance >= ?10",
                               json::array()));
  stmts.emplace_back(
      "UPDATE credit_accounts SET balance = balance - ?1, updated_at = ?2 "
      "WHERE user_id = ?3 AND ?1 > 0 AND EXISTS (SELECT 1 FROM usage_events WHERE id = ?4)",
      json::array({cost, now, usage.user_id, out.usage_id}));
  stmts.emplace_back(
      "INSERT INTO credit_ledger (id, user_id, delta, balance_after, kind, ref, request_id, "
      "created_at) SELECT ?1, user_id, -?2, balance, 'debit', ?3, ?4, ?5 FROM credit_accounts "
      "WHERE user_id = ?6 AND ?2 > 0 AND EXISTS (SELECT 1 FROM usage_events WHERE id = ?3)",
      json::array({ledger_id, cost, out.usage_id, ctx.request_id, now, usage.user_id}));
  stmts.emplace_back(
      "SELECT balance, EXISTS (SELECT 1 FROM usage_events WHERE id = ?1) AS debited "
      "FROM credit_accounts WHERE user_id = ?2",
      json::array({out.usage_id, usage.user_id}));
  Result<std::vector<BatchItem>> r = co_await d1_batch(ctx, std::move(stmts));
  if (!r.ok()) co_return r.take_error();
  const json* row = last_row(r.value());
  if (row == nullptr) co_return api_error(Err::users_not_found);
  out.balance = get_int(*row, "balance").value_or(0);
  if (get_int(*row, "debited").value_or(0) != 1) co_return insufficient(cost, out.balance);
  out.charged = cost;
  co_return out;
}

Task<Result<Adjustment>> adjust_credits(Ctx& ctx, std::string user_id, int64_t amount, bool set,
                                        std::string reason) {
  Adjustment out;
  out.entry_id = co_await new_id(ctx, "led_");
  const int64_t now = now_ms(ctx);
  std::vector<Stmt> stmts;
  push_ensure_account(stmts, ctx, user_id);
  // The ledger row goes first and is the guard: it is written only when the new balance is in
  // range, and the balance changes only if it was.
  const char* new_balance = set ? "?2" : "balance + ?2";
  std::string insert =
      "INSERT INTO credit_ledger (id, user_id, delta, balance_after, kind, reason, request_id, "
      "created_at) SELECT ?1, user_id, " +
      std::string(new_balance) + " - balance, " + new_balance +
      ", 'adjust', ?3, ?4, ?5 FROM credit_accounts WHERE user_id = ?6 AND " + new_balance +
      " BETWEEN 0 AND ?7";
  stmts.emplace_back(insert, json::array({out.entry_id, amount, reason, ctx.request_id, now,
                                          user_id, kMaxCreditMicros}));
  stmts.emplace_back(
      "UPDATE credit_accounts SET balance = (SELECT balance_after FROM credit_ledger WHERE id = "
      "?1), updated_at = ?2 WHERE user_id = ?3 AND EXISTS (SELECT 1 FROM credit_ledger WHERE id "
      "= ?1)",
      json::array({out.entry_id, now, user_id}));
  stmts.emplace_back(
      "SELECT a.balance, l.delta FROM credit_accounts a LEFT JOIN credit_ledger l ON l.id = ?1 "
      "WHERE a.user_id = ?2",
      json::array({out.entry_id, user_id}));
  Result<std::vector<BatchItem>> r = co_await d1_batch(ctx, std::move(stmts));
  if (!r.ok()) co_return r.take_error();
  const json* row = last_row(r.value());
  if (row == nullptr) co_return api_error(Err::users_not_found);
  out.balance = get_int(*row, "balance").value_or(0);
  std::optional<int64_t> delta = get_int(*row, "delta");
  if (!delta) {
    ApiError e =
        api_error(Err::credits_would_go_negative,
                  "The balance cannot go below zero (it is " + format_credits(out.balance) + ")");
    e.fields = {{"balance", credits_json(out.balance)}};
    co_return e;
  }
  out.delta = *delta;
  co_return out;
}

Task<Result<int64_t>> release_expired_holds(Ctx& ctx, int64_t now, int64_t batch) {
  const std::string token = co_await new_id(ctx, "rel_");
  std::vector<Stmt> stmts;
  stmts.emplace_back(
      "UPDATE credit_holds SET settled_at = ?1, settle_token = ?2, charged = 0 WHERE id IN "
      "(SELECT id FROM credit_holds WHERE settled_at IS NULL AND expires_at < ?1 LIMIT ?3)",
      json::array({now, token, batch}));
  // One row per user, written before the balance moves so its balance_after is computed from
  // the same starting point.
  stmts.emplace_back(
      "INSERT INTO credit_ledger (id, user_id, delta, balance_after, kind, ref, reason, "
      "created_at) SELECT ?1 || '_' || a.user_id, a.user_id, SUM(h.amount), a.balance + "
      "SUM(h.amount), 'release', ?1, 'unsettled holds expired: ' || COUNT(*), ?2 FROM "
      "credit_holds h JOIN credit_accounts a ON a.user_id = h.user_id WHERE h.settle_token = ?1 "
      "GROUP BY a.user_id",
      json::array({token, now}));
  stmts.emplace_back(
      "UPDATE credit_accounts SET balance = balance + (SELECT SUM(amount) FROM credit_holds h "
      "WHERE h.user_id = credit_accounts.user_id AND h.settle_token = ?1), updated_at = ?2 "
      "WHERE user_id IN (SELECT user_id FROM credit_holds WHERE settle_token = ?1)",
      json::array({token, now}));
  Result<std::vector<BatchItem>> r = co_await d1_batch(ctx, std::move(stmts));
  if (!r.ok()) co_return r.take_error();
  co_return r.value()[0].changes;
}

json ledger_entry_json(const json& row) {
  return {
      {"id", string_or(row, "id", "")},
      {"delta", credits_json(get_int(row, "delta").value_or(0))},
      {"balanceAfter", credits_json(get_int(row, "balance_after").value_or(0))},
      {"kind", string_or(row, "kind", "")},
      {"ref", row.contains("ref") && row["ref"].is_string() ? row["ref"] : json(nullptr)},
      {"reason",
       row.contains("reason") && row["reason"].is_string() ? row["reason"] : json(nullptr)},
      {"requestId", row.contains("request_id") && row["request_id"].is_string() ? row["request_id"]
                                                                                : json(nullptr)},
      {"createdAt", iso8601_ms(get_int(row, "created_at").value_or(0))}};
}

}  // namespace ec
