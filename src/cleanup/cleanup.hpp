// Cleanup: removes what has expired and what nothing points at any more. Run by the cron trigger
// (as a "cleanup" job), by POST /api/admin/cleanup (inline), or as a job an admin creates.
//
// Every step is bounded (CLEANUP_BATCH rows, a window of a table, a page of the bucket), so one
// run never takes long; a step that hit its bound says so in `more` and the next run continues.
// Steps, in order (the names are the keys of the result's `removed`):
//   refreshTokens    refresh tokens past expires_at (used or not; an unexpired used token stays:
//                    it is how a replayed refresh token is recognised)
//   sessions         sessions past expires_at (their tokens go with them)
//   usedGrants       one-time presigned-upload grant ids past their expiry
//   pendingUploads   `files` rows still 'pending' a day after the longest grant could have used
//                    them, with any partial object in R2
//   usageEvents      usage_events older than USAGE_TTL_DAYS (90)
//   idempotencyKeys  idempotency_keys past expires_at
//   creditHolds      (billing, to come) holds never settled, past expires_at: the slot is marked in
//                    cleanup/steps.cpp cleanup_steps()
//   jobs             finished jobs whose finished_at is older than JOB_TTL_DAYS (30)
//   streams          resumable-stream records past expires_at (their logs expire on their own)
//   orphanChunks     chunks of a generation that is neither live nor being built (a build that
//                    died), with their vectors in Vectorize; a window of CLEANUP_SCAN rows per run
//   orphanGraph      graph rows of such generations, likewise
//   vectorTombstones Vectorize ids of deleted documents and replaced generations whose delete
//                    failed (vector_tombstones): deleted again
//   orphanObjects    R2 objects no file or document points at, uploaded more than
//                    CLEANUP_ORPHAN_GRACE_SECONDS (86400) ago: a page of the bucket per run, the
//                    listing's cursor kept in maintenance_state
#pragma once

#include "core/context.hpp"
#include "core/error.hpp"
#include "core/task.hpp"
#include "jobs/job_runner.hpp"
#include "jobs/job_store.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ec {

// What every step reads, fixed at the start of a run.
struct CleanupPolicy {
  int64_t now_ms = 0;
  int64_t batch = 500;                // CLEANUP_BATCH: rows one step deletes per run
  int64_t scan = 2000;                // CLEANUP_SCAN: rows an orphan scan examines per run
  int64_t usage_ttl_ms = 0;           // USAGE_TTL_DAYS
  int64_t job_ttl_ms = 0;             // JOB_TTL_DAYS
  int64_t orphan_grace_ms = 0;        // CLEANUP_ORPHAN_GRACE_SECONDS
  int64_t pending_upload_max_ms = 0;  // a pending upload older than this cannot complete
};
CleanupPolicy cleanup_policy(const Ctx& ctx);

struct CleanupStepResult {
  int64_t removed = 0;
  bool more = false;  // stopped at its bound: the next run continues
};
using CleanupStepFn = Task<Result<CleanupStepResult>> (*)(Ctx& ctx, CleanupPolicy p);

struct CleanupStep {
  std::string_view name;
  CleanupStepFn run;
};

// The step names, in the order they run.
std::vector<std::string_view> cleanup_step_names();

// Runs the steps (all, or those named in `only`), checkpointing between steps when a job runs
// it. Result: {"removed": {step: n}, "more": [steps], "errors": {step: code}}. A step that fails
// is reported and the others still run; when every step fails, the first error is returned (so
// the job is retried). 400 for an unknown step name.
Task<Result<json>> run_cleanup(Ctx& ctx, std::vector<std::string> only,
                               std::optional<JobTicket> ticket);

// The "cleanup" job type: payload {steps?: [names]}; admin and cron only. add_cleanup_job_type
// adds it to the engine's job types (app_init, at start-up).
Task<Result<json>> run_cleanup_job(Ctx& ctx, JobRecord job);
bool add_cleanup_job_type();

// Validates {steps?: [names]} (the job payload and the admin route's body).
Result<std::vector<std::string>> parse_cleanup_steps(const json& body);

}  // namespace ec
