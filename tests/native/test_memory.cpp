// Memory streams: the routes through the FakeHost (real SQLite D1), the chat service's two entry
// points driven directly, and the pure summary renderer.
#include "chat/memory.hpp"
#include "core/utf8.hpp"
#include "support/accounts.hpp"
#include "support/drive_task.hpp"
#include "support/fake_host.hpp"
#include "support/utf8_oracle.hpp"

#include <catch2/catch.hpp>

#include <random>

using namespace ec;
using ec::testing::Account;
using ec::testing::drive;
using ec::testing::FakeHost;
using ec::testing::ForcedResult;
using ec::testing::HttpResult;
using ec::testing::json;
using ec::testing::sign_up;

namespace {

HttpResult raw(FakeHost& h, const std::string& method, const std::string& target,
               const Account& who, const std::string& body = "") {
  ec::testing::Headers hdr = {{"authorization", "Bearer " + who.token}};
  if (!body.empty()) hdr.emplace_back("content-type", "application/json");
  return h.request(method, target, hdr, body);
}
HttpResult call(FakeHost& h, const std::string& method, const std::string& target,
                const Account& who, const json& body) {
  return raw(h, method, target, who, body.dump());
}
HttpResult call(FakeHost& h, const std::string& method, const std::string& target,
                const Account& who) {
  return raw(h, method, target, who);
}

const std::string kStreams = "/api/v1/memory/streams";

json create_stream(FakeHost& h, const Account& who, const json& body) {
  HttpResult r = call(h, "POST", kStreams, who, body);
  INFO(r.body);
  REQUIRE(r.status == 201);
  return r.body_json["stream"];
}

json append(FakeHost& h, const Account& who, const std::string& ref, const std::string& role,
            const std::string& content) {
  HttpResult r = call(h, "POST", kStreams + "/" + ref + "/frames", who,
                      json{{"role", role}, {"content", content}});
  INFO(r.body);
  REQUIRE(r.status == 201);
  return r.body_json["frame"];
}

std::string field_of(const HttpResult& r, const std::string& field) {
  if (r.status != 400 || !r.body_json["error"]["fields"].contains(field)) return "";
  return r.body_json["error"]["fields"][field].get<std::string>();
}

MemoryFrame frame(std::string role, std::string content) {
  MemoryFrame f;
  f.role = std::move(role);
  f.content = std::move(content);
  return f;
}

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> out;
  size_t at = 0;
  while (at <= s.size() && !s.empty()) {
    size_t nl = s.find('\n', at);
    out.push_back(s.substr(at, nl == std::string::npos ? std::string::npos : nl - at));
    if (nl == std::string::npos) break;
    at = nl + 1;
  }
  return out;
}

}  // namespace

