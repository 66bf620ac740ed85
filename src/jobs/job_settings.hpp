// Job and cleanup knobs, read from the Worker's env (README "Jobs" lists them with defaults).
#pragma once

#include "core/context.hpp"

#include <cstdint>

namespace ec {

struct JobSettings {
  int64_t max_attempts = 4;    // JOB_MAX_ATTEMPTS: tries before a job is dead
  int64_t retry_base_s = 10;   // JOB_RETRY_BASE_SECONDS: the first retry's delay, doubled per retry
  int64_t retry_max_s = 3600;  // JOB_RETRY_MAX_SECONDS: the backoff's cap
  int64_t lease_s = 600;  // JOB_LEASE_SECONDS: a running attempt's claim, renewed per checkpoint
  int64_t ttl_days = 30;  // JOB_TTL_DAYS: finished jobs are kept this long
};
JobSettings job_settings(const Ctx& ctx);

// The delay before retrying after failed attempt number `attempt` (1-based): base · 2^(attempt−1),
// at most retry_max_s. No jitter: the core is deterministic, and jobs are few and independent.
int64_t retry_delay_s(const JobSettings& s, int64_t attempt);

// Cloudflare Queues delays a message by at most 12 hours; a job due later is delivered by the
// cron sweeper (job_runner.hpp deliver_stale_jobs) instead.
inline constexpr int64_t kMaxQueueDelaySeconds = 12 * 3600;

}  // namespace ec
