// Jobs: the runner's state machine (claim, progress, retry with backoff, dead-letter, cancel,
// lease expiry and fencing) and the routes over it, driven through the FakeHost with real SQLite.
// The "test" job type (EDGECHAT_TEST_HOOKS=1) fails as told, so every transition is reachable.
#include "core/time.hpp"
#include "crypto/encoding.hpp"
#include "jobs/job_runner.hpp"
#include "jobs/job_settings.hpp"
#include "jobs/job_types.hpp"
#include "support/accounts.hpp"
#include "support/drive_task.hpp"
#include "support/fake_host.hpp"

#include <catch2/catch.hpp>

using namespace ec;
using ec::testing::Account;
using ec::testing::FakeHost;
using ec::testing::ForcedResult;
using ec::testing::Headers;
using ec::testing::HttpResult;
using ec::testing::json;
using ec::testing::sign_up;

namespace {

const std::string kAdminKey = "admin-key-for-the-tests-0123456789";
const std::string kInternal = "0123456789abcdef0123456789abcdef";

std::map<std::string, std::string> jobs_env(std::map<std::string, std::string> extra = {}) {
  auto env = FakeHost::default_env();
  for (auto& [k, v] : extra) env[k] = v;
  env["ADMIN_KEY"] = kAdminKey;
  env["EDGECHAT_INTERNAL_TOKEN"] = kInternal;
  env["EDGECHAT_TEST_HOOKS"] = "1";
  env["JOB_RETRY_BASE_SECONDS"] = "10";
  return env;
}

// A FakeHost whose queue is a list (each job.enqueue is recorded, as {body, delaySeconds?}) and
// whose R2 is a map.
struct JobsHost {
  FakeHost h;
  std::vector<json> sent;
  std::map<std::string, std::string> objects;
  std::function<void(const std::string&, const json&)> on_effect;

  explicit JobsHost(std::map<std::string, std::string> extra_env = {})
      : h(jobs_env(std::move(extra_env))) {
    h.intercept = [this](const std::string& op, const json& args) -> std::optional<ForcedResult> {
      if (on_effect) on_effect(op, args);
      if (op == "job.enqueue") {
        sent.push_back(args);
        return ForcedResult{true, json{{"via", "queue"}}.dump(), ""};
      }
      if (op == "r2.put") {
        const std::string key = args.at("key").get<std::string>();
        objects[key] = *base64url_decode(args.at("data").get<std::string>());
        return ForcedResult{true, json{{"key", key}, {"size", objects[key].size()}}.dump(), ""};
      }
      if (op == "r2.get") {
        auto it = objects.find(args.at("key").get<std::string>());
        if (it == objects.end()) return ForcedResult{false, "no such object", "not_found"};
        return ForcedResult{true, it->second, ""};
      }
      if (op == "r2.delete") {
        for (const json& k : args.at("keys")) objects.erase(k.get<std::string>());
        return ForcedResult{true, "true", ""};
      }
      return std::nullopt;
    };
  }

  HttpResult call(const std::string& method, const std::string& path, const json& body = nullptr,
                  Headers headers = {}) {
    if (!body.is_null()) headers.emplace_back("content-type", "application/json");
    return h.request(method, path, headers, body.is_null() ? "" : body.dump());
  }
  HttpResult admin(const std::string& method, const std::string& path, const json& body = nullptr) {
    return call(method, path, body, {{"x-admin-key", kAdminKey}});
  }
  HttpResult as(const Account& a, const std::string& method, const std::string& path,
                const json& body = nullptr) {
    return call(method, path, body, {{"authorization", "Bearer " + a.token}});
  }
  // What the shim does with a queue message.
  HttpResult deliver(const std::string& job_id) {
    return call("POST", "/internal/jobs/run", {{"jobId", job_id}, {"attempt", 1}, {"via", "queue"}},
                {{"x-edgechat-internal", kInternal}});
  }
  json job(const std::string& id) { return admin("GET", "/api/v1/jobs/" + id).body_json["job"]; }
};

}  // namespace

TEST_CASE("retry backoff doubles from JOB_RETRY_BASE_SECONDS up to its cap", "[jobs]") {
  JobSettings s;
  s.retry_base_s = 10;
  s.retry_max_s = 60;
  CHECK(retry_delay_s(s, 1) == 10);
  CHECK(retry_delay_s(s, 2) == 20);
  CHECK(retry_delay_s(s, 3) == 40);
  CHECK(retry_delay_s(s, 4) == 60);
  CHECK(retry_delay_s(s, 40) == 60);
  s.retry_base_s = 0;
  CHECK(retry_delay_s(s, 3) == 0);
}

