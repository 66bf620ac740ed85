// Jobs in D1 (migration 0005_jobs.sql): the record, its JSON, creating, finding and listing.
// Running them — claims, leases, retries, cancel — is job_runner.hpp's business.
#pragma once

#include "bindings/d1.hpp"
#include "core/context.hpp"
#include "core/error.hpp"
#include "core/task.hpp"
#include "core/time.hpp"

#include <optional>
#include <string>
#include <vector>

namespace ec {

struct JobRecord {
  std::string id;
  std::string user_id;  // empty for a system job
  std::string type;
  std::string state;  // queued | running | succeeded | failed | dead | cancelled
  json payload = json::object();
  json result = nullptr;
  double progress = 0;
  std::string progress_note;
  int64_t attempts = 0;
  int64_t max_attempts = 1;
  std::string error_code;
  std::string error_message;
  int64_t run_after_ms = 0;
  std::optional<int64_t> lease_until_ms;
  bool cancel_requested = false;
  std::string ref;  // internal (a document's uid); never in the JSON
  int64_t created_ms = 0;
  int64_t updated_ms = 0;
  std::optional<int64_t> started_ms;
  std::optional<int64_t> finished_ms;
};

inline constexpr std::string_view kJobColumns =
    "id, user_id, type, state, payload, result, progress, progress_note, attempts, max_attempts, "
    "error_code, error_message, run_after, lease_until, cancel_requested, ref, created_at, "
    "updated_at, started_at, finished_at";

JobRecord job_from_row(const json& row);
// Times are ISO 8601 unless a seed route asks for its own format.
json job_json(const JobRecord& j, TimeFormat times = TimeFormat::kIso8601);

// succeeded | failed | dead | cancelled: nothing will run it again unless it is retried.
bool job_state_final(std::string_view state);
// The attempt now running is the last one the job gets.
inline bool is_last_attempt(const JobRecord& j) { return j.attempts >= j.max_attempts; }

struct NewJob {
  std::string type;
  std::string user_id;  // empty: a system job
  json payload = json::object();
  std::string ref;
  int64_t max_attempts = 0;  // 0: JOB_MAX_ATTEMPTS
  int64_t delay_s = 0;       // not run before now + delay
};

Task<std::string> new_job_id(Ctx& ctx);
// The INSERT for a new queued job, for callers that write it in one transaction with the records
// it works on (a document's ingest); deliver it with deliver_job once that has committed.
Stmt insert_job_stmt(const Ctx& ctx, const std::string& id, const NewJob& job);
// Sends {"jobId"} to the JOBS queue (delayed by delay_s, at most 12 h). A failure is not fatal to
// the job: it stays queued in D1 and the cron sweeper delivers it (job_runner.hpp).
Task<Status> deliver_job(Ctx& ctx, std::string id, int64_t delay_s);
// Inserts and delivers.
Task<Result<JobRecord>> create_job(Ctx& ctx, NewJob job);

// The job, or 404 "jobs.not_found" — also when `owner` is given and it is someone else's.
Task<Result<JobRecord>> find_job(Ctx& ctx, std::string id, std::optional<std::string> owner);

struct JobQuery {
  std::optional<std::string> owner;  // nullopt: every user's and the system's (admin)
  std::string state;                 // filter; empty = any
  std::string type;
  size_t limit = 20;
  std::string cursor;  // opaque, from the previous page
};
struct JobPage {
  std::vector<JobRecord> items;
  std::string next_cursor;  // empty on the last page
};
// Newest first. 400 for a cursor this API did not make.
Task<Result<JobPage>> list_jobs(Ctx& ctx, JobQuery q);

}  // namespace ec
