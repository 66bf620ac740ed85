// The answer service (chat/answer.cpp) driven through the FakeHost with a scripted provider and
// client: which effects it issues, in which order, and what it stores when the provider fails
// before or after its first token, when the client leaves, and when a resumable stream is or is
// not being followed. The upstream speaks OpenAI's wire format; D1 is real SQLite.
#include "providers/sse.hpp"
#include "support/fake_host.hpp"

#include <catch2/catch.hpp>

#include <deque>

using namespace ec;
using ec::testing::FakeHost;
using ec::testing::ForcedResult;
using ec::testing::json;

namespace {

std::string chunk(const std::string& text) {
  return "data: {\"choices\":[{\"delta\":{\"content\":" + json(text).dump() + "}}]}\n\n";
}

// The scripted world: one upstream (OpenAI SSE from `reads`), the client, the stream log.
struct World {
  int start_status = 200;
  std::deque<std::string> reads;
  int client_writes_ok = 1000;  // writes after this many fail (the client left)
  int64_t followers = 0;
  double log_now_ms = 0;             // what the log clock says at the next append
  double log_tick_ms = 0;            // and how far it moves on per append
  std::vector<std::string> written;  // bytes that reached the client
  std::vector<std::string> logged;   // chunks appended to the log
  int reads_done = 0;
  int aborts = 0;
  bool log_closed = false;

  std::optional<ForcedResult> handle(const std::string& op, const json& args) {
    if (op == "stream.open" || op == "log.write") return ForcedResult{true, "true", ""};
    if (op == "stream.write") {
      if (static_cast<int>(written.size()) >= client_writes_ok) {
        return ForcedResult{false, "client gone", "cancelled"};
      }
      written.push_back(args.get<std::string>());
      return ForcedResult{true, "true", ""};
    }
    if (op == "streamlog.create") return ForcedResult{true, json{{"created", true}}.dump(), ""};
    if (op == "streamlog.append") {
      REQUIRE(args.at("from").get<size_t>() == logged.size());  // appended exactly in order
      for (const json& c : args.at("chunks")) logged.push_back(c.get<std::string>());
      log_now_ms += log_tick_ms;
      return ForcedResult{
          true,
          json{{"length", logged.size()}, {"followers", followers}, {"now", log_now_ms}}.dump(),
          ""};
    }
    if (op == "streamlog.close") {
      log_closed = true;
      return ForcedResult{true, json{{"length", logged.size()}}.dump(), ""};
    }
    if (op == "fetch.start") {
      REQUIRE(args.at("url").get<std::string>() == "http://provider.test/v1/chat/completions");
      return ForcedResult{true, json{{"status", start_status}, {"stream", 7}}.dump(), ""};
    }
    if (op == "fetch.read") {
      ++reads_done;
      if (reads.empty()) return ForcedResult{true, "", ""};
      std::string next = reads.front();
      reads.pop_front();
      return ForcedResult{true, next, ""};
    }
    if (op == "fetch.abort") {
      ++aborts;
      return ForcedResult{true, "true", ""};
    }
    return std::nullopt;
  }

  // Events as the client or a resuming reader would decode them.
  static std::vector<SseEvent> events(const std::vector<std::string>& parts) {
    SseDecoder d;
    for (const std::string& p : parts) d.feed(p);
    return d.take();
  }
};

std::map<std::string, std::string> provider_env() {
  auto env = FakeHost::default_env();
  env["OPENAI_API_KEY"] = "sk-native-test";
  env["OPENAI_API_BASE_URL"] = "http://provider.test";
  return env;
}

struct Session {
  FakeHost h{provider_env()};
  World w;
  std::string token;
  std::string chat;

  Session() {
    h.intercept = [this](const std::string& op, const json& args) { return w.handle(op, args); };
    auto r =
        h.post("/api/v1/auth/register", {{"username", "chatter"}, {"password", "long enough pw"}});
    REQUIRE(r.status == 201);
    token = r.body_json["accessToken"].get<std::string>();
    auto c = h.post("/api/v1/chats", json::object(), token);
    REQUIRE(c.status == 201);
    chat = c.body_json["chat"]["id"].get<std::string>();
  }
  ec::testing::HttpResult ask(json body) {
    if (!body.contains("useDocuments")) body["useDocuments"] = false;
    return h.post("/api/v1/chats/" + chat + "/messages", body, token);
  }
  json answer_row() {
    json rows = h.query(
        "SELECT status, content, error, provider FROM messages WHERE role = "
        "'assistant' ORDER BY seq DESC LIMIT 1");
    REQUIRE(rows.size() == 1);
    return rows[0];
  }
};

std::string answer_text(const std::vector<SseEvent>& es) {
  std::string t;
  for (const SseEvent& e : es) {
    if (e.event == "delta") t += json::parse(e.data)["text"].get<std::string>();
  }
  return t;
}

}  // namespace

