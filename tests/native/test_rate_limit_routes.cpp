// Rate limits through the whole pipeline (FakeHost): the gateway asks for a `ratelimit.check`,
// which the FakeHost answers as js-shim/rate-limiter.js does (core_gcra over a state per object
// name, at the host's clock); the headers, the 429 in each error style, who counts against what,
// streamed heads, and failing open.
#include "support/accounts.hpp"
#include "support/fake_host.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

using ec::testing::Account;
using ec::testing::FakeHost;
using ec::testing::ForcedResult;
using ec::testing::Headers;
using ec::testing::HttpResult;
using ec::testing::json;
using ec::testing::sign_up;

namespace {

using Ops = std::vector<std::string>;

// 3 a minute anonymous, 5 signed in; the auth group 4 anonymous.
std::map<std::string, std::string> limited_env() {
  auto env = FakeHost::default_env();
  env["RATE_LIMITS"] =
      R"({"default":{"anonymous":3,"user":5,"periodSeconds":60},"auth":{"anonymous":4}})";
  env["EDGECHAT_BINDINGS"] = "RATE_LIMITER";
  return env;
}

HttpResult get_from(FakeHost& h, const std::string& target, const std::string& ip,
                    const std::string& bearer = "") {
  Headers headers = {{"cf-connecting-ip", ip}, {"origin", "https://app.example"}};
  if (!bearer.empty()) headers.emplace_back("authorization", "Bearer " + bearer);
  return h.request("GET", target, headers);
}

HttpResult login_from(FakeHost& h, const std::string& target, const std::string& ip,
                      const std::string& bearer = "") {
  Headers headers = {{"cf-connecting-ip", ip}, {"content-type", "application/json"}};
  if (!bearer.empty()) headers.emplace_back("authorization", "Bearer " + bearer);
  return h.request("POST", target, headers, R"({"username":"nobody","password":"wrong pw!"})");
}

std::string header(const HttpResult& r, const char* name) {
  const std::string* v = r.header(name);
  return v ? *v : "(none)";
}

// The names of the objects asked, in order.
struct KeySpy {
  std::vector<std::string> keys;
  void attach(FakeHost& h) {
    h.intercept = [this](const std::string& op, const json& args) -> std::optional<ForcedResult> {
      if (op == "ratelimit.check") keys.push_back(args.at("key").get<std::string>());
      return std::nullopt;
    };
  }
};

}  // namespace

TEST_CASE("rate limit: headers on every response of a limited route, then 429 with Retry-After") {
  FakeHost h(limited_env());
  for (int i = 0; i < 3; ++i) {
    HttpResult r = get_from(h, "/api/v1/auth/me", "203.0.113.7");  // no token: a 401 all the same
    INFO(r.body);
    CHECK(r.status == 401);
    CHECK(r.ops == Ops{"ratelimit.check"});
    CHECK(header(r, "x-ratelimit-limit") == "3");
    CHECK(header(r, "x-ratelimit-remaining") == std::to_string(2 - i));
    CHECK(header(r, "x-ratelimit-reset") == std::to_string(20 * (i + 1)));
    CHECK(r.header("retry-after") == nullptr);
  }
  HttpResult refused = get_from(h, "/api/v1/auth/me", "203.0.113.7");
  INFO(refused.body);
  CHECK(refused.status == 429);
  CHECK(refused.ops == Ops{"ratelimit.check"});  // the handler never ran
  CHECK(refused.body_json["error"]["code"] == "rate_limit.exceeded");
  CHECK(refused.body_json["error"]["message"].get<std::string>().find("20 s") != std::string::npos);
  CHECK(refused.body_json["requestId"] == header(refused, "x-request-id"));
  CHECK(header(refused, "retry-after") == "20");
  CHECK(header(refused, "x-ratelimit-limit") == "3");
  CHECK(header(refused, "x-ratelimit-remaining") == "0");
  CHECK(header(refused, "x-ratelimit-reset") == "60");
  // CORS as on any response, and the browser may read the limit headers.
  CHECK(header(refused, "access-control-allow-origin") == "https://app.example");
  CHECK(header(refused, "access-control-expose-headers").find("Retry-After") != std::string::npos);
  CHECK(refused.log.find("\"status\":429") != std::string::npos);

  h.advance_seconds(19.5);
  HttpResult still = get_from(h, "/api/v1/auth/me", "203.0.113.7");
  CHECK(still.status == 429);
  CHECK(header(still, "retry-after") == "1");  // 0.5 s, rounded up
  h.advance_seconds(0.5);
  HttpResult again = get_from(h, "/api/v1/auth/me", "203.0.113.7");
  CHECK(again.status == 401);
  CHECK(header(again, "x-ratelimit-remaining") == "0");
}

