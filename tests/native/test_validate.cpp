// Body validation: each rule, then how failures are reported together.
#include <catch2/catch.hpp>

#include "core/json.hpp"
#include "http/validate.hpp"

#include <string>

using ec::field;
using ec::json;
using ec::Schema;
using ec::validate;

namespace {

const Schema kRegister = {
    field("username").string().required().length(3, 32).charset("a-z0-9_.-"),
    field("password").string().required().length(8, 1024),
    field("email").string().email().max(254),
};

// The per-field messages of a failed validation ({} when it passed).
json failures(const json& body, const Schema& schema, bool allow_unknown = true) {
  ec::Status s = validate(body, schema, allow_unknown);
  if (s.ok()) return json::object();
  const ec::ApiError& e = s.error();
  REQUIRE(e.status == 400);
  REQUIRE(e.code == "validation.failed");
  REQUIRE(e.message == "Request body failed validation");
  REQUIRE(e.fields.is_object());
  return e.fields;
}

// Validates {"v": value} against a one-field schema; returns the message or "" when it passes.
std::string check_one(const ec::Field& f, const json& value) {
  json body = json::object();
  body[f.name()] = value;
  json fs = failures(body, Schema{f});
  if (fs.empty()) return "";
  const std::string* msg = ec::get_string(fs, f.name());
  REQUIRE(msg != nullptr);
  return *msg;
}

}  // namespace

