// Query parameters shared by the paginated list routes.
#pragma once

#include "http/pipeline.hpp"

#include <charconv>
#include <string>

namespace ec {

// ?limit=: an integer in [1, max], `fallback` when absent; 400 with a field error otherwise.
inline Result<size_t> limit_param(const Call& call, size_t fallback, size_t max) {
  const std::string* l = call.query_param("limit");
  if (l == nullptr) return fallback;
  int64_t v = 0;
  auto [p, ec] = std::from_chars(l->data(), l->data() + l->size(), v);
  if (ec != std::errc() || p != l->data() + l->size() || v < 1 || static_cast<size_t>(v) > max) {
    return field_error("limit", "an integer from 1 to " + std::to_string(max));
  }
  return static_cast<size_t>(v);
}

// ?<name>= restricted to a fixed set of values; "" when absent.
inline Result<std::string> choice_param(const Call& call, std::string_view name,
                                        std::initializer_list<std::string_view> options) {
  const std::string* v = call.query_param(name);
  if (v == nullptr) return std::string();
  std::string expected;
  for (std::string_view o : options) {
    if (*v == o) return *v;
    if (!expected.empty()) expected += ", ";
    expected += o;
  }
  return field_error(name, "one of " + expected);
}

}  // namespace ec
