// RATE_LIMITS parsing (limits/rate_config.hpp) and whom a request counts against
// (limits/rate_key.hpp): client addresses and the Durable Object names.
#include "limits/rate_config.hpp"
#include "limits/rate_key.hpp"

#include <catch2/catch.hpp>

#include <string>

using ec::client_address;
using ec::GroupLimits;
using ec::parse_rate_limits;
using ec::ParsedRateLimits;
using ec::RateSubject;

namespace {

void check_limits(const GroupLimits* g, int64_t anonymous, int64_t user, int64_t period_s) {
  REQUIRE(g != nullptr);
  CHECK(g->anonymous == anonymous);
  CHECK(g->user == user);
  CHECK(g->period_s == period_s);
}

std::string addr(const char* cf, const char* xff = nullptr) {
  std::string a = cf ? cf : "", b = xff ? xff : "";
  return client_address(cf ? &a : nullptr, xff ? &b : nullptr);
}

}  // namespace

TEST_CASE("RATE_LIMITS unset: seed 001's 10 a minute anonymous, 30 signed in, in every group") {
  ParsedRateLimits p = parse_rate_limits("");
  CHECK(p.error.empty());
  check_limits(p.config.find("default"), 10, 30, 60);
  check_limits(p.config.find("auth"), 10, 30, 60);
  check_limits(p.config.find("ai"), 10, 30, 60);
  check_limits(p.config.find("anything"), 10, 30, 60);
  CHECK(p.config.find("") == nullptr);  // exempt routes
  CHECK(parse_rate_limits("   \n").error.empty());
}

TEST_CASE("RATE_LIMITS=off turns every group off") {
  for (const char* off : {"off", "OFF", " Off "}) {
    ParsedRateLimits p = parse_rate_limits(off);
    CHECK(p.error.empty());
    CHECK(p.config.find("default") == nullptr);
    CHECK(p.config.find("ai") == nullptr);
  }
}

TEST_CASE("RATE_LIMITS per group: fields inherit from default, default from the seed") {
  ParsedRateLimits p = parse_rate_limits(R"({
    "default": {"anonymous": 20, "periodSeconds": 120},
    "ai": {"user": 5},
    "auth": "off",
    "uploads": {"anonymous": 2, "user": 4, "periodSeconds": 3600},
    "test": false
  })");
  INFO(p.error);
  REQUIRE(p.error.empty());
  check_limits(p.config.find("default"), 20, 30, 120);
  check_limits(p.config.find("ai"), 20, 5, 120);
  check_limits(p.config.find("uploads"), 2, 4, 3600);
  check_limits(p.config.find("unnamed"), 20, 30, 120);  // counts on its own, default's limits
  CHECK(p.config.find("auth") == nullptr);
  CHECK(p.config.find("test") == nullptr);

  // Default off: only the named groups are limited.
  ParsedRateLimits only_ai = parse_rate_limits(R"({"default":"off","ai":{"user":3}})");
  REQUIRE(only_ai.error.empty());
  CHECK(only_ai.config.find("default") == nullptr);
  CHECK(only_ai.config.find("auth") == nullptr);
  check_limits(only_ai.config.find("ai"), 10, 3, 60);

  check_limits(parse_rate_limits(R"({"ai":{"anonymous":1000000,"periodSeconds":2592000}})")
                   .config.find("ai"),
               1000000, 30, 2592000);
}

TEST_CASE("RATE_LIMITS invalid: the defaults, and a message that says what is wrong") {
  struct Bad {
    const char* text;
    const char* says;
  };
  const Bad cases[] = {
      {"{", "expected \"off\" or a JSON object"},
      {"[1,2]", "expected \"off\" or a JSON object"},
      {"on", "expected \"off\" or a JSON object"},
      {R"({"ai":{"anon":5}})", "\"ai.anon\" is not a setting"},
      {R"({"ai":{"user":0}})", "\"ai.user\" must be a whole number in [1, 1000000]"},
      {R"({"ai":{"user":1.5}})", "\"ai.user\" must be a whole number"},
      {R"({"ai":{"user":"30"}})", "\"ai.user\" must be a whole number"},
      {R"({"ai":{"user":1000001}})", "\"ai.user\" must be a whole number"},
      {R"({"ai":{"periodSeconds":2592001}})",
       "\"ai.periodSeconds\" must be a whole number in "
       "[1, 2592000]"},
      {R"({"default":{"user":-1}})", "\"default.user\""},
      {R"({"ai":10})", "\"ai\" must be an object or \"off\""},
      {R"({"AI":{"user":1}})", "group name \"AI\""},
      {R"({"a b":{"user":1}})", "group name \"a b\""},
  };
  for (const Bad& b : cases) {
    ParsedRateLimits p = parse_rate_limits(b.text);
    INFO(b.text << " → " << p.error);
    CHECK(p.error.rfind("RATE_LIMITS is invalid: ", 0) == 0);
    CHECK(p.error.find(b.says) != std::string::npos);
    check_limits(p.config.find("ai"), 10, 30, 60);
    CHECK(p.config.enabled);
  }
}