TEST_CASE("job types are added at start-up like routes; the engine keeps only its test type",
          "[jobs]") {
  JobsHost j;  // core_init → app_init, which adds the domains' types
  const Env hooks{{"EDGECHAT_TEST_HOOKS", "1"}};
  const Env plain;
  Ctx with_hooks(1, Envelope{}, hooks);
  Ctx without(2, Envelope{}, plain);
  CHECK(job_type_names(with_hooks) == "ingest, reindex, cleanup, test");
  CHECK(job_type_names(without) == "ingest, reindex, cleanup");
  REQUIRE(find_job_type(without, "ingest") != nullptr);
  CHECK_FALSE(find_job_type(without, "ingest")->admin_only);
  CHECK(find_job_type(without, "ingest")->abandon != nullptr);
  REQUIRE(find_job_type(without, "cleanup") != nullptr);
  CHECK(find_job_type(without, "cleanup")->admin_only);
  CHECK(find_job_type(without, "test") == nullptr);
  CHECK(find_job_type(with_hooks, "test") != nullptr);
  CHECK(find_job_type(with_hooks, "launch-missiles") == nullptr);
  // A taken name is refused, as a duplicate route is ("test" is the engine's own); so is a type
  // that cannot run.
  const JobRunFn run = find_job_type(without, "ingest")->run;
  CHECK_FALSE(add_job_type({"ingest", run}));
  CHECK_FALSE(add_job_type({"test", run}));
  CHECK_FALSE(add_job_type({"", run}));
  CHECK_FALSE(add_job_type({"launch-missiles", nullptr}));
  CHECK(job_type_names(without) == "ingest, reindex, cleanup");
}

TEST_CASE("a failing job is retried with backoff, records progress, then is dead-lettered",
          "[jobs]") {
  JobsHost j;
  HttpResult made = j.admin(
      "POST", "/api/v1/jobs",
      {{"type", "test"}, {"payload", {{"steps", 2}, {"failAttempts", 9}}}, {"maxAttempts", 3}});
  REQUIRE(made.status == 202);
  const std::string id = made.body_json["job"]["id"].get<std::string>();
  CHECK(*made.header("location") == "/api/v1/jobs/" + id);
  CHECK(made.body_json["job"]["state"] == "queued");
  CHECK(made.body_json["job"]["userId"].is_null());  // a system job
  REQUIRE(j.sent.size() == 1);
  CHECK(j.sent[0]["body"] == json{{"jobId", id}});

  HttpResult first = j.deliver(id);
  REQUIRE(first.status == 200);
  json after1 = first.body_json["job"];
  CHECK(after1["state"] == "queued");
  CHECK(after1["attempts"] == 1);
  CHECK(after1["error"]["code"] == "test.transient");
  CHECK(after1["progress"].get<double>() == Approx(2.0 / 3));
  CHECK(after1["progressNote"] == "step 2 of 2");
  CHECK(after1["runAfter"] == iso8601_ms(static_cast<int64_t>(j.h.now_ms) + 10000));
  REQUIRE(j.sent.size() == 2);
  CHECK(j.sent[1]["delaySeconds"] == 10);

  // Not due yet: a second delivery does nothing.
  CHECK(j.deliver(id).body_json["ran"] == false);
  j.h.advance_seconds(10);
  CHECK(j.deliver(id).body_json["job"]["attempts"] == 2);
  REQUIRE(j.sent.size() == 3);
  CHECK(j.sent[2]["delaySeconds"] == 20);  // doubled
  j.h.advance_seconds(20);
  json dead = j.deliver(id).body_json["job"];
  CHECK(dead["state"] == "dead");
  CHECK(dead["attempts"] == 3);
  CHECK(dead["error"]["code"] == "test.transient");
  CHECK(dead["finishedAt"] == iso8601_ms(static_cast<int64_t>(j.h.now_ms)));
  CHECK(j.sent.size() == 3);  // nothing more is queued

  // A dead job can be retried by hand: fresh attempts, queued and delivered again.
  HttpResult retried = j.admin("PATCH", "/api/jobs/" + id, {{"action", "retry"}});
  REQUIRE(retried.status == 200);
  CHECK(retried.body_json["job"]["state"] == "queued");
  CHECK(retried.body_json["job"]["attempts"] == 0);
  CHECK(retried.body_json["job"]["error"].is_null());
  CHECK(j.sent.size() == 4);
}

TEST_CASE("a permanent error fails a job at once; success records the result", "[jobs]") {
  JobsHost j;
  const std::string bad =
      j.admin("POST", "/api/jobs", {{"type", "test"}, {"payload", {{"permanent", true}}}})
          .body_json["job"]["id"]
          .get<std::string>();
  json failed = j.deliver(bad).body_json["job"];
  CHECK(failed["state"] == "failed");
  CHECK(failed["attempts"] == 1);
  CHECK(failed["error"]["code"] == "test.permanent");
  CHECK(j.sent.size() == 1);

  const std::string good =
      j.admin("POST", "/api/jobs", {{"type", "test"}, {"payload", {{"steps", 1}}}})
          .body_json["job"]["id"]
          .get<std::string>();
  json ok = j.deliver(good).body_json["job"];
  CHECK(ok["state"] == "succeeded");
  CHECK(ok["progress"] == 1.0);
  CHECK(ok["result"] == json{{"attempt", 1}, {"steps", 1}});
  CHECK(ok["error"].is_null());
  CHECK(ok["startedAt"].is_string());
  // PATCH on a finished job: cancel is refused, retry only for failed/dead/cancelled.
  CHECK(j.admin("PATCH", "/api/jobs/" + good, {{"action", "cancel"}}).status == 409);
  CHECK(j.admin("PATCH", "/api/jobs/" + good, {{"action", "retry"}}).body_json["error"]["code"] ==
        "jobs.not_retryable");
}

