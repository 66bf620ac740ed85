// Training examples: CRUD and the JSONL export through the FakeHost (real SQLite D1), the pure
// line formatter, the capture switch, and the export's paging bounds driven directly.
#include "chat/training.hpp"
#include "support/accounts.hpp"
#include "support/drive_task.hpp"
#include "support/fake_host.hpp"
#include "support/utf8_oracle.hpp"

#include <catch2/catch.hpp>

using namespace ec;
using ec::testing::Account;
using ec::testing::drive;
using ec::testing::FakeHost;
using ec::testing::ForcedResult;
using ec::testing::HttpResult;
using ec::testing::json;
using ec::testing::sign_up;

namespace {

const std::string kBase = "/api/v1/training-examples";

HttpResult get(FakeHost& h, const std::string& target, const Account& who) {
  return h.get(target, who.token);
}

json example_body(const std::string& source, const std::string& question,
                  const std::string& output) {
  return {
      {"source", source},
      {"messages",
       {{{"role", "system"}, {"content", "Be brief."}}, {{"role", "user"}, {"content", question}}}},
      {"output", output},
      {"model", "gpt-4o-mini"}};
}

json create(FakeHost& h, const Account& who, const json& body) {
  HttpResult r = h.post(kBase, body, who.token);
  INFO(r.body);
  REQUIRE(r.status == 201);
  return r.body_json["example"];
}

std::vector<json> parse_jsonl(const std::string& body) {
  std::vector<json> out;
  REQUIRE((body.empty() || body.back() == '\n'));
  size_t at = 0;
  while (at < body.size()) {
    size_t nl = body.find('\n', at);
    std::string line = body.substr(at, nl - at);
    json j = json::parse(line, nullptr, false);
    INFO(line);
    REQUIRE(!j.is_discarded());
    out.push_back(j);
    at = nl + 1;
  }
  return out;
}

std::string field_of(const HttpResult& r, const std::string& field) {
  if (r.status != 400 || !r.body_json["error"]["fields"].contains(field)) return "";
  return r.body_json["error"]["fields"][field].get<std::string>();
}

void insert_raw(FakeHost& h, const std::string& user, const std::string& id, int64_t ts,
                const std::string& output, size_t pad = 0) {
  json input = {{"messages", {{{"role", "user"}, {"content", "q " + id + std::string(pad, 'p')}}}}};
  sqlite3_stmt* st = nullptr;
  REQUIRE(sqlite3_prepare_v2(h.db(),
                             "INSERT INTO training_examples (id, user_id, source, input, output, "
                             "timestamp) VALUES (?1, ?2, 'prompt_lab', ?3, ?4, ?5)",
                             -1, &st, nullptr) == SQLITE_OK);
  const std::string in = input.dump();
  sqlite3_bind_text(st, 1, id.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 2, user.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 3, in.c_str(), static_cast<int>(in.size()), SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 4, output.c_str(), static_cast<int>(output.size()), SQLITE_TRANSIENT);
  sqlite3_bind_int64(st, 5, ts);
  REQUIRE(sqlite3_step(st) == SQLITE_DONE);
  sqlite3_finalize(st);
}

}  // namespace

TEST_CASE("training JSONL line: OpenAI chat fine-tuning format, exactly", "[training]") {
  json messages = {{{"role", "system"}, {"content", "Be brief."}},
                   {{"role", "user"}, {"content", "Say \"hi\"\nplease"}}};
  CHECK(training_jsonl_line(messages, "hi") ==
        R"({"messages":[{"role":"system","content":"Be brief."},)"
        R"({"role":"user","content":"Say \"hi\"\u000aplease"},)"
        R"({"role":"assistant","content":"hi"}]})");

  // Nothing to learn: no answer, or no usable prompt message.
  CHECK(!training_jsonl_line(messages, ""));
  CHECK(!training_jsonl_line(json::array(), "x"));
  CHECK(!training_jsonl_line(json::object(), "x"));
  CHECK(!training_jsonl_line(json{{{"role", "tool"}, {"content", "x"}}}, "x"));
  // Other roles and malformed messages are left out; extra keys are not copied.
  std::optional<std::string> line =
      training_jsonl_line(json{{{"role", "tool"}, {"content", "t"}},
                               {{"role", "user"}, {"content", 5}},
                               "junk",
                               {{"role", "user"}, {"content", "q"}, {"name", "x"}}},
                          "a");
  CHECK(line ==
        R"({"messages":[{"role":"user","content":"q"},{"role":"assistant","content":"a"}]})");

  // Line separators that line readers split on are escaped; invalid bytes become U+FFFD; the
  // line still parses back to the same text.
  line = training_jsonl_line(json{{{"role", "user"},
                                   {"content",
                                    "a\xE2\x80\xA8"
                                    "b\xC2\x85"
                                    "c"}}},
                             std::string("x\xFFy\x01"));
  REQUIRE(line);
  CHECK(line->find('\n') == std::string::npos);
  CHECK(line->find("\xE2\x80\xA8") == std::string::npos);
  CHECK(line->find("\\u2028") != std::string::npos);
  CHECK(line->find("\\u0085") != std::string::npos);
  CHECK(ec::testing::valid_utf8(*line));
  json back = json::parse(*line);
  CHECK(back["messages"][0]["content"] ==
        "a\xE2\x80\xA8"
        "b\xC2\x85"
        "c");
  CHECK(back["messages"][1]["content"] == "x\xEF\xBF\xBDy\x01");
}

