#include "jobs/job_settings.hpp"

#include "core/env.hpp"

#include <algorithm>

namespace ec {

JobSettings job_settings(const Ctx& ctx) {
  JobSettings s;
  s.max_attempts = std::clamp<int64_t>(env_count(ctx, "JOB_MAX_ATTEMPTS", s.max_attempts), 1, 20);
  s.retry_base_s = env_count(ctx, "JOB_RETRY_BASE_SECONDS", s.retry_base_s);
  s.retry_max_s = env_count(ctx, "JOB_RETRY_MAX_SECONDS", s.retry_max_s);
  s.lease_s = std::max<int64_t>(env_count(ctx, "JOB_LEASE_SECONDS", s.lease_s), 30);
  s.ttl_days = std::max<int64_t>(env_count(ctx, "JOB_TTL_DAYS", s.ttl_days), 1);
  return s;
}

int64_t retry_delay_s(const JobSettings& s, int64_t attempt) {
  int64_t delay = s.retry_base_s;
  for (int64_t i = 1; i < attempt && delay < s.retry_max_s; ++i) delay *= 2;
  return std::min(delay, s.retry_max_s);
}

}  // namespace ec