TEST_CASE("cancel: a queued job at once, a running one at its next checkpoint", "[jobs]") {
  JobsHost j;
  const std::string queued =
      j.admin("POST", "/api/v1/jobs", {{"type", "test"}, {"delaySeconds", 3600}})
          .body_json["job"]["id"]
          .get<std::string>();
  CHECK(j.sent[0]["delaySeconds"] == 3600);
  HttpResult c = j.admin("PATCH", "/api/v1/jobs/" + queued, {{"state", "cancelled"}});
  REQUIRE(c.status == 200);
  CHECK(c.body_json["job"]["state"] == "cancelled");
  CHECK(c.body_json["job"]["cancelRequested"] == true);
  CHECK(c.body_json["job"]["finishedAt"].is_string());
  j.h.advance_seconds(3600);
  CHECK(j.deliver(queued).body_json["ran"] == false);  // its message arrives: nothing runs
  // Cancelling again is harmless.
  CHECK(j.admin("PATCH", "/api/v1/jobs/" + queued, {{"action", "cancel"}}).status == 200);

  // Running: the cancel request lands while the first checkpoint commits.
  const std::string running =
      j.admin("POST", "/api/v1/jobs", {{"type", "test"}, {"payload", {{"steps", 5}}}})
          .body_json["job"]["id"]
          .get<std::string>();
  int checkpoints = 0;
  j.on_effect = [&](const std::string& op, const json& args) {
    if (op != "d1.batch") return;
    const std::string sql = args["statements"][0]["sql"].get<std::string>();
    if (sql.rfind("UPDATE jobs SET progress", 0) == 0 && ++checkpoints == 2) {
      j.h.query("UPDATE jobs SET cancel_requested = 1 WHERE id = '" + running + "'");
    }
  };
  json stopped = j.deliver(running).body_json["job"];
  CHECK(checkpoints == 2);  // it stopped at the checkpoint that saw the request
  CHECK(stopped["state"] == "cancelled");
  CHECK(stopped["error"]["code"] == "jobs.cancelled");
  CHECK(stopped["progress"].get<double>() == Approx(2.0 / 6));
}

TEST_CASE("PATCH cancel of a running job flags it: 202, and it stops when it next checks",
          "[jobs]") {
  JobsHost j;
  const std::string id =
      j.admin("POST", "/api/v1/jobs", {{"type", "test"}, {"payload", {{"steps", 3}}}})
          .body_json["job"]["id"]
          .get<std::string>();
  // Claimed by an attempt that is still running (its lease is live).
  j.h.query("UPDATE jobs SET state = 'running', attempts = 1, lease_until = " +
            std::to_string(static_cast<int64_t>(j.h.now_ms) + 60000) + " WHERE id = '" + id + "'");
  HttpResult c = j.admin("PATCH", "/api/v1/jobs/" + id, {{"action", "cancel"}});
  REQUIRE(c.status == 202);
  CHECK(c.body_json["job"]["state"] == "running");
  CHECK(c.body_json["job"]["cancelRequested"] == true);
  // That attempt checks in: told to stop.
  Status s = testing::drive<Status>(j.h, [&](Ctx& ctx) {
    return job_checkpoint(ctx, JobTicket{id, 1}, 0.5, "halfway");
  });
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().code == "jobs.cancelled");
  // It died before recording that; once its lease (renewed by that checkpoint for
  // JOB_LEASE_SECONDS) runs out, the next claim ends the job.
  j.h.advance_seconds(599);
  CHECK(j.deliver(id).body_json["ran"] == false);
  j.h.advance_seconds(2);
  json ended = j.deliver(id).body_json["job"];
  CHECK(ended["state"] == "cancelled");
  CHECK(ended["attempts"] == 1);
}

TEST_CASE("an attempt that died is reclaimed after its lease; the stale attempt is fenced off",
          "[jobs]") {
  JobsHost j;
  const std::string id = j.admin("POST", "/api/v1/jobs", {{"type", "test"}, {"maxAttempts", 2}})
                             .body_json["job"]["id"]
                             .get<std::string>();
  j.h.query("UPDATE jobs SET state = 'running', attempts = 1, lease_until = " +
            std::to_string(static_cast<int64_t>(j.h.now_ms) + 1000) + " WHERE id = '" + id + "'");
  CHECK(j.deliver(id).body_json["ran"] == false);  // the lease is live: someone runs it
  j.h.advance_seconds(2);
  json reclaimed = j.deliver(id).body_json["job"];
  CHECK(reclaimed["state"] == "succeeded");
  CHECK(reclaimed["attempts"] == 2);
  // The first attempt wakes up: its writes no longer match the row.
  Status late = testing::drive<Status>(j.h, [&](Ctx& ctx) {
    return job_checkpoint(ctx, JobTicket{id, 1}, 0.9, "late");
  });
  REQUIRE_FALSE(late.ok());
  CHECK(late.error().code == "jobs.lease_lost");
  CHECK(j.job(id)["state"] == "succeeded");

  // The last attempt died: the reclaim dead-letters the job instead of running it a third time.
  const std::string last = j.admin("POST", "/api/v1/jobs", {{"type", "test"}, {"maxAttempts", 2}})
                               .body_json["job"]["id"]
                               .get<std::string>();
  j.h.query("UPDATE jobs SET state = 'running', attempts = 2, lease_until = 0 WHERE id = '" + last +
            "'");
  json dead = j.deliver(last).body_json["job"];
  CHECK(dead["state"] == "dead");
  CHECK(dead["attempts"] == 2);
  CHECK(dead["error"]["code"] == "jobs.attempt_lost");
}

