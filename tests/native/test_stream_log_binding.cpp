// The stream log wrappers (bindings/stream_log.hpp) against a host that answers streamlog.* like
// js-shim/effects-streamlog.js does, from an in-memory log: op names, payload shapes, result
// parsing, and how the object's refusals map to API errors.
#include "bindings/stream_log.hpp"
#include "core/frame.hpp"
#include "core/runtime.hpp"

#include "support/scenario_driver.hpp"

#include <catch2/catch.hpp>

#include <map>

using namespace ec;

namespace {

struct Log {
  std::vector<std::string> chunks;
  bool closed = false;
};
std::map<std::string, Log> g_logs;
std::vector<std::pair<std::string, json>> g_effects;

// Answers one effect like js-shim/effects-streamlog.js would.
void answer(const std::string& op, const json& a, FrameWriter& w) {
  auto fail = [&](const char* code) {
    w.u8(0);
    w.str(code);
    w.str("host says no");
  };
  auto ok = [&](const json& v) {
    w.u8(1);
    w.str(v.dump());
  };
  std::string name = a.value("name", std::string());
  if (name == "down") return fail("unavailable");
  if (name == "odd") return ok(nullptr);
  auto it = g_logs.find(name);
  if (op == "streamlog.create") {
    bool created = it == g_logs.end();
    Log& log = g_logs[name];
    ok({{"created", created},
        {"exists", true},
        {"length", log.chunks.size()},
        {"closed", log.closed},
        {"followers", 0},
        {"createdAt", 1700000000000}});
  } else if (op == "streamlog.append") {
    if (it == g_logs.end()) return fail("not_found");
    Log& log = it->second;
    if (log.closed) return fail("cancelled");
    if (a.at("from").get<size_t>() != log.chunks.size()) return fail("conflict");
    for (const auto& c : a.at("chunks")) {
      if (c.get<std::string>().size() > 64) return fail("too_large");
    }
    for (const auto& c : a.at("chunks")) log.chunks.push_back(c.get<std::string>());
    ok({{"length", log.chunks.size()}, {"followers", 2}, {"now", 1700000000123}});
  } else if (op == "streamlog.info") {
    if (it == g_logs.end()) {
      return ok({{"exists", false},
                 {"length", 0},
                 {"closed", false},
                 {"followers", 0},
                 {"createdAt", nullptr}});
    }
    ok({{"exists", true},
        {"length", it->second.chunks.size()},
        {"closed", it->second.closed},
        {"followers", 1},
        {"createdAt", 1700000000000}});
  } else if (op == "streamlog.close") {
    if (it == g_logs.end()) return fail("not_found");
    it->second.closed = true;
    ok({{"length", it->second.chunks.size()}});
  } else if (op == "streamlog.delete") {
    g_logs.erase(name);
    ok(true);
  } else {
    fail("invalid");
  }
}

// "ok" or "<code> <status>".
template <typename T>
std::string outcome(const Result<T>& r) {
  return r.ok() ? "ok" : r.error().code + " " + std::to_string(r.error().status);
}

std::string event(int n, const std::string& data) {
  return "id: " + std::to_string(n) + "\ndata: " + data + "\n\n";
}

Task<Response> scenario(Ctx& ctx) {
  json log = json::array();
  auto c1 = co_await streamlog_create(ctx, "chat:s1", 60000);
  log.push_back(c1.ok() && c1->created && c1->exists && c1->created_at_ms == 1700000000000);
  auto c2 = co_await streamlog_create(ctx, "chat:s1", 0);
  log.push_back(c2.ok() && !c2->created && c2->exists);
  auto a1 = co_await streamlog_append(ctx, "chat:s1", 0, {event(1, "a"), event(2, "b")});
  log.push_back(a1.ok() ? json::array({a1->length, a1->followers, a1->now_ms}) : json(nullptr));
  auto stale = co_await streamlog_append(ctx, "chat:s1", 1, {event(2, "x")});
  log.push_back(outcome(stale));
  auto info = co_await streamlog_info(ctx, "chat:s1");
  log.push_back(info.ok() ? json::array({info->exists, info->length, info->closed, info->followers})
                          : json(nullptr));
  auto none = co_await streamlog_info(ctx, "chat:none");
  log.push_back(none.ok() && !none->exists && none->length == 0 && none->created_at_ms == 0);
  auto big = co_await streamlog_append(ctx, "chat:s1", 2, {std::string(100, 'x')});
  log.push_back(outcome(big));
  auto closed = co_await streamlog_close(ctx, "chat:s1");
  log.push_back(closed.ok() ? *closed : -1);
  auto late = co_await streamlog_append(ctx, "chat:s1", 2, {event(3, "c")});
  log.push_back(outcome(late));
  auto missing = co_await streamlog_append(ctx, "chat:none", 0, {event(1, "a")});
  log.push_back(outcome(missing));
  auto missing_close = co_await streamlog_close(ctx, "chat:none");
  log.push_back(outcome(missing_close));
  Status del = co_await streamlog_delete(ctx, "chat:s1");
  log.push_back(del.ok());
  auto gone = co_await streamlog_info(ctx, "chat:s1");
  log.push_back(gone.ok() && !gone->exists);
  auto down = co_await streamlog_append(ctx, "down", 0, {});
  log.push_back(outcome(down));
  Status down_delete = co_await streamlog_delete(ctx, "down");
  log.push_back(outcome(down_delete));
  auto odd = co_await streamlog_append(ctx, "odd", 0, {});
  log.push_back(outcome(odd));
  auto odd_info = co_await streamlog_info(ctx, "odd");
  log.push_back(outcome(odd_info));
  Response r;
  r.body = dump_json(log);
  co_return r;
}

}  // namespace

TEST_CASE("stream log wrappers speak the shim's wire format and map refusals to API errors") {
  g_logs.clear();
  g_effects.clear();
  json log = ec::testing::run_scenario(scenario,
                                       [](const std::string& op, const json& args, FrameWriter& w) {
                                         g_effects.emplace_back(op, args);
                                         answer(op, args, w);
                                       });
  CHECK(log == json::array({true, true, json::array({2, 2, 1700000000123}), "streams.conflict 409",
                            json::array({true, 2, false, 1}), true, "streams.too_large 413", 2,
                            "streams.closed 409", "streams.not_found 404", "streams.not_found 404",
                            true, true, "streams.unavailable 503", "streams.unavailable 503",
                            "streams.unavailable 503", "streams.unavailable 503"}));

  // The payloads, exactly as the shim reads them.
  REQUIRE(g_effects.size() == 17);
  CHECK(g_effects[0].first == "streamlog.create");
  CHECK(g_effects[0].second == json({{"name", "chat:s1"}, {"ttlMs", 60000}}));
  CHECK(g_effects[1].second == json({{"name", "chat:s1"}}));  // ttl 0: the object's default
  CHECK(g_effects[2].first == "streamlog.append");
  CHECK(g_effects[2].second == json({{"name", "chat:s1"},
                                     {"from", 0},
                                     {"chunks", {"id: 1\ndata: a\n\n", "id: 2\ndata: b\n\n"}}}));
  CHECK(g_effects[4].first == "streamlog.info");
  CHECK(g_effects[4].second == json({{"name", "chat:s1"}}));
  CHECK(g_effects[7].first == "streamlog.close");
  CHECK(g_effects[7].second == json({{"name", "chat:s1"}}));
  CHECK(g_effects[11].first == "streamlog.delete");
  CHECK(g_effects[11].second == json({{"name", "chat:s1"}}));
  CHECK(g_effects[13].second == json({{"name", "down"}, {"from", 0}, {"chunks", json::array()}}));
}
