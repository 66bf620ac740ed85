// The chat store and the canonical chat routes through the FakeHost (real SQLite with the repo's
// migrations). Store functions without a route of their own (append, edit, widget chats, recent
// history) are driven directly through a Ctx whose effects the same FakeHost answers.
#include "chat/chat_store.hpp"
#include "crypto/encoding.hpp"
#include "support/accounts.hpp"
#include "support/fake_host.hpp"

#include <catch2/catch.hpp>

#include <memory>

using namespace ec;
using ec::testing::Account;
using ec::testing::FakeHost;
using ec::testing::ForcedResult;
using ec::testing::HttpResult;
using ec::testing::json;
using ec::testing::sign_up;

namespace {

HttpResult call(FakeHost& h, const std::string& method, const std::string& target,
                const std::string& token, const std::optional<json>& body = std::nullopt) {
  ec::testing::Headers hs;
  if (!token.empty()) hs.emplace_back("authorization", "Bearer " + token);
  if (body) hs.emplace_back("content-type", "application/json");
  return h.request(method, target, hs, body ? body->dump() : "");
}

void expect_error(const HttpResult& r, int status, const std::string& code) {
  INFO(r.body);
  REQUIRE(r.status == status);
  CHECK(r.body_json["error"]["code"] == code);
}

// One Ctx per "request". Effects it asks for are answered by the same FakeHost; `held` keeps a
// batch of effects that a test has not let run yet.
struct Session {
  Env env;
  std::unique_ptr<Ctx> ctx;
  std::vector<Effect> held;
  bool started = false;
  explicit Session(FakeHost& h) {
    static uint32_t next_id = 1000;
    Envelope e;
    e.now_ms = h.now_ms;
    ctx = std::make_unique<Ctx>(++next_id, std::move(e), env);
  }
};

EffectResult to_effect_result(const ForcedResult& r) {
  if (r.ok) return EffectResult{EffectError::kNone, r.data, ""};
  return EffectResult{effect_error_from_code(r.code), "", r.data};
}

// Runs the task, answering its effects, until it is done or its next effect is `stop_at` (which
// is then held, unanswered, until the next call).
template <typename T>
void pump(FakeHost& h, Session& s, Task<T>& task, std::string_view stop_at = {}) {
  if (!s.started) {
    s.started = true;
    task.handle().resume();
  }
  for (int guard = 0; guard < 100 && !task.done(); ++guard) {
    if (s.held.empty()) {
      REQUIRE(s.ctx->has_pending());
      s.held = s.ctx->take_pending();
    }
    if (!stop_at.empty() && s.held.front().op == stop_at) return;
    std::vector<EffectResult> results;
    for (const Effect& e : s.held) results.push_back(to_effect_result(h.answer(e.op, e.payload)));
    s.held.clear();
    coro::coroutine_handle<> next = s.ctx->deliver(std::move(results));
    REQUIRE(next);
    next.resume();
  }
  REQUIRE(task.done());
}

template <typename T>
T drive(FakeHost& h, Session& s, Task<T> task) {
  pump(h, s, task);
  return task.take();
}

MessageRecord message(const std::string& chat, const std::string& role, const std::string& text) {
  MessageRecord m;
  m.chat_id = chat;
  m.role = role;
  m.content = text;
  if (role == "assistant") {
    m.provider = "local";
    m.model = "edgechat-extractive-v1";
  }
  return m;
}

MessageRecord append(FakeHost& h, MessageRecord m) {
  Session s(h);
  Result<MessageRecord> r = drive(h, s, append_message(*s.ctx, std::move(m)));
  INFO((r.ok() ? "" : r.error().code));
  REQUIRE(r.ok());
  return r.value();
}

std::string create_chat_http(FakeHost& h, const Account& a, json body = json::object()) {
  HttpResult r = call(h, "POST", "/api/v1/chats", a.token, body);
  INFO(r.body);
  REQUIRE(r.status == 201);
  return r.body_json["chat"]["id"].get<std::string>();
}

int64_t count_rows(FakeHost& h, const std::string& sql) {
  return h.query(sql).at(0).at("n").get<int64_t>();
}

}  // namespace

