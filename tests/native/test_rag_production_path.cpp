// The production retrieval path — Workers AI embeddings and Vectorize — driven through the
// FakeHost with the AI and VECTOR_INDEX bindings declared. The "model" answering ai.embed is the
// lexical embedder and the "index" an in-memory map with namespaces, both speaking the exact
// effect wire format of js-shim/effects-ai.js. Also: the offline defaults, and request parsing.
#include "index/lexical_embedder.hpp"
#include "rag/documents.hpp"
#include "rag/search.hpp"
#include "support/fake_host.hpp"

#include <catch2/catch.hpp>

#include <cstring>
#include <map>

using namespace ec;
using ec::testing::FakeHost;
using ec::testing::ForcedResult;
using ec::testing::HttpResult;
using ec::testing::json;

namespace {

struct FakeVectorize {
  struct Entry {
    std::string ns;
    std::vector<float> values;
  };
  std::map<std::string, Entry> vectors;
  int upserts = 0;
  int queries = 0;
  std::vector<std::string> deleted;
  bool down = false;

  std::optional<ForcedResult> handle(const std::string& op, const json& args) {
    if (op == "ai.embed") {
      std::vector<std::string> texts = args.at("texts").get<std::vector<std::string>>();
      REQUIRE(texts.size() <= 100);  // bge-base's batch limit
      std::string out(8 + texts.size() * kEmbeddingDims * 4, '\0');
      uint32_t dims = kEmbeddingDims;
      uint32_t n = static_cast<uint32_t>(texts.size());
      std::memcpy(out.data(), &dims, 4);
      std::memcpy(out.data() + 4, &n, 4);
      for (size_t i = 0; i < texts.size(); ++i) {
        embed_lexical(texts[i], reinterpret_cast<float*>(out.data() + 8) + i * kEmbeddingDims);
      }
      return ForcedResult{true, out, ""};
    }
    if (op.rfind("vectorize.", 0) != 0) return std::nullopt;
    if (down) return ForcedResult{false, "binding VECTOR_INDEX is not configured", "unavailable"};
    if (op == "vectorize.upsert") {
      ++upserts;
      for (const json& v : args.at("vectors")) {
        REQUIRE(v.at("id").get<std::string>().size() <= 64);
        REQUIRE(!v.at("namespace").get<std::string>().empty());
        vectors[v.at("id").get<std::string>()] = {v.at("namespace").get<std::string>(),
                                                  v.at("values").get<std::vector<float>>()};
      }
      return ForcedResult{true, json{{"count", args.at("vectors").size()}}.dump(), ""};
    }
    if (op == "vectorize.query") {
      ++queries;
      std::vector<float> q = args.at("vector").get<std::vector<float>>();
      std::vector<std::pair<float, std::string>> scored;
      for (const auto& [id, e] : vectors) {
        if (e.ns != args.at("namespace").get<std::string>()) continue;
        float s = 0;
        for (size_t i = 0; i < q.size(); ++i) s += q[i] * e.values[i];
        scored.emplace_back(s, id);
      }
      std::sort(scored.rbegin(), scored.rend());
      json matches = json::array();
      for (size_t i = 0; i < scored.size() && i < args.at("topK").get<size_t>(); ++i) {
        matches.push_back({{"id", scored[i].second}, {"score", scored[i].first}});
      }
      return ForcedResult{true, json{{"matches", matches}}.dump(), ""};
    }
    if (op == "vectorize.delete") {
      for (const json& id : args.at("ids")) {
        deleted.push_back(id.get<std::string>());
        vectors.erase(id.get<std::string>());
      }
      return ForcedResult{true, json{{"count", args.at("ids").size()}}.dump(), ""};
    }
    return std::nullopt;
  }
};

std::string register_token(FakeHost& h, const std::string& name) {
  HttpResult r =
      h.post("/api/v1/auth/register", {{"username", name}, {"password", "long enough pw"}});
  REQUIRE(r.status == 201);
  return r.body_json["accessToken"].get<std::string>();
}

std::map<std::string, std::string> production_env() {
  auto env = FakeHost::default_env();
  env["EDGECHAT_BINDINGS"] = "AI,BUCKET,DB,VECTOR_INDEX";
  env["LLM_TASKS"] = "local";  // graph extraction stays local: no ai.run in this test
  return env;
}

bool has_op(const HttpResult& r, const std::string& op) {
  return std::find(r.ops.begin(), r.ops.end(), op) != r.ops.end();
}

}  // namespace

