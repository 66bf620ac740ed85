#include "jobs/job_store.hpp"

#include "bindings/jobs.hpp"
#include "crypto/random_id.hpp"
#include "http/page_cursor.hpp"
#include "http/validate.hpp"
#include "jobs/job_settings.hpp"

#include <algorithm>

namespace ec {

namespace {

int64_t now_ms(const Ctx& ctx) { return static_cast<int64_t>(ctx.now_ms()); }

json parsed_or(const json& row, std::string_view key, json fallback) {
  const std::string* text = get_string(row, key);
  if (text == nullptr) return fallback;
  std::optional<json> v = parse_json(*text);
  return v ? std::move(*v) : fallback;
}

json opt_str(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }

}  // namespace

JobRecord job_from_row(const json& row) {
  JobRecord j;
  j.id = string_or(row, "id", "");
  j.user_id = string_or(row, "user_id", "");
  j.type = string_or(row, "type", "");
  j.state = string_or(row, "state", "");
  j.payload = parsed_or(row, "payload", json::object());
  if (!j.payload.is_object()) j.payload = json::object();
  j.result = parsed_or(row, "result", nullptr);
  j.progress = get_number(row, "progress").value_or(0);
  j.progress_note = string_or(row, "progress_note", "");
  j.attempts = get_int(row, "attempts").value_or(0);
  j.max_attempts = get_int(row, "max_attempts").value_or(1);
  j.error_code = string_or(row, "error_code", "");
  j.error_message = string_or(row, "error_message", "");
  j.run_after_ms = get_int(row, "run_after").value_or(0);
  j.lease_until_ms = get_int(row, "lease_until");
  j.cancel_requested = get_int(row, "cancel_requested").value_or(0) != 0;
  j.ref = string_or(row, "ref", "");
  j.created_ms = get_int(row, "created_at").value_or(0);
  j.updated_ms = get_int(row, "updated_at").value_or(0);
  j.started_ms = get_int(row, "started_at");
  j.finished_ms = get_int(row, "finished_at");
  return j;
}

json job_json(const JobRecord& j, TimeFormat times) {
  json out = {{"id", j.id},
              {"type", j.type},
              {"state", j.state},
              {"progress", j.progress},
              {"progressNote", opt_str(j.progress_note)},
              {"attempts", j.attempts},
              {"maxAttempts", j.max_attempts},
              {"payload", j.payload},
              {"result", j.result},
              {"error", nullptr},
              {"cancelRequested", j.cancel_requested},
              {"userId", opt_str(j.user_id)},
              {"runAfter", time_json(j.run_after_ms, times)},
              {"createdAt", time_json(j.created_ms, times)},
              {"updatedAt", time_json(j.updated_ms, times)},
              {"startedAt", time_json(j.started_ms, times)},
              {"finishedAt", time_json(j.finished_ms, times)}};
  if (!j.error_code.empty()) {
    out["error"] = {{"code", j.error_code}, {"message", j.error_message}};
  }
  return out;
}

bool job_state_final(std::string_view state) {
  return state == "succeeded" || state == "failed" || state == "dead" || state == "cancelled";
}

Task<std::string> new_job_id(Ctx& ctx) { co_return co_await new_id(ctx, "job_"); }

Stmt insert_job_stmt(const Ctx& ctx, const std::string& id, const NewJob& job) {
  const int64_t now = now_ms(ctx);
  const int64_t max_attempts =
      job.max_attempts > 0 ? job.max_attempts : job_settings(ctx).max_attempts;
  return Stmt(
      "INSERT INTO jobs (id, user_id, type, state, payload, max_attempts, run_after, ref, "
      "created_at, updated_at) VALUES (?1, ?2, ?3, 'queued', ?4, ?5, ?6, ?7, ?8, ?8)",
      {id, opt_str(job.user_id), job.type, dump_json(job.payload), max_attempts,
       now + std::max<int64_t>(job.delay_s, 0) * 1000, opt_str(job.ref), now});
}

Task<Status> deliver_job(Ctx& ctx, std::string id, int64_t delay_s) {
  json body = {{"jobId", id}};
  co_return co_await enqueue_job(ctx, std::move(body),
                                 std::clamp<int64_t>(delay_s, 0, kMaxQueueDelaySeconds));
}

Task<Result<JobRecord>> create_job(Ctx& ctx, NewJob job) {
  std::string id = co_await new_job_id(ctx);
  Result<RunMeta> ins = co_await d1_run(ctx, insert_job_stmt(ctx, id, job));
  if (!ins.ok()) co_return ins.take_error();
  Status sent = co_await deliver_job(ctx, id, job.delay_s);
  (void)sent;  // still queued in D1: the sweeper delivers it
  co_return co_await find_job(ctx, id, std::nullopt);
}

Task<Result<JobRecord>> find_job(Ctx& ctx, std::string id, std::optional<std::string> owner) {
  std::string sql = "SELECT " + std::string(kJobColumns) + " FROM jobs WHERE id = ?1";
  json params = json::array({id});
  if (owner) {
    sql += " AND user_id = ?2";
    params.push_back(*owner);
  }
  Result<json> row = co_await d1_first(ctx, Stmt(sql, std::move(params)));
  if (!row.ok()) co_return row.take_error();
  if (row.value().is_null()) co_return api_error(Err::jobs_not_found);
  co_return job_from_row(row.value());
}

Task<Result<JobPage>> list_jobs(Ctx& ctx, JobQuery q) {
  std::string sql = "SELECT " + std::string(kJobColumns) + " FROM jobs WHERE 1 = 1";
  json params = json::array();
  auto bind = [&](json v) {
    params.push_back(std::move(v));
    return "?" + std::to_string(params.size());
  };
  if (q.owner) sql += " AND user_id = " + bind(*q.owner);
  if (!q.state.empty()) sql += " AND state = " + bind(q.state);
  if (!q.type.empty()) sql += " AND type = " + bind(q.type);
  if (!q.cursor.empty()) {
    std::optional<PageCursor> c = decode_page_cursor(q.cursor);
    if (!c) co_return field_error("cursor", "not a cursor from this API");
    const std::string t = bind(c->time_ms);
    sql += " AND (created_at < " + t + " OR (created_at = " + t + " AND id < " + bind(c->id) + "))";
  }
  sql += " ORDER BY created_at DESC, id DESC LIMIT " + std::to_string(q.limit + 1);
  Result<std::vector<json>> rows = co_await d1_all(ctx, Stmt(sql, std::move(params)));
  if (!rows.ok()) co_return rows.take_error();
  JobPage page;
  for (const json& row : rows.value()) page.items.push_back(job_from_row(row));
  if (page.items.size() > q.limit) {
    page.items.pop_back();
    page.next_cursor = encode_page_cursor({page.items.back().created_ms, page.items.back().id});
  }
  co_return page;
}

}  // namespace ec