TEST_CASE("chat store: appends allocate seqs atomically, even when interleaved", "[chat]") {
  FakeHost h;
  Account alice = sign_up(h, "alice");
  std::string chat = create_chat_http(h, alice, {{"title", "Seqs"}});

  // Two appends in flight at once: both have issued their D1 batch before either runs.
  Session s1(h), s2(h);
  Task<Result<MessageRecord>> first = append_message(*s1.ctx, message(chat, "user", "first"));
  Task<Result<MessageRecord>> second = append_message(*s2.ctx, message(chat, "user", "second"));
  pump(h, s1, first, "d1.batch");
  pump(h, s2, second, "d1.batch");
  REQUIRE(!first.done());
  REQUIRE(!second.done());
  pump(h, s2, second);
  pump(h, s1, first);
  Result<MessageRecord> a = first.take();
  Result<MessageRecord> b = second.take();
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(b.value().seq == 1);
  CHECK(a.value().seq == 2);
  CHECK(a.value().id.rfind("msg_", 0) == 0);
  CHECK(a.value().id.size() == 4 + 24);
  CHECK(a.value().id != b.value().id);

  MessageRecord third = append(h, message(chat, "assistant", "third"));
  CHECK(third.seq == 3);
  json row = h.query("SELECT message_count, next_seq FROM chats WHERE id = '" + chat + "'").at(0);
  CHECK(row["message_count"] == 3);
  CHECK(row["next_seq"] == 4);

  // Listing is in seq order with the stored fields.
  HttpResult list = call(h, "GET", "/api/v1/chats/" + chat + "/messages", alice.token);
  REQUIRE(list.status == 200);
  REQUIRE(list.body_json["messages"].size() == 3);
  CHECK(list.body_json["messages"][0]["content"] == "second");
  CHECK(list.body_json["messages"][2]["provider"] == "local");
  CHECK(list.body_json["messages"][2]["model"] == "edgechat-extractive-v1");
  CHECK(list.body_json["nextCursor"].is_null());

  // A chat that does not exist gets nothing (and no counter moves).
  Session s3(h);
  Result<MessageRecord> none =
      drive(h, s3, append_message(*s3.ctx, message("cht_nope", "user", "x")));
  REQUIRE(!none.ok());
  CHECK(none.error().code == "chat.not_found");
  CHECK(count_rows(h, "SELECT COUNT(*) AS n FROM messages") == 3);
}

TEST_CASE("chat store: message JSON carries every stored field", "[chat]") {
  FakeHost h;
  Account alice = sign_up(h, "alice");
  std::string chat = create_chat_http(h, alice);
  MessageRecord q = append(h, message(chat, "user", "What is a bike?"));
  MessageRecord m = message(chat, "assistant", "A bicycle [1].");
  m.status = "partial";
  m.sources = json::array({{{"n", 1}, {"title", "Bikes"}, {"documentId", "bikes"}}});
  m.citations = json::array({1});
  m.tokens_in = 120;
  m.tokens_out = 7;
  m.latency_ms = 42;
  m.error = "provider.disconnected";
  m.reply_to = q.id;
  m.stream_id = "str_abc";
  MessageRecord a = append(h, m);
  json j = call(h, "GET", "/api/v1/chats/" + chat + "/messages", alice.token).body_json;
  json got = j["messages"][1];
  CHECK(got["id"] == a.id);
  CHECK(got["chatId"] == chat);
  CHECK(got["seq"] == 2);
  CHECK(got["role"] == "assistant");
  CHECK(got["status"] == "partial");
  CHECK(got["sources"][0]["title"] == "Bikes");
  CHECK(got["citations"] == json::array({1}));
  CHECK(got["tokensIn"] == 120);
  CHECK(got["tokensOut"] == 7);
  CHECK(got["latencyMs"] == 42);
  CHECK(got["error"] == "provider.disconnected");
  CHECK(got["replyTo"] == q.id);
  CHECK(got["streamId"] == "str_abc");
  CHECK(got["votes"] == json{{"up", 0}, {"down", 0}, {"mine", nullptr}});
  CHECK(got["createdAt"].get<std::string>().back() == 'Z');
  json user = j["messages"][0];
  CHECK(user["provider"].is_null());
  CHECK(user["tokensIn"].is_null());
  CHECK(user["sources"] == json::array());

  json c = call(h, "GET", "/api/v1/chats/" + chat, alice.token).body_json["chat"];
  CHECK(c["messageCount"] == 2);
  CHECK(c["createdAt"] == "2026-11-18T11:06:40.000Z");
  CHECK(c["visibility"] == "private");
  CHECK(c["origin"] == "api");
  CHECK(c["widgetId"].is_null());
}

