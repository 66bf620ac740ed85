// Admin routes and cleanup: the key guard on every admin route, and each cleanup step against
// real SQLite — expired and orphaned rows go, live ones stay, R2 objects nothing points at go
// after their grace period, each step bounded per run.
#include "support/accounts.hpp"
#include "support/fake_host.hpp"

#include <catch2/catch.hpp>

#include <map>

using ec::testing::Account;
using ec::testing::FakeHost;
using ec::testing::ForcedResult;
using ec::testing::Headers;
using ec::testing::HttpResult;
using ec::testing::json;
using ec::testing::sign_up;

namespace {

const std::string kAdminKey = "admin-key-for-the-tests-0123456789";
constexpr int64_t kDay = 86400000;

std::map<std::string, std::string> admin_env() {
  auto env = FakeHost::default_env();
  env["ADMIN_KEY"] = kAdminKey;
  return env;
}

// R2 as a map of key → uploaded time, speaking the shim's r2.list / r2.delete shapes.
struct FakeBucket {
  std::map<std::string, int64_t> objects;
  int lists = 0;

  std::optional<ForcedResult> handle(const std::string& op, const json& args) {
    if (op == "r2.list") {
      ++lists;
      const size_t limit = args.at("limit").get<size_t>();
      const std::string after = args.value("cursor", "");
      json out = json::array();
      std::string last;
      auto it = after.empty() ? objects.begin() : objects.upper_bound(after);
      for (; it != objects.end() && out.size() < limit; ++it) {
        out.push_back({{"key", it->first}, {"size", 1}, {"uploaded", it->second}});
        last = it->first;
      }
      json cursor = it == objects.end() ? json(nullptr) : json(last);
      return ForcedResult{true, json{{"objects", out}, {"cursor", cursor}}.dump(), ""};
    }
    if (op == "r2.delete") {
      for (const json& k : args.at("keys")) objects.erase(k.get<std::string>());
      return ForcedResult{true, "true", ""};
    }
    return std::nullopt;
  }
};

HttpResult cleanup(FakeHost& h, const json& body = nullptr, const std::string& key = kAdminKey) {
  Headers headers = {{"content-type", "application/json"}};
  if (!key.empty()) headers.emplace_back("x-admin-key", key);
  return h.request("POST", "/api/admin/cleanup", headers, body.is_null() ? "" : body.dump());
}

int64_t count(FakeHost& h, const std::string& sql) { return h.query(sql)[0]["n"].get<int64_t>(); }

}  // namespace

TEST_CASE("admin routes: 401 without the key, 403 with a wrong one, 403 when none is set",
          "[admin]") {
  FakeHost h(admin_env());
  Account a = sign_up(h, "notadmin");
  const std::vector<std::pair<std::string, std::string>> routes = {
      {"GET", "/api/admin/ping"},     {"GET", "/api/v1/admin/ping"},
      {"POST", "/api/admin/cleanup"}, {"POST", "/api/v1/admin/cleanup"},
      {"POST", "/api/jobs/run"},      {"POST", "/api/v1/jobs/run"},
  };
  for (const auto& [method, path] : routes) {
    INFO(method << " " << path);
    HttpResult none = h.request(method, path, {{"authorization", "Bearer " + a.token}});
    CHECK(none.status == 401);
    CHECK(none.body_json["error"]["code"] == "admin.key_required");
    for (const char* header : {"x-admin-key", "x-admin-token"}) {
      HttpResult wrong = h.request(method, path, {{header, kAdminKey + "x"}});
      CHECK(wrong.status == 403);
      CHECK(wrong.body_json["error"]["code"] == "admin.key_invalid");
    }
  }
  HttpResult ping = h.request("GET", "/api/admin/ping", {{"x-admin-token", kAdminKey}});
  REQUIRE(ping.status == 200);
  CHECK(ping.body_json["ok"] == true);
  CHECK(ping.body_json["time"] == static_cast<int64_t>(h.now_ms));
  CHECK(ping.body_json["version"].is_string());

  FakeHost unset;  // no ADMIN_KEY: nothing can match
  HttpResult off = unset.request("GET", "/api/v1/admin/ping", {{"x-admin-key", kAdminKey}});
  CHECK(off.status == 403);
  CHECK(off.body_json["error"]["code"] == "admin.disabled");
}

