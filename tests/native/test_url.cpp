// Percent-decoding and query parsing: total functions over hostile input.
#include <catch2/catch.hpp>

#include "http/url.hpp"

#include <optional>
#include <string>

using ec::parse_query;
using ec::percent_decode;
using ec::query_param;

TEST_CASE("percent_decode decodes escapes and rejects malformed input", "[url]") {
  struct Case {
    const char* in;
    bool plus_as_space;
    std::optional<std::string> want;
  };
  const Case cases[] = {
      {"", false, ""},
      {"plain", false, "plain"},
      {"a%20b", false, "a b"},
      {"%2f%2F", false, "//"},              // either hex case
      {"caf%C3%A9", false, "caf\xC3\xA9"},  // bytes, not code points
      {"a+b", false, "a+b"},                // paths keep '+'
      {"a+b", true, "a b"},                 // forms turn it into a space
      {"%2B", true, "+"},                   // an encoded '+' stays a '+'
      {"100%", false, std::nullopt},        // truncated escape
      {"%4", false, std::nullopt},
      {"%zz", false, std::nullopt},  // not hex
      {"%G0", false, std::nullopt},
      {"a%00b", false, std::nullopt},  // decoded NUL
      {"%%41", false, std::nullopt},
  };
  for (const Case& c : cases) {
    INFO("input: " << c.in << " plus_as_space=" << c.plus_as_space);
    CHECK(percent_decode(c.in, c.plus_as_space) == c.want);
  }
}

TEST_CASE("percent_decode rejects a raw NUL byte", "[url]") {
  CHECK(percent_decode(std::string_view("a\0b", 3), false) == std::nullopt);
}

TEST_CASE("parse_query splits, decodes and skips malformed pairs", "[url]") {
  using P = ec::QueryParams;
  struct Case {
    const char* raw;
    P want;
  };
  const Case cases[] = {
      {"", {}},
      {"a=1", {{"a", "1"}}},
      {"a=1&b=2", {{"a", "1"}, {"b", "2"}}},
      {"q=hello+world&x=%2B1", {{"q", "hello world"}, {"x", "+1"}}},
      {"flag", {{"flag", ""}}},  // no '=' means empty value
      {"a=", {{"a", ""}}},
      {"a=b=c", {{"a", "b=c"}}},              // only the first '=' splits
      {"&&a=1&&", {{"a", "1"}}},              // empty pieces skipped
      {"=orphan&a=1", {{"a", "1"}}},          // empty name skipped
      {"bad=%zz&ok=1", {{"ok", "1"}}},        // malformed value skipped
      {"%zz=1&ok=2", {{"ok", "2"}}},          // malformed name skipped
      {"nul=%00&ok=3", {{"ok", "3"}}},        // decoded NUL skipped
      {"a=1&a=2", {{"a", "1"}, {"a", "2"}}},  // repeats kept in order
      {"k%20y=v%26w", {{"k y", "v&w"}}},      // encoded separators are data
  };
  for (const Case& c : cases) {
    INFO("query: " << c.raw);
    CHECK(parse_query(c.raw) == c.want);
  }
}

TEST_CASE("parse_query keeps at most kMaxQueryParams pairs", "[url]") {
  std::string raw;
  for (int i = 0; i < 1000; ++i) raw += "k" + std::to_string(i) + "=v&";
  ec::QueryParams params = parse_query(raw);
  REQUIRE(params.size() == ec::kMaxQueryParams);
  CHECK(params.front().first == "k0");
}

TEST_CASE("query_param returns the first value or nullptr", "[url]") {
  ec::QueryParams params = parse_query("limit=10&limit=20&cursor=abc");
  const std::string* limit = query_param(params, "limit");
  REQUIRE(limit != nullptr);
  CHECK(*limit == "10");
  REQUIRE(query_param(params, "cursor") != nullptr);
  CHECK(query_param(params, "missing") == nullptr);
  CHECK(query_param(params, "LIMIT") == nullptr);  // names are case-sensitive
}