TEST_CASE("chat store: editing a user message drops every later message", "[chat]") {
  FakeHost h;
  Account alice = sign_up(h, "alice");
  std::string chat = create_chat_http(h, alice);
  MessageRecord u1 = append(h, message(chat, "user", "one"));
  MessageRecord a1 = append(h, message(chat, "assistant", "answer one"));
  MessageRecord u2 = append(h, message(chat, "user", "two"));
  MessageRecord a2 = append(h, message(chat, "assistant", "answer two"));
  REQUIRE(call(h, "POST", "/api/v1/messages/" + a2.id + "/vote", alice.token, json{{"value", "up"}})
              .status == 200);

  Session s(h);
  Result<OwnedMessage> owned =
      drive(h, s, find_message(*s.ctx, alice.id, u2.id, ChatAccess::kWrite));
  REQUIRE(owned.ok());
  CHECK(owned.value().chat.id == chat);
  Session s2(h);
  Result<MessageRecord> edited =
      drive(h, s2, edit_user_message(*s2.ctx, owned.value(), "two, reworded"));
  REQUIRE(edited.ok());
  CHECK(edited.value().content == "two, reworded");
  CHECK(edited.value().seq == u2.seq);

  json left = call(h, "GET", "/api/v1/chats/" + chat + "/messages", alice.token).body_json;
  REQUIRE(left["messages"].size() == 3);
  CHECK(left["messages"][2]["id"] == u2.id);
  CHECK(left["messages"][2]["content"] == "two, reworded");
  CHECK(count_rows(h, "SELECT COUNT(*) AS n FROM message_votes") == 0);
  CHECK(h.query("SELECT message_count FROM chats").at(0)["message_count"] == 3);

  // Seqs are never reused: the next message comes after everything that ever existed.
  MessageRecord next = append(h, message(chat, "assistant", "new answer"));
  CHECK(next.seq == 5);

  // Assistant messages are not editable.
  Session s3(h);
  Result<OwnedMessage> answer =
      drive(h, s3, find_message(*s3.ctx, alice.id, a1.id, ChatAccess::kWrite));
  REQUIRE(answer.ok());
  Session s4(h);
  Result<MessageRecord> refused = drive(h, s4, edit_user_message(*s4.ctx, answer.value(), "x"));
  REQUIRE(!refused.ok());
  CHECK(refused.error().status == 409);
  CHECK(refused.error().code == "message.not_editable");

  // Editing the first message empties the rest of the chat.
  Session s5(h);
  Result<OwnedMessage> first =
      drive(h, s5, find_message(*s5.ctx, alice.id, u1.id, ChatAccess::kWrite));
  REQUIRE(first.ok());
  Session s6(h);
  REQUIRE(drive(h, s6, edit_user_message(*s6.ctx, first.value(), "restart")).ok());
  CHECK(h.query("SELECT message_count FROM chats").at(0)["message_count"] == 1);
}

TEST_CASE("chat store: recent history is the newest usable messages, oldest first", "[chat]") {
  FakeHost h;
  Account alice = sign_up(h, "alice");
  std::string chat = create_chat_http(h, alice);
  for (int i = 1; i <= 6; ++i) {
    MessageRecord m = message(chat, i % 2 ? "user" : "assistant", "m" + std::to_string(i));
    if (i == 4) m.status = "error";
    if (i == 6) m.status = "partial";
    append(h, m);
  }
  Session s(h);
  Result<std::vector<MessageRecord>> recent = drive(h, s, recent_messages(*s.ctx, chat, 3));
  REQUIRE(recent.ok());
  REQUIRE(recent.value().size() == 3);
  CHECK(recent.value()[0].content == "m3");
  CHECK(recent.value()[1].content == "m5");
  CHECK(recent.value()[2].content == "m6");
  Session s2(h);
  CHECK(drive(h, s2, recent_messages(*s2.ctx, chat, 0)).value().empty());
}