TEST_CASE("validate: each rule, as a table", "[validate]") {
  struct Row {
    ec::Field rule;
    json value;
    const char* want;  // "" = passes
  };
  const Row rows[] = {
      // types
      {field("v").string(), "x", ""},
      {field("v").string(), 1, "must be a string"},
      {field("v").integer(), 42, ""},
      {field("v").integer(), -7, ""},
      {field("v").integer(), 3.0, ""},  // integral floats are integers, as in get_int()
      {field("v").integer(), 3.5, "must be an integer"},
      {field("v").integer(), 1e300, "must be an integer"},
      {field("v").integer(), "3", "must be an integer"},
      {field("v").integer(), json(uint64_t{18446744073709551615u}), "is out of range"},
      {field("v").number(), 0.5, ""},
      {field("v").number(), 2, ""},
      {field("v").number(), true, "must be a number"},
      {field("v").boolean(), false, ""},
      {field("v").boolean(), 0, "must be a boolean"},
      {field("v").object(), json::object(), ""},
      {field("v").object(), json::array(), "must be an object"},
      {field("v").array(), json::array({1, 2}), ""},
      {field("v").array(), "[]", "must be an array"},
      {field("v"), json::array(), ""},  // no type: any value
      // string length in code points
      {field("v").string().length(3, 5), "abc", ""},
      {field("v").string().length(3, 5), "ab", "must be 3-5 characters"},
      {field("v").string().length(3, 5), "abcdef", "must be 3-5 characters"},
      {field("v").string().length(5, 5), "h\xC3\xA9llo", ""},  // "héllo" is 5
      {field("v").string().max(4), "h\xC3\xA9llo", "must be at most 4 characters"},
      {field("v").string().max(1), "\xF0\x9F\x98\x80", ""},  // one emoji, 4 bytes
      {field("v").string().min(8), "short", "must be at least 8 characters"},
      {field("v").string().min(1), "", "must not be empty"},
      {field("v").string().length(2, 2), "abc", "must be exactly 2 characters"},
      // invalid UTF-8 is rejected whatever the other rules
      {field("v").string(), "\xC3", "must be valid UTF-8"},              // truncated
      {field("v").string(), "\xC0\xAF", "must be valid UTF-8"},          // overlong '/'
      {field("v").string(), "\xED\xA0\x80", "must be valid UTF-8"},      // surrogate
      {field("v").string(), "\xF4\x90\x80\x80", "must be valid UTF-8"},  // > U+10FFFF
      {field("v").string(), "\x80", "must be valid UTF-8"},              // stray continuation
      {field("v").string(), "\xFF", "must be valid UTF-8"},
      // charset
      {field("v").charset("a-z0-9_.-"), "bob_the-builder.2", ""},
      {field("v").charset("a-z0-9_.-"), "Bob", "may only contain a-z0-9_.-"},
      {field("v").charset("a-z0-9_.-"), "b b", "may only contain a-z0-9_.-"},
      {field("v").charset("a-z0-9_.-"), "b\xC3\xA9", "may only contain a-z0-9_.-"},  // non-ASCII
      {field("v").charset("a-z").case_insensitive(), "BoB", ""},
      {field("v").case_insensitive().charset("A-Z"), "bob", ""},  // order does not matter
      {field("v").charset("a-z").case_insensitive(), "bo-b", "may only contain a-z (any case)"},
      {field("v").charset("-a"), "-a-", ""},                     // '-' first is literal
      {field("v").charset("a-"), "a-", ""},                      // '-' last is literal
      {field("v").charset("a-c"), "-", "may only contain a-c"},  // '-' in a range is not
      // email
      {field("v").email(), "ada@example.com", ""},
      {field("v").email(), "a.b+tag@sub.example.co.uk", ""},
      {field("v").email(), "ada.example.com", "must be a valid email address"},
      {field("v").email(), "a@b@example.com", "must be a valid email address"},
      {field("v").email(), "@example.com", "must be a valid email address"},
      {field("v").email(), "ada@localhost", "must be a valid email address"},
      {field("v").email(), "ada@.example.com", "must be a valid email address"},
      {field("v").email(), "ada@example.com.", "must be a valid email address"},
      {field("v").email(), "ada@example..com", "must be a valid email address"},
      {field("v").email(), "ada lovelace@example.com", "must be a valid email address"},
      {field("v").email(), "ada@example.com\n", "must be a valid email address"},
      {field("v").email(), std::string(64, 'a') + "@example.com", ""},
      {field("v").email(), std::string(65, 'a') + "@example.com", "must be a valid email address"},
      {field("v").email().max(20), "averyverylongname@example.com",
       "must be at most 20 characters"},
      // integer and number bounds
      {field("v").integer().min(1).max(100), 1, ""},
      {field("v").integer().min(1).max(100), 100, ""},
      {field("v").integer().min(1).max(100), 0, "must be between 1 and 100"},
      {field("v").integer().min(1).max(100), 101, "must be between 1 and 100"},
      {field("v").integer().min(0), -1, "must be at least 0"},
      {field("v").integer().max(10), 11, "must be at most 10"},
      {field("v").number().min(0).max(2), 2.5, "must be between 0 and 2"},
      {field("v").number().min(0).max(2), 1.5, ""},
      {field("v").number().max(10), json(uint64_t{18446744073709551615u}), "must be at most 10"},
      {field("v").integer().min(0), json(uint64_t{5}), ""},
      // enums
      {field("v").one_of({"user", "assistant", "system"}), "assistant", ""},
      {field("v").one_of({"user", "assistant", "system"}), "admin",
       "must be one of: user, assistant, system"},
      {field("v").one_of({"user"}), 1, "must be a string"},  // one_of implies string()
      // arrays
      {field("v").array().max_items(2), json::array({1, 2}), ""},
      {field("v").array().max_items(2), json::array({1, 2, 3}), "must have at most 2 items"},
      {field("v").array().min(1), json::array(), "must have at least 1 items"},
  };
  for (const Row& row : rows) {
    INFO("value: " << row.value.dump(-1, ' ', false, json::error_handler_t::replace));
    CHECK(check_one(row.rule, row.value) == row.want);
  }
}

