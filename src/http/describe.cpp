#include "http/describe.hpp"

#ifdef EDGECHAT_DESCRIBE

namespace ec {

namespace {

std::string_view type_name(JsonType t) {
  switch (t) {
    case JsonType::String:
      return "string";
    case JsonType::Integer:
      return "integer";
    case JsonType::Number:
      return "number";
    case JsonType::Boolean:
      return "boolean";
    case JsonType::Object:
      return "object";
    case JsonType::Array:
      return "array";
    case JsonType::Any:
      break;
  }
  return "";
}

// A charset spec ("a-z0-9_.-") as a regular-expression character class, anchored.
std::string charset_pattern(const std::string& spec, bool case_insensitive) {
  std::string cls;
  for (size_t i = 0; i < spec.size(); ++i) {
    char c = spec[i];
    if (i + 2 < spec.size() && spec[i + 1] == '-') {
      cls += c;
      cls += '-';
      cls += spec[i + 2];
      if (case_insensitive && c == 'a' && spec[i + 2] == 'z') cls += "A-Z";
      if (case_insensitive && c == 'A' && spec[i + 2] == 'Z') cls += "a-z";
      i += 2;
      continue;
    }
    if (c == '-' || c == ']' || c == '\\' || c == '^' || c == '[') cls += '\\';
    cls += c;
  }
  return "^[" + cls + "]*$";
}

}  // namespace

json field_schema(const Field& f) {
  json s = json::object();
  std::string_view type = type_name(f.json_type());
  if (!type.empty()) {
    s["type"] = f.is_nullable() ? json::array({type, "null"}) : json(type);
  }
  switch (f.json_type()) {
    case JsonType::String:
      if (f.min_bound()) s["minLength"] = *f.min_bound();
      if (f.max_bound()) s["maxLength"] = *f.max_bound();
      if (!f.charset_spec().empty()) {
        s["pattern"] = charset_pattern(f.charset_spec(), f.is_case_insensitive());
      }
      if (f.is_email()) s["format"] = "email";
      if (!f.options().empty()) {
        json e = json::array();
        for (const std::string& o : f.options()) e.push_back(o);
        if (f.is_nullable()) e.push_back(nullptr);
        s["enum"] = e;
      }
      break;
    case JsonType::Integer:
    case JsonType::Number:
      if (f.min_bound()) s["minimum"] = *f.min_bound();
      if (f.max_bound()) s["maximum"] = *f.max_bound();
      break;
    case JsonType::Array:
      if (f.min_bound()) s["minItems"] = *f.min_bound();
      if (f.max_bound()) s["maxItems"] = *f.max_bound();
      break;
    default:
      break;
  }
  if (!f.description().empty()) s["description"] = f.description();
  return s;
}

json object_schema(const Schema& schema, bool strict) {
  json props = json::object();
  json required = json::array();
  for (const Field& f : schema) {
    props[f.name()] = field_schema(f);
    if (f.is_required()) required.push_back(f.name());
  }
  json s = {{"type", "object"}, {"properties", props}};
  if (!required.empty()) s["required"] = required;
  if (strict) s["additionalProperties"] = false;
  return s;
}

std::vector<std::string> path_param_names(std::string_view pattern) {
  std::vector<std::string> names;
  size_t i = 0;
  while (i < pattern.size()) {
    size_t j = pattern.find('/', i + 1);
    std::string_view seg = pattern.substr(i + 1, j == std::string_view::npos ? j : j - i - 1);
    if (!seg.empty() && seg[0] == ':') names.emplace_back(seg.substr(1));
    if (seg == "*") names.emplace_back("path");
    if (j == std::string_view::npos) break;
    i = j;
  }
  return names;
}

std::string openapi_path(std::string_view pattern) {
  std::string out;
  size_t i = 0;
  while (i < pattern.size()) {
    size_t j = pattern.find('/', i + 1);
    std::string_view seg = pattern.substr(i + 1, j == std::string_view::npos ? j : j - i - 1);
    out += '/';
    if (!seg.empty() && seg[0] == ':') {
      out += "{" + std::string(seg.substr(1)) + "}";
    } else if (seg == "*") {
      out += "{path}";
    } else {
      out += seg;
    }
    if (j == std::string_view::npos) break;
    i = j;
  }
  return out.empty() ? "/" : out;
}

}  // namespace ec

#endif
