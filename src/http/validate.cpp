#include "http/validate.hpp"

#include "core/json.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>

namespace ec {

namespace {

// Unknown keys are attacker-chosen and echoed back in the error, so both their number and their
// length are capped.
constexpr size_t kMaxUnknownReported = 16;
constexpr size_t kMaxUnknownKeyBytes = 64;

// The largest integral double range get_int() accepts; beyond it doubles lose integer precision.
constexpr double kMaxIntegralDouble = 9.0e15;

bool is_continuation(unsigned char c) { return (c & 0xC0) == 0x80; }

// "between 3 and 32", "at least 3", "at most 32", "exactly 3".
std::string range_phrase(std::optional<int64_t> lo, std::optional<int64_t> hi) {
  if (lo && hi && *lo == *hi) return "exactly " + std::to_string(*lo);
  if (lo && hi) return "between " + std::to_string(*lo) + " and " + std::to_string(*hi);
  if (lo) return "at least " + std::to_string(*lo);
  return "at most " + std::to_string(*hi);
}

// Cuts an over-long key at a UTF-8 boundary so the echoed name stays valid text.
std::string reported_key(const std::string& key) {
  if (key.size() <= kMaxUnknownKeyBytes) return key;
  size_t cut = kMaxUnknownKeyBytes;
  while (cut > 0 && is_continuation(static_cast<unsigned char>(key[cut]))) --cut;
  return key.substr(0, cut) + "...";
}

bool schema_has(const Schema& schema, const std::string& key) {
  for (const Field& f : schema) {
    if (f.name() == key) return true;
  }
  return false;
}

}  // namespace

std::optional<size_t> utf8_length(std::string_view s) {
  size_t count = 0;
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t extra = 0;
    // Bounds on the second byte exclude overlongs (E0, F0), surrogates (ED) and > U+10FFFF (F4).
    unsigned char lo = 0x80, hi = 0xBF;
    if (c < 0x80) {
      extra = 0;
    } else if (c >= 0xC2 && c <= 0xDF) {
      extra = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      extra = 2;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      extra = 3;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return std::nullopt;  // stray continuation byte, C0/C1 overlong lead, or F5..FF
    }
    if (s.size() - i <= extra) return std::nullopt;
    for (size_t k = 1; k <= extra; ++k) {
      auto b = static_cast<unsigned char>(s[i + k]);
      if (k == 1 ? (b < lo || b > hi) : !is_continuation(b)) return std::nullopt;
    }
    i += extra + 1;
    ++count;
  }
  return count;
}

bool is_plausible_email(std::string_view s) {
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c == 0x7F) return false;  // spaces and control characters
  }
  size_t at = s.find('@');
  if (at == std::string_view::npos || s.find('@', at + 1) != std::string_view::npos) return false;
  std::string_view local = s.substr(0, at);
  std::string_view domain = s.substr(at + 1);
  if (local.empty() || local.size() > 64) return false;
  if (domain.find('.') == std::string_view::npos) return false;
  // Every dot-separated label must be non-empty: rejects ".com", "a.", "a..b".
  return domain.front() != '.' && domain.back() != '.' &&
         domain.find("..") == std::string_view::npos;
}

Field& Field::charset(std::string_view spec) {
  charset_spec_ = std::string(spec);
  charset_ = {};
  auto set = [this](unsigned char c) {
    if (c < 128) charset_[c / 64] |= uint64_t{1} << (c % 64);
  };
  for (size_t i = 0; i < spec.size(); ++i) {
    auto first = static_cast<unsigned char>(spec[i]);
    if (i + 2 < spec.size() && spec[i + 1] == '-') {
      // A reversed range ("z-a") allows nothing: it is a typo in a constant, caught by tests.
      auto last = static_cast<unsigned char>(spec[i + 2]);
      for (unsigned c = first; c <= last; ++c) set(static_cast<unsigned char>(c));
      i += 2;
    } else {
      set(first);
    }
  }
  return implied_string();
}