TEST_CASE("rate limit: addresses, users and groups each count on their own") {
  FakeHost h(limited_env());
  KeySpy spy;
  Account a = sign_up(h, "rate_alice");  // auth group, from no address: "unknown"
  spy.attach(h);
  for (int i = 0; i < 3; ++i) REQUIRE(get_from(h, "/api/v1/auth/me", "203.0.113.7").status == 401);
  REQUIRE(get_from(h, "/api/v1/auth/me", "203.0.113.7").status == 429);

  // Another address: its own allowance. Without CF-Connecting-IP, X-Forwarded-For's first hop.
  CHECK(get_from(h, "/api/v1/auth/me", "198.51.100.1").status == 401);
  HttpResult forwarded =
      h.request("GET", "/api/v1/auth/me", {{"x-forwarded-for", "198.51.100.2, 10.0.0.1"}});
  CHECK(forwarded.status == 401);
  CHECK(header(forwarded, "x-ratelimit-remaining") == "2");

  // The same address signed in: the user's allowance (5), not the address's.
  HttpResult me = get_from(h, "/api/v1/auth/me", "203.0.113.7", a.token);
  CHECK(me.status == 200);
  CHECK(header(me, "x-ratelimit-limit") == "5");
  CHECK(header(me, "x-ratelimit-remaining") == "4");

  // The same address in another group (auth, 4 anonymous): untouched by the default group's count.
  HttpResult login = login_from(h, "/api/v1/auth/login", "203.0.113.7");
  CHECK(login.status == 401);
  CHECK(header(login, "x-ratelimit-limit") == "4");
  CHECK(header(login, "x-ratelimit-remaining") == "3");

  CHECK(spy.keys ==
        std::vector<std::string>{"rl1:default:ip:203.0.113.7", "rl1:default:ip:203.0.113.7",
                                 "rl1:default:ip:203.0.113.7", "rl1:default:ip:203.0.113.7",
                                 "rl1:default:ip:198.51.100.1", "rl1:default:ip:198.51.100.2",
                                 "rl1:default:u:" + a.id, "rl1:auth:ip:203.0.113.7"});
}

TEST_CASE("rate limit: the user's allowance follows the user across addresses") {
  FakeHost h(limited_env());
  Account a = sign_up(h, "rate_bob");
  for (int i = 0; i < 5; ++i) {
    REQUIRE(get_from(h, "/api/v1/auth/me", "192.0.2." + std::to_string(i), a.token).status == 200);
  }
  HttpResult refused = get_from(h, "/api/v1/auth/me", "192.0.2.99", a.token);
  CHECK(refused.status == 429);
  CHECK(header(refused, "retry-after") == "12");  // 60 s / 5
  CHECK(refused.log.find("\"userId\":\"" + a.id + "\"") != std::string::npos);
}

TEST_CASE("rate limit: credentials are checked, not trusted, before they pick the counter") {
  FakeHost h(limited_env());
  KeySpy spy;
  Account a = sign_up(h, "rate_carol");
  spy.attach(h);
  // A token that does not verify counts as its address.
  get_from(h, "/api/v1/auth/me", "203.0.113.9", a.token + "x");
  get_from(h, "/api/v1/auth/me", "203.0.113.9", "not-a-jwt");
  // An API key counts as itself (a hash prefix: the key never appears), with the user's allowance.
  const std::string key = "ec_" + std::string(43, 'A');
  HttpResult with_key = get_from(h, "/api/v1/auth/me", "203.0.113.9", key);
  CHECK(with_key.status == 401);  // unknown key: the handler's lookup says so
  CHECK(header(with_key, "x-ratelimit-limit") == "5");
  // A malformed key cannot be a key: its address.
  get_from(h, "/api/v1/auth/me", "203.0.113.9", "ec_short");
  // The auth group ignores credentials: sign-in attempts count per address, always.
  login_from(h, "/api/v1/auth/login", "203.0.113.9", a.token);
  login_from(h, "/api/v1/auth/login", "203.0.113.9", key);

  REQUIRE(spy.keys.size() == 6);
  CHECK(spy.keys[0] == "rl1:default:ip:203.0.113.9");
  CHECK(spy.keys[1] == "rl1:default:ip:203.0.113.9");
  CHECK(spy.keys[2].rfind("rl1:default:k:", 0) == 0);
  CHECK(spy.keys[2].size() == std::string("rl1:default:k:").size() + 32);
  CHECK(spy.keys[2].find("AAAA") == std::string::npos);
  CHECK(spy.keys[3] == "rl1:default:ip:203.0.113.9");
  CHECK(spy.keys[4] == "rl1:auth:ip:203.0.113.9");
  CHECK(spy.keys[5] == "rl1:auth:ip:203.0.113.9");
}

