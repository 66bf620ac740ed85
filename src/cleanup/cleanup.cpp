#include "cleanup/cleanup.hpp"

#include "cleanup/steps.hpp"
#include "core/env.hpp"
#include "http/validate.hpp"
#include "jobs/job_settings.hpp"
#include "jobs/job_types.hpp"

#include <algorithm>

namespace ec {

namespace {

constexpr int64_t kDayMs = 86400 * 1000;
// A presigned upload grant lives at most 24 h (seed_file_routes.cpp); a pending row a day older
// than that can never be completed.
constexpr int64_t kPendingUploadMaxAgeMs = 2 * kDayMs;

}  // namespace

CleanupPolicy cleanup_policy(const Ctx& ctx) {
  CleanupPolicy p;
  p.now_ms = static_cast<int64_t>(ctx.now_ms());
  // ≤ 1000: an R2 delete takes at most 1000 keys.
  p.batch = std::clamp<int64_t>(env_count(ctx, "CLEANUP_BATCH", p.batch), 1, 1000);
  p.scan = std::clamp<int64_t>(env_count(ctx, "CLEANUP_SCAN", p.scan), 1, 10000);
  p.usage_ttl_ms = env_int(ctx.env(), "USAGE_TTL_DAYS", 90) * kDayMs;
  p.job_ttl_ms = job_settings(ctx).ttl_days * kDayMs;
  p.orphan_grace_ms = env_count(ctx, "CLEANUP_ORPHAN_GRACE_SECONDS", 86400) * 1000;
  p.pending_upload_max_ms = kPendingUploadMaxAgeMs;
  return p;
}

std::vector<std::string_view> cleanup_step_names() {
  std::vector<std::string_view> names;
  for (const CleanupStep& s : cleanup_steps()) names.push_back(s.name);
  return names;
}

Result<std::vector<std::string>> parse_cleanup_steps(const json& body) {
  std::vector<std::string> only;
  if (!body.is_object()) return only;
  const json* steps = find(body, "steps");
  if (steps == nullptr || steps->is_null()) return only;
  std::string names;
  for (std::string_view n : cleanup_step_names())
    names += (names.empty() ? "" : ", ") + std::string(n);
  if (!steps->is_array() || steps->empty() || steps->size() > cleanup_steps().size()) {
    return field_error("steps", "a non-empty array of step names: " + names);
  }
  for (const json& s : *steps) {
    const std::vector<std::string_view> known = cleanup_step_names();
    if (!s.is_string() ||
        std::find(known.begin(), known.end(), s.get_ref<const std::string&>()) == known.end()) {
      return field_error("steps", "each one of: " + names);
    }
    only.push_back(s.get<std::string>());
  }
  return only;
}

Task<Result<json>> run_cleanup(Ctx& ctx, std::vector<std::string> only,
                               std::optional<JobTicket> ticket) {
  const CleanupPolicy policy = cleanup_policy(ctx);
  std::vector<CleanupStep> steps;
  for (const CleanupStep& s : cleanup_steps()) {
    if (only.empty() || std::find(only.begin(), only.end(), s.name) != only.end()) {
      steps.push_back(s);
    }
  }
  json removed = json::object();
  json more = json::array();
  json errors = json::object();
  size_t failed = 0;
  std::optional<ApiError> first_error;
  for (size_t i = 0; i < steps.size(); ++i) {
    const std::string name(steps[i].name);
    if (ticket) {
      Status go_on = co_await job_checkpoint(
          ctx, *ticket, static_cast<double>(i) / static_cast<double>(steps.size()), name);
      if (!go_on.ok()) co_return go_on.take_error();
    }
    Result<CleanupStepResult> r = co_await steps[i].run(ctx, policy);
    if (!r.ok()) {
      errors[name] = r.error().code;
      ++failed;
      if (!first_error) first_error = r.take_error();
      continue;
    }
    removed[name] = r.value().removed;
    if (r.value().more) more.push_back(name);
  }
  // Nothing worked (storage down): an error, so a cleanup job is retried.
  if (!steps.empty() && failed == steps.size()) co_return *first_error;
  co_return json{{"removed", removed}, {"more", more}, {"errors", errors}};
}

Task<Result<json>> run_cleanup_job(Ctx& ctx, JobRecord job) {
  Result<std::vector<std::string>> only = parse_cleanup_steps(job.payload);
  if (!only.ok()) co_return api_error(Err::jobs_malformed, "The cleanup job's steps are invalid");
  co_return co_await run_cleanup(ctx, std::move(only.value()), ticket_of(job));
}

bool add_cleanup_job_type() {
  return add_job_type({"cleanup", run_cleanup_job, nullptr, nullptr, /*admin_only=*/true});
}

}  // namespace ec