TEST_CASE("with AI and VECTOR_INDEX bound, ingest embeds with bge and upserts to Vectorize",
          "[rag]") {
  FakeHost h(production_env());
  FakeVectorize fake;
  h.intercept = [&](const std::string& op, const json& args) { return fake.handle(op, args); };
  std::string alice = register_token(h, "alice");
  std::string bob = register_token(h, "bob");

  HttpResult made = h.post("/api/v1/documents",
                           {{"docId", "bikes"},
                            {"title", "Bicycle care"},
                            {"content",
                             "Lubricate the bicycle chain every two hundred km. Check "
                             "tyre pressure weekly."}},
                           alice);
  REQUIRE(made.status == 201);
  CHECK(made.body_json["document"]["embeddingModel"] == "@cf/baai/bge-base-en-v1.5");
  CHECK(made.body_json["document"]["vectorStore"] == "vectorize");
  CHECK(has_op(made, "ai.embed"));
  CHECK(has_op(made, "vectorize.upsert"));
  REQUIRE(fake.vectors.size() == 1);
  CHECK(fake.vectors.begin()->second.ns != "");
  // No local vector is stored when Vectorize holds them.
  CHECK(h.query("SELECT COUNT(*) AS n FROM chunks WHERE vector IS NOT NULL")[0]["n"] == 0);

  HttpResult hit =
      h.post("/api/v1/search", {{"query", "bicycle chain"}, {"mode", "vector"}}, alice);
  REQUIRE(hit.status == 200);
  REQUIRE(hit.body_json["results"].size() == 1);
  CHECK(hit.body_json["results"][0]["documentId"] == "bikes");
  CHECK(hit.body_json["embeddingModel"] == "@cf/baai/bge-base-en-v1.5");
  CHECK(has_op(hit, "vectorize.query"));

  // Another user's query runs in another namespace: nothing comes back.
  HttpResult other = h.post("/api/v1/search", {{"query", "bicycle chain"}}, bob);
  REQUIRE(other.status == 200);
  CHECK(other.body_json["results"].empty());

  // Re-ingest: the new generation's vectors replace the old ones, which are deleted.
  HttpResult again =
      h.post("/api/v1/documents", {{"docId", "bikes"}, {"content", "Brakes need new pads yearly."}},
             alice);
  REQUIRE(again.status == 201);
  CHECK(fake.deleted == std::vector<std::string>{fake.deleted.front()});
  CHECK(fake.vectors.size() == 1);

  HttpResult gone =
      h.request("DELETE", "/api/v1/documents/bikes", {{"authorization", "Bearer " + alice}});
  CHECK(gone.status == 204);
  CHECK(fake.vectors.empty());
}

TEST_CASE("a stale Vectorize match (deleted in D1, not yet in the index) is never returned",
          "[rag]") {
  FakeHost h(production_env());
  FakeVectorize fake;
  h.intercept = [&](const std::string& op, const json& args) { return fake.handle(op, args); };
  std::string t = register_token(h, "carol");
  REQUIRE(
      h.post("/api/v1/documents", {{"docId", "d"}, {"content", "quantum tunnelling"}}, t).status ==
      201);
  // Vectorize is eventually consistent: simulate its copy surviving the D1 delete.
  auto copy = fake.vectors;
  REQUIRE(h.request("DELETE", "/api/v1/documents/d", {{"authorization", "Bearer " + t}}).status ==
          204);
  fake.vectors = copy;
  HttpResult r = h.post("/api/v1/search", {{"query", "quantum tunnelling"}}, t);
  REQUIRE(r.status == 200);
  CHECK(r.body_json["results"].empty());
}