TEST_CASE("chat routes: votes are one per user, changeable, with totals", "[chat]") {
  FakeHost h;
  Account alice = sign_up(h, "alice");
  Account bob = sign_up(h, "bob");
  std::string chat = create_chat_http(h, alice);
  append(h, message(chat, "user", "q"));
  MessageRecord a = append(h, message(chat, "assistant", "a"));
  const std::string vote = "/api/v1/messages/" + a.id + "/vote";

  HttpResult up = call(h, "POST", vote, alice.token, json{{"value", "up"}});
  REQUIRE(up.status == 200);
  CHECK(up.body_json["message"]["votes"] == json{{"up", 1}, {"down", 0}, {"mine", "up"}});
  // Voting again with the same value changes nothing; another value replaces the vote.
  CHECK(call(h, "POST", vote, alice.token, json{{"value", "up"}})
            .body_json["message"]["votes"]["up"] == 1);
  HttpResult down = call(h, "POST", vote, alice.token, json{{"vote", "down"}});
  CHECK(down.body_json["message"]["votes"] == json{{"up", 0}, {"down", 1}, {"mine", "down"}});
  HttpResult numeric = call(h, "POST", vote, alice.token, json{{"value", 1}});
  CHECK(numeric.body_json["message"]["votes"] == json{{"up", 1}, {"down", 0}, {"mine", "up"}});
  CHECK(count_rows(h, "SELECT COUNT(*) AS n FROM message_votes") == 1);

  // Bob cannot see (or vote on) a private chat; once it is public he can, with his own vote.
  expect_error(call(h, "POST", vote, bob.token, json{{"value", "up"}}), 404, "message.not_found");
  REQUIRE(call(h, "PATCH", "/api/v1/chats/" + chat, alice.token, json{{"visibility", "public"}})
              .status == 200);
  HttpResult bobs = call(h, "POST", vote, bob.token, json{{"value", -1}});
  REQUIRE(bobs.status == 200);
  CHECK(bobs.body_json["message"]["votes"] == json{{"up", 1}, {"down", 1}, {"mine", "down"}});
  json alices_view = call(h, "GET", "/api/v1/chats/" + chat + "/messages", alice.token).body_json;
  CHECK(alices_view["messages"][1]["votes"] == json{{"up", 1}, {"down", 1}, {"mine", "up"}});

  for (const json& bad : {json{{"value", "sideways"}}, json{{"value", 2}}, json{{"value", 0}},
                          json::object(), json{{"value", nullptr}}, json{{"value", true}},
                          json{{"vote", json::array()}}, json{{"value", "UP "}}}) {
    INFO(bad.dump());
    expect_error(call(h, "POST", vote, alice.token, bad), 400, "validation.failed");
  }
  expect_error(call(h, "POST", vote, alice.token, json::array()), 400,
               "validation.body_not_object");
  expect_error(call(h, "POST", vote, "", json{{"value", "up"}}), 401, "auth.missing_token");
  expect_error(
      call(h, "POST", "/api/v1/messages/msg_nope/vote", alice.token, json{{"value", "up"}}), 404,
      "message.not_found");
}

