// The internal route the shim calls to run background jobs (queue messages, or waitUntil when no
// queue is bound). Refused with 404 — as if it did not exist — without the shim's per-instance
// token, so no client can trigger or forge a job.
#include "api/routes.hpp"
#include "bindings/jobs.hpp"
#include "rag/ingest.hpp"

namespace ec {

namespace {

Task<Result<Response>> run_job(Call& call) {
  if (!is_internal_request(call.ctx)) {
    co_return api_error(404, "http.not_found", "No route matches this path");
  }
  std::string kind = string_or(call.body, "kind", "");
  if (kind == "ingest") {
    Status s = co_await run_ingest_job(call.ctx, call.body);
    if (!s.ok()) co_return s.take_error();
    co_return json_reply(200, {{"done", true}});
  }
  co_return api_error(400, "jobs.unknown_kind", "Unknown job kind");
}

}  // namespace

bool add_job_routes(HttpApp& app) {
  // The shim's own requests: limiting them would only fail jobs the user was already admitted for.
  return app.add(
      in_rate_group(kRateExempt, {Method::Post, "/internal/jobs/run", run_job, BodyKind::kJson}));
}

}  // namespace ec