TEST_CASE("memory streams: create, read by id or streamId, list, update, delete", "[memory]") {
  FakeHost h;
  Account a = sign_up(h, "alice");

  json s1 = create_stream(h, a, {{"streamId", "agent-7"}, {"goal", "Plan the trip"}});
  CHECK(s1["id"].get<std::string>().rfind("mem_", 0) == 0);
  CHECK(s1["streamId"] == "agent-7");
  CHECK(s1["goal"] == "Plan the trip");
  CHECK(s1["status"] == "active");
  CHECK(s1["frameCount"] == 0);
  CHECK(s1["createdAt"] == "2026-11-18T11:06:40.000Z");
  CHECK(s1["updatedAt"] == s1["createdAt"]);

  // No body at all: defaults, and the streamId is the generated id.
  h.advance_seconds(1);
  HttpResult bare = call(h, "POST", kStreams, a);
  REQUIRE(bare.status == 201);
  json s2 = bare.body_json["stream"];
  CHECK(s2["streamId"] == s2["id"]);
  CHECK(s2["goal"].is_null());
  CHECK(*bare.header("location") == kStreams + "/" + s2["id"].get<std::string>());
  h.advance_seconds(1);
  json s3 = create_stream(h, a, {{"status", "archived"}, {"goal", ""}});
  CHECK(s3["status"] == "archived");
  CHECK(s3["goal"].is_null());  // "" means no goal

  // One stream, two names.
  const std::string id1 = s1["id"].get<std::string>();
  CHECK(call(h, "GET", kStreams + "/agent-7", a).body_json["stream"] == s1);
  CHECK(call(h, "GET", kStreams + "/" + id1, a).body_json["stream"] == s1);

  // Newest first, paged with an opaque cursor; ?status filters.
  HttpResult p1 = call(h, "GET", kStreams + "?limit=2", a);
  REQUIRE(p1.status == 200);
  REQUIRE(p1.body_json["streams"].size() == 2);
  CHECK(p1.body_json["streams"][0]["id"] == s3["id"]);
  CHECK(p1.body_json["streams"][1]["id"] == s2["id"]);
  const std::string cursor = p1.body_json["nextCursor"].get<std::string>();
  HttpResult p2 = call(h, "GET", kStreams + "?limit=2&cursor=" + cursor, a);
  REQUIRE(p2.body_json["streams"].size() == 1);
  CHECK(p2.body_json["streams"][0]["id"] == s1["id"]);
  CHECK(p2.body_json["nextCursor"].is_null());
  HttpResult archived = call(h, "GET", kStreams + "?status=archived", a);
  REQUIRE(archived.body_json["streams"].size() == 1);
  CHECK(archived.body_json["streams"][0]["id"] == s3["id"]);
  CHECK(call(h, "GET", kStreams + "?status=active", a).body_json["streams"].size() == 2);

  // PATCH writes only what it is given.
  h.advance_seconds(5);
  HttpResult up = call(h, "PATCH", kStreams + "/agent-7", a, json{{"status", "archived"}});
  REQUIRE(up.status == 200);
  CHECK(up.body_json["stream"]["status"] == "archived");
  CHECK(up.body_json["stream"]["goal"] == "Plan the trip");
  CHECK(up.body_json["stream"]["updatedAt"] == "2026-11-18T11:06:47.000Z");
  up = call(h, "PATCH", kStreams + "/" + id1, a, json{{"goal", nullptr}, {"status", "active"}});
  REQUIRE(up.status == 200);
  CHECK(up.body_json["stream"]["goal"].is_null());
  CHECK(up.body_json["stream"]["status"] == "active");
  up = call(h, "PATCH", kStreams + "/" + id1, a, json{{"goal", "New goal"}});
  CHECK(up.body_json["stream"]["goal"] == "New goal");

  // Delete takes the frames with it and unlinks chats that used the stream.
  append(h, a, "agent-7", "note", "remember this");
  h.query(
      "INSERT INTO chats (id, user_id, title, memory_stream_id, created_at, updated_at) "
      "VALUES ('c1', '" +
      a.id + "', 't', '" + id1 + "', 0, 0)");
  HttpResult del = call(h, "DELETE", kStreams + "/agent-7", a);
  CHECK(del.status == 204);
  CHECK(call(h, "GET", kStreams + "/agent-7", a).status == 404);
  CHECK(h.query("SELECT * FROM memory_frames WHERE memory_id = '" + id1 + "'").empty());
  CHECK(h.query("SELECT memory_stream_id FROM chats").at(0)["memory_stream_id"].is_null());
  CHECK(call(h, "DELETE", kStreams + "/agent-7", a).status == 404);
  // The streamId is free again.
  create_stream(h, a, {{"streamId", "agent-7"}});
}