TEST_CASE("training capture: off by default, TRAINING_CAPTURE=all, or the request's opt-in",
          "[training]") {
  auto enabled = [](std::map<std::string, std::string> vars, bool opt_in) {
    Env env(vars.begin(), vars.end());
    Ctx ctx(1, Envelope{}, env);
    return training_capture_enabled(ctx, opt_in);
  };
  CHECK(!enabled({}, false));
  CHECK(enabled({}, true));
  CHECK(!enabled({{"TRAINING_CAPTURE", "off"}}, false));
  CHECK(enabled({{"TRAINING_CAPTURE", "off"}}, true));
  CHECK(enabled({{"TRAINING_CAPTURE", "all"}}, false));
  CHECK(enabled({{"TRAINING_CAPTURE", " ALL "}}, false));
  CHECK(!enabled({{"TRAINING_CAPTURE", "yes"}}, false));
  CHECK(!enabled({{"TRAINING_CAPTURE", "1"}}, false));
  CHECK(!enabled({{"TRAINING_CAPTURE", ""}}, false));
}

TEST_CASE("training examples: create, get, list with filter and cursor, delete", "[training]") {
  FakeHost h;
  Account a = sign_up(h, "alice");

  json e1 = create(h, a, example_body("rag_chat", "What is D1?", "SQLite at the edge."));
  CHECK(e1["id"].get<std::string>().rfind("trn_", 0) == 0);
  CHECK(e1["source"] == "rag_chat");
  CHECK(e1["model"] == "gpt-4o-mini");
  CHECK(e1["messages"].size() == 2);
  CHECK(e1["output"] == "SQLite at the edge.");
  CHECK(e1["metadata"] == json::object());
  CHECK(e1["createdAt"] == "2026-11-18T11:06:40.000Z");
  h.advance_seconds(1);
  // The input: {messages} form, metadata, modelUsed; message objects keep only role and content.
  json e2 = create(h, a,
                   {{"source", "prompt_lab"},
                    {"input", {{"messages", {{{"role", "user"}, {"content", "2+2?"}, {"x", 1}}}}}},
                    {"output", "4"},
                    {"modelUsed", "llama"},
                    {"metadata", {{"rating", 5}}}});
  CHECK(e2["messages"] == json{{{"role", "user"}, {"content", "2+2?"}}});
  CHECK(e2["model"] == "llama");
  CHECK(e2["metadata"] == json{{"rating", 5}});
  h.advance_seconds(1);
  json e3 = create(h, a, example_body("agent_simulation", "Plan", ""));
  CHECK(e3["model"] == "gpt-4o-mini");

  HttpResult one = get(h, kBase + "/" + e2["id"].get<std::string>(), a);
  REQUIRE(one.status == 200);
  CHECK(one.body_json["example"] == e2);
  json stored = h.query("SELECT input, metadata FROM training_examples WHERE id = '" +
                        e2["id"].get<std::string>() + "'")
                    .at(0);
  CHECK(json::parse(stored["input"].get<std::string>()) ==
        json{{"messages", {{{"role", "user"}, {"content", "2+2?"}}}}});

  // Lists: summaries, newest first.
  HttpResult p1 = get(h, kBase + "?limit=2", a);
  REQUIRE(p1.status == 200);
  REQUIRE(p1.body_json["examples"].size() == 2);
  CHECK(p1.body_json["examples"][0]["id"] == e3["id"]);
  CHECK(p1.body_json["examples"][1]["id"] == e2["id"]);
  CHECK(p1.body_json["examples"][1]["messageCount"] == 1);
  CHECK(p1.body_json["examples"][1]["outputPreview"] == "4");
  CHECK(p1.body_json["examples"][1]["metadata"] == json{{"rating", 5}});
  CHECK(!p1.body_json["examples"][1].contains("messages"));
  HttpResult p2 =
      get(h, kBase + "?limit=2&cursor=" + p1.body_json["nextCursor"].get<std::string>(), a);
  REQUIRE(p2.body_json["examples"].size() == 1);
  CHECK(p2.body_json["examples"][0]["id"] == e1["id"]);
  CHECK(p2.body_json["nextCursor"].is_null());
  HttpResult rag = get(h, kBase + "?source=rag_chat", a);
  REQUIRE(rag.body_json["examples"].size() == 1);
  CHECK(rag.body_json["examples"][0]["id"] == e1["id"]);

  HttpResult del = h.request("DELETE", kBase + "/" + e1["id"].get<std::string>(),
                             {{"authorization", "Bearer " + a.token}});
  CHECK(del.status == 204);
  CHECK(get(h, kBase + "/" + e1["id"].get<std::string>(), a).status == 404);
  CHECK(get(h, kBase, a).body_json["examples"].size() == 2);
}