TEST_CASE("chat routes: owners write, public chats are readable by others", "[chat]") {
  FakeHost h;
  Account alice = sign_up(h, "alice");
  Account bob = sign_up(h, "bob");
  std::string chat = create_chat_http(h, alice, {{"title", "Mine"}});
  MessageRecord m = append(h, message(chat, "user", "hello"));
  const std::string url = "/api/v1/chats/" + chat;

  // Another user's private chat is indistinguishable from a missing one.
  HttpResult theirs = call(h, "GET", url, bob.token);
  HttpResult missing = call(h, "GET", "/api/v1/chats/cht_000000000000000000000000", bob.token);
  expect_error(theirs, 404, "chat.not_found");
  expect_error(missing, 404, "chat.not_found");
  CHECK(theirs.body_json["error"]["message"] == missing.body_json["error"]["message"]);
  expect_error(call(h, "GET", url + "/messages", bob.token), 404, "chat.not_found");
  expect_error(call(h, "GET", url + "/export", bob.token), 404, "chat.not_found");
  expect_error(call(h, "PATCH", url, bob.token, json{{"title", "x"}}), 404, "chat.not_found");
  expect_error(call(h, "DELETE", url, bob.token), 404, "chat.not_found");
  expect_error(call(h, "DELETE", "/api/v1/messages/" + m.id, bob.token), 404, "message.not_found");
  CHECK(call(h, "GET", "/api/v1/chats", bob.token).body_json["chats"].empty());

  HttpResult made_public = call(h, "PATCH", url, alice.token, json{{"visibility", "public"}});
  REQUIRE(made_public.status == 200);
  CHECK(made_public.body_json["chat"]["visibility"] == "public");
  CHECK(made_public.body_json["chat"]["title"] == "Mine");

  // Readable by bob now, but still not writable, and not in his list.
  CHECK(call(h, "GET", url, bob.token).status == 200);
  CHECK(call(h, "GET", url + "/messages", bob.token).body_json["messages"].size() == 1);
  CHECK(call(h, "GET", url + "/export?format=markdown", bob.token).status == 200);
  expect_error(call(h, "PATCH", url, bob.token, json{{"title", "x"}}), 404, "chat.not_found");
  expect_error(call(h, "DELETE", url, bob.token), 404, "chat.not_found");
  expect_error(call(h, "DELETE", "/api/v1/messages/" + m.id, bob.token), 404, "message.not_found");
  CHECK(call(h, "GET", "/api/v1/chats", bob.token).body_json["chats"].empty());

  REQUIRE(call(h, "PATCH", url, alice.token, json{{"visibility", "private"}}).status == 200);
  expect_error(call(h, "GET", url, bob.token), 404, "chat.not_found");

  // The owner deletes a message (count follows), then the chat with everything in it.
  REQUIRE(call(h, "DELETE", "/api/v1/messages/" + m.id, alice.token).status == 204);
  CHECK(call(h, "GET", url, alice.token).body_json["chat"]["messageCount"] == 0);
  expect_error(call(h, "DELETE", "/api/v1/messages/" + m.id, alice.token), 404,
               "message.not_found");
  MessageRecord again = append(h, message(chat, "user", "again"));
  CHECK(again.seq == 2);
  REQUIRE(
      call(h, "POST", "/api/v1/messages/" + again.id + "/vote", alice.token, json{{"value", "up"}})
          .status == 200);
  REQUIRE(call(h, "DELETE", url, alice.token).status == 204);
  expect_error(call(h, "GET", url, alice.token), 404, "chat.not_found");
  CHECK(count_rows(h, "SELECT COUNT(*) AS n FROM messages") == 0);
  CHECK(count_rows(h, "SELECT COUNT(*) AS n FROM message_votes") == 0);
}