TEST_CASE("an unusable Vectorize falls back to the local index for that document", "[rag]") {
  FakeHost h(production_env());
  FakeVectorize fake;
  fake.down = true;
  h.intercept = [&](const std::string& op, const json& args) { return fake.handle(op, args); };
  std::string t = register_token(h, "dave");
  HttpResult made =
      h.post("/api/v1/documents", {{"docId", "d"}, {"content", "volcanic soil is fertile"}}, t);
  REQUIRE(made.status == 201);
  CHECK(made.body_json["document"]["vectorStore"] == "local");
  HttpResult r = h.post("/api/v1/search", {{"query", "volcanic soil"}, {"mode", "vector"}}, t);
  REQUIRE(r.status == 200);
  REQUIRE(r.body_json["results"].size() == 1);
  CHECK(r.body_json["notes"][0] == "Vectorize unavailable: local vectors only");
}

TEST_CASE("offline defaults: lexical embedder, local index, no AI or Vectorize effects", "[rag]") {
  FakeHost h;
  std::string t = register_token(h, "erin");
  HttpResult made = h.post("/api/v1/documents", {{"content", "tidal energy from the moon"}}, t);
  REQUIRE(made.status == 201);
  CHECK(made.body_json["document"]["embeddingModel"] == std::string(kLexicalEmbedderModel));
  for (const std::string& op : made.ops) {
    CHECK(op.rfind("ai.", 0) != 0);
    CHECK(op.rfind("vectorize.", 0) != 0);
  }
  // A second search reuses the cached local index: one small version read, no vector reload.
  HttpResult first = h.post("/api/v1/search", {{"query", "tidal moon"}, {"mode", "vector"}}, t);
  HttpResult second = h.post("/api/v1/search", {{"query", "tidal moon"}, {"mode", "vector"}}, t);
  REQUIRE(second.status == 200);
  CHECK(second.body_json["results"].size() == 1);
  auto d1_calls = [](const HttpResult& r) {
    return std::count_if(r.ops.begin(), r.ops.end(),
                         [](const std::string& op) { return op.rfind("d1.", 0) == 0; });
  };
  CHECK(d1_calls(second) < d1_calls(first));
}

TEST_CASE("ingest and search requests are validated field by field", "[rag]") {
  CHECK(parse_ingest_request({{"content", "x"}}).ok());
  CHECK(parse_ingest_request({{"fileId", "fil_1"}, {"docId", "a.b:c-d_e"}}).ok());
  for (const json& bad : {json{{"title", "no source"}}, json{{"content", "x"}, {"fileId", "f"}},
                          json{{"content", ""}}, json{{"content", "x"}, {"docId", "a/b"}},
                          json{{"content", "x"}, {"docId", std::string(129, 'a')}},
                          json{{"content", "x"}, {"title", std::string(301, 't')}},
                          json{{"content", "x"}, {"metadata", json::array()}},
                          json{{"content", "x"}, {"chunkSize", 9000}},
                          json{{"content", "x"}, {"chunkOverlap", -1}}}) {
    INFO(bad.dump());
    Result<IngestRequest> r = parse_ingest_request(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().status == 400);
  }
  Result<SearchRequest> ok = parse_search_request(
      {{"query", "x"}, {"topK", 50}, {"mode", "keyword"}, {"metadata", {{"k", true}}}});
  REQUIRE(ok.ok());
  CHECK(ok.value().top_k == 50);
  CHECK(ok.value().mode == SearchMode::kKeyword);
  for (const json& bad :
       {json::object(), json{{"query", "  "}}, json{{"query", 3}},
        json{{"query", "x"}, {"topK", 0}}, json{{"query", "x"}, {"topK", 1.5}},
        json{{"query", "x"}, {"threshold", 2}}, json{{"query", "x"}, {"documentIds", "a"}},
        json{{"query", "x"}, {"metadata", {{"a b", 1}}}},
        json{{"query", "x"}, {"metadata", {{"k", json::array()}}}}}) {
    INFO(bad.dump());
    CHECK_FALSE(parse_search_request(bad).ok());
  }
}

