// Every header that leaves the core is checked in one place (core/header_check.hpp) on its way
// into a response frame or a stream head: a value the platform would refuse (CR, LF, NUL, other
// control characters, non-ASCII) or an oversized one is dropped and logged, never passed on to
// make the shim throw after the handler has already done its work.
#include "core/frame.hpp"
#include "core/header_check.hpp"
#include "core/json.hpp"
#include "core/runtime.hpp"
#include "http/stream.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace ec;

namespace {

struct Frame {
  int status = 0;
  HeaderList headers;
  std::string body, log;
};

Frame parse_response(std::string_view frame) {
  FrameReader r(frame);
  Frame f;
  REQUIRE(*r.u8() == 2);
  (void)r.u32();
  f.status = static_cast<int>(*r.u32());
  uint32_t n = *r.u32();
  for (uint32_t i = 0; i < n; ++i) {
    std::string k(*r.str());
    f.headers.emplace_back(k, std::string(*r.str()));
  }
  f.body = std::string(*r.str());
  f.log = std::string(*r.str());
  return f;
}

std::string envelope(std::string path) {
  FrameWriter w;
  w.u32(1);
  w.f64(1000.0);
  w.str(std::string(16, 'r'));
  w.str("GET");
  w.str(path);
  w.str("");
  w.u32(0);
  return w.take();
}

const HeaderList kHostile = {
    {"x-model", "gpt\r\nset-cookie: a=1"},
    {"x-nul", std::string("a\0b", 3)},
    {"x-bell", "ding\x07"},
    {"x-euro", "\xe2\x82\xac"},
    {"x-long", std::string(8193, 'a')},
    {std::string(257, 'n'), "v"},
    {"bad name", "v"},
    {"", "v"},
    {"x-ok", "gpt-4o-mini"},
    {"x-tab", "a\tb"},
    {"x-max", std::string(8192, 'a')},
};

Task<Response> hostile(Ctx& ctx) {
  Response r;
  r.headers = kHostile;
  r.body = "{}";
  r.log_line = R"({"level":"info","msg":"request"})";
  (void)ctx;
  co_return r;
}

Task<Response> hostile_stream(Ctx& ctx) {
  Response head;
  head.headers = kHostile;
  EffectResult opened = co_await ctx.perform(open_stream_effect(ctx, head));
  (void)opened;
  Response r;
  r.log_line = R"({"level":"info","msg":"request"})";
  co_return r;
}

std::vector<std::string> names(const HeaderList& hs) {
  std::vector<std::string> out;
  for (const auto& [k, v] : hs) out.push_back(k);
  return out;
}

const std::vector<std::string> kKept = {"x-ok", "x-tab", "x-max"};

}  // namespace

TEST_CASE("header rules: token names and printable ASCII values within bounds") {
  CHECK(valid_header_name("x-model"));
  CHECK_FALSE(valid_header_name(""));
  CHECK_FALSE(valid_header_name("a b"));
  CHECK_FALSE(valid_header_name("a:b"));
  CHECK_FALSE(valid_header_name(std::string(kMaxHeaderNameBytes + 1, 'a')));
  CHECK(valid_header_value(""));
  CHECK(valid_header_value("text/plain; charset=utf-8"));
  CHECK(valid_header_value(std::string(kMaxHeaderValueBytes, 'a')));
  CHECK_FALSE(valid_header_value(std::string(kMaxHeaderValueBytes + 1, 'a')));
  for (char c : {'\r', '\n', '\0', '\x01', '\x1f', '\x7f'}) {
    CHECK_FALSE(valid_header_value(std::string("a") + c + "b"));
  }
  CHECK_FALSE(valid_header_value("\xc3\xa9"));
}

TEST_CASE("a response frame never carries an invalid header and its log line names the dropped") {
  Runtime rt(hostile);
  Frame f = parse_response(rt.start(envelope("/")));
  CHECK(f.status == 200);
  CHECK(names(f.headers) == kKept);
  auto log = parse_json(f.log, 8);
  REQUIRE(log);
  CHECK((*log)["level"] == "error");
  REQUIRE((*log)["droppedHeaders"].is_array());
  CHECK((*log)["droppedHeaders"].size() == kHostile.size() - kKept.size());
  // The log names the headers (cut and defanged), never the values.
  CHECK(f.log.find("set-cookie") == std::string::npos);
  CHECK(f.log.find(std::string(300, 'n')) == std::string::npos);
}

TEST_CASE("a stream head is checked by the same rule and its effect carries the log line") {
  Runtime rt(hostile_stream);
  std::string_view out = rt.start(envelope("/"));
  FrameReader r(out);
  REQUIRE(*r.u8() == 1);
  uint32_t session = *r.u32();
  REQUIRE(*r.u32() == 1);
  REQUIRE(*r.str() == "stream.open");
  auto payload = parse_json(*r.str(), 8);
  REQUIRE(payload);
  std::vector<std::string> sent;
  for (const json& h : (*payload)["headers"]) sent.push_back(h[0].get<std::string>());
  CHECK(sent == kKept);
  // The head never reaches a response frame, so its effect carries the log line for the shim.
  REQUIRE((*payload)["log"].is_string());
  auto log = parse_json((*payload)["log"].get<std::string>(), 8);
  REQUIRE(log);
  CHECK((*log)["level"] == "error");
  CHECK((*log)["droppedHeaders"].size() == kHostile.size() - kKept.size());

  FrameWriter w;
  w.f64(2000.0);
  w.u32(1);
  w.u8(1);
  w.str("true");
  Frame f = parse_response(rt.resume(session, w.take()));
  CHECK(f.log.find("droppedHeaders") == std::string::npos);
}
