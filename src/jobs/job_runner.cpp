#include "jobs/job_runner.hpp"

#include "jobs/job_settings.hpp"
#include "jobs/job_types.hpp"

#include <algorithm>

namespace ec {

namespace {

// A run of due jobs inside one request stops starting new ones after this long (a Worker request
// has 30 s of CPU; the queue consumer, which runs one job per message, is not bounded by this).
constexpr double kRunBudgetMs = 20000;
// The sweeper leaves a due job alone this long after it became due: its own message is likely
// still on the way.
constexpr int64_t kStaleAfterMs = 60000;
// A job due this long has outlived a re-sent message (ticks are 15 minutes apart): the queue is not
// delivering — Miniflare's local broker dispatches one batch at a time and stalls for good behind a
// consumer invocation that never returns — so the tick runs it itself instead of sending it into
// the same queue again.
constexpr int64_t kRunInSweepAfterMs = 10 * 60 * 1000;
// Jobs one tick runs itself, at most (each may take the whole run budget).
constexpr size_t kSweepRunsPerTick = 5;

int64_t now_ms(const Ctx& ctx) { return static_cast<int64_t>(ctx.now_ms()); }

ApiError cancelled_error() { return api_error(Err::jobs_cancelled); }

// The fenced end of an attempt: only the attempt that holds the row may write it.
// uncount: the claim that found a dead attempt counted one more; the row shows the real tries.
Stmt finish_stmt(const Ctx& ctx, const JobRecord& job, std::string_view state,
                 const ApiError& error, bool uncount = false) {
  return Stmt(std::string("UPDATE jobs SET state = ?3, error_code = ?4, error_message = ?5, "
                          "lease_until = NULL, finished_at = ?6, updated_at = ?6") +
                  (uncount ? ", attempts = attempts - 1" : "") +
                  " WHERE id = ?1 AND attempts = ?2 AND state = 'running'",
              {job.id, job.attempts, std::string(state), error.code, error.message, now_ms(ctx)});
}

// Ends a job that will not run again without running it, releasing what it holds.
Task<Status> give_up(Ctx& ctx, const JobType* type, JobRecord job, std::string state, ApiError why,
                     bool uncount_attempt) {
  if (type != nullptr && type->abandon != nullptr) {
    Status released = co_await type->abandon(ctx, job, why);
    if (!released.ok()) co_return released;
  }
  Result<RunMeta> r = co_await d1_run(ctx, finish_stmt(ctx, job, state, why, uncount_attempt));
  if (!r.ok()) co_return r.take_error();
  co_return ok_status();
}

Task<Status> record_outcome(Ctx& ctx, JobRecord job, Result<json> out) {
  if (out.ok()) {
    Result<RunMeta> r = co_await d1_run(
        ctx, Stmt("UPDATE jobs SET state = 'succeeded', result = ?3, progress = 1, "
                  "error_code = NULL, error_message = NULL, lease_until = NULL, finished_at = ?4, "
                  "updated_at = ?4 WHERE id = ?1 AND attempts = ?2 AND state = 'running'",
                  {job.id, job.attempts, dump_json(out.value()), now_ms(ctx)}));
    if (!r.ok()) co_return r.take_error();
    co_return ok_status();
  }
  const ApiError& e = out.error();
  if (e.is(Err::jobs_lease_lost)) co_return ok_status();  // the row is a newer attempt's
  std::string_view state = "failed";
  if (e.is(Err::jobs_cancelled)) {
    state = "cancelled";
  } else if (e.status >= 500 && !is_last_attempt(job)) {
    const int64_t delay = retry_delay_s(job_settings(ctx), job.attempts);
    Result<RunMeta> r = co_await d1_run(
        ctx,
        Stmt("UPDATE jobs SET state = 'queued', run_after = ?3, error_code = ?4, "
             "error_message = ?5, lease_until = NULL, updated_at = ?6 "
             "WHERE id = ?1 AND attempts = ?2 AND state = 'running'",
             {job.id, job.attempts, now_ms(ctx) + delay * 1000, e.code, e.message, now_ms(ctx)}));
    if (!r.ok()) co_return r.take_error();
    if (r.value().changes == 1) {
      Status sent = co_await deliver_job(ctx, job.id, delay);
      (void)sent;  // queued in D1 with its run_after: the sweeper delivers it
    }
    co_return ok_status();
  } else if (e.status >= 500) {
    state = "dead";
  }
  Result<RunMeta> r = co_await d1_run(ctx, finish_stmt(ctx, job, state, e));
  if (!r.ok()) co_return r.take_error();
  co_return ok_status();
}

Task<Result<std::vector<std::string>>> due_job_ids(Ctx& ctx, int64_t due_before, size_t limit) {
  Result<std::vector<json>> rows = co_await d1_all(
      ctx, Stmt("SELECT id FROM jobs WHERE (state = 'queued' AND run_after <= ?1) OR "
                "(state = 'running' AND lease_until <= ?1) ORDER BY run_after LIMIT ?2",
                {due_before, static_cast<int64_t>(limit)}));
  if (!rows.ok()) co_return rows.take_error();
  std::vector<std::string> ids;
  for (const json& row : rows.value()) ids.push_back(string_or(row, "id", ""));
  co_return ids;
}

}  // namespace

Stmt job_progress_stmt(const Ctx& ctx, const JobTicket& t, double progress, std::string_view note) {
  const int64_t now = now_ms(ctx);
  return Stmt(
      "UPDATE jobs SET progress = ?3, progress_note = ?4, lease_until = ?5, updated_at = ?6 "
      "WHERE id = ?1 AND attempts = ?2 AND state = 'running'",
      {t.id, t.attempt, std::clamp(progress, 0.0, 1.0), note,
       now + job_settings(ctx).lease_s * 1000, now});
}

Stmt job_cancel_probe(const JobTicket& t) {
  return Stmt("SELECT cancel_requested FROM jobs WHERE id = ?1", {t.id});
}

Status job_checkpoint_status(const std::vector<BatchItem>& items, size_t first) {
  if (items.size() < first + 2 || items[first].changes == 0) {
    return api_error(Err::jobs_lease_lost);
  }
  const std::vector<json>& probe = items[first + 1].rows;
  if (!probe.empty() && get_int(probe[0], "cancel_requested").value_or(0) != 0) {
    return cancelled_error();
  }
  return ok_status();
}

Task<Status> job_checkpoint(Ctx& ctx, JobTicket t, double progress, std::string note) {
  Result<std::vector<BatchItem>> r =
      co_await d1_batch(ctx, {job_progress_stmt(ctx, t, progress, note), job_cancel_probe(t)});
  if (!r.ok()) co_return r.take_error();
  co_return job_checkpoint_status(r.value(), 0);
}

Task<Result<JobRunOutcome>> run_job(Ctx& ctx, std::string id, bool force) {
  const int64_t now = now_ms(ctx);
  Result<json> claimed = co_await d1_first(
      ctx, Stmt("UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_until = ?3, "
                "started_at = COALESCE(started_at, ?2), updated_at = ?2 WHERE id = ?1 AND "
                "((state = 'queued' AND (run_after <= ?2 OR ?4 = 1)) OR "
                "(state = 'running' AND lease_until < ?2)) RETURNING " +
                    std::string(kJobColumns),
                {id, now, now + job_settings(ctx).lease_s * 1000, force ? 1 : 0}));
  if (!claimed.ok()) co_return claimed.take_error();
  if (claimed.value().is_null()) {
    Result<JobRecord> current = co_await find_job(ctx, id, std::nullopt);
    if (!current.ok()) co_return current.take_error();
    co_return JobRunOutcome{std::move(current.value()), false};
  }
  JobRecord job = job_from_row(claimed.value());
  const JobType* type = find_job_type(ctx, job.type);
  Status done = ok_status();
  if (type == nullptr) {
    done = co_await give_up(ctx, nullptr, job, "failed", api_error(Err::jobs_unknown_type), false);
  } else if (job.cancel_requested) {
    // Flagged while running, and that attempt died before its next checkpoint.
    done = co_await give_up(ctx, type, job, "cancelled", cancelled_error(), true);
  } else if (job.attempts > job.max_attempts) {
    done = co_await give_up(ctx, type, job, "dead", api_error(Err::jobs_attempt_lost), true);
  } else {
    Result<json> out = co_await type->run(ctx, job);
    done = co_await record_outcome(ctx, job, std::move(out));
  }
  if (!done.ok()) co_return done.take_error();
  Result<JobRecord> after = co_await find_job(ctx, id, std::nullopt);
  if (!after.ok()) co_return after.take_error();
  co_return JobRunOutcome{std::move(after.value()), true};
}

namespace {

Task<Result<std::vector<JobRunOutcome>>> run_jobs_due_before(Ctx& ctx, int64_t due_before,
                                                             size_t limit) {
  Result<std::vector<std::string>> ids = co_await due_job_ids(ctx, due_before, limit);
  if (!ids.ok()) co_return ids.take_error();
  std::vector<JobRunOutcome> ran;
  for (const std::string& id : ids.value()) {
    if (ctx.elapsed_ms() > kRunBudgetMs) break;
    Result<JobRunOutcome> r = co_await run_job(ctx, id, false);
    if (!r.ok()) co_return r.take_error();
    if (r.value().ran) ran.push_back(std::move(r.value()));
  }
  co_return ran;
}

}  // namespace

Task<Result<std::vector<JobRunOutcome>>> run_due_jobs(Ctx& ctx, size_t limit) {
  co_return co_await run_jobs_due_before(ctx, now_ms(ctx), limit);
}

Task<Result<SweepOutcome>> sweep_stale_jobs(Ctx& ctx, size_t limit) {
  SweepOutcome out;
  Result<std::vector<JobRunOutcome>> ran =
      co_await run_jobs_due_before(ctx, now_ms(ctx) - kRunInSweepAfterMs, kSweepRunsPerTick);
  if (!ran.ok()) co_return ran.take_error();
  out.ran = std::move(ran.value());
  Result<std::vector<std::string>> ids =
      co_await due_job_ids(ctx, now_ms(ctx) - kStaleAfterMs, limit);
  if (!ids.ok()) co_return ids.take_error();
  std::vector<Effect> sends;
  for (const std::string& id : ids.value()) {
    sends.push_back(make_effect("job.enqueue", {{"body", {{"jobId", id}}}}));
  }
  if (sends.empty()) co_return out;
  std::vector<EffectResult> results = co_await ctx.all(std::move(sends));
  out.delivered = static_cast<int64_t>(
      std::count_if(results.begin(), results.end(), [](const EffectResult& r) { return r.ok(); }));
  co_return out;
}

Task<Result<JobRecord>> cancel_job(Ctx& ctx, JobRecord job) {
  const int64_t now = now_ms(ctx);
  const ApiError why = cancelled_error();
  Result<std::vector<BatchItem>> r = co_await d1_batch(
      ctx, {Stmt("UPDATE jobs SET state = 'cancelled', cancel_requested = 1, error_code = ?2, "
                 "error_message = ?3, finished_at = ?4, updated_at = ?4 WHERE id = ?1 AND "
                 "state = 'queued'",
                 {job.id, why.code, why.message, now}),
            Stmt("UPDATE jobs SET cancel_requested = 1, updated_at = ?2 WHERE id = ?1 AND "
                 "state = 'running'",
                 {job.id, now}),
            Stmt("SELECT " + std::string(kJobColumns) + " FROM jobs WHERE id = ?1", {job.id})});
  if (!r.ok()) co_return r.take_error();
  if (r.value()[2].rows.empty()) co_return api_error(Err::jobs_not_found);
  JobRecord after = job_from_row(r.value()[2].rows[0]);
  if (after.state == "cancelled") {
    // Also on a repeated cancel: releasing is idempotent, and a first release may have failed.
    const JobType* type = find_job_type(ctx, after.type);
    if (type != nullptr && type->abandon != nullptr) {
      Status released = co_await type->abandon(ctx, after, why);
      if (!released.ok()) co_return released.take_error();
    }
    co_return after;
  }
  if (after.state == "running") co_return after;
  co_return api_error(Err::jobs_finished);
}

Task<Result<JobRecord>> retry_job(Ctx& ctx, JobRecord job) {
  if (job.state != "failed" && job.state != "dead" && job.state != "cancelled") {
    co_return api_error(Err::jobs_not_retryable,
                        "Only a failed, dead or cancelled job can be retried");
  }
  const JobType* type = find_job_type(ctx, job.type);
  if (type == nullptr) {
    co_return api_error(Err::jobs_not_retryable, "This job type no longer exists");
  }
  if (type->rearm != nullptr) {
    Status armed = co_await type->rearm(ctx, job);
    if (!armed.ok()) co_return armed.take_error();
  }
  const int64_t now = now_ms(ctx);
  Result<RunMeta> r = co_await d1_run(
      ctx, Stmt("UPDATE jobs SET state = 'queued', attempts = 0, cancel_requested = 0, "
                "progress = 0, progress_note = NULL, result = NULL, error_code = NULL, "
                "error_message = NULL, lease_until = NULL, started_at = NULL, "
                "finished_at = NULL, run_after = ?2, updated_at = ?2 "
                "WHERE id = ?1 AND state IN ('failed', 'dead', 'cancelled')",
                {job.id, now}));
  if (!r.ok()) co_return r.take_error();
  if (r.value().changes == 1) {
    Status sent = co_await deliver_job(ctx, job.id, 0);
    (void)sent;  // the sweeper delivers it
  }
  co_return co_await find_job(ctx, job.id, std::nullopt);
}

}  // namespace ec