TEST_CASE("job times: ISO 8601 under /api/v1, epoch milliseconds under seed 003's /api/jobs",
          "[jobs]") {
  JobsHost j;
  const auto now = static_cast<int64_t>(j.h.now_ms);
  HttpResult made = j.admin("POST", "/api/v1/jobs", {{"type", "test"}, {"delaySeconds", 60}});
  REQUIRE(made.status == 202);
  const json canonical = made.body_json["job"];
  CHECK(canonical["createdAt"] == iso8601_ms(now));
  CHECK(canonical["updatedAt"] == iso8601_ms(now));
  CHECK(canonical["runAfter"] == iso8601_ms(now + 60000));
  CHECK(canonical["startedAt"].is_null());
  CHECK(canonical["finishedAt"].is_null());
  const std::string id = canonical["id"].get<std::string>();
  const json seed = j.admin("GET", "/api/jobs/" + id).body_json["job"];
  CHECK(seed["createdAt"] == now);
  CHECK(seed["runAfter"] == now + 60000);
  CHECK(seed["finishedAt"].is_null());
  CHECK(j.admin("GET", "/api/jobs").body_json["jobs"][0]["createdAt"] == now);
  CHECK(j.admin("GET", "/api/v1/jobs").body_json["jobs"][0]["createdAt"] == iso8601_ms(now));
  const json cancelled = j.admin("PATCH", "/api/jobs/" + id, {{"action", "cancel"}}).body_json;
  CHECK(cancelled["job"]["finishedAt"] == now);
}

TEST_CASE("POST /api/jobs/run runs a job now or the due ones; the cron sweeper redelivers",
          "[jobs]") {
  JobsHost j;
  const std::string later = j.admin("POST", "/api/jobs", {{"type", "test"}, {"delaySeconds", 600}})
                                .body_json["job"]["id"]
                                .get<std::string>();
  const std::string due =
      j.admin("POST", "/api/jobs", {{"type", "test"}}).body_json["job"]["id"].get<std::string>();
  HttpResult batch = j.admin("POST", "/api/jobs/run");
  REQUIRE(batch.status == 200);
  REQUIRE(batch.body_json["count"] == 1);  // only the due one
  CHECK(batch.body_json["ran"][0]["id"] == due);
  CHECK(j.job(later)["state"] == "queued");
  HttpResult forced = j.admin("POST", "/api/v1/jobs/run", {{"jobId", later}});
  REQUIRE(forced.status == 200);
  CHECK(forced.body_json["ran"][0]["state"] == "succeeded");
  HttpResult again = j.admin("POST", "/api/v1/jobs/run", {{"jobId", later}});
  CHECK(again.status == 409);
  CHECK(again.body_json["error"]["code"] == "jobs.not_runnable");
  CHECK(j.admin("POST", "/api/v1/jobs/run", {{"jobId", "job_nope"}}).status == 404);
  CHECK(j.admin("POST", "/api/v1/jobs/run", {{"limit", 0}}).status == 400);

  // A job whose message was lost: the cron tick sends it again once it is a minute overdue.
  const std::string lost =
      j.admin("POST", "/api/jobs", {{"type", "test"}}).body_json["job"]["id"].get<std::string>();
  j.sent.clear();
  auto cron = [&](const std::string& token) {
    return j.call("POST", "/internal/cron", json::object(), {{"x-edgechat-internal", token}});
  };
  CHECK(cron("not-the-token-not-the-token-00000").status == 404);
  HttpResult tick = cron(kInternal);
  REQUIRE(tick.status == 200);
  CHECK(tick.body_json["delivered"] == 0);  // not overdue yet
  CHECK(tick.body_json["cleanup"]["type"] == "cleanup");
  CHECK(tick.body_json["cleanup"]["state"] == "succeeded");
  CHECK(tick.body_json["cleanup"]["result"]["removed"].is_object());
  j.h.advance_seconds(61);
  HttpResult later_tick = cron(kInternal);
  CHECK(later_tick.body_json["delivered"] == 1);
  CHECK(later_tick.body_json["ran"] == json::array());
  REQUIRE_FALSE(j.sent.empty());
  CHECK(j.sent.back()["body"]["jobId"] == lost);
  // The message sent again did not start it either: the queue is not delivering (as Miniflare's
  // local queue does behind a consumer invocation that never returns). The next tick runs it.
  j.h.advance_seconds(15 * 60);
  j.sent.clear();
  HttpResult stuck_tick = cron(kInternal);
  REQUIRE(stuck_tick.status == 200);
  CHECK(stuck_tick.body_json["delivered"] == 0);
  REQUIRE(stuck_tick.body_json["ran"].size() == 1);
  CHECK(stuck_tick.body_json["ran"][0]["id"] == lost);
  CHECK(stuck_tick.body_json["ran"][0]["state"] == "succeeded");
  CHECK(j.sent.empty());
}