TEST_CASE("validate: presence and null", "[validate]") {
  const Schema schema = {
      field("req").string().required(),
      field("opt").string().optional(),
      field("maybe").string().nullable(),
      field("req_null").string().required().nullable(),
  };
  CHECK(failures({{"req", "x"}, {"req_null", nullptr}}, schema).empty());
  CHECK(failures({{"req", "x"}, {"req_null", "y"}, {"maybe", nullptr}}, schema).empty());
  CHECK(failures({{"req", nullptr}, {"opt", nullptr}, {"req_null", nullptr}}, schema) ==
        json{{"req", "must not be null"}, {"opt", "must not be null"}});
  CHECK(failures(json::object(), schema) ==
        json{{"req", "is required"}, {"req_null", "is required"}});
}

TEST_CASE("validate: every failing field is reported at once", "[validate]") {
  json body = {{"username", "Ab"}, {"password", "hunter2"}, {"email", "nope"}};
  CHECK(failures(body, kRegister) == json{{"username", "must be 3-32 characters"},
                                          {"password", "must be 8-1024 characters"},
                                          {"email", "must be a valid email address"}});
  CHECK(failures({{"email", 5}}, kRegister) == json{{"username", "is required"},
                                                    {"password", "is required"},
                                                    {"email", "must be a string"}});
  CHECK(failures({{"username", "ada"}, {"password", "correct horse"}}, kRegister).empty());
}

TEST_CASE("validate: messages never echo the value", "[validate]") {
  const std::string secret = "s3cr3t-PASSWORD-\xC3\xA9";
  json body = {{"username", secret}, {"password", json::array({secret})}, {"email", secret}};
  ec::Status s = validate(body, kRegister);
  REQUIRE_FALSE(s.ok());
  std::string rendered = s.error().fields.dump() + s.error().message;
  CHECK(rendered.find("s3cr3t") == std::string::npos);
}

TEST_CASE("validate: unknown fields", "[validate]") {
  json body = {{"username", "ada"}, {"password", "correct horse"}, {"admin", true}};
  CHECK(validate(body, kRegister).ok());  // allowed by default
  CHECK(failures(body, kRegister, false) == json{{"admin", "unknown field"}});

  json many = {{"username", "ada"}, {"password", "correct horse"}};
  for (int i = 0; i < 100; ++i) many["x" + std::to_string(i)] = i;
  many[std::string(500, 'k')] = 1;
  json fs = failures(many, kRegister, false);
  CHECK(fs.size() == 16);  // capped: the error echoes keys the client chose

  json long_key = {{std::string(500, 'k'), 1}};
  CHECK(failures(long_key, Schema{}, false) ==
        json{{std::string(64, 'k') + "...", "unknown field"}});
}

TEST_CASE("validate: the body must be an object", "[validate]") {
  for (const json& body : {json::array(), json("x"), json(1), json(nullptr), json(true)}) {
    INFO(body.dump());
    ec::Status s = validate(body, kRegister);
    REQUIRE_FALSE(s.ok());
    CHECK(s.error().status == 400);
    CHECK(s.error().code == "validation.body_not_object");
  }
  CHECK(validate(json::object(), Schema{}).ok());
}

TEST_CASE("utf8_length counts code points", "[validate]") {
  CHECK(ec::utf8_length("") == 0u);
  CHECK(ec::utf8_length("abc") == 3u);
  CHECK(ec::utf8_length("h\xC3\xA9llo") == 5u);
  CHECK(ec::utf8_length("\xE2\x82\xAC") == 1u);            // €
  CHECK(ec::utf8_length("\xF0\x9F\x98\x80!") == 2u);       // 😀!
  CHECK(ec::utf8_length("\xEF\xBF\xBF") == 1u);            // U+FFFF
  CHECK(ec::utf8_length("\xF4\x8F\xBF\xBF") == 1u);        // U+10FFFF
  CHECK(ec::utf8_length("\xE0\x80\xAF") == std::nullopt);  // overlong
  CHECK(ec::utf8_length("\xE2\x82") == std::nullopt);      // truncated
  CHECK(ec::utf8_length("\xE2\x28\xA1") == std::nullopt);  // bad continuation
}