TEST_CASE("training examples: bad bodies and queries are 400 with field errors", "[training]") {
  FakeHost h;
  Account a = sign_up(h, "bob");
  auto post = [&](const json& body) { return h.post(kBase, body, a.token); };
  json ok = example_body("rag_chat", "q", "a");

  CHECK(h.post(kBase, json::array(), a.token).body_json["error"]["code"] ==
        "validation.body_not_object");
  json b = ok;
  b["source"] = "web";
  CHECK(!field_of(post(b), "source").empty());
  b = ok;
  b.erase("source");
  CHECK(field_of(post(b), "source") == "is required");
  b = ok;
  b.erase("output");
  CHECK(field_of(post(b), "output") == "is required");
  b = ok;
  b["output"] = 42;
  CHECK(!field_of(post(b), "output").empty());
  b = ok;
  b["output"] = std::string(kMaxTrainingOutputBytes + 1, 'o');
  CHECK(!field_of(post(b), "output").empty());
  b = ok;
  b.erase("messages");
  CHECK(!field_of(post(b), "messages").empty());
  b = ok;
  b["input"] = {{"messages", ok["messages"]}};
  CHECK(field_of(post(b), "messages") == "give messages or input.messages, not both");
  b = ok;
  b["messages"] = "hello";
  CHECK(!field_of(post(b), "messages").empty());
  b = ok;
  b["messages"] = json::array();
  CHECK(!field_of(post(b), "messages").empty());
  b = ok;
  b["messages"][1]["role"] = "tool";
  CHECK(field_of(post(b), "messages") == "message 1: role must be system, user or assistant");
  b = ok;
  b["messages"][0]["content"] = json::array();
  CHECK(field_of(post(b), "messages") == "message 0: content must be a string");
  b = ok;
  b["messages"][0] = 7;
  CHECK(!field_of(post(b), "messages").empty());
  b = ok;
  b["messages"] = json::array();
  for (int i = 0; i < 501; ++i) b["messages"].push_back({{"role", "user"}, {"content", ""}});
  CHECK(field_of(post(b), "messages") == "at most 500 messages");
  b = ok;
  b["messages"][0]["content"] = std::string(kMaxTrainingInputBytes, 'm');
  CHECK(field_of(post(b), "messages") == "at most 512 KiB as JSON");
  b = ok;
  b["input"] = {{"messages", "x"}};
  b.erase("messages");
  CHECK(!field_of(post(b), "messages").empty());
  b = ok;
  b["metadata"] = json::array();
  CHECK(!field_of(post(b), "metadata").empty());
  b = ok;
  b["metadata"] = {{"blob", std::string(17 * 1024, 'x')}};
  CHECK(!field_of(post(b), "metadata").empty());
  b = ok;
  b["model"] = std::string(201, 'm');
  CHECK(!field_of(post(b), "model").empty());
  CHECK(h.query("SELECT COUNT(*) AS n FROM training_examples").at(0)["n"] == 0);

  CHECK(!field_of(get(h, kBase + "?source=web", a), "source").empty());
  CHECK(!field_of(get(h, kBase + "?limit=0", a), "limit").empty());
  CHECK(!field_of(get(h, kBase + "?cursor=zzz", a), "cursor").empty());
  CHECK(!field_of(get(h, kBase + "/export?limit=10001", a), "limit").empty());
  CHECK(!field_of(get(h, kBase + "/export?source=x", a), "source").empty());
  CHECK(!field_of(get(h, kBase + "/export?cursor=zzz", a), "cursor").empty());

  // No token: 401, whatever the body.
  CHECK(h.post(kBase, ok).status == 401);
  CHECK(h.get(kBase).status == 401);
  CHECK(h.get(kBase + "/export").status == 401);
}

