// Jobs (seed 003 and canonical): the same handlers under /api/jobs and /api/v1/jobs.
//   GET   /jobs          the caller's jobs (the admin key: everyone's), newest first;
//                        ?state= ?type= ?limit= ?cursor= (?userId= with the admin key)
//   POST  /jobs          {type, payload?, maxAttempts?, delaySeconds?} → 202 {job[, document]}
//   GET   /jobs/:id      → {job}
//   PATCH /jobs/:id      {"action": "cancel" | "retry"} or {"state": "cancelled"} → {job}
//                        (202 while a running job has yet to reach its next checkpoint)
//   POST  /jobs/run      admin key: {jobId?, limit?} runs that job now, or the due ones → {ran}
// and the shim's own internal routes, refused with 404 — as if they did not exist — without its
// per-instance token, so no client can trigger or forge them:
//   POST  /internal/jobs/run  {jobId}: a queue message (or its waitUntil stand-in)
//   POST  /internal/cron      the cron trigger: recover stale jobs, run a cleanup job
// Another user's job is a 404, like a missing one. Times are ISO 8601 under /api/v1 and epoch
// milliseconds under /api/jobs, as seed 003's routes always answered.
#include "api/caller.hpp"
#include "api/gateway.hpp"
#include "api/routes.hpp"
#include "api/time_format.hpp"
#include "auth/admin.hpp"
#include "auth/service.hpp"
#include "bindings/d1.hpp"
#include "bindings/jobs.hpp"
#include "cleanup/cleanup.hpp"
#include "jobs/job_runner.hpp"
#include "jobs/job_types.hpp"
#include "rag/document_jobs.hpp"

