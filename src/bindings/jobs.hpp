// Background jobs: the core describes the work as JSON and the shim delivers it later to the
// internal route /internal/jobs/run — through the JOBS queue when it is bound (retries, 15 minutes
// of wall time per message), else through waitUntil after the response.
#pragma once

#include "core/context.hpp"
#include "core/error.hpp"
#include "core/task.hpp"

namespace ec {

// body: {"kind": "...", ...}. 503 "jobs.unavailable" when neither path exists.
Task<Status> enqueue_job(Ctx& ctx, json body);

// True when the request carries the shim's per-instance internal token (EDGECHAT_INTERNAL_TOKEN,
// compared in constant time): only then may /internal/* routes run.
bool is_internal_request(const Ctx& ctx);

}  // namespace ec