TEST_CASE("with an LLM bound, the graph comes from its validated JSON; junk falls back to local",
          "[rag]") {
  auto env = production_env();
  env.erase("LLM_TASKS");
  FakeHost h(env);
  FakeVectorize fake;
  std::string reply;
  std::vector<std::string> prompts;
  h.intercept = [&](const std::string& op, const json& args) -> std::optional<ForcedResult> {
    if (op == "ai.run") {
      CHECK(args.at("model") == "@cf/meta/llama-3.1-8b-instruct");
      prompts.push_back(args.at("input").at("messages").at(1).at("content").get<std::string>());
      return ForcedResult{true, json{{"response", reply}}.dump(), ""};
    }
    return fake.handle(op, args);
  };
  std::string t = register_token(h, "fay");
  reply =
      "Here you go:\n```json\n{\"entities\":[{\"name\":\"Ada Lovelace\",\"type\":\"person\"},"
      "{\"name\":\"Analytical Engine\",\"type\":\"machine\"}],\"relations\":[{\"source\":"
      "\"Ada Lovelace\",\"target\":\"Analytical Engine\",\"relation\":\"wrote notes on\"},"
      "{\"source\":\"Ada Lovelace\",\"target\":\"Nobody\",\"relation\":\"x\"}]}\n```";
  REQUIRE(
      h.post("/api/v1/documents",
             {{"docId", "ada"}, {"content", "Ada Lovelace wrote notes on the Analytical Engine."}},
             t)
          .status == 201);
  REQUIRE(prompts.size() == 1);
  CHECK(prompts[0].find("Analytical Engine") != std::string::npos);
  HttpResult g = h.get("/api/v1/documents/ada/graph", t);
  REQUIRE(g.status == 200);
  const json& graph = g.body_json["graph"];
  REQUIRE(graph["entities"].size() == 2);
  CHECK(graph["entities"][1]["type"] == "other");  // "machine" is not an allowed type
  REQUIRE(graph["relations"].size() == 1);         // the one naming an unknown entity is dropped
  CHECK(graph["relations"][0]["relation"] == "wrote_notes_on");

  reply = "I cannot help with that.";
  REQUIRE(
      h.post("/api/v1/documents",
             {{"docId", "ada"}, {"content", "Grace Hopper built the first compiler at Harvard."}},
             t)
          .status == 201);
  HttpResult local = h.get("/api/v1/documents/ada/graph", t);
  bool found = false;
  for (const json& e : local.body_json["graph"]["entities"]) found |= e["name"] == "Grace Hopper";
  CHECK(found);
}

