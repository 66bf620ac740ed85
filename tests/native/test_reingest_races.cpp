// Re-ingest of one docId under concurrency. The FakeHost answers effects one at a time, so a race
// is staged by running a second request to completion from inside one of the first request's
// effects — exactly the interleaving two isolates (or two requests in one) can produce.
#include "support/accounts.hpp"
#include "support/fake_host.hpp"

#include <catch2/catch.hpp>

#include <functional>
#include <string>

using ec::testing::Account;
using ec::testing::FakeHost;
using ec::testing::ForcedResult;
using ec::testing::HttpResult;
using ec::testing::json;
using ec::testing::sign_up;

namespace {

// Runs `race` once, just before the first effect for which `when` holds. The racing request's own
// effects pass through to the plain host.
void race_at(FakeHost& h, std::function<bool(const json&)> when, std::function<void()> race) {
  auto fired = std::make_shared<bool>(false);
  h.intercept = [when, race, fired](const std::string&,
                                    const json& args) -> std::optional<ForcedResult> {
    if (*fired || !when(args)) return std::nullopt;
    *fired = true;
    race();
    return std::nullopt;
  };
}

bool sql_has(const json& args, const std::string& needle) {
  if (args.contains("sql") && args["sql"].get<std::string>().find(needle) != std::string::npos) {
    return true;
  }
  if (args.contains("statements")) {
    for (const json& s : args["statements"]) {
      if (sql_has(s, needle)) return true;
    }
  }
  if (args.is_array()) {
    for (const json& s : args) {
      if (sql_has(s, needle)) return true;
    }
  }
  return false;
}

json ingest_body(const std::string& title, const std::string& content) {
  return {{"docId", "notes"}, {"title", title}, {"metadata", {{"v", title}}}, {"content", content}};
}

// A user whose document "notes" is live at generation 1.
Account with_first_version(FakeHost& h) {
  Account ann = sign_up(h, "ann");
  REQUIRE(h.post("/api/v1/documents", ingest_body("v1", "Owls hunt at night."), ann.token).status ==
          201);
  return ann;
}

// The invariants every test ends with: the document is ready with the chunks of its live
// generation and nothing else, and its generation numbers never went backwards.
void check_consistent(FakeHost& h) {
  json doc = h.query(
      "SELECT generation, building, last_generation, chunk_count, state, pending "
      "FROM documents WHERE id = 'notes'")[0];
  INFO(doc.dump());
  CHECK(doc["state"] == "ready");
  CHECK(doc["building"].is_null());
  CHECK(doc["pending"].is_null());
  CHECK(doc["last_generation"].get<int64_t>() >= doc["generation"].get<int64_t>());
  const json live = h.query("SELECT COUNT(*) AS n FROM chunks WHERE generation = " +
                            std::to_string(doc["generation"].get<int64_t>()));
  CHECK(live[0]["n"] == doc["chunk_count"]);
  CHECK(doc["chunk_count"].get<int64_t>() > 0);
  CHECK(h.query("SELECT COUNT(*) AS n FROM chunks")[0]["n"] == doc["chunk_count"]);
}

}  // namespace

TEST_CASE("re-ingest: a second build while one is in flight is refused and changes nothing",
          "[rag][races]") {
  FakeHost h;
  Account ann = with_first_version(h);
  HttpResult second;
  race_at(
      h, [](const json& a) { return sql_has(a, "INSERT INTO chunks"); },
      [&] { second = h.post("/api/v1/documents", ingest_body("v3", "Crows gather."), ann.token); });
  HttpResult first =
      h.post("/api/v1/documents", ingest_body("v2", "Herons wade in rivers."), ann.token);
  CHECK(first.status == 201);
  CHECK(second.status == 409);
  CHECK(second.body_json["error"]["code"] == "documents.busy");
  json doc = h.query("SELECT title, metadata, generation FROM documents")[0];
  CHECK(doc["title"] == "v2");
  CHECK(doc["metadata"] == R"({"v":"v2"})");
  CHECK(doc["generation"] == 2);
  check_consistent(h);
  HttpResult hit = h.post("/api/v1/search", {{"query", "herons rivers"}}, ann.token);
  REQUIRE(hit.body_json["results"].size() == 1);
  CHECK(hit.body_json["results"][0]["title"] == "v2");
}