Field& Field::one_of(std::initializer_list<std::string_view> options) {
  one_of_.assign(options.begin(), options.end());
  return implied_string();
}

bool Field::charset_allows(unsigned char c) const {
  auto in_set = [this](unsigned char x) {
    return x < 128 && ((charset_[x / 64] >> (x % 64)) & 1u) != 0;
  };
  if (in_set(c)) return true;
  if (!case_insensitive_) return false;
  if (c >= 'a' && c <= 'z') return in_set(static_cast<unsigned char>(c - 'a' + 'A'));
  if (c >= 'A' && c <= 'Z') return in_set(static_cast<unsigned char>(c - 'A' + 'a'));
  return false;
}

std::string Field::bounds_message(std::string_view unit) const {
  std::string msg = "must be ";
  if (unit == "characters" && min_ && max_ && *min_ != *max_) {
    // "must be 3-32 characters" reads better than "between 3 and 32 characters".
    msg += std::to_string(*min_) + "-" + std::to_string(*max_);
  } else {
    msg += range_phrase(min_, max_);
  }
  if (!unit.empty()) msg += " " + std::string(unit);
  return msg;
}

std::optional<std::string> Field::check_string(const std::string& s) const {
  std::optional<size_t> len = utf8_length(s);
  if (!len) return "must be valid UTF-8";
  auto n = static_cast<int64_t>(*len);
  if ((min_ && n < *min_) || (max_ && n > *max_)) {
    if (min_ == 1 && !max_) return "must not be empty";
    return bounds_message("characters");
  }
  if (!charset_spec_.empty()) {
    for (char c : s) {
      if (!charset_allows(static_cast<unsigned char>(c))) {
        return "may only contain " + charset_spec_ + (case_insensitive_ ? " (any case)" : "");
      }
    }
  }
  if (email_ && !is_plausible_email(s)) return "must be a valid email address";
  if (!one_of_.empty()) {
    for (const std::string& option : one_of_) {
      if (s == option) return std::nullopt;
    }
    std::string msg = "must be one of: ";
    for (size_t i = 0; i < one_of_.size(); ++i) msg += (i ? ", " : "") + one_of_[i];
    return msg;
  }
  return std::nullopt;
}

std::optional<std::string> Field::check(const json& value) const {
  switch (type_) {
    case JsonType::Any:
      return std::nullopt;
    case JsonType::String: {
      const auto* s = value.get_ptr<const std::string*>();
      if (s == nullptr) return "must be a string";
      return check_string(*s);
    }
    case JsonType::Integer: {
      int64_t n = 0;
      // Unsigned first: nlohmann's get_ptr<number_integer_t> also answers for unsigned values,
      // reinterpreting them, so 2^64-1 would read as -1.
      if (const auto* u = value.get_ptr<const json::number_unsigned_t*>()) {
        if (*u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
          return "is out of range";
        }
        n = static_cast<int64_t>(*u);
      } else if (const auto* i = value.get_ptr<const json::number_integer_t*>()) {
        n = *i;
      } else if (const auto* d = value.get_ptr<const json::number_float_t*>()) {
        if (!(*d >= -kMaxIntegralDouble && *d <= kMaxIntegralDouble) ||
            static_cast<double>(static_cast<int64_t>(*d)) != *d) {
          return "must be an integer";
        }
        n = static_cast<int64_t>(*d);
      } else {
        return "must be an integer";
      }
      if ((min_ && n < *min_) || (max_ && n > *max_)) return bounds_message("");
      return std::nullopt;
    }
    case JsonType::Number: {
      double d = 0;
      if (const auto* u = value.get_ptr<const json::number_unsigned_t*>()) {  // first: see above
        d = static_cast<double>(*u);
      } else if (const auto* i = value.get_ptr<const json::number_integer_t*>()) {
        d = static_cast<double>(*i);
      } else if (const auto* f = value.get_ptr<const json::number_float_t*>()) {
        d = *f;
      } else {
        return "must be a number";
      }
      if ((min_ && d < static_cast<double>(*min_)) || (max_ && d > static_cast<double>(*max_))) {
        return bounds_message("");
      }
      return std::nullopt;
    }
    case JsonType::Boolean:
      if (!value.is_boolean()) return "must be a boolean";
      return std::nullopt;
    case JsonType::Object:
      if (!value.is_object()) return "must be an object";
      return std::nullopt;
    case JsonType::Array: {
      if (!value.is_array()) return "must be an array";
      auto n = static_cast<int64_t>(value.size());
      if ((min_ && n < *min_) || (max_ && n > *max_)) {
        return "must have " + range_phrase(min_, max_) + " items";
      }
      return std::nullopt;
    }
  }
  return std::nullopt;
}

