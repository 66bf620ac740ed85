// Running jobs: the state machine of migration 0005_jobs.sql, owned here so that the queue (which
// only carries {"jobId"}), the admin's POST /api/jobs/run and the cron all run jobs the same way.
//
//   claim      one UPDATE … RETURNING: a queued job that is due, or a running one whose lease ran
//              out (its attempt died). attempts += 1; lease_until = now + JOB_LEASE_SECONDS.
//   run        the type's handler, which checkpoints progress (renewing the lease and noticing a
//              cancel request) between steps.
//   finish     ok → succeeded · a 4xx → failed · a 5xx → queued again after
//              JOB_RETRY_BASE_SECONDS · 2^(attempt−1) (capped), or dead after max_attempts ·
//              jobs.cancelled → cancelled. Every write is fenced by (state 'running', attempts),
//              so an attempt that lost its lease can no longer change the row.
#pragma once

#include "bindings/d1.hpp"
#include "core/context.hpp"
#include "core/error.hpp"
#include "core/task.hpp"
#include "jobs/job_store.hpp"

#include <string>
#include <vector>

namespace ec {

// Who is running: the job and the attempt number that fences its writes.
struct JobTicket {
  std::string id;
  int64_t attempt = 0;
};
inline JobTicket ticket_of(const JobRecord& j) { return {j.id, j.attempts}; }

// Two statements a handler may add to its own D1 batch (so progress commits with the work it
// describes): the progress update, which also renews the lease, then a probe for a cancel request.
// job_checkpoint_status reads their results at items[first] and items[first + 1].
Stmt job_progress_stmt(const Ctx& ctx, const JobTicket& t, double progress, std::string_view note);
Stmt job_cancel_probe(const JobTicket& t);
// ok, or 409 "jobs.cancelled" (stop: the runner records it), or 409 "jobs.lease_lost" (stop: the
// row belongs to a newer attempt).
Status job_checkpoint_status(const std::vector<BatchItem>& items, size_t first);
// Both statements as one batch: for handlers with no batch of their own at that point.
Task<Status> job_checkpoint(Ctx& ctx, JobTicket t, double progress, std::string note);

struct JobRunOutcome {
  JobRecord job;     // the row afterwards
  bool ran = false;  // false: not claimable now (finished, not yet due, or running elsewhere)
};
// Claims and runs one job. force: run a queued job even before its run_after (the admin's
// POST /api/jobs/run {jobId}). 404 when there is no such job.
Task<Result<JobRunOutcome>> run_job(Ctx& ctx, std::string id, bool force);
// Runs due jobs (oldest run_after first) until `limit` ran or about 20 s have passed.
Task<Result<std::vector<JobRunOutcome>>> run_due_jobs(Ctx& ctx, size_t limit);
// The sweeper (cron), for jobs that should be running but that nothing is running — queued and due,
// or holding an expired lease. Due for over ten minutes (a message sent again by an earlier tick
// did not start it: the queue is not delivering), it runs them itself, a few per tick within the
// run budget; due for over a minute (its message was lost, or it was due later than a queue delay
// can reach), it sends a queue message again, up to `limit`.
struct SweepOutcome {
  int64_t delivered = 0;
  std::vector<JobRunOutcome> ran;
};
Task<Result<SweepOutcome>> sweep_stale_jobs(Ctx& ctx, size_t limit);

// Cancels: a queued job at once (its type's abandon hook runs); a running one is flagged and stops
// at its next checkpoint. 409 "jobs.finished" for a finished job.
Task<Result<JobRecord>> cancel_job(Ctx& ctx, JobRecord job);
// Puts a failed, dead or cancelled job back in the queue with fresh attempts (its type's rearm hook
// runs first). 409 "jobs.not_retryable" otherwise.
Task<Result<JobRecord>> retry_job(Ctx& ctx, JobRecord job);

}  // namespace ec
