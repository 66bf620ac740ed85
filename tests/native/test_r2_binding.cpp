// The R2 wrappers against a map-backed host speaking the shim's wire format: payload shapes,
// results, and how failures map to API errors.
#include "bindings/r2.hpp"
#include "core/frame.hpp"
#include "core/runtime.hpp"
#include "crypto/encoding.hpp"

#include "support/scenario_driver.hpp"

#include <catch2/catch.hpp>

#include <map>

using namespace ec;

namespace {

struct Stored {
  std::string bytes, content_type;
};
std::map<std::string, Stored> g_bucket;
std::vector<json> g_payloads;

// Answers one effect like js-shim/effects.js would.
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
  std::string key = a.value("key", std::string());
  if (op == "r2.put") {
    std::string bytes = *base64url_decode(a.at("data").get<std::string>());
    g_bucket[key] = {bytes, a.value("contentType", std::string())};
    ok(json{{"key", key}, {"size", bytes.size()}, {"etag", "e1"}}.dump());
  } else if (op == "r2.head") {
    auto it = g_bucket.find(key);
    ok(it == g_bucket.end() ? "null"
                            : json{{"key", key},
                                   {"size", it->second.bytes.size()},
                                   {"contentType", it->second.content_type}}
                                  .dump());
  } else if (op == "r2.get") {
    auto it = g_bucket.find(key);
    if (it == g_bucket.end()) return fail("not_found");
    if (a.contains("range")) {
      return ok(it->second.bytes.substr(a["range"]["offset"].get<size_t>(),
                                        a["range"]["length"].get<size_t>()));
    }
    if (it->second.bytes.size() > a.at("max").get<size_t>()) return fail("too_large");
    ok(it->second.bytes);
  } else if (op == "r2.delete") {
    for (const auto& k : a.at("keys")) g_bucket.erase(k.get<std::string>());
    ok("true");
  } else if (op == "r2.put_body") {
    fail("too_large");
  } else {
    fail("invalid");
  }
}

Task<Response> scenario(Ctx& ctx) {
  json log = json::array();
  auto put = co_await r2_put(ctx, "u1/d1/a.txt", std::string("hello\0r2", 8), {"text/plain"});
  log.push_back(put.ok() ? put->size : -1);
  auto head = co_await r2_head(ctx, "u1/d1/a.txt");
  log.push_back(head.ok() && *head ? (*head)->content_type : "missing");
  auto part = co_await r2_get(ctx, "u1/d1/a.txt", 100, std::pair<int64_t, int64_t>{6, 2});
  log.push_back(part.ok() ? *part : "error");
  auto small = co_await r2_get(ctx, "u1/d1/a.txt", 4);
  log.push_back(small.ok() ? "ok" : small.error().code);
  auto big = co_await r2_put_request_body(ctx, "u1/d1/b.bin", 10, {});
  log.push_back(big.ok() ? "ok" : big.error().code + std::to_string(big.error().status));
  Status del = co_await r2_delete(ctx, {"u1/d1/a.txt"});
  log.push_back(del.ok());
  auto gone = co_await r2_get(ctx, "u1/d1/a.txt", 100);
  log.push_back(gone.ok() ? "ok" : gone.error().code + std::to_string(gone.error().status));
  auto none = co_await r2_head(ctx, "u1/d1/a.txt");
  log.push_back(none.ok() && !*none);
  Response r;
  r.body = dump_json(log);
  co_return r;
}

}  // namespace

TEST_CASE("R2 wrappers speak the shim's wire format and map failures to API errors") {
  g_bucket.clear();
  g_payloads.clear();
  json log = ec::testing::run_scenario(scenario,
                                       [](const std::string& op, const json& args, FrameWriter& w) {
                                         g_payloads.push_back(args);
                                         answer(op, args, w);
                                       });
  CHECK(log == json::array({8, "text/plain", "r2", "files.too_large", "files.too_large413", true,
                            "files.not_found404", true}));
  // Bytes cross as base64url (a NUL inside survives), with the content type alongside.
  CHECK(g_payloads.at(0)["data"] == base64url_encode(std::string("hello\0r2", 8)));
  CHECK(g_payloads.at(0)["contentType"] == "text/plain");
}