TEST_CASE("memory frames: seq from one D1 batch, in order, never shared", "[memory]") {
  FakeHost h;
  Account a = sign_up(h, "bob");
  const std::string id = create_stream(h, a, {{"streamId", "log"}})["id"].get<std::string>();

  HttpResult r = call(h, "POST", kStreams + "/log/frames", a,
                      json{{"role", "user"}, {"content", "first"}, {"chatId", "chat_1"}});
  REQUIRE(r.status == 201);
  CHECK(r.body_json["frame"]["seq"] == 1);
  CHECK(r.body_json["frame"]["chatId"] == "chat_1");
  CHECK(r.body_json["frame"]["id"].get<std::string>().rfind("mfr_", 0) == 0);
  // Authenticate, look the stream up, then exactly one batch for the write.
  CHECK(r.ops.back() == "d1.batch");
  CHECK(std::count(r.ops.begin(), r.ops.end(), "d1.batch") == 1);

  // Another writer appends between our lookup and our batch: the seq comes from the database at
  // write time, so ours is 3, not the 2 our stale read would suggest.
  bool raced = false;
  h.intercept = [&](const std::string& op, const json&) -> std::optional<ForcedResult> {
    if (op == "d1.batch" && !raced) {
      raced = true;
      h.query("UPDATE memory_streams SET frame_count = frame_count + 1 WHERE id = '" + id + "'");
      h.query(
          "INSERT INTO memory_frames (id, memory_id, seq, role, content, created_at) VALUES "
          "('other', '" +
          id + "', 2, 'note', 'concurrent', 0)");
    }
    return std::nullopt;
  };
  CHECK(append(h, a, "log", "assistant", "second")["seq"] == 3);
  h.intercept = nullptr;
  CHECK(append(h, a, id, "observation", "third")["seq"] == 4);
  CHECK(call(h, "GET", kStreams + "/log", a).body_json["stream"]["frameCount"] == 4);

  // Listing pages forward in seq order.
  for (int i = 5; i <= 7; ++i) append(h, a, "log", "note", "n" + std::to_string(i));
  HttpResult p1 = call(h, "GET", kStreams + "/log/frames?limit=4", a);
  REQUIRE(p1.status == 200);
  std::vector<int64_t> seqs;
  for (const json& f : p1.body_json["frames"]) seqs.push_back(f["seq"].get<int64_t>());
  CHECK(seqs == std::vector<int64_t>{1, 2, 3, 4});
  CHECK(p1.body_json["frames"][0]["content"] == "first");
  CHECK(p1.body_json["frames"][1]["chatId"].is_null());
  HttpResult p2 = call(
      h, "GET",
      kStreams + "/log/frames?limit=4&cursor=" + p1.body_json["nextCursor"].get<std::string>(), a);
  seqs.clear();
  for (const json& f : p2.body_json["frames"]) seqs.push_back(f["seq"].get<int64_t>());
  CHECK(seqs == std::vector<int64_t>{5, 6, 7});
  CHECK(p2.body_json["nextCursor"].is_null());
  CHECK(h.query("SELECT COUNT(DISTINCT seq) AS n FROM memory_frames").at(0)["n"] == 7);
}

TEST_CASE("memory frames: an archived stream takes none, even if archived mid-append", "[memory]") {
  FakeHost h;
  Account a = sign_up(h, "carol");
  const std::string id = create_stream(h, a, {{"streamId", "s"}})["id"].get<std::string>();
  REQUIRE(call(h, "PATCH", kStreams + "/s", a, json{{"status", "archived"}}).status == 200);
  HttpResult r =
      call(h, "POST", kStreams + "/s/frames", a, json{{"role", "note"}, {"content", "x"}});
  CHECK(r.status == 409);
  CHECK(r.body_json["error"]["code"] == "memory.archived");

  REQUIRE(call(h, "PATCH", kStreams + "/s", a, json{{"status", "active"}}).status == 200);
  h.intercept = [&](const std::string& op, const json&) -> std::optional<ForcedResult> {
    if (op == "d1.batch") h.query("UPDATE memory_streams SET status = 'archived'");
    return std::nullopt;
  };
  r = call(h, "POST", kStreams + "/s/frames", a, json{{"role", "note"}, {"content", "x"}});
  h.intercept = nullptr;
  CHECK(r.status == 409);
  CHECK(h.query("SELECT frame_count FROM memory_streams").at(0)["frame_count"] == 0);
  CHECK(h.query("SELECT * FROM memory_frames WHERE memory_id = '" + id + "'").empty());
}