namespace ec {

namespace {

constexpr size_t kMaxRunLimit = 25;
constexpr size_t kStaleDeliveriesPerTick = 100;
// Ingest payloads may carry a whole document's text, as POST /api/v1/documents does.
constexpr size_t kCreateBodyLimit = size_t{10} << 20;

// Who is asking: the admin key (every job, system jobs, admin-only types) or a signed-in user
// (their own jobs). A request that sends an admin key is judged by it alone: a wrong key is a
// 403 even if it also carries a valid user token.
struct Caller {
  bool admin = false;
  std::string user_id;
  std::optional<std::string> scope() const {
    return admin ? std::nullopt : std::optional<std::string>(user_id);
  }
};

// The routes are user_or_admin: the gateway has established which.
Caller caller_of(const Call& call) {
  if (called_by_admin(call)) return Caller{true, ""};
  return Caller{false, signed_in(call).id};
}

const Schema kListQuery = {
    field("state").one_of({"queued", "running", "succeeded", "failed", "dead", "cancelled"}),
    field("type").string().describe("A job type: ingest, reindex, cleanup …"),
    field("userId").string().describe("Whose jobs (only with the admin key)"),
    field("limit").integer().min(1).max(100).describe("Page size (default 20)"),
    field("cursor").string().describe("nextCursor of the previous page"),
};

json cursor_json(const std::string& c) { return c.empty() ? json(nullptr) : json(c); }

Response job_reply(const Call& call, int status, const JobRecord& job,
                   std::optional<json> document = {}) {
  json body = {{"job", job_json(job, answer_time_format(call))}};
  if (document) body["document"] = std::move(*document);
  Response r = json_reply(status, body);
  if (status == 202) r.headers.emplace_back("location", "/api/v1/jobs/" + job.id);
  return r;
}

Task<Result<Response>> do_list(Call& call) {
  const Caller who = caller_of(call);
  JobQuery q;
  q.owner = who.scope();
  q.limit = static_cast<size_t>(call.query_int("limit", 20));
  if (const std::string* state = call.query_param("state")) q.state = *state;
  if (const std::string* type = call.query_param("type")) {
    if (find_job_type(call.ctx, *type) == nullptr) {
      co_return field_error("type", "one of " + job_type_names(call.ctx));
    }
    q.type = *type;
  }
  if (const std::string* user = call.query_param("userId")) {
    if (!who.admin) co_return field_error("userId", "only with the admin key");
    q.owner = *user;
  }
  if (const std::string* c = call.query_param("cursor")) q.cursor = *c;
  Result<JobPage> page = co_await list_jobs(call.ctx, std::move(q));
  if (!page.ok()) co_return page.take_error();
  json items = json::array();
  for (const JobRecord& j : page.value().items) {
    items.push_back(job_json(j, answer_time_format(call)));
  }
  co_return json_reply(200,
                       {{"jobs", items}, {"nextCursor", cursor_json(page.value().next_cursor)}});
}

// The user a job is for: the caller, or for the admin key payload.userId (required for
// document jobs, which belong to a user).
Task<Result<std::string>> job_owner(Call& call, const Caller& who, const json& payload) {
  if (!who.admin) co_return who.user_id;
  const std::string* id = get_string(payload, "userId");
  if (id == nullptr || id->empty()) {
    co_return field_error("payload.userId", "required with the admin key for this job type");
  }
  Result<json> row = co_await d1_first(call.ctx, Stmt("SELECT id FROM users WHERE id = ?1", {*id}));
  if (!row.ok()) co_return row.take_error();
  if (row.value().is_null()) co_return api_error(Err::users_not_found, "No such user");
  co_return *id;
}

const Schema kCreate = {
    field("type").string().required().length(1, 32),
    field("payload").object(),
    field("maxAttempts").integer().min(1).max(10),
    field("delaySeconds").integer().min(0).max(7 * 86400),
};

const Schema kTestPayload = {
    field("steps").integer().min(0).max(100),
    field("failAttempts").integer().min(0).max(100),
    field("permanent").boolean(),
};

Task<Result<Response>> do_create(Call& call) {
  const Caller who = caller_of(call);
  const std::string type_name = string_or(call.body, "type", "");
  const JobType* type = find_job_type(call.ctx, type_name);
  if (type == nullptr) co_return field_error("type", "one of " + job_type_names(call.ctx));
  if (type->admin_only && !who.admin) {
    co_return api_error(Err::jobs_admin_only);
  }
  const json* p = get_object(call.body, "payload");
  json payload = p != nullptr ? *p : json::object();
  const int64_t max_attempts = get_int(call.body, "maxAttempts").value_or(0);
  const int64_t delay_s = get_int(call.body, "delaySeconds").value_or(0);

  if (type->name == "ingest" || type->name == "reindex") {
    Result<std::string> owner = co_await job_owner(call, who, payload);
    if (!owner.ok()) co_return owner.take_error();
    payload.erase("userId");
    if (type->name == "ingest") {
      Result<IngestRequest> req = parse_ingest_request(payload);
      if (!req.ok()) co_return req.take_error();
      req.value().queue = true;
      req.value().job_max_attempts = max_attempts;
      req.value().job_delay_s = delay_s;
      User user;
      user.id = owner.value();
      Result<IngestStarted> started =
          co_await start_ingest(call.ctx, std::move(user), std::move(req.value()));
      if (!started.ok()) co_return started.take_error();
      Result<JobRecord> job = co_await find_job(call.ctx, started.value().doc.job_id, std::nullopt);
      if (!job.ok()) co_return job.take_error();
      co_return job_reply(call, 202, job.value(),
                          document_json(started.value().doc, answer_time_format(call)));
    }
    Result<ReindexRequest> req = parse_reindex_request(payload);
    if (!req.ok()) co_return req.take_error();
    req.value().max_attempts = max_attempts;
    req.value().delay_s = delay_s;
    Result<ReindexStarted> started =
        co_await start_reindex(call.ctx, owner.value(), std::move(req.value()));
    if (!started.ok()) co_return started.take_error();
    co_return job_reply(call, 202, started.value().job,
                        document_json(started.value().doc, answer_time_format(call)));
  }

  // System jobs: cleanup (and the test type).
  if (type->name == "cleanup") {
    Result<std::vector<std::string>> steps = parse_cleanup_steps(payload);
    if (!steps.ok()) co_return steps.take_error();
  } else {
    Status ok = validate(payload, kTestPayload, false);
    if (!ok.ok()) co_return ok.take_error();
  }
  NewJob job;
  job.type = std::string(type->name);
  job.payload = std::move(payload);
  job.max_attempts = max_attempts;
  job.delay_s = delay_s;
  Result<JobRecord> made = co_await create_job(call.ctx, std::move(job));
  if (!made.ok()) co_return made.take_error();
  co_return job_reply(call, 202, made.value());
}

Task<Result<JobRecord>> visible_job(Call& call, const Caller& who) {
  co_return co_await find_job(call.ctx, *call.param("id"), who.scope());
}

Task<Result<Response>> do_get(Call& call) {
  const Caller who = caller_of(call);
  Result<JobRecord> job = co_await visible_job(call, who);
  if (!job.ok()) co_return job.take_error();
  co_return job_reply(call, 200, job.value());
}

const Schema kPatch = {
    field("action").one_of({"cancel", "retry"}),
    field("state").one_of({"cancelled", "queued"}),
};

Task<Result<Response>> do_patch(Call& call) {
  const Caller who = caller_of(call);
  const std::string action = string_or(call.body, "action", "");
  const std::string state = string_or(call.body, "state", "");
  // Another user's job is a 404 whatever the body says, so the lookup comes first.
  Result<JobRecord> job = co_await visible_job(call, who);
  if (!job.ok()) co_return job.take_error();
  if (action.empty() == state.empty()) {
    co_return field_error("action", "give exactly one of action or state");
  }
  const bool cancel = action == "cancel" || state == "cancelled";
  Result<JobRecord> after = cancel ? co_await cancel_job(call.ctx, std::move(job.value()))
                                   : co_await retry_job(call.ctx, std::move(job.value()));
  if (!after.ok()) co_return after.take_error();
  const int status = after.value().state == "running" ? 202 : 200;
  Response r = json_reply(status, {{"job", job_json(after.value(), answer_time_format(call))}});
  co_return r;
}

const Schema kRun = {
    field("jobId").string().length(1, 64),
    field("limit").integer().min(1).max(static_cast<int64_t>(kMaxRunLimit)),
};

Task<Result<Response>> do_run(Call& call) {
  json ran = json::array();
  if (const std::string* id = get_string(call.body, "jobId")) {
    Result<JobRunOutcome> r = co_await run_job(call.ctx, *id, true);
    if (!r.ok()) co_return r.take_error();
    if (!r.value().ran) {
      co_return api_error(Err::jobs_not_runnable,
                          "The job is " + r.value().job.state +
                              (r.value().job.state == "running" ? " elsewhere" : "") +
                              "; only a queued job can be run");
    }
    ran.push_back(job_json(r.value().job, answer_time_format(call)));
  } else {
    const size_t limit = static_cast<size_t>(get_int(call.body, "limit").value_or(10));
    Result<std::vector<JobRunOutcome>> r = co_await run_due_jobs(call.ctx, limit);
    if (!r.ok()) co_return r.take_error();
    for (const JobRunOutcome& o : r.value()) {
      ran.push_back(job_json(o.job, answer_time_format(call)));
    }
  }
  co_return json_reply(200, {{"ran", ran}, {"count", ran.size()}});
}

const Schema kInternalRun = {
    field("jobId").string().describe("The job the queue message names"),
};

Task<Result<Response>> internal_run(Call& call) {
  const std::string* id = get_string(call.body, "jobId");
  if (id == nullptr || id->empty()) {
    co_return api_error(Err::jobs_malformed, "A job message names its jobId");
  }
  // A 5xx from here makes the queue redeliver; anything else is final (the row has the outcome).
  Result<JobRunOutcome> r = co_await run_job(call.ctx, *id, false);
  if (!r.ok()) co_return r.take_error();
  co_return json_reply(200, {{"job", job_json(r.value().job)}, {"ran", r.value().ran}});
}

// The cron trigger: deliver what the queue lost, then one cleanup run, recorded as a job (it is
// skipped while another cleanup is running).
Task<Result<Response>> internal_cron(Call& call) {
  Result<SweepOutcome> swept = co_await sweep_stale_jobs(call.ctx, kStaleDeliveriesPerTick);
  if (!swept.ok()) co_return swept.take_error();
  json recovered = json::array();
  for (const JobRunOutcome& o : swept.value().ran) recovered.push_back(job_json(o.job));
  Result<json> busy = co_await d1_first(
      call.ctx, Stmt("SELECT id FROM jobs WHERE type = 'cleanup' AND state = 'running' AND "
                     "lease_until >= ?1 LIMIT 1",
                     {static_cast<int64_t>(call.ctx.now_ms())}));
  if (!busy.ok()) co_return busy.take_error();
  json cleanup = nullptr;
  if (busy.value().is_null()) {
    NewJob job;
    job.type = "cleanup";
    job.payload = {{"trigger", "cron"}};
    const std::string id = co_await new_job_id(call.ctx);
    Result<RunMeta> made = co_await d1_run(call.ctx, insert_job_stmt(call.ctx, id, job));
    if (!made.ok()) co_return made.take_error();
    Result<JobRunOutcome> ran = co_await run_job(call.ctx, id, true);
    if (!ran.ok()) co_return ran.take_error();
    cleanup = job_json(ran.value().job);
  }
  co_return json_reply(200, {{"delivered", swept.value().delivered},
                             {"ran", std::move(recovered)},
                             {"cleanup", cleanup}});
}

}  // namespace

bool add_job_routes(HttpApp& app) {
  // Canonical and seed 003's spelling; a user sees their own jobs, the admin key everyone's.
  for (std::string_view base : {std::string_view("/api/v1/jobs"), std::string_view("/api/jobs")}) {
    const bool seed = base == "/api/jobs";
    const std::string_view one = seed ? "/api/jobs/:id" : "/api/v1/jobs/:id";
    const std::string_view run = seed ? "/api/jobs/run" : "/api/v1/jobs/run";
    // Seed 003's spelling answers epoch milliseconds (api/time_format.hpp), so its own schemas.
    auto doc = [seed](RouteDef d, std::string_view summary) {
      return seed ? d.doc(summary, {"Jobs", "Seed 003"}) : d.doc(summary, {"Jobs"});
    };
    auto schema = [seed](std::string_view canonical, std::string_view seed003) {
      return seed ? seed003 : canonical;
    };
    bool ok = add_routes(
        app, {
                 doc(get(base, do_list).user_or_admin().query(kListQuery),
                     "List jobs, newest first (yours; everyone's with the admin key)")
                     .answers(200, schema("JobPage", "Seed003JobPage"))
                     .errors({"storage.unavailable"}),
                 doc(post(base, do_create)
                         .user_or_admin()
                         .json(kCreate)
                         .strict()
                         .limit(kCreateBodyLimit),
                     "Queue a job (ingest, reindex; cleanup with the admin key)")
                     .answers(202, schema("JobCreated", "Seed003JobCreated"))
                     .errors({"jobs.admin_only", "users.not_found", "jobs.not_found",
                              "documents.not_found", "documents.busy", "documents.source_missing",
                              "files.not_found", "extract.too_large", "storage.quota_exceeded",
                              "storage.unavailable", "storage.conflict"}),
                 doc(get(one, do_get).user_or_admin().owns("job"), "Get a job")
                     .answers(200, schema("JobEnvelope", "Seed003JobEnvelope"))
                     .errors({"jobs.not_found", "storage.unavailable"}),
                 doc(patch(one, do_patch).user_or_admin().json(kPatch).strict().owns("job"),
                     "Cancel or retry a job")
                     .details("202 while a running job has yet to reach its next checkpoint.")
                     .answers(200, schema("JobEnvelope", "Seed003JobEnvelope"))
                     .answers(202, schema("JobEnvelope", "Seed003JobEnvelope"))
                     .errors({"jobs.not_found", "jobs.finished", "jobs.not_retryable",
                              "storage.unavailable"}),
                 doc(post(run, do_run).admin().optional_json(kRun).strict(),
                     "Run a job now, or the due ones")
                     .answers(200, schema("JobsRan", "Seed003JobsRan"))
                     .errors({"jobs.not_found", "jobs.not_runnable", "storage.unavailable"}),
             });
    if (!ok) return false;
  }
  // The shim's own requests: limiting them would only fail work that was already admitted.
  return add_routes(app,
                    {
                        post("/internal/jobs/run", internal_run)
                            .internal()
                            .rate(kRateExempt)
                            .json(kInternalRun)
                            .doc("Run a queued job (the queue consumer)", {"Internal"})
                            .answers(200, "InternalJobRun")
                            .errors({"jobs.malformed", "jobs.not_found", "storage.unavailable"}),
                        post("/internal/cron", internal_cron)
                            .internal()
                            .rate(kRateExempt)
                            .optional_json()
                            .doc("The cron tick: redeliver lost jobs, run a cleanup", {"Internal"})
                            .answers(200, "CronReport")
                            .errors({"jobs.not_found", "storage.unavailable"}),
                    });
}

}  // namespace ec