TEST_CASE("answer: a streamed answer reaches the client and the log alike, then is stored") {
  Session s;
  s.w.reads = {chunk("Hello"), chunk(" world [1]") + "data: [DONE]\n\n"};
  auto r = s.ask({{"content", "hi"}, {"provider", "openai"}, {"model", "gpt-4o-mini"}});
  CHECK(r.status == 200);
  std::vector<SseEvent> client = World::events(s.w.written);
  std::vector<SseEvent> log = World::events(s.w.logged);
  REQUIRE(client.size() == log.size());
  for (size_t i = 0; i < client.size(); ++i) {
    CHECK(client[i].id == std::to_string(i + 1));
    CHECK(client[i].data == log[i].data);
  }
  CHECK(client.front().event == "start");
  CHECK(client.back().event == "done");
  CHECK(answer_text(client) == "Hello world [1]");
  CHECK(s.w.log_closed);
  CHECK(s.w.aborts == 0);
  json row = s.answer_row();
  CHECK(row["status"] == "complete");
  CHECK(row["content"] == "Hello world [1]");
  // Every client write after the first is paired with the next upstream read in one round.
  CHECK(s.w.reads_done == 3);
}

TEST_CASE("answer: a provider failing before its first token is replaced, unseen") {
  Session s;
  s.w.start_status = 503;
  s.w.reads = {"{\"error\":{\"message\":\"overloaded\"}}"};
  auto r = s.ask({{"content", "What is the rooftop array?"}, {"provider", "openai"}});
  CHECK(r.status == 200);
  std::vector<SseEvent> es = World::events(s.w.written);
  REQUIRE(es.back().event == "done");
  json done = json::parse(es.back().data);
  CHECK(done["provider"] == "local");
  CHECK(done["attempts"][0]["outcome"] == "provider.error");
  CHECK(s.w.aborts == 1);  // the failed upstream's body was released
  for (const SseEvent& e : es) CHECK(e.event != "error");
}

TEST_CASE("answer: an error after the first token ends the stream with a partial answer") {
  Session s;
  s.w.reads = {chunk("Half an ans"),
               "data: {\"error\":{\"message\":\"server exploded\",\"type\":\"server_error\"}}\n\n"};
  auto r = s.ask({{"content", "hi"}, {"provider", "openai"}, {"model", "m"}});
  CHECK(r.status == 200);
  std::vector<SseEvent> es = World::events(s.w.written);
  REQUIRE(es.back().event == "error");
  CHECK(json::parse(es.back().data)["partial"] == true);
  json row = s.answer_row();
  CHECK(row["status"] == "partial");
  CHECK(row["content"] == "Half an ans");
  CHECK(row["provider"] == "openai");
}

TEST_CASE("answer: a client that leaves a non-resumable stream cancels the upstream at once") {
  Session s;
  for (int i = 0; i < 50; ++i) s.w.reads.push_back(chunk("w" + std::to_string(i) + " "));
  s.w.client_writes_ok = 3;  // start+sources, then one round of deltas
  auto r = s.ask({{"content", "hi"}, {"provider", "openai"}, {"model", "m"}, {"resumable", false}});
  CHECK(r.status == 200);
  CHECK(s.w.aborts == 1);
  CHECK(s.w.reads_done < 6);
  CHECK(s.w.logged.empty());
  json row = s.answer_row();
  CHECK(row["status"] == "partial");
  CHECK(row["error"] == "http.client_gone");
}

TEST_CASE("answer: a resumable generation outlives its client while followed or within grace") {
  SECTION("followed: it runs to the end") {
    Session s;
    for (int i = 0; i < 20; ++i) s.w.reads.push_back(chunk("w "));
    s.w.client_writes_ok = 2;
    s.w.followers = 1;
    s.w.log_now_ms = s.h.now_ms + 60'000;  // long past the grace period, but someone follows
    auto r = s.ask({{"content", "hi"}, {"provider", "openai"}, {"model", "m"}});
    CHECK(r.status == 200);
    CHECK(s.w.aborts == 0);
    CHECK(World::events(s.w.logged).back().event == "done");
    CHECK(s.answer_row()["status"] == "complete");
  }
  SECTION("unfollowed past the grace period: cancelled, stored partial") {
    Session s;
    for (int i = 0; i < 20; ++i) s.w.reads.push_back(chunk("w "));
    s.w.client_writes_ok = 2;
    s.w.followers = 0;
    s.w.log_now_ms = s.h.now_ms;
    s.w.log_tick_ms = 4000;  // each append 4 s later: the 10 s grace runs out three rounds on
    auto r = s.ask({{"content", "hi"}, {"provider", "openai"}, {"model", "m"}});
    CHECK(r.status == 200);
    CHECK(s.w.aborts == 1);
    CHECK(s.w.reads_done < 10);
    CHECK(s.answer_row()["status"] == "partial");
    // The log still ends properly, so a late reader is not left hanging.
    CHECK(World::events(s.w.logged).back().event == "error");
    CHECK(s.w.log_closed);
  }
}
