// Background work: the core hands the shim a message ({"jobId"}, see jobs/job_store.hpp) and the
// shim delivers it later to the internal route /internal/jobs/run — through the JOBS queue when it
// is bound (15 minutes of wall time per message), else through waitUntil after the response.
#pragma once

#include "core/context.hpp"
#include "core/error.hpp"
#include "core/task.hpp"

namespace ec {

// Delivers `body` after delay_s seconds (Queues' delaySeconds, ≤ 12 h). Without a queue, a
// delayed message is not sent at all ("deferred": the cron sweeper runs the job when it is due)
// and an immediate one runs through waitUntil. 503 "jobs.unavailable" when the send failed.
Task<Status> enqueue_job(Ctx& ctx, json body, int64_t delay_s = 0);

// True when the request carries the shim's per-instance internal token (EDGECHAT_INTERNAL_TOKEN,
// compared in constant time): only then may /internal/* routes run.
bool is_internal_request(const Ctx& ctx);

}  // namespace ec
