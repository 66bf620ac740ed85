#include "core/env.hpp"

#include <charconv>

namespace ec {

int64_t env_int(const Env& env, std::string_view key, int64_t fallback) {
  auto it = env.find(key);
  if (it == env.end() || it->second.empty()) return fallback;
  int64_t v = 0;
  const std::string& s = it->second;
  auto [p, err] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (err != std::errc() || p != s.data() + s.size() || v <= 0) return fallback;
  return v;
}

int64_t env_count(const Ctx& ctx, std::string_view key, int64_t fallback) {
  std::string_view s = ctx.env(key);
  if (s.empty()) return fallback;
  int64_t v = 0;
  auto [p, err] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (err != std::errc() || p != s.data() + s.size() || v < 0) return fallback;
  return v;
}

}  // namespace ec