TEST_CASE("memory: another user's stream is 404 by id and by streamId", "[memory]") {
  FakeHost h;
  Account a = sign_up(h, "dora");
  Account b = sign_up(h, "eve");
  const std::string id =
      create_stream(h, a, {{"streamId", "shared-name"}, {"goal", "g"}})["id"].get<std::string>();
  append(h, a, id, "note", "secret");

  for (const std::string& ref : {id, std::string("shared-name")}) {
    for (const auto& [method, suffix] : std::vector<std::pair<std::string, std::string>>{
             {"GET", ""}, {"DELETE", ""}, {"GET", "/frames"}}) {
      HttpResult r = call(h, method, kStreams + "/" + ref + suffix, b);
      CHECK(r.status == 404);
      CHECK(r.body_json["error"]["code"] == "memory.not_found");
    }
    CHECK(call(h, "PATCH", kStreams + "/" + ref, b, json{{"goal", "mine"}}).status == 404);
    CHECK(call(h, "POST", kStreams + "/" + ref + "/frames", b,
               json{{"role", "note"}, {"content", "x"}})
              .status == 404);
  }
  CHECK(call(h, "GET", kStreams, b).body_json["streams"].empty());
  // streamIds are per user: b may use the same name, and each sees their own.
  json bs = create_stream(h, b, {{"streamId", "shared-name"}});
  CHECK(bs["id"] != id);
  CHECK(call(h, "GET", kStreams + "/shared-name", a).body_json["stream"]["goal"] == "g");
  CHECK(call(h, "GET", kStreams + "/shared-name", b).body_json["stream"]["goal"].is_null());
  // Nothing of a's changed.
  CHECK(h.query("SELECT frame_count, goal FROM memory_streams WHERE id = '" + id + "'").at(0) ==
        json{{"frame_count", 1}, {"goal", "g"}});

  // The chat service's entry points check ownership the same way.
  Result<MemoryContext> ctx = drive<Result<MemoryContext>>(
      h, [&](Ctx& c) { return load_memory_context(c, b.id, id, 2000); });
  REQUIRE(!ctx.ok());
  CHECK(ctx.error().status == 404);
  CHECK(ctx.error().code == "memory.not_found");

  // No token: 401 before anything else.
  CHECK(h.get(kStreams).status == 401);
  CHECK(h.request("GET", kStreams + "/" + id).status == 401);
}