TEST_CASE("client address: CF-Connecting-IP, else the first X-Forwarded-For hop, else unknown") {
  CHECK(addr("203.0.113.7") == "203.0.113.7");
  CHECK(addr(" 203.0.113.7 ", "198.51.100.1") == "203.0.113.7");
  CHECK(addr(nullptr, "198.51.100.1, 10.0.0.1") == "198.51.100.1");
  CHECK(addr("", "198.51.100.1") == "198.51.100.1");
  CHECK(addr(nullptr) == "unknown");
  CHECK(addr(nullptr, "") == "unknown");
  CHECK(addr("010.001.000.009") == "10.1.0.9");  // one spelling per address
}

TEST_CASE("client address: IPv6 counts per /64; mapped IPv4 as IPv4") {
  CHECK(addr("2001:db8:1:2:3:4:5:6") == "2001:db8:1:2::/64");
  CHECK(addr("2001:DB8:1:2:ffff::1") == "2001:db8:1:2::/64");
  CHECK(addr("2001:0db8:0001:0002::") == "2001:db8:1:2::/64");
  CHECK(addr("2001:db8::1") == "2001:db8:0:0::/64");
  CHECK(addr("::1") == "0:0:0:0::/64");
  CHECK(addr("::") == "0:0:0:0::/64");
  CHECK(addr("[2001:db8:1:2::1]:443") == "2001:db8:1:2::/64");
  CHECK(addr("fe80::1%eth0") == "fe80:0:0:0::/64");
  CHECK(addr("::ffff:192.0.2.1") == "192.0.2.1");
  CHECK(addr("64:ff9b::192.0.2.1") == "64:ff9b:0:0::/64");
}

TEST_CASE("client address: anything else is one shared 'unknown', never a key of its own") {
  for (const char* bad :
       {"256.1.1.1", "1.2.3", "1.2.3.4.5", "1.2.3.4x", "1..2.3", "localhost", "1:2:3:4:5:6:7:8:9",
        "1::2::3", ":1:2:3:4:5:6:7", "1:2:3:4:5:6:7:", "12345::", "g::1", "[::1", "::ffff:1.2.3",
        "1:2:3:4:5:6:7:1.2.3.4",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}) {
    INFO(bad);
    CHECK(addr(bad) == "unknown");
  }
  CHECK(addr("1:2:3:4:5:6:1.2.3.4") == "1:2:3:4::/64");
  CHECK(addr("1:2:3:4:5:6:7::") == "1:2:3:4::/64");
}

TEST_CASE("Durable Object names: group and subject, so groups and kinds never share a counter") {
  using Kind = RateSubject::Kind;
  CHECK(ec::rate_limit_name("ai", {Kind::kUser, "usr_1"}) == "rl1:ai:u:usr_1");
  CHECK(ec::rate_limit_name("default", {Kind::kUser, "usr_1"}) == "rl1:default:u:usr_1");
  CHECK(ec::rate_limit_name("ai", {Kind::kApiKey, "ab12"}) == "rl1:ai:k:ab12");
  CHECK(ec::rate_limit_name("auth", {Kind::kAddress, "203.0.113.7"}) == "rl1:auth:ip:203.0.113.7");
  CHECK(RateSubject{Kind::kUser, "x"}.signed_in());
  CHECK(RateSubject{Kind::kApiKey, "x"}.signed_in());
  CHECK_FALSE(RateSubject{Kind::kAddress, "x"}.signed_in());
}