TEST_CASE(
    "the cron tick recovers a job whose attempt died holding its lease, whatever the queue does",
    "[jobs]") {
  JobsHost j;
  const std::string id =
      j.admin("POST", "/api/jobs", {{"type", "test"}}).body_json["job"]["id"].get<std::string>();
  // An attempt claimed it and its isolate died: running, with a lease that then ran out.
  j.h.query("UPDATE jobs SET state = 'running', attempts = 1, lease_until = 0 WHERE id = '" + id +
            "'");
  j.h.advance_seconds(11 * 60);
  HttpResult tick =
      j.call("POST", "/internal/cron", json::object(), {{"x-edgechat-internal", kInternal}});
  REQUIRE(tick.status == 200);
  REQUIRE(tick.body_json["ran"].size() == 1);
  CHECK(tick.body_json["ran"][0]["state"] == "succeeded");
  CHECK(tick.body_json["ran"][0]["attempts"] == 2);
}

TEST_CASE("users see and change only their own jobs; the admin key sees all", "[jobs]") {
  JobsHost j;
  Account ann = sign_up(j.h, "ann");
  Account ben = sign_up(j.h, "ben");
  REQUIRE(j.as(ann, "POST", "/api/v1/documents", {{"docId", "notes"}, {"content", "Ann's notes."}})
              .status == 201);
  HttpResult made = j.as(ann, "POST", "/api/v1/jobs",
                         {{"type", "reindex"}, {"payload", {{"documentId", "notes"}}}});
  REQUIRE(made.status == 202);
  const std::string id = made.body_json["job"]["id"].get<std::string>();
  CHECK(made.body_json["job"]["userId"] == ann.id);
  CHECK(made.body_json["document"]["job"]["id"] == id);

  for (const char* path : {"/api/v1/jobs/", "/api/jobs/"}) {
    CHECK(j.as(ben, "GET", path + id).status == 404);
    CHECK(j.as(ben, "PATCH", path + id, {{"action", "cancel"}}).status == 404);
  }
  CHECK(j.as(ben, "GET", "/api/v1/jobs").body_json["jobs"].empty());
  CHECK(j.as(ben, "POST", "/api/v1/jobs",
             {{"type", "reindex"}, {"payload", {{"documentId", "notes"}}}})
            .status == 404);
  CHECK(j.as(ann, "GET", "/api/v1/jobs").body_json["jobs"].size() == 1);
  CHECK(j.as(ann, "GET", "/api/jobs/" + id).body_json["job"]["type"] == "reindex");

  // System jobs are the admin's: a user may not start one, or list someone else's.
  HttpResult sys = j.as(ann, "POST", "/api/v1/jobs", {{"type", "cleanup"}});
  CHECK(sys.status == 403);
  CHECK(sys.body_json["error"]["code"] == "jobs.admin_only");
  CHECK(j.as(ann, "GET", "/api/v1/jobs?userId=" + ben.id).status == 400);
  REQUIRE(j.admin("POST", "/api/v1/jobs", {{"type", "cleanup"}}).status == 202);
  json all = j.admin("GET", "/api/v1/jobs").body_json["jobs"];
  CHECK(all.size() == 2);
  CHECK(j.admin("GET", "/api/v1/jobs?type=cleanup").body_json["jobs"].size() == 1);
  CHECK(j.admin("GET", "/api/v1/jobs?userId=" + ann.id).body_json["jobs"].size() == 1);
  // An admin document job names its user.
  HttpResult for_ann = j.admin("POST", "/api/v1/jobs",
                               {{"type", "reindex"}, {"payload", {{"documentId", "notes"}}}});
  CHECK(for_ann.status == 400);
  CHECK(for_ann.body_json["error"]["fields"].contains("payload.userId"));
}