TEST_CASE("re-ingest: two requests that read the same generation draw different ones",
          "[rag][races]") {
  FakeHost h;
  Account ann = with_first_version(h);
  // The second request runs whole between the first one's read of the document and its claim.
  HttpResult second;
  race_at(
      h, [](const json& a) { return sql_has(a, "RETURNING building"); },
      [&] { second = h.post("/api/v1/documents", ingest_body("v3", "Crows gather."), ann.token); });
  HttpResult first =
      h.post("/api/v1/documents", ingest_body("v2", "Herons wade in rivers."), ann.token);
  CHECK(second.status == 201);
  CHECK(first.status == 201);
  // Both were accepted, one after the other: the later claim is live, with its own number.
  json doc = h.query("SELECT title, generation, last_generation FROM documents")[0];
  CHECK(doc["title"] == "v2");
  CHECK(doc["generation"] == 3);
  CHECK(doc["last_generation"] == 3);
  check_consistent(h);
}

TEST_CASE("re-ingest: a build that fails leaves title, metadata and chunks as they were",
          "[rag][races]") {
  FakeHost h;
  Account ann = with_first_version(h);
  const json before = h.query("SELECT * FROM documents");
  h.advance_seconds(5);
  HttpResult bad = h.post("/api/v1/documents",
                          {{"docId", "notes"},
                           {"title", "broken"},
                           {"metadata", {{"v", "broken"}}},
                           {"content", "{\"not\": json"},
                           {"contentType", "application/json"}},
                          ann.token);
  REQUIRE(bad.status == 422);
  json after = h.query("SELECT * FROM documents");
  // Only the generation counter (the failed build's number is never drawn again) and the
  // housekeeping time moved.
  CHECK(after[0]["last_generation"] == 2);
  after[0]["last_generation"] = before[0]["last_generation"];
  after[0]["updated_at"] = before[0]["updated_at"];
  CHECK(after == before);
  check_consistent(h);
}

TEST_CASE(
    "re-ingest: an inline build whose request stalled is taken over, and cannot harm the "
    "build that took over",
    "[rag][races]") {
  FakeHost h;
  Account ann = with_first_version(h);
  HttpResult during;
  HttpResult later;
  race_at(
      h, [](const json& a) { return sql_has(a, "INSERT INTO chunks"); },
      [&] {
        during = h.post("/api/v1/documents", ingest_body("v3", "Crows gather."), ann.token);
        h.advance_seconds(121);  // the first build has made no progress for two minutes
        later =
            h.post("/api/v1/documents", ingest_body("v4", "Swifts sleep in flight."), ann.token);
      });
  HttpResult stalled =
      h.post("/api/v1/documents", ingest_body("v2", "Herons wade in rivers."), ann.token);
  CHECK(during.status == 409);
  CHECK(later.status == 201);
  // The stalled build finds its generation is no longer the one being built and drops only its
  // own rows; its client is shown the document as it now is.
  CHECK(stalled.status == 201);
  CHECK(stalled.body_json["document"]["title"] == "v4");
  json doc = h.query("SELECT title, generation FROM documents")[0];
  CHECK(doc["title"] == "v4");
  CHECK(doc["generation"] == 3);
  check_consistent(h);
}

TEST_CASE("re-ingest: a reindex and an ingest claim the same document one at a time",
          "[rag][races]") {
  FakeHost h({{"INGEST_INLINE_BYTES", "100000"}});
  Account ann = with_first_version(h);
  HttpResult reindex = h.post(
      "/api/v1/jobs", {{"type", "reindex"}, {"payload", {{"documentId", "notes"}}}}, ann.token);
  REQUIRE(reindex.status == 202);
  HttpResult blocked = h.post("/api/v1/documents", ingest_body("v2", "Herons."), ann.token);
  CHECK(blocked.status == 409);
  CHECK(blocked.body_json["error"]["code"] == "documents.busy");
  CHECK(h.query("SELECT title FROM documents")[0]["title"] == "v1");
}