TEST_CASE("rate limit: a valid token is verified once for the limiter and the handler together") {
  FakeHost h(limited_env());
  Account a = sign_up(h, "rate_dave");
  // The limiter verifies the unseen token (the signature check); the handler's authenticate then
  // hits the per-instance verification cache and only loads the user: no extra I/O but the check.
  HttpResult first = get_from(h, "/api/v1/auth/me", "203.0.113.10", a.token);
  CHECK(first.status == 200);
  CHECK(first.ops == Ops{"crypto.verify", "ratelimit.check", "d1.first"});
  HttpResult second = get_from(h, "/api/v1/auth/me", "203.0.113.10", a.token);
  CHECK(second.ops == Ops{"ratelimit.check", "d1.first"});
}

TEST_CASE("rate limit: exempt routes and preflights are never counted") {
  FakeHost h(limited_env());
  for (int i = 0; i < 5; ++i) {
    for (const char* path : {"/health", "/.well-known/jwks.json"}) {
      HttpResult r = get_from(h, path, "203.0.113.7");
      INFO(path);
      CHECK(r.status == 200);
      CHECK(std::count(r.ops.begin(), r.ops.end(), "ratelimit.check") == 0);
      CHECK(r.header("x-ratelimit-limit") == nullptr);
    }
    HttpResult preflight = h.request("OPTIONS", "/api/v1/auth/me",
                                     {{"origin", "https://app.example"},
                                      {"access-control-request-method", "GET"},
                                      {"cf-connecting-ip", "203.0.113.7"}});
    CHECK(preflight.status == 204);
    CHECK(preflight.ops.empty());
  }
  CHECK(header(get_from(h, "/api/v1/auth/me", "203.0.113.7"), "x-ratelimit-remaining") == "2");
}

TEST_CASE("rate limit: a seed route's 429 is in the seed's error shape") {
  FakeHost h(limited_env());
  for (int i = 0; i < 4; ++i)
    REQUIRE(login_from(h, "/api/auth/login", "203.0.113.7").status == 401);
  HttpResult r = login_from(h, "/api/auth/login", "203.0.113.7");
  INFO(r.body);
  CHECK(r.status == 429);
  CHECK(r.body_json["error"].is_string());
  CHECK(r.body_json["details"]["code"] == "rate_limit.exceeded");
  CHECK(header(r, "retry-after") == "15");
  // The seed and canonical login routes share the auth group's counter for an address.
  CHECK(login_from(h, "/api/v1/auth/login", "203.0.113.7").status == 429);
}

TEST_CASE("rate limit: a streamed response's head carries the headers too") {
  auto env = limited_env();
  env["EDGECHAT_TEST_HOOKS"] = "1";
  FakeHost h(env);
  json head;
  h.intercept = [&](const std::string& op, const json& args) -> std::optional<ForcedResult> {
    if (op == "stream.open") head = args;
    if (op == "stream.open" || op == "stream.write") return ForcedResult{true, "true", ""};
    return std::nullopt;
  };
  HttpResult r = get_from(h, "/__test/stream?n=2", "203.0.113.7");
  REQUIRE(head.is_object());
  std::map<std::string, std::string> sent;
  for (const json& kv : head["headers"]) sent[kv[0].get<std::string>()] = kv[1].get<std::string>();
  CHECK(sent["content-type"] == "text/event-stream; charset=utf-8");
  CHECK(sent["x-ratelimit-limit"] == "3");
  CHECK(sent["x-ratelimit-remaining"] == "2");
  CHECK(sent["x-ratelimit-reset"] == "20");
  CHECK(sent["access-control-allow-origin"] == "https://app.example");
}

TEST_CASE("rate limit: fails open without the binding, and says so once") {
  auto env = limited_env();
  env.erase("EDGECHAT_BINDINGS");
  FakeHost h(env);
  std::vector<std::string> lines;
  h.intercept = [&](const std::string& op, const json& args) -> std::optional<ForcedResult> {
    if (op == "log.write") lines.push_back(args.at("line").get<std::string>());
    return std::nullopt;
  };
  for (int i = 0; i < 5; ++i) {
    HttpResult r = get_from(h, "/api/v1/auth/me", "203.0.113.7");
    CHECK(r.status == 401);
    CHECK(r.header("x-ratelimit-limit") == nullptr);
    CHECK(r.ops == (i == 0 ? Ops{"log.write"} : Ops{}));
  }
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].find("no RATE_LIMITER binding") != std::string::npos);
  CHECK(lines[0].find("\"level\":\"warn\"") != std::string::npos);
}