TEST_CASE("memory: hostile and malformed input is a 4xx with field errors", "[memory]") {
  FakeHost h;
  Account a = sign_up(h, "frank");
  create_stream(h, a, {{"streamId", "s"}});

  CHECK(raw(h, "POST", kStreams, a, "[1,2]").body_json["error"]["code"] ==
        "validation.body_not_object");
  CHECK(raw(h, "POST", kStreams, a, "{not json").status == 400);
  CHECK(!field_of(call(h, "POST", kStreams, a, json{{"streamId", 7}}), "streamId").empty());
  CHECK(!field_of(call(h, "POST", kStreams, a, json{{"streamId", "a/b"}}), "streamId").empty());
  CHECK(!field_of(call(h, "POST", kStreams, a, json{{"streamId", ""}}), "streamId").empty());
  CHECK(
      !field_of(call(h, "POST", kStreams, a, json{{"streamId", std::string(129, 'x')}}), "streamId")
           .empty());
  CHECK(
      !field_of(call(h, "POST", kStreams, a, json{{"streamId", "mem_0123"}}), "streamId").empty());
  CHECK(!field_of(call(h, "POST", kStreams, a, json{{"goal", std::string(4097, 'g')}}), "goal")
             .empty());
  CHECK(!field_of(call(h, "POST", kStreams, a, json{{"goal", json::array()}}), "goal").empty());
  CHECK(!field_of(call(h, "POST", kStreams, a, json{{"status", "deleted"}}), "status").empty());
  HttpResult dup = call(h, "POST", kStreams, a, json{{"streamId", "s"}});
  CHECK(dup.status == 409);
  CHECK(dup.body_json["error"]["code"] == "memory.stream_exists");

  CHECK(!field_of(call(h, "PATCH", kStreams + "/s", a, json::object()), "status").empty());
  CHECK(field_of(call(h, "PATCH", kStreams + "/s", a, json{{"gaol", "typo"}}), "gaol") ==
        "unknown field");
  CHECK(!field_of(call(h, "PATCH", kStreams + "/s", a, json{{"status", 1}}), "status").empty());

  const std::string frames = kStreams + "/s/frames";
  CHECK(!field_of(call(h, "POST", frames, a, json{{"role", "system"}, {"content", "x"}}), "role")
             .empty());
  CHECK(!field_of(call(h, "POST", frames, a, json{{"role", "note"}}), "content").empty());
  CHECK(!field_of(call(h, "POST", frames, a, json{{"role", "note"}, {"content", ""}}), "content")
             .empty());
  CHECK(!field_of(call(h, "POST", frames, a, json{{"role", "note"}, {"content", json::object()}}),
                  "content")
             .empty());
  CHECK(field_of(call(h, "POST", frames, a,
                      json{{"role", "note"}, {"content", std::string(kMaxFrameBytes + 1, 'x')}}),
                 "content") == "at most 32768 bytes");
  CHECK(call(h, "POST", frames, a,
             json{{"role", "note"}, {"content", std::string(kMaxFrameBytes, 'x')}})
            .status == 201);
  CHECK(!field_of(call(h, "POST", frames, a,
                       json{{"role", "note"}, {"content", "x"}, {"chatId", "../../etc"}}),
                  "chatId")
             .empty());

  CHECK(!field_of(call(h, "GET", kStreams + "?limit=0", a), "limit").empty());
  CHECK(!field_of(call(h, "GET", kStreams + "?limit=abc", a), "limit").empty());
  CHECK(!field_of(call(h, "GET", kStreams + "?limit=101", a), "limit").empty());
  CHECK(!field_of(call(h, "GET", kStreams + "?status=gone", a), "status").empty());
  CHECK(!field_of(call(h, "GET", kStreams + "?cursor=!!!", a), "cursor").empty());
  CHECK(!field_of(call(h, "GET", kStreams + "?cursor=bm90LWEtY3Vyc29y", a), "cursor").empty());
  CHECK(!field_of(call(h, "GET", frames + "?cursor=LTUu", a), "cursor").empty());  // "-5."
  CHECK(!field_of(call(h, "GET", frames + "?limit=201", a), "limit").empty());

  // Odd path params are just names that match nothing.
  CHECK(call(h, "GET", kStreams + "/" + std::string(300, 'x'), a).status == 404);
  CHECK(call(h, "GET", kStreams + "/%27%20OR%201%3D1%20--", a).status == 404);
  CHECK(call(h, "GET", kStreams + "/%2F", a).status == 404);
}

TEST_CASE("memory summary: goal, then the newest whole frames, oldest first", "[memory]") {
  std::vector<MemoryFrame> frames = {frame("user", "What is the capital of France?"),
                                     frame("assistant", "Paris."),
                                     frame("observation", "The user likes\n\tshort  answers."),
                                     frame("note", "Ask about dates next")};
  CHECK(render_memory_summary("Plan a trip", frames, 2000) ==
        "Goal: Plan a trip\n"
        "Recent memory:\n"
        "- user: What is the capital of France?\n"
        "- assistant: Paris.\n"
        "- observation: The user likes short answers.\n"
        "- note: Ask about dates next");
  CHECK(render_memory_summary("", frames, 2000).rfind("Recent memory:\n- user:", 0) == 0);
  CHECK(render_memory_summary("  Goal\r\nwith lines  ", {}, 2000) == "Goal: Goal with lines");
  CHECK(render_memory_summary("", {}, 2000).empty());
  CHECK(render_memory_summary("   ", {}, 2000).empty());

  // A budget that fits the header and the last two lines keeps exactly those, whole.
  const std::string full = render_memory_summary("Plan a trip", frames, 2000);
  const std::string tail =
      "Goal: Plan a trip\nRecent memory:\n"
      "- observation: The user likes short answers.\n"
      "- note: Ask about dates next";
  CHECK(render_memory_summary("Plan a trip", frames, tail.size()) == tail);
  CHECK(render_memory_summary("Plan a trip", frames, tail.size() + 5) == tail);
  CHECK(render_memory_summary("Plan a trip", frames, tail.size() - 1) ==
        "Goal: Plan a trip\nRecent memory:\n- note: Ask about dates next");
  // Not even one frame fits: no dangling header.
  CHECK(render_memory_summary("Plan a trip", frames, 40) == "Goal: Plan a trip");
  // A newest frame too long to fit drops the older ones too: memory is a recent window.
  std::vector<MemoryFrame> big = frames;
  big.push_back(frame("note", std::string(350, 'z')));
  std::string s = render_memory_summary("", big, 200);
  CHECK(s.empty());
}