TEST_CASE("training examples: another user's are 404 and never exported", "[training]") {
  FakeHost h;
  Account a = sign_up(h, "carol");
  Account b = sign_up(h, "dave");
  const std::string id =
      create(h, a, example_body("rag_chat", "secret q", "secret a"))["id"].get<std::string>();
  HttpResult r = get(h, kBase + "/" + id, b);
  CHECK(r.status == 404);
  CHECK(r.body_json["error"]["code"] == "training.not_found");
  CHECK(h.request("DELETE", kBase + "/" + id, {{"authorization", "Bearer " + b.token}}).status ==
        404);
  CHECK(get(h, kBase, b).body_json["examples"].empty());
  HttpResult ex = get(h, kBase + "/export", b);
  CHECK(ex.status == 200);
  CHECK(ex.body.empty());
  CHECK(*ex.header("x-export-count") == "0");
  CHECK(get(h, kBase + "/" + id, a).status == 200);
  CHECK(get(h, kBase + "/" + std::string(500, 'x'), a).status == 404);
}

TEST_CASE("training export: JSONL, oldest first, skips empty answers, filters, continues",
          "[training]") {
  FakeHost h;
  Account a = sign_up(h, "erin");
  create(h, a, example_body("rag_chat", "one", "1"));
  h.advance_seconds(1);
  create(h, a, example_body("prompt_lab", "two", ""));  // no answer: skipped
  h.advance_seconds(1);
  create(h, a, example_body("prompt_lab", "three", "3"));
  h.advance_seconds(1);
  create(h, a, example_body("rag_chat", "four\n\"quoted\"", "4\u2028"));

  HttpResult r = get(h, kBase + "/export", a);
  REQUIRE(r.status == 200);
  CHECK(*r.header("content-type") == "application/jsonl; charset=utf-8");
  CHECK(*r.header("content-disposition") == "attachment; filename=\"training-examples.jsonl\"");
  CHECK(*r.header("x-export-count") == "3");
  CHECK(*r.header("x-export-truncated") == "false");
  CHECK(r.header("x-export-next-cursor") == nullptr);
  std::vector<json> lines = parse_jsonl(r.body);
  REQUIRE(lines.size() == 3);
  const std::vector<std::string> questions = {"one", "three", "four\n\"quoted\""};
  const std::vector<std::string> answers = {"1", "3", "4\u2028"};
  for (size_t i = 0; i < 3; ++i) {
    CHECK(lines[i].size() == 1);  // only "messages": anything else fails OpenAI's validation
    CHECK(lines[i]["messages"] == json{{{"role", "system"}, {"content", "Be brief."}},
                                       {{"role", "user"}, {"content", questions[i]}},
                                       {{"role", "assistant"}, {"content", answers[i]}}});
  }

  r = get(h, kBase + "/export?source=rag_chat", a);
  CHECK(*r.header("content-disposition") ==
        "attachment; filename=\"training-examples-rag_chat.jsonl\"");
  CHECK(parse_jsonl(r.body).size() == 2);

  // A capped export says so and continues from its cursor, with nothing lost or repeated.
  r = get(h, kBase + "/export?limit=2", a);
  CHECK(*r.header("x-export-count") == "2");
  CHECK(*r.header("x-export-truncated") == "true");
  REQUIRE(r.header("x-export-next-cursor") != nullptr);
  std::vector<json> first = parse_jsonl(r.body);
  r = get(h, kBase + "/export?limit=2&cursor=" + *r.header("x-export-next-cursor"), a);
  CHECK(*r.header("x-export-truncated") == "false");
  std::vector<json> rest = parse_jsonl(r.body);
  REQUIRE(first.size() + rest.size() == 3);
  first.insert(first.end(), rest.begin(), rest.end());
  CHECK(first == lines);
}

