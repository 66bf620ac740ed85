#include "api/caller.hpp"
#include "api/gateway.hpp"
#include "api/routes.hpp"
#include "bindings/d1.hpp"

namespace ec {

namespace {

Task<Result<Response>> health(Call&) {
  co_return json_reply(200, {{"status", "ok"}, {"version", kVersion}});
}

// Ready = D1 answers and has every migration this core expects.
Task<Result<Response>> ready(Call& call) {
  Result<json> row = co_await d1_first(
      call.ctx, Stmt{"SELECT name FROM d1_migrations ORDER BY id DESC LIMIT 1", json::array()});
  if (!row.ok()) {
    co_return api_error(Err::ready_d1_unavailable);
  }
  std::string latest = string_or(row.value(), "name", "");
  if (latest < std::string(kLatestMigration)) {
    ApiError e = api_error(Err::ready_migrations_pending);
    e.fields = {{"expected", kLatestMigration}, {"applied", latest}};
    co_return e;
  }
  co_return json_reply(200,
                       {{"status", "ready"}, {"checks", {{"d1", "ok"}, {"migrations", latest}}}});
}

}  // namespace

bool add_health_routes(HttpApp& app) {
  // Probes: a monitor polling them must never be refused.
  return add_routes(
      app,
      {
          get("/health", health)
              .anyone()
              .rate(kRateExempt)
              .doc("Liveness: the Worker and its core answer", {"Health"})
              .answers(200, "Health"),
          get("/ready", ready)
              .anyone()
              .rate(kRateExempt)
              .doc("Readiness: D1 answers and has every migration this core expects", {"Health"})
              .answers(200, "Ready")
              .errors({"ready.d1_unavailable", "ready.migrations_pending"}),
      });
}

}  // namespace ec