TEST_CASE("chat routes: pagination with opaque cursors", "[chat]") {
  FakeHost h;
  Account alice = sign_up(h, "alice");
  std::vector<std::string> made;
  for (int i = 0; i < 5; ++i) {
    made.push_back(create_chat_http(h, alice, {{"title", "chat " + std::to_string(i)}}));
    if (i != 2) h.advance_seconds(1);  // chats 2 and 3 share a timestamp: the id breaks the tie
  }
  std::vector<std::string> seen;
  std::string cursor;
  int pages = 0;
  for (;;) {
    HttpResult r =
        call(h, "GET", "/api/v1/chats?limit=2" + (cursor.empty() ? "" : "&cursor=" + cursor),
             alice.token);
    REQUIRE(r.status == 200);
    ++pages;
    for (const json& c : r.body_json["chats"]) seen.push_back(c["id"].get<std::string>());
    if (r.body_json["nextCursor"].is_null()) break;
    cursor = r.body_json["nextCursor"].get<std::string>();
    REQUIRE(pages < 10);
  }
  CHECK(pages == 3);
  REQUIRE(seen.size() == 5);
  CHECK(seen[0] == made[4]);
  CHECK(seen[4] == made[0]);
  std::vector<std::string> sorted = seen;
  std::sort(sorted.begin(), sorted.end());
  CHECK(std::unique(sorted.begin(), sorted.end()) == sorted.end());

  // Activity moves a chat to the front.
  append(h, message(made[0], "user", "bump"));
  HttpResult first = call(h, "GET", "/api/v1/chats?limit=1", alice.token);
  CHECK(first.body_json["chats"][0]["id"] == made[0]);

  // Messages page forward in seq order.
  for (int i = 1; i <= 4; ++i) append(h, message(made[1], "user", "m" + std::to_string(i)));
  HttpResult p1 = call(h, "GET", "/api/v1/chats/" + made[1] + "/messages?limit=3", alice.token);
  REQUIRE(p1.status == 200);
  REQUIRE(p1.body_json["messages"].size() == 3);
  CHECK(p1.body_json["messages"][2]["content"] == "m3");
  std::string next = p1.body_json["nextCursor"].get<std::string>();
  HttpResult p2 =
      call(h, "GET", "/api/v1/chats/" + made[1] + "/messages?limit=3&cursor=" + next, alice.token);
  REQUIRE(p2.body_json["messages"].size() == 1);
  CHECK(p2.body_json["messages"][0]["content"] == "m4");
  CHECK(p2.body_json["nextCursor"].is_null());

  // Hostile cursors and limits are 400s with the field named.
  for (const std::string& bad :
       {std::string("!!!"), base64url_encode("x.y"), base64url_encode("12.a'b"),
        base64url_encode("12"), base64url_encode("-5.cht_a"), std::string(600, 'A'),
        base64url_encode("99999999999999999999999.x")}) {
    INFO(bad);
    HttpResult r = call(h, "GET", "/api/v1/chats?cursor=" + bad, alice.token);
    expect_error(r, 400, "validation.failed");
    CHECK(r.body_json["error"]["fields"].contains("cursor"));
    expect_error(
        call(h, "GET", "/api/v1/chats/" + made[1] + "/messages?cursor=" + bad, alice.token), 400,
        "validation.failed");
  }
  for (const std::string& bad : {"0", "101", "abc", "-1", "1.5", ""}) {
    HttpResult r = call(h, "GET", "/api/v1/chats?limit=" + bad, alice.token);
    expect_error(r, 400, "validation.failed");
    CHECK(r.body_json["error"]["fields"].contains("limit"));
  }
  CHECK(call(h, "GET", "/api/v1/chats?limit=100", alice.token).status == 200);
  CHECK(call(h, "GET", "/api/v1/chats/" + made[1] + "/messages?limit=200", alice.token).status ==
        200);
  expect_error(call(h, "GET", "/api/v1/chats/" + made[1] + "/messages?limit=201", alice.token), 400,
               "validation.failed");
}

