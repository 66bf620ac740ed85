// Who may see or record whose usage, shared by the billing and admin routes.
#pragma once

#include "billing/credits.hpp"
#include "billing/usage.hpp"
#include "http/pipeline.hpp"

#include <string>

namespace ec {

struct UsageAccess {
  bool admin = false;
  std::string user_id;  // whose usage; "" = everyone's (admin only)
};

// For a user_or_admin route. With the admin key: anyone's (for_user, or all when null).
// Otherwise the signed-in user's own, and 403 billing.forbidden when for_user names someone else.
Result<UsageAccess> usage_access(const Call& call, const std::string* for_user);

// ?from=&to= (dates, ISO times or epoch ms; default the last 30 days), ?provider=&model=&kind=,
// ?limit= (1–200, default 50), ?cursor=.
// The query parameters of the usage report routes, declared on each of them.
extern const Schema kUsageQuery;
Result<UsageQuery> usage_query_from(const Call& call, const UsageAccess& who);

// GET usage report for the caller's access (usage_access + usage_query_from + usage_report): the
// one body of /api/billing/usage and /api/admin/usage.
Task<Result<Response>> usage_report_reply(Call& call);

// 200 {userId, entryId, delta, balance} + X-Credits-Balance for an admin adjustment.
Response adjustment_reply(const std::string& user_id, const Adjustment& adj);

// The user a body names by "userId", "username" or "email": 400 when it names none, 404 when no
// such user exists.
Task<Result<std::string>> resolve_user_ref(Ctx& ctx, const json& body);

}  // namespace ec
