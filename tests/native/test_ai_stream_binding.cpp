// ai_stream against a host speaking the shim's wire format (js-shim/effects-ai.js): the effect's
// payload, the stream handle it returns being read and aborted with fetch_read / fetch_abort, and
// how failures map to API errors.
#include "bindings/ai.hpp"
#include "core/frame.hpp"
#include "core/runtime.hpp"

#include "support/scenario_driver.hpp"

#include <catch2/catch.hpp>

#include <deque>
#include <string>
#include <utility>
#include <vector>

using namespace ec;

namespace {

std::vector<std::pair<std::string, json>> g_effects;  // op, payload, in order
std::deque<std::string> g_chunks;                     // what fetch.read hands out for stream 7

// Answers one effect like the shim would. Models named "*-fail" and "*-bad" fail before streaming,
// "*-odd" gets a reply with no stream handle.
void answer(const std::string& op, const json& a, FrameWriter& w) {
  auto fail = [&](const char* code) {
    w.u8(0);
    w.str(code);
    w.str("host says no");
  };
  auto ok = [&](const std::string& data) {
    w.u8(1);
    w.str(data);
  };
  if (op == "ai.stream") {
    const std::string model = a.at("model").get<std::string>();
    if (model.ends_with("-fail")) return fail("unavailable");
    if (model.ends_with("-bad")) return fail("invalid");
    if (model.ends_with("-odd")) return ok(R"({"status":200})");
    return ok(R"({"status":200,"headers":{"content-type":"text/event-stream"},"stream":7})");
  }
  if (op == "fetch.read") {
    if (a.at("stream") != 7) return fail("invalid");
    std::string next = g_chunks.empty() ? "" : g_chunks.front();
    if (!g_chunks.empty()) g_chunks.pop_front();
    return ok(next);
  }
  if (op == "fetch.abort") return ok("true");
  fail("invalid");
}

json describe(const Result<UpstreamResponse>& r) {
  if (!r.ok()) return {{"error", r.error().code}, {"status", r.error().status}};
  return {
      {"status", r.value().status}, {"headers", r.value().headers}, {"stream", r.value().stream}};
}

Task<Response> scenario(Ctx& ctx) {
  json log = json::array();
  json input = {{"messages", json::array({{{"role", "user"}, {"content", "hi"}}})},
                {"max_tokens", 16}};
  Result<UpstreamResponse> up = co_await ai_stream(ctx, "@cf/meta/llama-3.1-8b-instruct", input);
  log.push_back(describe(up));
  std::string body;
  for (int i = 0; i < 5 && up.ok(); ++i) {
    Result<std::string> bytes = co_await fetch_read(ctx, up.value().stream);
    if (!bytes.ok() || bytes.value().empty()) break;
    body += bytes.value();
  }
  log.push_back(body);
  Result<UpstreamResponse> again = co_await ai_stream(ctx, "@cf/meta/llama-3.1-8b-instruct", input);
  Status aborted = co_await fetch_abort(ctx, again.ok() ? again.value().stream : 0);
  log.push_back(aborted.ok());
  log.push_back(describe(co_await ai_stream(ctx, "m-fail", json::object())));
  log.push_back(describe(co_await ai_stream(ctx, "m-bad", json::object())));
  log.push_back(describe(co_await ai_stream(ctx, "m-odd", json::object())));
  Response r;
  r.body = dump_json(log);
  co_return r;
}

}  // namespace

TEST_CASE("ai_stream: the effect's shape, reading and aborting its stream, failures") {
  g_effects.clear();
  g_chunks = {"data: {\"response\":\"Caf\xC3", "\xA9\"}\n\n", "data: [DONE]\n\n"};
  json log = ec::testing::run_scenario(scenario,
                                       [](const std::string& op, const json& args, FrameWriter& w) {
                                         g_effects.emplace_back(op, args);
                                         answer(op, args, w);
                                       });
  CHECK(log[0] ==
        json{{"status", 200}, {"headers", {{"content-type", "text/event-stream"}}}, {"stream", 7}});
  // The bytes come back as they were read, a UTF-8 sequence split across two reads included.
  CHECK(log[1] == "data: {\"response\":\"Caf\xC3\xA9\"}\n\ndata: [DONE]\n\n");
  CHECK(log[2] == true);
  CHECK(log[3] == json{{"error", "ai.unavailable"}, {"status", 503}});
  CHECK(log[4] == json{{"error", "ai.bad_reply"}, {"status", 502}});
  CHECK(log[5] == json{{"error", "ai.bad_reply"}, {"status", 502}});

  // The effect carries the model and the input as given (the shim adds stream: true); the stream
  // handle is read and aborted with the generic upstream effects.
  REQUIRE(g_effects.size() >= 7);
  CHECK(g_effects[0].first == "ai.stream");
  CHECK(g_effects[0].second ==
        json{{"model", "@cf/meta/llama-3.1-8b-instruct"},
             {"input",
              {{"messages", json::array({{{"role", "user"}, {"content", "hi"}}})},
               {"max_tokens", 16}}}});
  CHECK(g_effects[1] == std::pair<std::string, json>{"fetch.read", {{"stream", 7}}});
  std::vector<std::string> ops;
  for (const auto& [op, payload] : g_effects) ops.push_back(op);
  CHECK(ops == std::vector<std::string>{"ai.stream", "fetch.read", "fetch.read", "fetch.read",
                                        "fetch.read", "ai.stream", "fetch.abort", "ai.stream",
                                        "ai.stream", "ai.stream"});
  CHECK(g_effects[6].second == json{{"stream", 7}});
}