TEST_CASE("training export: bounded queries, ranges by size, byte and count caps", "[training]") {
  FakeHost h;
  Account a = sign_up(h, "fay");
  // 2,500 small examples (three size pages), every 10th with no answer, plus 12 big ones that
  // must be read in byte-bounded ranges.
  for (int i = 0; i < 2500; ++i) {
    char id[16];
    std::snprintf(id, sizeof id, "trn_%05d", i);
    insert_raw(h, a.id, id, 1000 + i, i % 10 == 0 ? "" : "ok");
  }
  for (int i = 0; i < 12; ++i) {
    insert_raw(h, a.id, "trn_big_" + std::to_string(10 + i), 5000, "big", 400 * 1024);
  }
  size_t queries = 0;
  h.intercept = [&](const std::string& op, const json&) -> std::optional<ForcedResult> {
    if (op == "d1.all") ++queries;
    return std::nullopt;
  };
  auto run = [&](ExportOptions opt) {
    queries = 0;
    return drive<Result<TrainingExport>>(
        h, [&](Ctx& c) { return export_training_jsonl(c, a.id, opt); });
  };

  Result<TrainingExport> all = run({});
  REQUIRE(all.ok());
  CHECK(all.value().count == 2250 + 12);
  CHECK(!all.value().truncated);
  std::vector<json> lines = parse_jsonl(all.value().body);
  REQUIRE(lines.size() == 2262);
  CHECK(lines[0]["messages"][0]["content"] == "q trn_00001");
  CHECK(lines[1]["messages"][0]["content"] == "q trn_00002");
  CHECK(lines[2261]["messages"][1]["content"] == "big");
  // Queries: 3 size pages (1000, 1000, 512 rows) and their ranges of at most 2 MiB: one for each
  // of the first two pages; the third's 500 small + 12 × 400 KiB rows need three (small + 4 big,
  // 5 big, 3 big). No query ever returned more than ~2 MiB of examples.
  CHECK(queries == 3 + 1 + 1 + 3);

  // Byte cap: stops before the line that would not fit, and says where to continue.
  ExportOptions small;
  small.max_bytes = 4000;
  Result<TrainingExport> capped = run(small);
  REQUIRE(capped.ok());
  CHECK(capped.value().truncated);
  CHECK(capped.value().body.size() <= 4000);
  CHECK(capped.value().body.size() > 3800);
  const size_t n = capped.value().count;
  CHECK(parse_jsonl(capped.value().body).size() == n);
  ExportOptions next;
  next.cursor = capped.value().next_cursor;
  next.max_examples = 5;
  Result<TrainingExport> cont = run(next);
  REQUIRE(cont.ok());
  CHECK(cont.value().count == 5);
  CHECK(cont.value().truncated);
  CHECK(parse_jsonl(cont.value().body)[0] == lines[n]);

  // Filters and a bogus cursor.
  ExportOptions lab;
  lab.source = "rag_chat";
  CHECK(run(lab).value().count == 0);
  ExportOptions bad;
  bad.cursor = "%%%";
  CHECK(run(bad).error().status == 400);

  // D1 failing mid-export is an error, not a short file.
  int calls = 0;
  h.intercept = [&](const std::string& op, const json&) -> std::optional<ForcedResult> {
    if (op == "d1.all" && ++calls == 3) return ForcedResult{false, "down", "internal"};
    return std::nullopt;
  };
  Result<TrainingExport> failed = run({});
  REQUIRE(!failed.ok());
  CHECK(failed.error().code == "storage.unavailable");
  h.intercept = nullptr;
}

TEST_CASE("record_training_example for producers; invalid examples are refused", "[training]") {
  FakeHost h;
  Account a = sign_up(h, "gus");
  TrainingExample ex;
  ex.user_id = a.id;
  ex.source = "rag_chat";
  ex.model_used = "local-extractive";
  ex.messages = json{{{"role", "system"}, {"content", "Answer from the sources."}},
                     {{"role", "user"}, {"content", "Why?"}}};
  ex.output = "Because [1].";
  ex.metadata = {{"chatId", "chat_1"}};
  Status st = drive<Status>(h, [&](Ctx& c) { return record_training_example(c, ex); });
  REQUIRE(st.ok());
  json rows = h.query("SELECT source, model_used, output, metadata FROM training_examples");
  REQUIRE(rows.size() == 1);
  CHECK(rows[0]["model_used"] == "local-extractive");
  CHECK(json::parse(rows[0]["metadata"].get<std::string>()) == json{{"chatId", "chat_1"}});
  HttpResult r = get(h, kBase + "/export", a);
  CHECK(parse_jsonl(r.body).at(0)["messages"].size() == 3);

  TrainingExample bad = ex;
  bad.source = "other";
  bad.messages = json{{{"role", "function"}, {"content", "x"}}};
  Status refused = drive<Status>(h, [&](Ctx& c) { return record_training_example(c, bad); });
  REQUIRE(!refused.ok());
  CHECK(refused.error().status == 400);
  CHECK(refused.error().fields.contains("source"));
  CHECK(refused.error().fields.contains("messages"));
  CHECK(h.query("SELECT COUNT(*) AS n FROM training_examples").at(0)["n"] == 1);
}