TEST_CASE("chat routes: export as JSON and as a Markdown transcript", "[chat]") {
  FakeHost h;
  Account alice = sign_up(h, "alice");
  std::string chat = create_chat_http(h, alice, {{"title", "Trip\nplanning"}});
  append(h, message(chat, "user", "# Fake heading\n```\nunclosed fence\n\n## Assistant (evil)"));
  MessageRecord a = message(chat, "assistant", "Take the train [1].");
  a.sources = json::array({{{"n", 1}, {"title", "Rail guide"}, {"documentId", "rail"}},
                           {{"n", 2}, {"title", "Maps [v2]"}, {"url", "https://maps.example/x"}}});
  append(h, a);

  HttpResult md = call(h, "GET", "/api/v1/chats/" + chat + "/export?format=markdown", alice.token);
  REQUIRE(md.status == 200);
  CHECK(*md.header("content-type") == "text/markdown; charset=utf-8");
  CHECK(md.header("content-disposition")->find("attachment; filename=\"chat-" + chat + ".md\"") ==
        0);
  const std::string& t = md.body;
  INFO(t);
  CHECK(t.rfind("# Trip planning\n", 0) == 0);
  CHECK(t.find("- Messages: 2") != std::string::npos);
  CHECK(t.find("\n## User\n") != std::string::npos);
  CHECK(t.find("> # Fake heading\n> ```\n> unclosed fence\n>\n> ## Assistant (evil)\n") !=
        std::string::npos);
  CHECK(t.find("\n## Assistant (local/edgechat-extractive-v1)\n") != std::string::npos);
  CHECK(t.find("> Take the train [1].") != std::string::npos);
  CHECK(
      t.find(
          "**Sources**\n\n1. Rail guide (`rail`)\n2. [Maps \\[v2\\]](https://maps.example/x)\n") !=
      std::string::npos);
  // Only the transcript's own lines start a heading: message content is always quoted.
  size_t headings = 0;
  for (size_t at = t.find("\n## "); at != std::string::npos; at = t.find("\n## ", at + 1))
    ++headings;
  CHECK(headings == 2);

  HttpResult js = call(h, "GET", "/api/v1/chats/" + chat + "/export", alice.token);
  REQUIRE(js.status == 200);
  CHECK(js.body_json["chat"]["id"] == chat);
  CHECK(js.body_json["chat"]["title"] == "Trip planning");
  REQUIRE(js.body_json["messages"].size() == 2);
  CHECK(js.body_json["messages"][1]["sources"].size() == 2);
  CHECK(call(h, "GET", "/api/v1/chats/" + chat + "/export?format=json", alice.token).status == 200);
  HttpResult bad = call(h, "GET", "/api/v1/chats/" + chat + "/export?format=xml", alice.token);
  expect_error(bad, 400, "validation.failed");
  CHECK(bad.body_json["error"]["fields"].contains("format"));
}

TEST_CASE("chat store: widget chats are found again by session", "[chat]") {
  FakeHost h;
  Account alice = sign_up(h, "alice");
  auto widget_chat = [&](std::string user, std::string widget, std::string session) {
    Session s(h);
    Result<ChatRecord> r = drive(
        h, s,
        find_or_create_widget_chat(*s.ctx, std::move(user), std::move(widget), std::move(session)));
    INFO((r.ok() ? "" : r.error().code));
    REQUIRE(r.ok());
    return r.value();
  };
  ChatRecord a1 = widget_chat("", "wid_1", "session-a");
  ChatRecord a2 = widget_chat("", "wid_1", "session-a");
  CHECK(a1.id == a2.id);
  CHECK(a1.id.rfind("cht_", 0) == 0);
  CHECK(a1.id.size() == 4 + 24);
  CHECK(a1.origin == "widget");
  CHECK(a1.widget_id == "wid_1");
  CHECK(a1.user_id.empty());
  CHECK(h.query("SELECT user_id FROM chats WHERE id = '" + a1.id + "'").at(0)["user_id"].is_null());
  CHECK(widget_chat("", "wid_1", "session-b").id != a1.id);
  CHECK(widget_chat("", "wid_2", "session-a").id != a1.id);
  ChatRecord signed_in = widget_chat(alice.id, "wid_1", "session-a");
  CHECK(signed_in.id != a1.id);
  CHECK(signed_in.user_id == alice.id);
  CHECK(widget_chat(alice.id, "wid_1", "session-a").id == signed_in.id);
  // No session: a fresh chat each time.
  CHECK(widget_chat("", "wid_1", "").id != widget_chat("", "wid_1", "").id);
  CHECK(count_rows(h, "SELECT COUNT(*) AS n FROM chats WHERE origin = 'widget'") == 6);

  // Anonymous widget chats are not reachable through the canonical routes.
  expect_error(call(h, "GET", "/api/v1/chats/" + a1.id, alice.token), 404, "chat.not_found");
  // A message appended to one shows up when it is found again.
  append(h, message(a1.id, "user", "hi from the widget"));
  CHECK(widget_chat("", "wid_1", "session-a").message_count == 1);
}