TEST_CASE("job routes refuse bad input with field errors, and bad keys", "[jobs]") {
  JobsHost j;
  Account ann = sign_up(j.h, "ann");
  auto code = [](const HttpResult& r) { return r.body_json["error"]["code"].get<std::string>(); };
  const std::vector<json> bad_bodies = {
      json{{"payload", json::object()}},
      json{{"type", "launch-missiles"}},
      json{{"type", "reindex"}, {"payload", "x"}},
      json{{"type", "reindex"}, {"payload", json::object()}},
      json{{"type", "reindex"}, {"payload", {{"documentId", "x"}, {"chunkSize", 0}}}},
      json{{"type", "reindex"}, {"payload", {{"documentId", "x"}}}, {"maxAttempts", 11}},
      json{{"type", "reindex"}, {"payload", {{"documentId", "x"}}}, {"delaySeconds", -1}},
      json{{"type", "reindex"}, {"payload", {{"documentId", "x"}}}, {"colour", "red"}},
      json{{"type", "ingest"}, {"payload", json::object()}},
      json{{"type", "ingest"}, {"payload", {{"content", 5}}}},
  };
  for (const json& b : bad_bodies) {
    HttpResult r = j.as(ann, "POST", "/api/v1/jobs", b);
    INFO(b.dump());
    CHECK(r.status == 400);
    CHECK(code(r) == "validation.failed");
  }
  CHECK(j.admin("POST", "/api/v1/jobs", {{"type", "cleanup"}, {"payload", {{"steps", {"nope"}}}}})
            .status == 400);
  CHECK(
      j.admin("POST", "/api/v1/jobs", {{"type", "test"}, {"payload", {{"steps", 1000}}}}).status ==
      400);
  CHECK(j.as(ann, "GET", "/api/v1/jobs?state=asleep").status == 400);
  CHECK(j.as(ann, "GET", "/api/v1/jobs?type=nope").status == 400);
  CHECK(j.as(ann, "GET", "/api/v1/jobs?limit=0").status == 400);
  CHECK(j.as(ann, "GET", "/api/v1/jobs?cursor=bm90LWEtY3Vyc29y").status == 400);
  CHECK(j.as(ann, "GET", "/api/v1/jobs/job_missing").status == 404);
  const std::string id =
      j.admin("POST", "/api/v1/jobs", {{"type", "test"}}).body_json["job"]["id"].get<std::string>();
  for (const json& b : {json::object(), json{{"action", "explode"}}, json{{"state", "running"}},
                        json{{"action", "cancel"}, {"state", "cancelled"}}}) {
    INFO(b.dump());
    CHECK(j.admin("PATCH", "/api/v1/jobs/" + id, b).status == 400);
  }
  // No credentials: 401; a wrong admin key: 403 even beside a valid user token.
  CHECK(j.call("GET", "/api/v1/jobs").status == 401);
  HttpResult wrong = j.call(
      "GET", "/api/v1/jobs", nullptr,
      {{"x-admin-key", "wrong-key-wrong-key-wrong"}, {"authorization", "Bearer " + ann.token}});
  CHECK(wrong.status == 403);
  CHECK(code(wrong) == "admin.key_invalid");
  for (const char* path : {"/api/jobs/run", "/api/v1/jobs/run"}) {
    CHECK(code(j.call("POST", path)) == "admin.key_required");
    CHECK(code(j.call("POST", path, nullptr, {{"x-admin-key", "wrong-key-wrong-key-wrong"}})) ==
          "admin.key_invalid");
    CHECK(j.as(ann, "POST", path).status == 401);  // a user token is not the admin key
  }
}

TEST_CASE("listing pages with a cursor and filters by state", "[jobs]") {
  JobsHost j;
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    ids.push_back(j.admin("POST", "/api/v1/jobs", {{"type", "test"}})
                      .body_json["job"]["id"]
                      .get<std::string>());
    j.h.advance_seconds(1);
  }
  j.deliver(ids[0]);
  json page1 = j.admin("GET", "/api/v1/jobs?limit=2").body_json;
  REQUIRE(page1["jobs"].size() == 2);
  CHECK(page1["jobs"][0]["id"] == ids[4]);
  json page2 =
      j.admin("GET", "/api/v1/jobs?limit=2&cursor=" + page1["nextCursor"].get<std::string>())
          .body_json;
  CHECK(page2["jobs"][0]["id"] == ids[2]);
  json page3 =
      j.admin("GET", "/api/v1/jobs?limit=2&cursor=" + page2["nextCursor"].get<std::string>())
          .body_json;
  CHECK(page3["jobs"].size() == 1);
  CHECK(page3["nextCursor"].is_null());
  json done = j.admin("GET", "/api/v1/jobs?state=succeeded").body_json["jobs"];
  REQUIRE(done.size() == 1);
  CHECK(done[0]["id"] == ids[0]);
}

namespace {

std::string long_text(int paragraphs) {
  std::string text = "# Field guide\n\n";
  for (int i = 0; i < paragraphs; ++i) {
    if (i == paragraphs / 2) text += "## Second half\n\n";
    text += "Paragraph " + std::to_string(i) + " describes the habits of bird number " +
            std::to_string(i) + " in enough words to fill a chunk.\n\n";
  }
  return text;
}

}  // namespace

