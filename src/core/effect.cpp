#include "core/effect.hpp"

#include <array>

namespace ec {

namespace {
struct Name {
  EffectError e;
  std::string_view name;
};
constexpr std::array<Name, 9> kNames = {{
    {EffectError::kNone, "none"},
    {EffectError::kUnavailable, "unavailable"},
    {EffectError::kNotFound, "not_found"},
    {EffectError::kConflict, "conflict"},
    {EffectError::kTooLarge, "too_large"},
    {EffectError::kInvalid, "invalid"},
    {EffectError::kTimeout, "timeout"},
    {EffectError::kCancelled, "cancelled"},
    {EffectError::kInternal, "internal"},
}};
}  // namespace

EffectError effect_error_from_code(std::string_view code) {
  for (const auto& n : kNames) {
    if (n.name == code) return n.e;
  }
  return EffectError::kInternal;
}

std::string_view effect_error_name(EffectError e) {
  for (const auto& n : kNames) {
    if (n.e == e) return n.name;
  }
  return "internal";
}

json EffectResult::as_json() const {
  if (!ok()) return nullptr;
  auto parsed = parse_json(data, 256);
  return parsed ? std::move(*parsed) : json(nullptr);
}

}  // namespace ec