TEST_CASE("cleanup removes exactly what expired or is orphaned, and keeps the rest", "[cleanup]") {
  FakeHost h(admin_env());
  FakeBucket bucket;
  h.intercept = [&](const std::string& op, const json& args) { return bucket.handle(op, args); };
  Account a = sign_up(h, "owner");
  const int64_t now = static_cast<int64_t>(h.now_ms);
  auto at = [&](int64_t delta) { return std::to_string(now + delta); };
  const std::string uid = "'" + a.id + "'";

  // Sessions and refresh tokens: one expired family beside the live one from sign-up.
  h.query("INSERT INTO sessions (id, user_id, created_at, expires_at) VALUES ('s_old', " + uid +
          ", 0, " + at(-kDay) + ")");
  h.query(
      "INSERT INTO refresh_tokens (token_hash, session_id, user_id, created_at, expires_at, "
      "used_at) VALUES ('h_old', 's_old', " +
      uid + ", 0, " + at(-kDay) +
      ", 5), "
      "('h_old2', 's_old', " +
      uid + ", 0, " + at(-1) + ", NULL)");
  const int64_t live_tokens = count(h, "SELECT COUNT(*) AS n FROM refresh_tokens") - 2;
  // Grants, uploads, usage, idempotency keys, jobs, streams: one expired and one live each.
  h.query("INSERT INTO used_grants VALUES ('g_old', " + at(-1) + "), ('g_new', " + at(kDay) + ")");
  h.query(
      "INSERT INTO files (id, user_id, r2_key, filename, content_type, route, state, "
      "created_at, updated_at) VALUES "
      "('f_pending_old', " +
      uid + ", 'k/pending-old', 'a', 'text/plain', 'r', 'pending', " + at(-3 * kDay) +
      ", 0), "
      "('f_pending_new', " +
      uid + ", 'k/pending-new', 'b', 'text/plain', 'r', 'pending', " + at(-1000) +
      ", 0), "
      "('f_stored_old', " +
      uid + ", 'k/stored', 'c', 'text/plain', 'r', 'stored', " + at(-30 * kDay) + ", 0)");
  h.query(
      "INSERT INTO usage_events (id, user_id, kind, provider, model, tokens_in, tokens_out, "
      "cost, charged, created_at) VALUES ('ue_old', " +
      uid + ", 'chat', 'p', 'm', 1, 1, 1, 1, " + at(-91 * kDay) + "), ('ue_new', " + uid +
      ", 'chat', 'p', 'm', 1, 1, 1, 1, " + at(-89 * kDay) + ")");
  h.query(
      "INSERT INTO idempotency_keys (scope, key, request_hash, state, locked_until, "
      "created_at, expires_at) VALUES ('u:x', 'k1', 'h', 'done', 0, 0, " +
      at(-1) +
      "), "
      "('u:x', 'k2', 'h', 'done', 0, 0, " +
      at(kDay) + ")");
  h.query(
      "INSERT INTO jobs (id, type, state, max_attempts, run_after, created_at, updated_at, "
      "finished_at) VALUES "
      "('job_old', 'test', 'succeeded', 1, 0, 0, 0, " +
      at(-31 * kDay) +
      "), "
      "('job_recent', 'test', 'dead', 1, 0, 0, 0, " +
      at(-29 * kDay) +
      "), "
      "('job_queued', 'test', 'queued', 1, 0, 0, 0, NULL)");
  h.query(
      "INSERT INTO streams (id, user_id, kind, created_at, updated_at, expires_at) VALUES "
      "('st_old', " +
      uid + ", 'client', 0, 0, " + at(-1) + "), ('st_new', " + uid + ", 'client', 0, 0, " +
      at(kDay) + ")");
  // A document with its live chunks, plus rows of a generation a dead build left behind.
  REQUIRE(
      h.post("/api/v1/documents", {{"docId", "d"}, {"content", "Rivers run to the sea."}}, a.token)
          .status == 201);
  const std::string doc_uid = h.query("SELECT uid FROM documents")[0]["uid"].get<std::string>();
  const int64_t live_chunks = count(h, "SELECT COUNT(*) AS n FROM chunks");
  h.query(
      "INSERT INTO chunks (doc_uid, user_id, generation, idx, vid, text, char_start, "
      "char_end, vector) VALUES ('" +
      doc_uid + "', " + uid +
      ", 7, 0, 'x:7:0', 'stale', 0, 5, "
      "'v'), ('" +
      doc_uid + "', " + uid + ", 7, 1, 'x:7:1', 'stale', 0, 5, 'v')");
  h.query(
      "INSERT INTO graph_entities (doc_uid, generation, user_id, name, name_key, type) VALUES "
      "('" +
      doc_uid + "', 7, " + uid + ", 'Stale', 'stale', 'other')");
  const int64_t live_entities = count(h, "SELECT COUNT(*) AS n FROM graph_entities") - 1;
  // That build was an inline one whose request died: it still holds the document.
  h.query("UPDATE documents SET building = 7, last_generation = 7, updated_at = 0");
  // R2: two orphans (one inside its grace period), a stored file's object, a pending upload's.
  bucket.objects = {{"k/orphan-old", now - 2 * kDay},
                    {"k/orphan-new", now - 1000},
                    {"k/pending-old", now - 3 * kDay},
                    {"k/stored", now - 30 * kDay}};

  HttpResult r = cleanup(h);
  REQUIRE(r.status == 200);
  const json removed = r.body_json["removed"];
  INFO(r.body);
  CHECK(r.body_json["ok"] == true);
  CHECK(r.body_json["errors"] == json::object());
  CHECK(removed["refreshTokens"] == 2);
  CHECK(removed["sessions"] == 1);
  CHECK(removed["usedGrants"] == 1);
  CHECK(removed["pendingUploads"] == 1);
  CHECK(removed["usageEvents"] == 1);
  CHECK(removed["idempotencyKeys"] == 1);
  CHECK(removed["jobs"] == 1);
  CHECK(removed["streams"] == 1);
  CHECK(removed["staleBuilds"] == 1);
  CHECK(removed["orphanChunks"] == 2);
  CHECK(removed["orphanGraph"] == 1);
  CHECK(removed["vectorTombstones"] == 0);
  CHECK(removed["orphanObjects"] == 1);

  CHECK(count(h, "SELECT COUNT(*) AS n FROM refresh_tokens") == live_tokens);
  CHECK(count(h, "SELECT COUNT(*) AS n FROM sessions WHERE id = 's_old'") == 0);
  CHECK(h.query("SELECT grant_id FROM used_grants") == json::array({{{"grant_id", "g_new"}}}));
  CHECK(h.query("SELECT id FROM files ORDER BY id") ==
        json::array({{{"id", "f_pending_new"}}, {{"id", "f_stored_old"}}}));
  CHECK(h.query("SELECT id FROM usage_events") == json::array({{{"id", "ue_new"}}}));
  CHECK(h.query("SELECT key FROM idempotency_keys") == json::array({{{"key", "k2"}}}));
  CHECK(h.query("SELECT id FROM jobs ORDER BY id") ==
        json::array({{{"id", "job_queued"}}, {{"id", "job_recent"}}}));
  CHECK(h.query("SELECT id FROM streams") == json::array({{{"id", "st_new"}}}));
  CHECK(count(h, "SELECT COUNT(*) AS n FROM chunks") == live_chunks);
  CHECK(count(h, "SELECT COUNT(*) AS n FROM graph_entities") == live_entities);
  std::vector<std::string> left;
  for (const auto& [k, t] : bucket.objects) left.push_back(k);
  CHECK(left == std::vector<std::string>{"k/orphan-new", "k/stored"});
  CHECK(h.query("SELECT state, building, error_code FROM documents") ==
        json::array({{{"state", "ready"},
                      {"building", nullptr},
                      {"error_code", "documents.build_abandoned"}}}));
  // The document still answers searches.
  HttpResult hit = h.post("/api/v1/search", {{"query", "rivers sea"}}, a.token);
  CHECK(hit.body_json["results"].size() == 1);

  // A second run finds nothing more to do.
  HttpResult again = cleanup(h, {{"steps", {"refreshTokens", "orphanChunks", "orphanObjects"}}});
  REQUIRE(again.status == 200);
  CHECK(again.body_json["removed"] ==
        json{{"refreshTokens", 0}, {"orphanChunks", 0}, {"orphanObjects", 0}});
}