Status validate(const json& body, const Schema& schema, bool allow_unknown_fields) {
  if (!body.is_object()) {
    return api_error(Err::validation_body_not_object, "Request body must be a JSON object");
  }
  json fields = json::object();
  for (const Field& f : schema) {
    const json* value = find(body, f.name());
    if (value == nullptr) {
      if (f.is_required()) fields[f.name()] = "is required";
      continue;
    }
    if (value->is_null()) {
      if (!f.is_nullable()) fields[f.name()] = "must not be null";
      continue;
    }
    if (std::optional<std::string> msg = f.check(*value)) fields[f.name()] = std::move(*msg);
  }
  if (!allow_unknown_fields) {
    size_t reported = 0;
    for (const auto& item : body.items()) {
      if (reported == kMaxUnknownReported) break;
      if (schema_has(schema, item.key())) continue;
      fields[reported_key(item.key())] = "unknown field";
      ++reported;
    }
  }
  if (fields.empty()) return ok_status();
  ApiError e = api_error(Err::validation_failed, "Request body failed validation");
  e.fields = std::move(fields);
  return e;
}

namespace {

// A query value as the JSON its field expects, or nullopt when it is not one.
std::optional<json> query_value(const Field& f, const std::string& text) {
  switch (f.json_type()) {
    case JsonType::Integer: {
      int64_t n = 0;
      auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
      if (ec != std::errc() || p != text.data() + text.size() || text.empty()) return std::nullopt;
      return json(n);
    }
    case JsonType::Number: {
      // (libc++ 16 has no floating-point from_chars; the core runs in the "C" locale.)
      char* end = nullptr;
      double d = std::strtod(text.c_str(), &end);
      if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(d)) {
        return std::nullopt;
      }
      return json(d);
    }
    case JsonType::Boolean:
      if (text == "true") return json(true);
      if (text == "false") return json(false);
      return std::nullopt;
    default:
      return json(text);
  }
}

}  // namespace

Status validate_query(const QueryParams& query, const Schema& schema) {
  json fields = json::object();
  for (const Field& f : schema) {
    const std::string* text = nullptr;
    for (const auto& [k, v] : query) {
      if (k == f.name()) {
        text = &v;
        break;
      }
    }
    if (text == nullptr) {
      if (f.is_required()) fields[f.name()] = "is required";
      continue;
    }
    std::optional<json> value = query_value(f, *text);
    if (!value) {
      fields[f.name()] = f.json_type() == JsonType::Boolean   ? "must be true or false"
                         : f.json_type() == JsonType::Integer ? "must be an integer"
                                                              : "must be a number";
      continue;
    }
    if (std::optional<std::string> msg = f.check(*value)) fields[f.name()] = std::move(*msg);
  }
  if (fields.empty()) return ok_status();
  ApiError e = api_error(Err::validation_failed, "Query parameters failed validation");
  e.fields = std::move(fields);
  return e;
}

ApiError field_error(std::string_view field, std::string message) {
  ApiError e = api_error(Err::validation_failed);
  e.fields = {{std::string(field), std::move(message)}};
  return e;
}

}  // namespace ec
