// What each job type does. The runner (job_runner.hpp) owns states, leases and retries; a type
// only says how to run one attempt and how to let go of what it holds when it will not run again.
//
// The engine names no domain's type: each domain adds its own at start-up, the way routes are
// added (app_init in api/app.cpp):
//   ingest   build a document's queued generation (rag/document_jobs.hpp)
//   reindex  rebuild a document's chunks and vectors as a new generation (rag/document_jobs.hpp)
//   cleanup  remove expired and orphaned data (cleanup/cleanup.hpp); admin and cron only
// and one is the engine's own:
//   test     only with EDGECHAT_TEST_HOOKS=1: checkpoints, then fails as told (admin only)
#pragma once

#include "core/context.hpp"
#include "core/error.hpp"
#include "core/task.hpp"
#include "jobs/job_store.hpp"

#include <string>
#include <string_view>

namespace ec {

// One attempt. `job` is the claimed row (job.attempts is this attempt's number). The JSON is
// stored as the job's result. An error is classified by the runner: 5xx is transient (retried with
// backoff while attempts remain, then dead), anything else permanent (failed at once);
// "jobs.cancelled" ends the job as cancelled, "jobs.lease_lost" leaves it to the attempt that
// now owns it. Handlers call job_checkpoint (job_runner.hpp) between steps.
using JobRunFn = Task<Result<json>> (*)(Ctx& ctx, JobRecord job);
// The job will not run again (cancelled while queued, or its last attempt died without a word):
// release what it holds on other records, e.g. a document's `building` generation. May be null.
using JobAbandonFn = Task<Status> (*)(Ctx& ctx, JobRecord job, ApiError why);
// Before a finished job is retried by hand: take back what abandon released. 409 when that is no
// longer possible (the document moved on). May be null.
using JobRearmFn = Task<Status> (*)(Ctx& ctx, JobRecord job);

struct JobType {
  std::string_view name;
  JobRunFn run;
  JobAbandonFn abandon = nullptr;
  JobRearmFn rearm = nullptr;
  bool admin_only = false;  // created only with the admin key (and by the cron)
};

// Start-up (app_init): clear_job_types forgets an earlier init's types, then each domain adds its
// own. add_job_type refuses (false) an empty or taken name, "test" included, as a route table
// refuses a duplicate route. Types are listed in the order they were added.
void clear_job_types();
bool add_job_type(const JobType& type);

// nullptr for an unknown type (and for "test" unless EDGECHAT_TEST_HOOKS=1).
const JobType* find_job_type(const Ctx& ctx, std::string_view name);
// The added types' names, "ingest, reindex, cleanup" (plus "test" with the hooks), for
// validation messages.
std::string job_type_names(const Ctx& ctx);

}  // namespace ec
