// The HTTP pipeline end to end through the FakeHost: status codes, the one error shape, CORS,
// request ids, body limits, and the access log line.
#include "support/fake_host.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

using ec::testing::FakeHost;
using ec::testing::HttpResult;
using ec::testing::json;

namespace {

void expect_error(const HttpResult& r, int status, const std::string& code) {
  INFO(r.body);
  CHECK(r.status == status);
  REQUIRE(r.body_json.is_object());
  CHECK(r.body_json["error"]["code"] == code);
  CHECK(r.body_json["error"]["message"].is_string());
  CHECK(r.body_json["requestId"] == *r.header("x-request-id"));
}

}  // namespace

TEST_CASE("health, ready and the shape of every response") {
  FakeHost h;
  HttpResult r = h.get("/health");
  CHECK(r.status == 200);
  CHECK(r.body_json["status"] == "ok");
  CHECK(*r.header("content-type") == "application/json; charset=utf-8");
  CHECK(*r.header("cache-control") == "no-store");
  CHECK(r.header("x-request-id")->size() == 32);
  CHECK(r.ops.empty());  // no I/O at all

  HttpResult ready = h.get("/ready");
  CHECK(ready.status == 200);
  CHECK(ready.body_json["checks"]["migrations"] == "0006_document_builds.sql");
}

TEST_CASE("/ready is 503 until migrations are applied") {
  FakeHost h(FakeHost::default_env(), /*apply_migrations=*/false);
  expect_error(h.get("/ready"), 503, "ready.migrations_pending");
}

TEST_CASE("404, 405 with Allow, HEAD and OPTIONS") {
  FakeHost h;
  expect_error(h.get("/nope"), 404, "http.not_found");
  HttpResult del = h.request("DELETE", "/health");
  expect_error(del, 405, "http.method_not_allowed");
  CHECK(*del.header("allow") == "GET, HEAD, OPTIONS");
  HttpResult head = h.request("HEAD", "/health");
  CHECK(head.status == 200);
  CHECK(head.body.empty());
  HttpResult opts = h.request("OPTIONS", "/api/v1/auth/login");
  CHECK(opts.status == 204);
  CHECK(*opts.header("allow") == "POST, OPTIONS");
  expect_error(h.request("BREW", "/health"), 501, "http.method_not_supported");
}

TEST_CASE("request ids: sane ones are kept, others replaced") {
  FakeHost h;
  CHECK(
      *h.request("GET", "/health", {{"x-request-id", "trace-abc_123:4"}}).header("x-request-id") ==
      "trace-abc_123:4");
  for (std::string bad :
       {std::string("has space"), std::string(200, 'a'), std::string("x\"y"), std::string("")}) {
    HttpResult r = h.request("GET", "/health", {{"x-request-id", bad}});
    CHECK(*r.header("x-request-id") != bad);
    CHECK(r.header("x-request-id")->size() == 32);
  }
}

TEST_CASE("CORS: allowed origins, preflight, refusal") {
  FakeHost h;  // ALLOWED_ORIGINS=https://app.example
  HttpResult ok = h.request("GET", "/health", {{"origin", "https://app.example"}});
  CHECK(*ok.header("access-control-allow-origin") == "https://app.example");
  CHECK(*ok.header("access-control-allow-credentials") == "true");
  CHECK(*ok.header("vary") == "Origin");
  const std::string& expose = *ok.header("access-control-expose-headers");
  for (const char* name :
       {"X-Request-Id", "X-Credits-Used", "X-Credits-Balance", "X-Tokens-In", "X-Tokens-Out",
        "X-Provider", "X-Model", "Content-Disposition", "Location"}) {
    CHECK(expose.find(name) != std::string::npos);
  }
  CHECK(h.request("GET", "/health", {{"origin", "https://evil.example"}})
            .header("access-control-allow-origin") == nullptr);

  HttpResult pre = h.request("OPTIONS", "/api/v1/auth/login",
                             {{"origin", "https://app.example"},
                              {"access-control-request-method", "POST"},
                              {"access-control-request-headers", "x-custom-thing"}});
  CHECK(pre.status == 204);
  CHECK(*pre.header("access-control-allow-origin") == "https://app.example");
  CHECK(std::count_if(pre.headers.begin(), pre.headers.end(), [](const auto& kv) {
          return kv.first == "access-control-allow-origin";
        }) == 1);  // a second copy makes browsers refuse the preflight
  CHECK(pre.header("access-control-allow-methods")->find("PATCH") != std::string::npos);
  CHECK(pre.header("access-control-allow-headers")->find("x-custom-thing") != std::string::npos);
  CHECK(pre.header("access-control-allow-headers")->find("Idempotency-Key") != std::string::npos);
  expect_error(
      h.request("OPTIONS", "/health",
                {{"origin", "https://evil.example"}, {"access-control-request-method", "GET"}}),
      403, "cors.origin_not_allowed");

  auto env = FakeHost::default_env();
  env["ALLOWED_ORIGINS"] = "*";
  FakeHost any(env);
  HttpResult star = any.request("GET", "/health", {{"origin", "https://whoever.example"}});
  CHECK(*star.header("access-control-allow-origin") == "*");
  CHECK(star.header("access-control-allow-credentials") == nullptr);
}

