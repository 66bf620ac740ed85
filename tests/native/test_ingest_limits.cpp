// The ingest bounds (rag/ingest_limits.hpp) through the document route: a document over the chunk
// cap is refused after chunking with nothing left behind, a user over the storage quota before
// anything is written, and a re-ingest does not count its own document twice. And fairness: a
// large document's ingest yields to the host between slices of work (bindings/sched.hpp).
#include "support/fake_host.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>

using ec::testing::FakeHost;
using ec::testing::HttpResult;
using ec::testing::json;

namespace {

std::string register_token(FakeHost& h, const std::string& name) {
  HttpResult r =
      h.post("/api/v1/auth/register", {{"username", name}, {"password", "long enough pw"}});
  REQUIRE(r.status == 201);
  return r.body_json["accessToken"].get<std::string>();
}

std::map<std::string, std::string> limited_env() {
  auto env = FakeHost::default_env();
  env["MAX_CHUNKS_PER_DOCUMENT"] = "100";
  env["STORAGE_QUOTA_BYTES"] = "20000";
  return env;
}

int64_t count(FakeHost& h, const std::string& sql) { return h.query(sql)[0]["n"].get<int64_t>(); }

bool has_op(const HttpResult& r, const std::string& prefix) {
  for (const std::string& op : r.ops) {
    if (op.rfind(prefix, 0) == 0) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("a document over MAX_CHUNKS_PER_DOCUMENT is a 422 and leaves nothing", "[ingest]") {
  FakeHost h(limited_env());
  const std::string t = register_token(h, "capped");
  // 101 sentences of 40 characters with chunkSize 50: one chunk each.
  std::string text;
  for (int i = 0; i < 101; ++i)
    text += "Sentence number " + std::to_string(1000 + i) + " is here.\n\n";
  HttpResult r =
      h.post("/api/v1/documents",
             {{"docId", "many"}, {"content", text}, {"chunkSize", 50}, {"chunkOverlap", 0}}, t);
  REQUIRE(r.status == 422);
  CHECK(r.body_json["error"]["code"] == "documents.too_many_chunks");
  CHECK(count(h, "SELECT COUNT(*) AS n FROM documents") == 0);
  CHECK(count(h, "SELECT COUNT(*) AS n FROM chunks") == 0);
  // Refused before the first embedding and chunk row.
  for (const std::string& op : r.ops) CHECK(op != "ai.embed");
  // The same text in larger chunks is fine.
  HttpResult ok = h.post("/api/v1/documents", {{"docId", "many"}, {"content", text}}, t);
  REQUIRE(ok.status == 201);
  CHECK(ok.body_json["document"]["chunkCount"].get<int64_t>() < 100);
}

TEST_CASE("STORAGE_QUOTA_BYTES refuses input before anything is written (413)", "[ingest]") {
  FakeHost h(limited_env());
  const std::string t = register_token(h, "quota");
  // Over the quota by itself: no D1 write and no R2 object at all.
  HttpResult big = h.post("/api/v1/documents", {{"content", std::string(20001, 'x')}}, t);
  REQUIRE(big.status == 413);
  CHECK(big.body_json["error"]["code"] == "storage.quota_exceeded");
  CHECK_FALSE(has_op(big, "r2."));
  CHECK_FALSE(has_op(big, "d1.run"));
  CHECK_FALSE(has_op(big, "d1.batch"));
  CHECK(count(h, "SELECT COUNT(*) AS n FROM documents") == 0);

  // 12,000 characters indexed; 9,000 more would make 21,000 > 20,000.
  std::string words;
  while (words.size() < 12000) words += "quota words ";
  words.resize(12000);
  REQUIRE(h.post("/api/v1/documents", {{"docId", "a"}, {"content", words}}, t).status == 201);
  HttpResult more =
      h.post("/api/v1/documents", {{"docId", "b"}, {"content", words.substr(0, 9000)}}, t);
  REQUIRE(more.status == 413);
  CHECK(more.body_json["error"]["code"] == "storage.quota_exceeded");
  CHECK(count(h, "SELECT COUNT(*) AS n FROM documents") == 1);
  // Re-ingesting "a" replaces its text: only the new input counts.
  CHECK(h.post("/api/v1/documents", {{"docId", "a"}, {"content", words.substr(0, 15000)}}, t)
            .status == 201);
  // Another user has a quota of their own.
  const std::string other = register_token(h, "other");
  CHECK(h.post("/api/v1/documents", {{"content", words}}, other).status == 201);
}

TEST_CASE("a heading flood ingests in slices: sched.yield between bounded pieces of work",
          "[ingest]") {
  FakeHost h;
  const std::string t = register_token(h, "flood");
  std::string flood;
  for (int i = 0; i < 20000; ++i) flood += "# w" + std::to_string(i) + "\n";  // 168,890 bytes
  HttpResult r = h.post("/api/v1/documents", {{"docId", "flood"}, {"content", flood}}, t);
  REQUIRE(r.status == 201);
  const int64_t chunks = r.body_json["document"]["chunkCount"].get<int64_t>();
  CHECK(chunks < 2 * static_cast<int64_t>(flood.size()) / 512);  // not one per heading
  // Extraction alone (~169 KB in 16 KiB slices) yields about ten times; embedding more.
  const auto yields = std::count(r.ops.begin(), r.ops.end(), std::string("sched.yield"));
  CHECK(yields >= 10);
  CHECK(count(h, "SELECT COUNT(*) AS n FROM chunks") == chunks);
}
