// Declarative validation of JSON request bodies. Each route declares its body as a Schema that
// reads like the API docs; validate() checks every field and reports all failures at once as a
// 400 with per-field messages, so a client can fix a form in one round trip.
//
//   const Schema kRegister = {
//       field("username").string().required().length(3, 32).charset("a-z0-9_.-"),
//       field("password").string().required().length(8, 1024),
//       field("email").string().email().max(254),
//   };
//   if (Status s = validate(body, kRegister); !s) return s.take_error();
//
// Messages describe the rule, never the value: the value may be a password or a token.
#pragma once

#include "core/error.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ec {

enum class JsonType : uint8_t { Any, String, Integer, Number, Boolean, Object, Array };

class Field {
 public:
  explicit Field(std::string name) : name_(std::move(name)) {}

  // Expected JSON type. Integer accepts integral floats (3.0) within ±9e15, like get_int().
  Field& string() { return type(JsonType::String); }
  Field& integer() { return type(JsonType::Integer); }
  Field& number() { return type(JsonType::Number); }
  Field& boolean() { return type(JsonType::Boolean); }
  Field& object() { return type(JsonType::Object); }
  Field& array() { return type(JsonType::Array); }

  // Fields are optional by default; `optional()` exists so a schema can say so explicitly.
  Field& required() {
    required_ = true;
    return *this;
  }
  Field& optional() {
    required_ = false;
    return *this;
  }
  // An explicit null passes (and skips the other rules) only when nullable.
  Field& nullable() {
    nullable_ = true;
    return *this;
  }

  // Bounds, by type: strings count Unicode code points, integers/numbers compare the value,
  // arrays count items.
  Field& min(int64_t v) {
    min_ = v;
    return *this;
  }
  Field& max(int64_t v) {
    max_ = v;
    return *this;
  }
  Field& length(int64_t lo, int64_t hi) { return min(lo).max(hi); }
  Field& max_items(int64_t n) { return max(n); }

  // The rules below imply string(). A charset spec lists literal characters and ranges
  // ("a-z0-9_.-"; a '-' first or last is literal). Only ASCII can be allowed this way.
  Field& charset(std::string_view spec);
  Field& case_insensitive() {
    case_insensitive_ = true;
    return *this;
  }
  Field& email() {
    email_ = true;
    return implied_string();
  }
  Field& one_of(std::initializer_list<std::string_view> options);

  // A sentence for the API description (kept only where EDGECHAT_DESCRIBE is defined).
#ifdef EDGECHAT_DESCRIBE
  Field& describe(std::string_view text) {
    description_ = text;
    return *this;
  }
  std::string_view description() const { return description_; }
#else
  Field& describe(std::string_view) { return *this; }
#endif

  const std::string& name() const { return name_; }
  bool is_required() const { return required_; }
  bool is_nullable() const { return nullable_; }
  // The rules as declared, for the API description (http/describe.hpp).
  JsonType json_type() const { return type_; }
  std::optional<int64_t> min_bound() const { return min_; }
  std::optional<int64_t> max_bound() const { return max_; }
  const std::string& charset_spec() const { return charset_spec_; }
  bool is_case_insensitive() const { return case_insensitive_; }
  bool is_email() const { return email_; }
  const std::vector<std::string>& options() const { return one_of_; }

  // nullopt if `value` (present in the body) passes, else a short message for the client.
  std::optional<std::string> check(const json& value) const;

 private:
  Field& type(JsonType t) {
    type_ = t;
    return *this;
  }
  Field& implied_string() {
    if (type_ == JsonType::Any) type_ = JsonType::String;
    return *this;
  }
  std::optional<std::string> check_string(const std::string& s) const;
  bool charset_allows(unsigned char c) const;
  std::string bounds_message(std::string_view unit) const;

  std::string name_;
  JsonType type_ = JsonType::Any;
  bool required_ = false;
  bool nullable_ = false;
  bool case_insensitive_ = false;
  bool email_ = false;
  std::optional<int64_t> min_;
  std::optional<int64_t> max_;
  std::string charset_spec_;           // as written, for the message
  std::array<uint64_t, 2> charset_{};  // ASCII bitmap; empty spec means "no charset rule"
  std::vector<std::string> one_of_;
#ifdef EDGECHAT_DESCRIBE
  std::string_view description_;
#endif
};

inline Field field(std::string name) { return Field(std::move(name)); }
using Schema = std::vector<Field>;

// 400 "validation.body_not_object" if body is not an object; otherwise 400 "validation.failed"
// with `fields` = {"<field>": "<message>", ...} covering every failing field, plus each unknown
// key as "unknown field" when !allow_unknown_fields.
Status validate(const json& body, const Schema& schema, bool allow_unknown_fields = true);

// Query parameters against a Schema: each declared one that is present is read as its field's type
// (an integer or number in decimal, a boolean as true/false, else the string as sent) and checked
// like a body field; every failure is reported at once as 400 "validation.failed". Undeclared
// parameters are ignored (clients add cache-busters).
using QueryParams = std::vector<std::pair<std::string, std::string>>;
Status validate_query(const QueryParams& query, const Schema& schema);

// The same 400 "validation.failed" for one field, for checks a Schema cannot express (cross-field
// rules, query parameters).
ApiError field_error(std::string_view field, std::string message);

// Code points in s, or nullopt if s is not well-formed UTF-8 (overlongs, surrogates and values
// past U+10FFFF are rejected, as in Unicode Table 3-7).
std::optional<size_t> utf8_length(std::string_view s);

// Pragmatic address check, not RFC 5322: one '@', a local part of 1-64 bytes, a domain with a
// dot and no empty labels, and no spaces or control characters anywhere.
bool is_plausible_email(std::string_view s);

}  // namespace ec
