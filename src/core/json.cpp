#include "core/json.hpp"

namespace ec {

namespace {

// Rejects raw NULs and documents nested deeper than max_depth before nlohmann builds them (its
// parser is recursive). Strings are skipped so brackets inside them do not count.
bool depth_ok(std::string_view text, int max_depth) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    // nlohmann stops at a NUL and would accept `{"a":1}\0garbage`; valid JSON never has a raw NUL.
    if (c == '\0') return false;
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > max_depth) return false;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return true;
}

}  // namespace

std::optional<json> parse_json(std::string_view text, int max_depth) {
  if (!depth_ok(text, max_depth)) return std::nullopt;
  json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (u < 0x20) {
      out.append("\\u00");
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0xf]);
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
}

std::string dump_json(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

const json* find(const json& obj, std::string_view key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  if (it == obj.end()) return nullptr;
  return &*it;
}

const std::string* get_string(const json& obj, std::string_view key) {
  const json* v = find(obj, key);
  if (v == nullptr || !v->is_string()) return nullptr;
  return v->get_ptr<const std::string*>();
}

std::optional<int64_t> get_int(const json& obj, std::string_view key) {
  const json* v = find(obj, key);
  if (v == nullptr) return std::nullopt;
  // nlohmann reports unsigned values as integers too and would reinterpret 2^64-1 as -1.
  if (v->is_number_unsigned()) {
    uint64_t u = v->get<uint64_t>();
    if (u > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
    return static_cast<int64_t>(u);
  }
  if (v->is_number_integer()) return v->get<int64_t>();
  if (v->is_number_float()) {
    double d = v->get<double>();
    if (d >= -9.0e15 && d <= 9.0e15 && static_cast<double>(static_cast<int64_t>(d)) == d) {
      return static_cast<int64_t>(d);
    }
  }
  return std::nullopt;
}

std::optional<double> get_number(const json& obj, std::string_view key) {
  const json* v = find(obj, key);
  if (v == nullptr || !v->is_number()) return std::nullopt;
  return v->get<double>();
}

std::optional<bool> get_bool(const json& obj, std::string_view key) {
  const json* v = find(obj, key);
  if (v == nullptr || !v->is_boolean()) return std::nullopt;
  return v->get<bool>();
}

const json* get_object(const json& obj, std::string_view key) {
  const json* v = find(obj, key);
  return (v != nullptr && v->is_object()) ? v : nullptr;
}

const json* get_array(const json& obj, std::string_view key) {
  const json* v = find(obj, key);
  return (v != nullptr && v->is_array()) ? v : nullptr;
}

std::string string_or(const json& obj, std::string_view key, std::string_view fallback) {
  const std::string* s = get_string(obj, key);
  return s != nullptr ? *s : std::string(fallback);
}

}  // namespace ec