TEST_CASE("rate limit: fails open when the object cannot be reached, logging each time") {
  FakeHost h(limited_env());
  std::vector<std::string> lines;
  h.intercept = [&](const std::string& op, const json& args) -> std::optional<ForcedResult> {
    if (op == "ratelimit.check") return ForcedResult{false, "object overloaded", "unavailable"};
    if (op == "log.write") lines.push_back(args.at("line").get<std::string>());
    return std::nullopt;
  };
  for (int i = 0; i < 5; ++i) {
    HttpResult r = get_from(h, "/api/v1/auth/me", "203.0.113.7");
    CHECK(r.status == 401);
    CHECK(r.header("x-ratelimit-limit") == nullptr);
    CHECK(r.ops == Ops{"ratelimit.check", "log.write"});
  }
  REQUIRE(lines.size() == 5);
  CHECK(lines[0].find("rate limiter unavailable") != std::string::npos);
  CHECK(lines[0].find("object overloaded") != std::string::npos);

  // A malformed answer is treated the same way.
  h.intercept = [&](const std::string& op, const json&) -> std::optional<ForcedResult> {
    if (op == "ratelimit.check") return ForcedResult{true, R"({"allowed":"yes"})", ""};
    return std::nullopt;
  };
  CHECK(get_from(h, "/api/v1/auth/me", "203.0.113.7").status == 401);
}

TEST_CASE(
    "rate limit: RATE_LIMITS off means no effect at all; invalid means the defaults, logged") {
  auto off = limited_env();
  off["RATE_LIMITS"] = "off";
  FakeHost quiet(off);
  HttpResult r = get_from(quiet, "/api/v1/auth/me", "203.0.113.7");
  CHECK(r.ops.empty());
  CHECK(r.header("x-ratelimit-limit") == nullptr);

  auto bad = limited_env();
  bad["RATE_LIMITS"] = R"({"default":{"anon":3}})";
  FakeHost h(bad);
  std::vector<std::string> lines;
  h.intercept = [&](const std::string& op, const json& args) -> std::optional<ForcedResult> {
    if (op == "log.write") lines.push_back(args.at("line").get<std::string>());
    return std::nullopt;
  };
  HttpResult first = get_from(h, "/api/v1/auth/me", "203.0.113.7");
  CHECK(first.ops == Ops{"ratelimit.check", "log.write"});  // one round trip for both
  CHECK(header(first, "x-ratelimit-limit") == "10");        // seed 001's default
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].find("RATE_LIMITS is invalid") != std::string::npos);
  CHECK(lines[0].find("default.anon") != std::string::npos);
  CHECK(get_from(h, "/api/v1/auth/me", "203.0.113.7").ops == Ops{"ratelimit.check"});
}

TEST_CASE("rate limit: the ai group and an unnamed group count apart from default") {
  auto env = limited_env();
  env["EDGECHAT_TEST_HOOKS"] = "1";
  FakeHost h(env);
  KeySpy spy;
  spy.attach(h);
  // /__test/limited is in group "test", not named in RATE_LIMITS: default's limits, own counter.
  for (int i = 0; i < 3; ++i) REQUIRE(get_from(h, "/__test/limited", "203.0.113.7").status == 200);
  CHECK(get_from(h, "/__test/limited", "203.0.113.7").status == 429);
  CHECK(get_from(h, "/api/v1/auth/me", "203.0.113.7").status == 401);
  // An ai route (search) without a token: refused by the handler, counted in "ai".
  HttpResult search =
      h.request("POST", "/api/v1/search",
                {{"cf-connecting-ip", "203.0.113.7"}, {"content-type", "application/json"}},
                R"({"query":"x"})");
  CHECK(search.status == 401);
  CHECK(header(search, "x-ratelimit-remaining") == "2");
  REQUIRE(spy.keys.size() == 6);
  CHECK(spy.keys[0] == "rl1:test:ip:203.0.113.7");
  CHECK(spy.keys[4] == "rl1:default:ip:203.0.113.7");
  CHECK(spy.keys[5] == "rl1:ai:ip:203.0.113.7");
}
