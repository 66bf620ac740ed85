// Usage reports (GET /api/billing/usage and the admin view): the metered calls in a time range,
// filtered by user, provider, model and kind, with totals and per-day aggregates over the whole
// range and the events themselves a page at a time (newest first, opaque cursor).
#pragma once

#include "core/context.hpp"
#include "core/error.hpp"
#include "core/task.hpp"

#include <optional>
#include <string>

namespace ec {

struct UsageQuery {
  std::string user_id;  // "" = every user (admin only)
  int64_t from_ms = 0;  // inclusive
  int64_t to_ms = 0;    // exclusive
  std::string provider, model, kind;
  size_t limit = 50;
  std::string cursor;  // from a previous page's nextCursor
};

// "2026-11-01" (UTC midnight), "2026-11-01T12:30:00Z" / "…00.250Z", or epoch milliseconds.
std::optional<int64_t> parse_time_param(std::string_view text);

// {from, to, totals:{calls,tokensIn,tokensOut,credits,cost}, daily:[{day,provider,model,…}],
//  events:[…], nextCursor}. 400 for a bad cursor.
Task<Result<json>> usage_report(Ctx& ctx, UsageQuery q);

json usage_event_json(const json& row);

}  // namespace ec