TEST_CASE(
    "queued ingest runs as a job: only the shim may run it; a transient failure is retried with "
    "backoff, then recorded",
    "[rag][jobs]") {
  auto env = FakeHost::default_env();
  env["INGEST_INLINE_BYTES"] = "16";
  env["EDGECHAT_INTERNAL_TOKEN"] = "0123456789abcdef0123456789abcdef";
  env["JOB_MAX_ATTEMPTS"] = "2";
  env["JOB_RETRY_BASE_SECONDS"] = "10";
  FakeHost h(env);
  std::vector<json> sent;
  h.intercept = [&](const std::string& op, const json& args) -> std::optional<ForcedResult> {
    if (op == "r2.put")
      return ForcedResult{true, json{{"key", args.at("key")}, {"size", 1}}.dump(), ""};
    if (op == "job.enqueue") {
      sent.push_back(args);
      return ForcedResult{true, json{{"via", "queue"}}.dump(), ""};
    }
    if (op == "r2.get") return ForcedResult{false, "R2 is down", "unavailable"};
    return std::nullopt;
  };
  std::string t = register_token(h, "gus");
  HttpResult made =
      h.post("/api/v1/documents", {{"docId", "big"}, {"content", "more than sixteen bytes"}}, t);
  REQUIRE(made.status == 202);
  const json job_ref = made.body_json["document"]["job"];
  REQUIRE(sent.size() == 1);
  CHECK(sent[0]["body"] == json{{"jobId", job_ref["id"]}});  // a message carries only the id
  CHECK_FALSE(sent[0].contains("delaySeconds"));

  auto run = [&](const json& body, const std::string& token) {
    return h.request("POST", "/internal/jobs/run",
                     {{"content-type", "application/json"}, {"x-edgechat-internal", token}},
                     body.dump());
  };
  const json message = {{"jobId", job_ref["id"]}, {"attempt", 1}, {"via", "queue"}};
  CHECK(run(message, "wrong-token-wrong-token-wrong-tok").status == 404);
  HttpResult first = run(message, env["EDGECHAT_INTERNAL_TOKEN"]);
  REQUIRE(first.status == 200);  // the runner handled the failure: the message is done
  CHECK(first.body_json["job"]["state"] == "queued");
  CHECK(first.body_json["job"]["attempts"] == 1);
  CHECK(first.body_json["job"]["error"]["code"] == "storage.unavailable");
  REQUIRE(sent.size() == 2);
  CHECK(sent[1]["delaySeconds"] == 10);  // the retry is delayed by the backoff
  json pending = h.get("/api/v1/documents/big", t).body_json["document"];
  CHECK(pending["state"] == "processing");
  CHECK(pending["job"]["id"] == job_ref["id"]);

  // Redelivered early, the message finds the job not yet due and leaves it alone.
  HttpResult early = run(message, env["EDGECHAT_INTERNAL_TOKEN"]);
  CHECK(early.status == 200);
  CHECK(early.body_json["ran"] == false);

  h.advance_seconds(10);
  HttpResult last = run(message, env["EDGECHAT_INTERNAL_TOKEN"]);
  REQUIRE(last.status == 200);
  CHECK(last.body_json["job"]["state"] == "dead");
  CHECK(last.body_json["job"]["attempts"] == 2);
  json doc = h.get("/api/v1/documents/big", t).body_json["document"];
  CHECK(doc["state"] == "failed");
  CHECK(doc["error"]["code"] == "storage.unavailable");
  CHECK_FALSE(doc.contains("job"));
  CHECK(sent.size() == 2);  // no retry after the last attempt
  // A finished job's message is a no-op.
  CHECK(run(message, env["EDGECHAT_INTERNAL_TOKEN"]).body_json["ran"] == false);
}

TEST_CASE("a document delete that Vectorize refuses leaves a tombstone; cleanup deletes later",
          "[rag][cleanup]") {
  auto env = production_env();
  env["ADMIN_KEY"] = "admin-key-for-the-tests-0123456789";
  FakeHost h(env);
  FakeVectorize fake;
  h.intercept = [&](const std::string& op, const json& args) { return fake.handle(op, args); };
  std::string t = register_token(h, "tomb");
  REQUIRE(h.post("/api/v1/documents", {{"docId", "d"}, {"content", "sea shanties and tides"}}, t)
              .status == 201);
  REQUIRE(fake.vectors.size() == 1);
  fake.down = true;
  CHECK(h.request("DELETE", "/api/v1/documents/d", {{"authorization", "Bearer " + t}}).status ==
        204);
  CHECK(fake.vectors.size() == 1);
  CHECK(h.query("SELECT count FROM vector_tombstones")[0]["count"] == 1);

  auto cleanup = [&] {
    return h.request("POST", "/api/admin/cleanup",
                     {{"content-type", "application/json"}, {"x-admin-key", env["ADMIN_KEY"]}},
                     json{{"steps", {"vectorTombstones"}}}.dump());
  };
  HttpResult refused = cleanup();  // still down: reported, and the tombstone stays
  REQUIRE(refused.status == 503);
  CHECK(h.query("SELECT attempts FROM vector_tombstones")[0]["attempts"] == 1);
  fake.down = false;
  HttpResult done = cleanup();
  REQUIRE(done.status == 200);
  CHECK(done.body_json["removed"]["vectorTombstones"] == 1);
  CHECK(fake.vectors.empty());
  CHECK(h.query("SELECT * FROM vector_tombstones").empty());
}
