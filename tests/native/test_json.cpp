// The checked JSON helpers: everything untrusted goes through them, so they must never abort.
#include "core/json.hpp"

#include <catch2/catch.hpp>

using namespace ec;

TEST_CASE("parse_json accepts JSON and refuses everything else without aborting") {
  CHECK(parse_json(R"({"a":[1,2,{"b":null}]})").has_value());
  CHECK(parse_json("  42 ").value() == 42);
  for (std::string bad : {std::string(""), std::string("{"), std::string("{\"a\":}"),
                          std::string("[1,]"), std::string("nul"), std::string("\"\\x\""),
                          std::string("{\"a\":1}\0garbage", 15), std::string("\xff\xfe")}) {
    INFO(bad);
    CHECK_FALSE(parse_json(bad).has_value());
  }
}

TEST_CASE("parse_json bounds nesting depth, ignoring brackets inside strings") {
  CHECK(parse_json(std::string(64, '[') + std::string(64, ']'), 64).has_value());
  CHECK_FALSE(parse_json(std::string(65, '[') + std::string(65, ']'), 64).has_value());
  CHECK_FALSE(parse_json(std::string(100000, '['), 64).has_value());
  std::string brackets_in_string = "[\"" + std::string(200, '[') + "\\\"\"]";
  CHECK(parse_json(brackets_in_string, 4).has_value());
}

TEST_CASE("typed getters return nothing on a type mismatch") {
  json j = *parse_json(
      R"({"s":"x","i":7,"f":2.0,"h":2.5,"b":true,"o":{},"a":[],"n":null,"u":18446744073709551615,"big":9223372036854775807})");
  CHECK(*get_string(j, "s") == "x");
  CHECK(get_string(j, "i") == nullptr);
  CHECK(get_string(j, "missing") == nullptr);
  CHECK(get_int(j, "i") == 7);
  CHECK(get_int(j, "f") == 2);  // integral floats count
  CHECK_FALSE(get_int(j, "h").has_value());
  CHECK_FALSE(get_int(j, "s").has_value());
  CHECK_FALSE(get_int(j, "u").has_value());  // 2^64-1 must not wrap to -1
  CHECK(get_int(j, "big") == INT64_MAX);
  CHECK(get_number(j, "h") == 2.5);
  CHECK(get_bool(j, "b") == true);
  CHECK_FALSE(get_bool(j, "i").has_value());
  CHECK(get_object(j, "o") != nullptr);
  CHECK(get_object(j, "a") == nullptr);
  CHECK(get_array(j, "a") != nullptr);
  CHECK(string_or(j, "n", "fallback") == "fallback");
  // Getters on non-objects are safe too.
  json arr = json::array({1});
  CHECK(get_string(arr, "x") == nullptr);
  CHECK(find(json(nullptr), "x") == nullptr);
}

TEST_CASE("dump_json replaces invalid UTF-8 instead of aborting") {
  json j = std::string("ok\xff");
  std::string out = dump_json(j);
  CHECK(out.find("ok") != std::string::npos);
  CHECK(parse_json(out).has_value());
}