TEST_CASE("cleanup steps are bounded per run and say when there is more", "[cleanup]") {
  auto env = admin_env();
  env["CLEANUP_BATCH"] = "2";
  env["CLEANUP_SCAN"] = "3";
  FakeHost h(env);
  FakeBucket bucket;
  h.intercept = [&](const std::string& op, const json& args) { return bucket.handle(op, args); };
  for (int i = 0; i < 5; ++i) {
    h.query("INSERT INTO used_grants VALUES ('g" + std::to_string(i) + "', 1)");
    bucket.objects["orphan/" + std::to_string(i)] = 1;
  }
  HttpResult first = cleanup(h, {{"steps", {"usedGrants", "orphanObjects"}}});
  REQUIRE(first.status == 200);
  CHECK(first.body_json["removed"]["usedGrants"] == 2);
  CHECK(first.body_json["removed"]["orphanObjects"] == 4);  // two pages of two
  CHECK(first.body_json["more"] == json::array({"usedGrants", "orphanObjects"}));
  HttpResult second = cleanup(h, {{"steps", {"usedGrants", "orphanObjects"}}});
  CHECK(second.body_json["removed"]["usedGrants"] == 2);
  CHECK(second.body_json["removed"]["orphanObjects"] == 1);  // the listing resumed, then ended
  CHECK(bucket.objects.empty());
  CHECK(count(h, "SELECT COUNT(*) AS n FROM used_grants") == 1);
}

TEST_CASE("cleanup refuses unknown steps and non-admin callers", "[cleanup]") {
  FakeHost h(admin_env());
  for (const json& body : {json{{"steps", {"everything"}}}, json{{"steps", json::array()}},
                           json{{"steps", "usedGrants"}}, json{{"dryRun", true}}}) {
    INFO(body.dump());
    HttpResult r = cleanup(h, body);
    CHECK(r.status == 400);
    CHECK(r.body_json["error"]["code"] == "validation.failed");
  }
  CHECK(cleanup(h, nullptr, "").status == 401);
  CHECK(cleanup(h, nullptr, "short").status == 403);
}