TEST_CASE("a queued ingest is a job: its progress is visible, and the document points at it",
          "[jobs][rag]") {
  JobsHost j({{"INGEST_INLINE_BYTES", "64"}});
  Account ann = sign_up(j.h, "ann");
  HttpResult made = j.as(
      ann, "POST", "/api/v1/documents",
      {{"docId", "birds"}, {"content", long_text(40)}, {"chunkSize", 200}, {"chunkOverlap", 20}});
  REQUIRE(made.status == 202);
  const json doc_job = made.body_json["document"]["job"];
  const std::string id = doc_job["id"].get<std::string>();
  CHECK(doc_job["state"] == "queued");
  CHECK(doc_job["progress"] == 0.0);
  json job = j.as(ann, "GET", "/api/v1/jobs/" + id).body_json["job"];
  CHECK(job["type"] == "ingest");
  CHECK(job["userId"] == ann.id);
  CHECK(job["payload"] == json{{"documentId", "birds"}, {"generation", 1}});

  std::vector<double> progress;
  j.on_effect = [&](const std::string& op, const json& args) {
    if (op != "d1.batch") return;
    for (const json& st : args["statements"]) {
      if (st["sql"].get<std::string>().rfind("UPDATE jobs SET progress", 0) == 0) {
        progress.push_back(st["params"][2].get<double>());
      }
    }
  };
  json done = j.deliver(id).body_json["job"];
  REQUIRE(done["state"] == "succeeded");
  CHECK(done["result"]["documentId"] == "birds");
  CHECK(done["result"]["generation"] == 1);
  CHECK(done["result"]["chunkCount"].get<int64_t>() > 5);
  REQUIRE(progress.size() >= 3);
  CHECK(progress.front() == Approx(0.02));
  CHECK(std::is_sorted(progress.begin(), progress.end()));
  CHECK(progress.back() < 1.0);
  json doc = j.as(ann, "GET", "/api/v1/documents/birds").body_json["document"];
  CHECK(doc["state"] == "ready");
  CHECK_FALSE(doc.contains("job"));

  // Ingest through POST /api/v1/jobs: queued whatever the size.
  HttpResult small =
      j.as(ann, "POST", "/api/jobs",
           {{"type", "ingest"}, {"payload", {{"docId", "tiny"}, {"content", "Wrens."}}}});
  REQUIRE(small.status == 202);
  CHECK(small.body_json["document"]["state"] == "queued");
  CHECK(small.body_json["document"]["job"]["id"] == small.body_json["job"]["id"]);
  CHECK(j.deliver(small.body_json["job"]["id"].get<std::string>()).body_json["job"]["state"] ==
        "succeeded");
  CHECK(j.as(ann, "GET", "/api/v1/documents/tiny").body_json["document"]["state"] == "ready");
}

TEST_CASE("cancelling a queued ingest releases its document; a retry takes it back",
          "[jobs][rag]") {
  JobsHost j({{"INGEST_INLINE_BYTES", "64"}});
  Account ann = sign_up(j.h, "ann");
  HttpResult made =
      j.as(ann, "POST", "/api/v1/documents", {{"docId", "birds"}, {"content", long_text(10)}});
  const std::string id = made.body_json["document"]["job"]["id"].get<std::string>();
  HttpResult c = j.as(ann, "PATCH", "/api/v1/jobs/" + id, {{"action", "cancel"}});
  REQUIRE(c.status == 200);
  json doc = j.as(ann, "GET", "/api/v1/documents/birds").body_json["document"];
  CHECK(doc["state"] == "failed");
  CHECK(doc["error"]["code"] == "jobs.cancelled");
  CHECK_FALSE(doc.contains("job"));

  HttpResult r = j.as(ann, "PATCH", "/api/v1/jobs/" + id, {{"action", "retry"}});
  REQUIRE(r.status == 200);
  doc = j.as(ann, "GET", "/api/v1/documents/birds").body_json["document"];
  CHECK(doc["state"] == "queued");
  CHECK(doc["job"]["id"] == id);
  CHECK_FALSE(doc.contains("error"));
  CHECK(j.deliver(id).body_json["job"]["state"] == "succeeded");
  CHECK(j.as(ann, "GET", "/api/v1/documents/birds").body_json["document"]["state"] == "ready");

  // A job that succeeded is not retried.
  REQUIRE(j.as(ann, "PATCH", "/api/v1/jobs/" + id, {{"action", "retry"}}).status == 409);
  HttpResult again =
      j.as(ann, "POST", "/api/v1/documents", {{"docId", "birds"}, {"content", long_text(12)}});
  const std::string second = again.body_json["document"]["job"]["id"].get<std::string>();
  REQUIRE(j.as(ann, "PATCH", "/api/v1/jobs/" + second, {{"action", "cancel"}}).status == 200);
  // Cancelling a re-ingest keeps the live generation searchable.
  doc = j.as(ann, "GET", "/api/v1/documents/birds").body_json["document"];
  CHECK(doc["state"] == "ready");
  CHECK(doc["error"]["code"] == "jobs.cancelled");
  // The first job's generation is no longer the document's to build: its retry is refused.
  j.h.query("UPDATE jobs SET state = 'failed' WHERE id = '" + id + "'");
  HttpResult stale = j.as(ann, "PATCH", "/api/v1/jobs/" + id, {{"action", "retry"}});
  CHECK(stale.status == 409);
  CHECK(stale.body_json["error"]["code"] == "jobs.not_retryable");
}

