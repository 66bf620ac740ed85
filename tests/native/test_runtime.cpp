// The coroutine runtime on its own: sessions, interleaving, all(), cancellation, effect errors,
// malformed frames. Uses its own entry functions, not the app.
#include "core/frame.hpp"
#include "core/runtime.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace ec;

namespace {

struct Out {
  uint8_t kind = 0;
  uint32_t session = 0;
  std::vector<std::pair<std::string, std::string>> effects;
  int status = 0;
  std::string body;
};

Out parse(std::string_view frame) {
  FrameReader r(frame);
  Out o;
  o.kind = *r.u8();
  o.session = *r.u32();
  if (o.kind == 1) {
    uint32_t n = *r.u32();
    for (uint32_t i = 0; i < n; ++i) {
      std::string op(*r.str());
      std::string payload(*r.str());
      o.effects.emplace_back(op, payload);
    }
  } else {
    o.status = static_cast<int>(*r.u32());
    uint32_t nh = *r.u32();
    for (uint32_t i = 0; i < nh; ++i) {
      (void)r.str();
      (void)r.str();
    }
    o.body = std::string(*r.str());
  }
  return o;
}

std::string envelope(std::string path, std::string random = std::string(16, 'r')) {
  FrameWriter w;
  w.u32(1);
  w.f64(1000.0);
  w.str(random);
  w.str("GET");
  w.str(path);
  w.str("");
  w.u32(0);
  return w.take();
}

struct R {
  bool ok;
  std::string data;
};
std::string results(std::vector<R> rs, double now = 2000.0) {
  FrameWriter w;
  w.f64(now);
  w.u32(static_cast<uint32_t>(rs.size()));
  for (const R& r : rs) {
    w.u8(r.ok ? 1 : 0);
    if (r.ok) {
      w.str(r.data);
    } else {
      w.str(r.data);
      w.str("host message");
    }
  }
  return w.take();
}

// Adds the payloads of n sequential "add" effects; the path says how many.
Task<Response> summing(Ctx& ctx) {
  int n = ctx.request().path.size() > 1 ? ctx.request().path[1] - '0' : 0;
  int total = 0;
  for (int i = 0; i < n; ++i) {
    EffectResult r = co_await ctx.perform(Effect{"add", std::to_string(i)});
    total += std::stoi(r.data);
  }
  Response resp;
  resp.body = std::to_string(total);
  co_return resp;
}

Task<Response> parallel(Ctx& ctx) {
  std::vector<Effect> es = {Effect{"a", "1"}, Effect{"b", "2"}, Effect{"c", "3"}};
  std::vector<EffectResult> rs = co_await ctx.all(std::move(es));
  Response resp;
  for (const EffectResult& r : rs) resp.body += r.ok() ? r.data : "[" + r.message + "]";
  co_return resp;
}

Task<Response> erroring(Ctx& ctx) {
  EffectResult r = co_await ctx.perform(Effect{"d1.first", "{}"});
  Response resp;
  resp.status = r.ok() ? 200 : 503;
  resp.body = std::string(effect_error_name(r.error));
  co_return resp;
}

int g_alive = 0;
struct Tracker {
  Tracker() { ++g_alive; }
  ~Tracker() { --g_alive; }
};
Task<int> nested(Ctx& ctx) {
  Tracker t;
  EffectResult r = co_await ctx.perform(Effect{"wait", ""});
  co_return static_cast<int>(r.data.size());
}
Task<Response> tracked(Ctx& ctx) {
  Tracker t;
  int n = co_await nested(ctx);
  Response resp;
  resp.body = std::to_string(n);
  co_return resp;
}

Task<Response> random_hungry(Ctx& ctx) {
  std::string a = co_await ctx.random_bytes(10);  // from the envelope's 16 bytes
  std::string b = co_await ctx.random_bytes(10);  // needs a refill effect
  Response resp;
  resp.body = a + "|" + b.substr(0, 3);
  co_return resp;
}

Task<Response> clock(Ctx& ctx) {
  (void)co_await ctx.perform(Effect{"wait", ""});
  Response resp;
  resp.body = std::to_string(static_cast<int>(ctx.elapsed_ms()));
  co_return resp;
}

}  // namespace

TEST_CASE("a request with no effects answers at once and leaves no session") {
  Runtime rt(summing);
  Out o = parse(rt.start(envelope("/0")));
  REQUIRE(o.kind == 2);
  CHECK(o.body == "0");
  CHECK(rt.session_count() == 0);
}