TEST_CASE("memory summary: cuts land on UTF-8 boundaries and the result is always valid",
          "[memory]") {
  // 300 × "é" (600 bytes) is cut to at most 400 bytes, ending in "…".
  std::string accents;
  for (int i = 0; i < 300; ++i) accents += "\xC3\xA9";
  std::string s = render_memory_summary("", {frame("user", accents)}, 2000);
  std::vector<std::string> lines = lines_of(s);
  REQUIRE(lines.size() == 2);
  const std::string content = lines[1].substr(std::string("- user: ").size());
  CHECK(content.size() <= kSummaryFrameBytes);
  CHECK(content.size() >= kSummaryFrameBytes - 4);
  CHECK(content.substr(content.size() - 3) == "\xE2\x80\xA6");
  CHECK(ec::testing::valid_utf8(s));

  // 4-byte emoji, U+2028, NEL and invalid bytes: single line, valid, U+FFFD for the junk.
  std::string emoji;
  for (int i = 0; i < 150; ++i) emoji += "\xF0\x9F\x98\x80";
  s = render_memory_summary("goal\xE2\x80\xA8next",
                            {frame("note",
                                   "a\xC2\x85"
                                   "b\xFF\xFE"
                                   "c"),
                             frame("assistant", emoji)},
                            2000);
  CHECK(ec::testing::valid_utf8(s));
  lines = lines_of(s);
  REQUIRE(lines.size() == 4);
  CHECK(lines[0] == "Goal: goal next");
  CHECK(lines[2] ==
        "- note: a b\xEF\xBF\xBD\xEF\xBF\xBD"
        "c");
  CHECK(lines[3].size() <= std::string("- assistant: ").size() + kSummaryFrameBytes);

  // Property: for every budget, the result fits, is valid UTF-8, and its frame lines are the
  // newest ones of the unbounded rendering, whole.
  std::mt19937 rng(7);
  const std::vector<std::string> pieces = {
      "a", " ", "\n", "\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80", "\xFF", "\t\t"};
  for (int round = 0; round < 20; ++round) {
    std::vector<MemoryFrame> fs;
    for (int i = 0; i < 12; ++i) {
      std::string c;
      const int n = static_cast<int>(rng() % 300);
      for (int k = 0; k < n; ++k) c += pieces[rng() % pieces.size()];
      fs.push_back(frame(i % 2 ? "assistant" : "user", c));
    }
    std::string goal;
    for (int k = 0; k < static_cast<int>(rng() % 500); ++k) goal += pieces[rng() % pieces.size()];
    const std::vector<std::string> all = lines_of(render_memory_summary(goal, fs, 1 << 20));
    for (size_t max = 0; max < 3000; max += 1 + rng() % 37) {
      const std::string out = render_memory_summary(goal, fs, max);
      INFO("max " << max);
      REQUIRE(out.size() <= max);
      REQUIRE(ec::testing::valid_utf8(out));
      std::vector<std::string> got = lines_of(out);
      size_t first_frame = 0;
      while (first_frame < got.size() && got[first_frame].rfind("- ", 0) != 0) ++first_frame;
      const size_t kept = got.size() - first_frame;
      for (size_t i = 0; i < kept; ++i) {
        REQUIRE(got[first_frame + i] == all[all.size() - kept + i]);
      }
    }
  }
}