TEST_CASE(
    "reindex: from stored chunks the chunks stay as they were; from a kept source it may "
    "re-chunk",
    "[jobs][rag]") {
  JobsHost j({{"INGEST_INLINE_BYTES", "2000"}});
  Account ann = sign_up(j.h, "ann");
  const std::string small_text = long_text(8);
  REQUIRE(small_text.size() < 2000);
  REQUIRE(
      j.as(ann, "POST", "/api/v1/documents",
           {{"docId", "inline"}, {"content", small_text}, {"chunkSize", 120}, {"chunkOverlap", 30}})
          .status == 201);
  const std::string cols = "idx, text, char_start, char_end, heading_path";
  auto chunks_of = [&](int gen) {
    return j.h.query("SELECT " + cols + " FROM chunks WHERE generation = " + std::to_string(gen) +
                     " ORDER BY idx");
  };
  const json before = chunks_of(1);
  REQUIRE(before.size() > 4);

  HttpResult bad =
      j.as(ann, "POST", "/api/v1/jobs",
           {{"type", "reindex"}, {"payload", {{"documentId", "inline"}, {"chunkSize", 300}}}});
  CHECK(bad.status == 400);
  CHECK(bad.body_json["error"]["fields"].contains("chunkSize"));
  HttpResult made = j.as(ann, "POST", "/api/v1/jobs",
                         {{"type", "reindex"}, {"payload", {{"documentId", "inline"}}}});
  REQUIRE(made.status == 202);
  CHECK(made.body_json["job"]["payload"]["source"] == "chunks");
  CHECK(made.body_json["document"]["state"] == "ready");  // the live generation stays searchable
  CHECK(j.as(ann, "POST", "/api/v1/jobs",
             {{"type", "reindex"}, {"payload", {{"documentId", "inline"}}}})
            .body_json["error"]["code"] == "documents.busy");
  json done = j.deliver(made.body_json["job"]["id"].get<std::string>()).body_json["job"];
  REQUIRE(done["state"] == "succeeded");
  CHECK(done["result"]["generation"] == 2);
  CHECK(chunks_of(1).empty());
  CHECK(chunks_of(2) == before);  // the same boundaries, text and headings
  HttpResult hit =
      j.as(ann, "POST", "/api/v1/search", {{"query", "bird number 3"}, {"mode", "keyword"}});
  CHECK(hit.body_json["results"].size() > 0);

  // A document whose source is in R2 is rebuilt from it, with the chunking asked for.
  REQUIRE(
      j.as(ann, "POST", "/api/v1/documents",
           {{"docId", "kept"}, {"content", long_text(60)}, {"chunkSize", 120}, {"chunkOverlap", 0}})
          .status == 202);
  const std::string first =
      j.h.query("SELECT job_id FROM documents WHERE id = 'kept'")[0]["job_id"].get<std::string>();
  REQUIRE(j.deliver(first).body_json["job"]["state"] == "succeeded");
  const int64_t n1 =
      j.h.query("SELECT chunk_count FROM documents WHERE id = 'kept'")[0]["chunk_count"]
          .get<int64_t>();
  HttpResult rechunk =
      j.as(ann, "POST", "/api/v1/jobs",
           {{"type", "reindex"}, {"payload", {{"documentId", "kept"}, {"chunkSize", 600}}}});
  REQUIRE(rechunk.status == 202);
  CHECK(rechunk.body_json["job"]["payload"]["source"] == "file");
  REQUIRE(j.deliver(rechunk.body_json["job"]["id"].get<std::string>()).body_json["job"]["state"] ==
          "succeeded");
  json kept = j.as(ann, "GET", "/api/v1/documents/kept").body_json["document"];
  CHECK(kept["chunking"]["size"] == 600);
  CHECK(kept["chunkCount"].get<int64_t>() < n1);
  CHECK(j.as(ann, "POST", "/api/v1/jobs",
             {{"type", "reindex"}, {"payload", {{"documentId", "nope"}}}})
            .status == 404);
}

TEST_CASE(
    "a document whose source is gone: 409 documents.source_missing, and its job fails at once",
    "[jobs][rag]") {
  JobsHost j({{"INGEST_INLINE_BYTES", "64"}});
  Account ann = sign_up(j.h, "ann");
  // A first ingest cancelled before it ran (no generation), then the document loses its source as
  // deleting the file behind it does: nothing is left to rebuild from.
  HttpResult never =
      j.as(ann, "POST", "/api/v1/documents", {{"docId", "never"}, {"content", long_text(10)}});
  REQUIRE(never.status == 202);
  const std::string never_job = never.body_json["document"]["job"]["id"].get<std::string>();
  REQUIRE(j.as(ann, "PATCH", "/api/v1/jobs/" + never_job, {{"action", "cancel"}}).status == 200);
  j.h.query("UPDATE documents SET r2_key = NULL WHERE id = 'never'");
  HttpResult refused = j.as(ann, "POST", "/api/v1/jobs",
                            {{"type", "reindex"}, {"payload", {{"documentId", "never"}}}});
  CHECK(refused.status == 409);
  CHECK(refused.body_json["error"]["code"] == "documents.source_missing");

  // A queued build whose source key is gone by the time it runs fails at once (a 4xx: a retry
  // cannot bring the source back), with the same code on the job and the document.
  HttpResult kept =
      j.as(ann, "POST", "/api/v1/documents", {{"docId", "kept"}, {"content", long_text(10)}});
  REQUIRE(kept.status == 202);
  j.h.query(
      "UPDATE documents SET r2_key = NULL, pending = json_set(pending, '$.r2Key', NULL) "
      "WHERE id = 'kept'");
  json job = j.deliver(kept.body_json["document"]["job"]["id"].get<std::string>()).body_json["job"];
  CHECK(job["state"] == "failed");
  CHECK(job["error"]["code"] == "documents.source_missing");
  json doc = j.as(ann, "GET", "/api/v1/documents/kept").body_json["document"];
  CHECK(doc["state"] == "failed");
  CHECK(doc["error"]["code"] == "documents.source_missing");
}