TEST_CASE("body limits, content types and malformed JSON are clear 4xx") {
  auto env = FakeHost::default_env();
  env["BODY_LIMIT_BYTES"] = "1000";
  FakeHost h(env);
  std::string big(2000, 'x');
  HttpResult declared =
      h.request("POST", "/api/v1/auth/login",
                {{"content-type", "application/json"}, {"content-length", "2000"}}, big);
  expect_error(declared, 413, "http.body_too_large");
  CHECK(declared.ops.empty());  // refused before reading a byte
  // No Content-Length (chunked): the host stops reading at the limit.
  expect_error(h.request("POST", "/api/v1/auth/login", {{"content-type", "application/json"}}, big),
               413, "http.body_too_large");
  expect_error(h.request("POST", "/api/v1/auth/login", {{"content-type", "text/plain"}}, "{}"), 415,
               "http.unsupported_media_type");
  expect_error(h.request("POST", "/api/v1/auth/login", {}, "{}"), 415,
               "http.unsupported_media_type");
  expect_error(h.request("POST", "/api/v1/auth/login", {{"content-type", "application/json"}},
                         "{\"username\":"),
               400, "http.invalid_json");
  expect_error(h.request("POST", "/api/v1/auth/login", {{"content-type", "application/json"}},
                         std::string(500, '[')),
               400, "http.invalid_json");
  expect_error(h.request("POST", "/api/v1/auth/login", {{"content-type", "application/json"}},
                         std::string("{\"a\":1}\0{", 9)),
               400, "http.invalid_json");
  expect_error(h.post("/api/v1/auth/login", json::array({1, 2})), 400,
               "validation.body_not_object");
  expect_error(h.post("/api/v1/auth/guest", json::array()), 400, "validation.body_not_object");
  HttpResult types = h.post("/api/v1/auth/login", {{"username", 123}, {"password", nullptr}});
  expect_error(types, 400, "validation.failed");
  CHECK(types.body_json["error"]["fields"].size() == 2);
  CHECK(h.request("POST", "/api/v1/auth/login",
                  {{"content-type", "application/vnd.api+json; charset=utf-8"}},
                  R"({"username":"x","password":"y"})")
            .status == 401);
}

TEST_CASE("one structured access-log line per request, without secrets") {
  FakeHost h;
  HttpResult r =
      h.post("/api/v1/auth/register", {{"username", "logme"}, {"password", "s3cret-pass"}});
  REQUIRE(r.status == 201);
  json line = json::parse(r.log);
  CHECK(line["msg"] == "request");
  CHECK(line["method"] == "POST");
  CHECK(line["route"] == "/api/v1/auth/register");
  CHECK(line["status"] == 201);
  CHECK(line["requestId"] == *r.header("x-request-id"));
  CHECK(line["userId"] == r.body_json["user"]["id"]);
  CHECK(line["durationMs"].is_number());
  CHECK(r.log.find("s3cret-pass") == std::string::npos);
  CHECK(r.log.find(r.body_json["accessToken"].get<std::string>()) == std::string::npos);
  // Ids in paths are not logged: the route is the pattern.
  CHECK(json::parse(h.get("/nope/usr_123").log)["route"] == "-");
}

TEST_CASE("seed-compatible routes speak their seed's format") {
  FakeHost h;
  HttpResult reg =
      h.post("/api/auth/register", {{"username", "seeduser"}, {"password", "longenough"}});
  CHECK(reg.status == 201);
  CHECK(reg.body_json["success"] == true);
  CHECK(reg.body_json["data"]["user"]["username"] == "seeduser");
  std::string at = reg.body_json["data"]["accessToken"].get<std::string>();

  HttpResult bad = h.post("/api/auth/login", {{"username", "seeduser"}, {"password", "wrong"}});
  CHECK(bad.status == 401);
  CHECK(bad.body_json["error"] == "Invalid username or password");
  CHECK(bad.body_json["details"]["code"] == "auth.invalid_credentials");
  // Every error names its request, seed 000's shape too (beside its own fields).
  REQUIRE(bad.header("x-request-id") != nullptr);
  CHECK(bad.body_json["requestId"] == *bad.header("x-request-id"));
  HttpResult invalid = h.post("/api/auth/register", {{"username", "x"}});
  CHECK(invalid.status == 400);
  CHECK(invalid.body_json["error"].is_string());
  CHECK(invalid.body_json["details"]["fields"].contains("password"));

  CHECK(h.get("/api/auth/session").body_json == json{{"user", nullptr}});
  CHECK(h.get("/api/auth/session", "garbage").body_json == json{{"user", nullptr}});
  CHECK(h.get("/api/auth/session", at).body_json["user"]["username"] == "seeduser");

  HttpResult out = h.request("POST", "/api/auth/logout", {{"authorization", "Bearer " + at}});
  CHECK(out.body_json["success"] == true);
  CHECK(out.header("set-cookie")->find("Max-Age=0") != std::string::npos);
  CHECK(h.get("/api/auth/session", at).body_json == json{{"user", nullptr}});
  CHECK(h.request("POST", "/api/auth/logout").body_json["success"] == true);

  HttpResult guest = h.request("POST", "/auth/guest");
  CHECK(guest.status == 201);
  CHECK(guest.body_json["token"] == guest.body_json["accessToken"]);
  CHECK(guest.body_json["user"]["isGuest"] == true);
}
