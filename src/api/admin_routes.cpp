// Admin (seed 003): guarded by the X-Admin-Key (or X-Admin-Token) header, compared in constant
// time with ADMIN_KEY (auth/admin.hpp): 401 without a key, 403 with a wrong one.
//   GET  /api/admin/ping      → {ok, time, version} (time: epoch ms; ISO 8601 under /api/v1)
//   POST /api/admin/cleanup   {steps?: [names]} → runs cleanup now (cleanup/cleanup.hpp) →
//                             {ok, removed: {step: n}, more: [steps], errors: {step: code}}
// The same under /api/v1/admin/*. (The admin user and usage routes live in admin_user_routes.cpp.)
#include "api/caller.hpp"
#include "api/gateway.hpp"
#include "api/routes.hpp"
#include "api/time_format.hpp"
#include "auth/admin.hpp"
#include "cleanup/cleanup.hpp"

namespace ec {

namespace {

const Schema kCleanupSchema = {field("steps").array()};

Task<Result<Response>> do_ping(Call& call) {
  const json time = time_json(static_cast<int64_t>(call.ctx.now_ms()), answer_time_format(call));
  co_return json_reply(200, {{"ok", true}, {"time", time}, {"version", kVersion}});
}

Task<Result<Response>> do_cleanup(Call& call) {
  Result<std::vector<std::string>> only = parse_cleanup_steps(call.body);
  if (!only.ok()) co_return only.take_error();
  Result<json> done = co_await run_cleanup(call.ctx, std::move(only.value()), std::nullopt);
  if (!done.ok()) co_return done.take_error();
  json body = std::move(done.value());
  body["ok"] = true;
  co_return json_reply(200, body);
}

}  // namespace

bool add_admin_routes(HttpApp& app) {
  // Their own rate-limit group, so an operator can size it (RATE_LIMITS {"admin": …}) apart from
  // users' traffic.
  const auto cleanup_route = [](std::string_view pattern,
                                std::initializer_list<std::string_view> tags) {
    return post(pattern, do_cleanup)
        .admin()
        .rate(kRateAdmin)
        .optional_json(kCleanupSchema)
        .strict()
        .doc("Run the cleanup steps now", tags)
        .details(
            "Each step removes a batch of what has expired (sessions, holds, pending "
            "uploads, orphans …); `more` lists the steps to run again. An error only when "
            "every step failed.")
        .answers(200, "CleanupReport")
        .errors({"storage.unavailable", "vectors.unavailable"});
  };
  return add_routes(app,
                    {
                        get("/api/admin/ping", do_ping)
                            .admin()
                            .rate(kRateAdmin)
                            .doc("Check the admin key (seed 003; epoch ms)", {"Admin", "Seed 003"})
                            .answers(200, "Seed003AdminPing"),
                        get("/api/v1/admin/ping", do_ping)
                            .admin()
                            .rate(kRateAdmin)
                            .doc("Check the admin key", {"Admin"})
                            .answers(200, "AdminPing"),
                        cleanup_route("/api/admin/cleanup", {"Admin", "Seed 003"}),
                        cleanup_route("/api/v1/admin/cleanup", {"Admin"}),
                    });
}

}  // namespace ec