TEST_CASE("chat routes: hostile and malformed input is a clear 4xx", "[chat]") {
  FakeHost h;
  Account alice = sign_up(h, "alice");

  HttpResult empty = call(h, "POST", "/api/v1/chats", alice.token);
  REQUIRE(empty.status == 201);
  CHECK(empty.body_json["chat"]["title"] == "New chat");
  CHECK(*empty.header("location") ==
        "/api/v1/chats/" + empty.body_json["chat"]["id"].get<std::string>());
  CHECK(call(h, "POST", "/api/v1/chats", alice.token, json{{"title", " \n\t "}})
            .body_json["chat"]["title"] == "New chat");
  CHECK(call(h, "POST", "/api/v1/chats", alice.token, json{{"title", "  a\r\nb  "}})
            .body_json["chat"]["title"] == "a  b");
  CHECK(call(h, "POST", "/api/v1/chats", alice.token,
             json{{"title", "  " + std::string(200, 'x') + "  "}})
            .status == 201);
  std::string accents;
  for (int i = 0; i < 200; ++i) accents += "\xc3\xa9";  // 200 code points, 400 bytes
  CHECK(call(h, "POST", "/api/v1/chats", alice.token, json{{"title", accents}}).status == 201);
  HttpResult pub = call(h, "POST", "/api/v1/chats", alice.token,
                        json{{"title", "Shared"}, {"visibility", "public"}});
  CHECK(pub.body_json["chat"]["visibility"] == "public");

  for (const json& bad :
       {json{{"title", std::string(201, 'x')}}, json{{"title", std::string(100000, 'x')}},
        json{{"title", 5}}, json{{"visibility", "secret"}}, json{{"visibility", 1}},
        json{{"title", json::object()}}}) {
    INFO(bad.dump().substr(0, 80));
    expect_error(call(h, "POST", "/api/v1/chats", alice.token, bad), 400, "validation.failed");
  }
  expect_error(call(h, "POST", "/api/v1/chats", alice.token, json::array()), 400,
               "validation.body_not_object");
  HttpResult not_json =
      h.request("POST", "/api/v1/chats",
                {{"authorization", "Bearer " + alice.token}, {"content-type", "application/json"}},
                "{\"title\": ");
  CHECK(not_json.status == 400);

  std::string id = empty.body_json["chat"]["id"].get<std::string>();
  const std::string url = "/api/v1/chats/" + id;
  HttpResult unchanged = call(h, "PATCH", url, alice.token, json::object());
  REQUIRE(unchanged.status == 200);
  CHECK(unchanged.body_json["chat"]["title"] == "New chat");
  HttpResult renamed = call(h, "PATCH", url, alice.token, json{{"title", "Renamed"}});
  CHECK(renamed.body_json["chat"]["title"] == "Renamed");
  CHECK(renamed.body_json["chat"]["visibility"] == "private");
  for (const json& bad :
       {json{{"titel", "x"}}, json{{"visibility", nullptr}}, json{{"visibility", "everyone"}},
        json{{"title", std::string(201, 'y')}}, json{{"title", nullptr}}}) {
    INFO(bad.dump().substr(0, 80));
    expect_error(call(h, "PATCH", url, alice.token, bad), 400, "validation.failed");
  }
  expect_error(call(h, "PATCH", url, alice.token), 415, "http.unsupported_media_type");

  // Every route needs a token.
  for (const auto& [method, path] :
       std::vector<std::pair<std::string, std::string>>{{"GET", "/api/v1/chats"},
                                                        {"POST", "/api/v1/chats"},
                                                        {"GET", url},
                                                        {"PATCH", url},
                                                        {"DELETE", url},
                                                        {"GET", url + "/export"},
                                                        {"GET", url + "/messages"},
                                                        {"DELETE", "/api/v1/messages/msg_x"},
                                                        {"POST", "/api/v1/messages/msg_x/vote"}}) {
    INFO(method << " " << path);
    bool has_body = method == "POST" || method == "PATCH";
    HttpResult r = call(h, method, path, "",
                        has_body ? std::optional<json>(json{{"value", "up"}}) : std::nullopt);
    expect_error(r, 401, "auth.missing_token");
  }
  expect_error(call(h, "GET", "/api/v1/chats", "not-a-token"), 401, "auth.token_malformed");
}