TEST_CASE("interleaved sessions keep their own state") {
  Runtime rt(summing);
  Out a = parse(rt.start(envelope("/3")));
  Out b = parse(rt.start(envelope("/2")));
  REQUIRE(a.kind == 1);
  REQUIRE(b.kind == 1);
  REQUIRE(a.session != b.session);
  CHECK(rt.session_count() == 2);
  // Drive them out of order: b, a, a, b, a.
  Out b1 = parse(rt.resume(b.session, results({{true, "10"}})));
  Out a1 = parse(rt.resume(a.session, results({{true, "100"}})));
  Out a2 = parse(rt.resume(a.session, results({{true, "200"}})));
  Out b2 = parse(rt.resume(b.session, results({{true, "20"}})));
  REQUIRE(b2.kind == 2);
  CHECK(b2.body == "30");
  Out a3 = parse(rt.resume(a.session, results({{true, "300"}})));
  REQUIRE(a3.kind == 2);
  CHECK(a3.body == "600");
  CHECK(b1.effects.at(0).second == "1");
  CHECK(a2.effects.at(0).second == "2");
  CHECK(rt.session_count() == 0);
}

TEST_CASE("all() yields every effect in one frame and returns results in order") {
  Runtime rt(parallel);
  Out o = parse(rt.start(envelope("/")));
  REQUIRE(o.effects.size() == 3);
  CHECK(o.effects[0].first == "a");
  CHECK(o.effects[2].first == "c");
  Out done = parse(rt.resume(o.session, results({{true, "x"}, {false, "timeout"}, {true, "z"}})));
  CHECK(done.body == "x[host message]z");
}

TEST_CASE("effect failures arrive as typed values, never traps") {
  Runtime rt(erroring);
  for (auto [code, expect] : std::vector<std::pair<std::string, std::string>>{
           {"conflict", "conflict"}, {"unavailable", "unavailable"}, {"bogus", "internal"}}) {
    Out o = parse(rt.start(envelope("/")));
    Out done = parse(rt.resume(o.session, results({{false, code}})));
    CHECK(done.status == 503);
    CHECK(done.body == expect);
  }
}

TEST_CASE("cancel destroys the whole coroutine chain") {
  Runtime rt(tracked);
  g_alive = 0;
  Out o = parse(rt.start(envelope("/")));
  REQUIRE(o.kind == 1);
  CHECK(g_alive == 2);  // parent and child frames are suspended with their locals alive
  rt.cancel(o.session);
  CHECK(g_alive == 0);
  CHECK(rt.session_count() == 0);
  // Resuming a cancelled session is answered, not a crash.
  Out late = parse(rt.resume(o.session, results({{true, ""}})));
  CHECK(late.status == 500);
}

TEST_CASE("malformed frames get error responses") {
  Runtime rt(summing);
  Out bad = parse(rt.start("garbage"));
  CHECK(bad.status == 400);
  CHECK(bad.body.find("request.malformed_envelope") != std::string::npos);

  Out o = parse(rt.start(envelope("/1")));
  Out wrong_count = parse(rt.resume(o.session, results({{true, "1"}, {true, "2"}})));
  CHECK(wrong_count.status == 500);
  CHECK(rt.session_count() == 0);

  Out o2 = parse(rt.start(envelope("/1")));
  Out truncated = parse(rt.resume(o2.session, std::string("\x01\x02", 2)));
  CHECK(truncated.status == 500);
  CHECK(parse(rt.resume(9999, results({}))).status == 500);
}

TEST_CASE("randomness comes from the envelope, then from a refill effect") {
  Runtime rt(random_hungry);
  Out o = parse(rt.start(envelope("/", "0123456789abcdef")));
  REQUIRE(o.kind == 1);
  REQUIRE(o.effects.at(0).first == "random");
  CHECK(std::stoi(o.effects.at(0).second) >= 10);
  Out done = parse(rt.resume(o.session, results({{true, std::string(256, 'Z')}})));
  CHECK(done.body == "0123456789|ZZZ");
}

TEST_CASE("the clock advances with each resume, never from a clock of the core's own") {
  Runtime rt(clock);
  Out o = parse(rt.start(envelope("/")));
  Out done = parse(rt.resume(o.session, results({{true, ""}}, 1250.0)));
  CHECK(done.body == "250");
}
