#include "billing/usage.hpp"

#include "billing/credit_amount.hpp"
#include "bindings/d1.hpp"
#include "core/json.hpp"
#include "core/time.hpp"
#include "http/page_cursor.hpp"
#include "http/validate.hpp"

#include <charconv>

namespace ec {

namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

std::optional<int> digits(std::string_view s, size_t pos, size_t n) {
  if (pos + n > s.size()) return std::nullopt;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

// The aggregates cover at most this many (day, provider, model) groups: years of daily use.
constexpr size_t kMaxDailyRows = 1000;

void append_filters(std::string& where, json& params, const UsageQuery& q) {
  auto add = [&](std::string_view clause, json value) {
    params.push_back(std::move(value));
    where.append(" AND ").append(clause).append(" ?").append(std::to_string(params.size()));
  };
  add("created_at >=", q.from_ms);
  add("created_at <", q.to_ms);
  if (!q.user_id.empty()) add("user_id =", q.user_id);
  if (!q.provider.empty()) add("provider =", q.provider);
  if (!q.model.empty()) add("model =", q.model);
  if (!q.kind.empty()) add("kind =", q.kind);
}

}  // namespace

std::optional<int64_t> parse_time_param(std::string_view t) {
  if (t.empty() || t.size() > 30) return std::nullopt;
  if (t.find('-') == std::string_view::npos) {
    int64_t ms = 0;
    auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), ms);
    if (ec != std::errc() || p != t.data() + t.size() || ms < 0) return std::nullopt;
    return ms;
  }
  auto y = digits(t, 0, 4), mo = digits(t, 5, 2), d = digits(t, 8, 2);
  if (!y || !mo || !d || t[4] != '-' || t[7] != '-' || *mo < 1 || *mo > 12 || *d < 1 || *d > 31)
    return std::nullopt;
  int64_t ms =
      days_from_civil(*y, static_cast<unsigned>(*mo), static_cast<unsigned>(*d)) * 86'400'000;
  if (t.size() == 10) return ms;
  auto h = digits(t, 11, 2), mi = digits(t, 14, 2), s = digits(t, 17, 2);
  if (t[10] != 'T' || !h || !mi || !s || t[13] != ':' || t[16] != ':' || *h > 23 || *mi > 59 ||
      *s > 60)
    return std::nullopt;
  ms += (int64_t{*h} * 3600 + int64_t{*mi} * 60 + *s) * 1000;
  size_t pos = 19;
  if (pos < t.size() && t[pos] == '.') {
    auto frac = digits(t, pos + 1, 3);
    if (!frac) return std::nullopt;
    ms += *frac;
    pos += 4;
  }
  if (pos + 1 != t.size() || t[pos] != 'Z') return std::nullopt;
  return ms;
}

json usage_event_json(const json& row) {
  return {{"id", string_or(row, "id", "")},
          {"userId", string_or(row, "user_id", "")},
          {"kind", string_or(row, "kind", "")},
          {"route", string_or(row, "route", "")},
          {"provider", string_or(row, "provider", "")},
          {"model", string_or(row, "model", "")},
          {"tokensIn", get_int(row, "tokens_in").value_or(0)},
          {"tokensOut", get_int(row, "tokens_out").value_or(0)},
          {"estimated", get_int(row, "estimated").value_or(0) != 0},
          {"cost", credits_json(get_int(row, "cost").value_or(0))},
          {"credits", credits_json(get_int(row, "charged").value_or(0))},
          {"requestId", string_or(row, "request_id", "")},
          {"createdAt", iso8601_ms(get_int(row, "created_at").value_or(0))}};
}

Task<Result<json>> usage_report(Ctx& ctx, UsageQuery q) {
  std::string where = "WHERE 1 = 1";
  json params = json::array();
  append_filters(where, params, q);

  std::string page_where = where;
  json page_params = params;
  if (!q.cursor.empty()) {
    std::optional<PageCursor> c = decode_page_cursor(q.cursor);
    if (!c) co_return field_error("cursor", "a nextCursor from a previous page");
    page_params.push_back(c->time_ms);
    page_params.push_back(c->id);
    const std::string a = std::to_string(page_params.size() - 1);
    const std::string b = std::to_string(page_params.size());
    page_where += " AND (created_at < ?" + a + " OR (created_at = ?" + a + " AND id < ?" + b + "))";
  }
  page_params.push_back(static_cast<int64_t>(q.limit + 1));

  std::vector<Stmt> stmts;
  stmts.emplace_back(
      "SELECT COUNT(*) AS calls, COALESCE(SUM(tokens_in), 0) AS tokens_in, "
      "COALESCE(SUM(tokens_out), 0) AS tokens_out, COALESCE(SUM(cost), 0) AS cost, "
      "COALESCE(SUM(charged), 0) AS charged FROM usage_events " +
          where,
      params);
  json daily_params = params;
  daily_params.push_back(static_cast<int64_t>(kMaxDailyRows));
  stmts.emplace_back(
      "SELECT date(created_at / 1000, 'unixepoch') AS day, provider, model, COUNT(*) AS calls, "
      "SUM(tokens_in) AS tokens_in, SUM(tokens_out) AS tokens_out, SUM(cost) AS cost, "
      "SUM(charged) AS charged FROM usage_events " +
          where + " GROUP BY day, provider, model ORDER BY day DESC, provider, model LIMIT ?" +
          std::to_string(daily_params.size()),
      daily_params);
  stmts.emplace_back("SELECT * FROM usage_events " + page_where +
                         " ORDER BY created_at DESC, id DESC LIMIT ?" +
                         std::to_string(page_params.size()),
                     page_params);
  Result<std::vector<BatchItem>> r = co_await d1_batch(ctx, std::move(stmts));
  if (!r.ok()) co_return r.take_error();
  std::vector<BatchItem>& items = r.value();

  auto sums = [](const json& row) {
    return json{{"calls", get_int(row, "calls").value_or(0)},
                {"tokensIn", get_int(row, "tokens_in").value_or(0)},
                {"tokensOut", get_int(row, "tokens_out").value_or(0)},
                {"cost", credits_json(get_int(row, "cost").value_or(0))},
                {"credits", credits_json(get_int(row, "charged").value_or(0))}};
  };
  json totals = items[0].rows.empty() ? sums(json::object()) : sums(items[0].rows.front());
  json daily = json::array();
  for (const json& row : items[1].rows) {
    json d = sums(row);
    d["day"] = string_or(row, "day", "");
    d["provider"] = string_or(row, "provider", "");
    d["model"] = string_or(row, "model", "");
    daily.push_back(std::move(d));
  }
  json events = json::array();
  std::vector<json>& rows = items[2].rows;
  json next = next_page_cursor(rows, q.limit);
  for (const json& row : rows) events.push_back(usage_event_json(row));
  co_return json{{"from", iso8601_ms(q.from_ms)},
                 {"to", iso8601_ms(q.to_ms)},
                 {"userId", q.user_id.empty() ? json(nullptr) : json(q.user_id)},
                 {"totals", std::move(totals)},
                 {"daily", std::move(daily)},
                 {"events", std::move(events)},
                 {"nextCursor", std::move(next)}};
}

}  // namespace ec
