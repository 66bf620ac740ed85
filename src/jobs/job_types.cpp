#include "jobs/job_types.hpp"

#include "core/test_hooks.hpp"
#include "jobs/job_runner.hpp"

#include <vector>

namespace ec {

namespace {

// The test type (EDGECHAT_TEST_HOOKS=1 only): payload {steps, failAttempts, permanent}. It passes
// `steps` checkpoints, then fails with a 503 while attempts ≤ failAttempts, or with a 422 when
// permanent — so tests can drive retries, dead-lettering and cancellation through the real runner.
Task<Result<json>> run_test_job(Ctx& ctx, JobRecord job) {
  const int64_t steps = std::min<int64_t>(get_int(job.payload, "steps").value_or(0), 100);
  for (int64_t i = 1; i <= steps; ++i) {
    Status s =
        co_await job_checkpoint(ctx, ticket_of(job), static_cast<double>(i) / (steps + 1),
                                "step " + std::to_string(i) + " of " + std::to_string(steps));
    if (!s.ok()) co_return s.take_error();
  }
  if (job.attempts <= get_int(job.payload, "failAttempts").value_or(0)) {
    co_return api_error(Err::test_transient);
  }
  if (get_bool(job.payload, "permanent").value_or(false)) {
    co_return api_error(Err::test_permanent);
  }
  co_return json{{"attempt", job.attempts}, {"steps", steps}};
}

constexpr JobType kTestType = {"test", run_test_job, nullptr, nullptr, true};

bool test_hooks(const Ctx& ctx) {
  return test_hooks_built() && ctx.env("EDGECHAT_TEST_HOOKS") == "1";
}

// Per instance, like the route table: filled by app_init, read by every request after it.
std::vector<JobType>& registered_types() {
  static std::vector<JobType> types;
  return types;
}

}  // namespace

void clear_job_types() { registered_types().clear(); }

bool add_job_type(const JobType& type) {
  if (type.name.empty() || type.run == nullptr || type.name == kTestType.name) return false;
  for (const JobType& t : registered_types()) {
    if (t.name == type.name) return false;
  }
  registered_types().push_back(type);
  return true;
}

const JobType* find_job_type(const Ctx& ctx, std::string_view name) {
  for (const JobType& t : registered_types()) {
    if (t.name == name) return &t;
  }
  if (name == kTestType.name && test_hooks(ctx)) return &kTestType;
  return nullptr;
}

std::string job_type_names(const Ctx& ctx) {
  std::string out;
  for (const JobType& t : registered_types()) {
    if (!out.empty()) out += ", ";
    out += t.name;
  }
  if (test_hooks(ctx)) out += ", test";
  return out;
}

}  // namespace ec