TEST_CASE("load_memory_context and append_turn_frames for the chat service", "[memory]") {
  FakeHost h;
  Account a = sign_up(h, "gina");
  const std::string id =
      create_stream(h, a, {{"streamId", "trip"}, {"goal", "Plan a trip"}})["id"].get<std::string>();
  append(h, a, "trip", "user", "I like trains");
  append(h, a, "trip", "note", std::string(600, 'x'));  // longer than what the summary reads

  auto load = [&](const std::string& ref, size_t max) {
    return drive<Result<MemoryContext>>(
        h, [&](Ctx& c) { return load_memory_context(c, a.id, ref, max); });
  };
  Result<MemoryContext> c = load("trip", 2000);
  REQUIRE(c.ok());
  CHECK(c.value().id == id);
  CHECK(c.value().stream_id == "trip");
  CHECK(c.value().goal == "Plan a trip");
  std::vector<std::string> lines = lines_of(c.value().summary);
  REQUIRE(lines.size() == 4);
  CHECK(lines[0] == "Goal: Plan a trip");
  CHECK(lines[1] == "Recent memory:");
  CHECK(lines[2] == "- user: I like trains");
  CHECK(lines[3].size() <= std::string("- note: ").size() + kSummaryFrameBytes);
  CHECK(lines[3].substr(lines[3].size() - 3) == "\xE2\x80\xA6");
  CHECK(load(id, 2000).value().summary == c.value().summary);  // by id too
  CHECK(load("trip", 30).value().summary == "Goal: Plan a trip");

  Result<MemoryContext> missing = load("nope", 2000);
  REQUIRE(!missing.ok());
  CHECK(missing.error().code == "memory.not_found");
  CHECK(load("", 2000).error().code == "memory.not_found");

  // A turn: two frames, seqs 3 and 4, one batch.
  size_t batches = 0;
  h.intercept = [&](const std::string& op, const json&) -> std::optional<ForcedResult> {
    if (op.rfind("d1.", 0) == 0) ++batches;
    return std::nullopt;
  };
  std::string long_answer;
  for (size_t i = 0; i < kMaxFrameBytes; ++i) long_answer += "\xC3\xA9";  // 64 KiB
  Status st = drive<Status>(h, [&](Ctx& ctx) {
    return append_turn_frames(ctx, id, "chat_9", "Which train?", long_answer);
  });
  h.intercept = nullptr;
  REQUIRE(st.ok());
  CHECK(batches == 1);
  json rows = h.query(
      "SELECT seq, role, chat_id, length(CAST(content AS BLOB)) AS bytes FROM "
      "memory_frames WHERE memory_id = '" +
      id + "' ORDER BY seq");
  REQUIRE(rows.size() == 4);
  CHECK(rows[2] == json{{"seq", 3}, {"role", "user"}, {"chat_id", "chat_9"}, {"bytes", 12}});
  CHECK(rows[3]["seq"] == 4);
  CHECK(rows[3]["role"] == "assistant");
  CHECK(rows[3]["bytes"] == kMaxFrameBytes);  // clipped on a boundary (2-byte chars, even limit)
  CHECK(h.query("SELECT frame_count FROM memory_streams").at(0)["frame_count"] == 4);
  lines = lines_of(load("trip", 2000).value().summary);
  CHECK(lines[4] == "- user: Which train?");

  Status gone = drive<Status>(
      h, [&](Ctx& ctx) { return append_turn_frames(ctx, "mem_missing", "", "q", "a"); });
  CHECK(gone.error().code == "memory.not_found");

  // Archived: the chat service must not use it.
  REQUIRE(call(h, "PATCH", kStreams + "/trip", a, json{{"status", "archived"}}).status == 200);
  Result<MemoryContext> arch = load("trip", 2000);
  REQUIRE(!arch.ok());
  CHECK(arch.error().status == 409);
  CHECK(arch.error().code == "memory.archived");
}
