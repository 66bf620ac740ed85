#include "limits/rate_config.hpp"

#include "core/ascii.hpp"
#include "core/json.hpp"

namespace ec {

namespace {

constexpr size_t kMaxGroupName = 32;
constexpr size_t kMaxGroups = 32;

bool valid_group_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxGroupName) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return false;
  }
  return true;
}

bool is_off(const json& v) {
  if (v.is_boolean()) return !v.get<bool>();
  if (v.is_string()) return ascii_iequals(ascii_trim(v.get_ref<const std::string&>()), "off");
  return false;
}

// One group's entry over `base`: an object of known fields, or "off"/false (nullopt). An error
// message when neither.
std::optional<std::optional<GroupLimits>> read_group(const std::string& name, const json& v,
                                                     const GroupLimits& base, std::string& error) {
  if (is_off(v)) return std::optional<GroupLimits>{};
  if (!v.is_object()) {
    error = "\"" + name + "\" must be an object or \"off\"";
    return std::nullopt;
  }
  GroupLimits g = base;
  for (auto it = v.begin(); it != v.end(); ++it) {
    const std::string& field = it.key();
    int64_t* target = field == "anonymous"       ? &g.anonymous
                      : field == "user"          ? &g.user
                      : field == "periodSeconds" ? &g.period_s
                                                 : nullptr;
    if (target == nullptr) {
      error = "\"" + name + "." + field + "\" is not a setting (anonymous, user, periodSeconds)";
      return std::nullopt;
    }
    const int64_t max = target == &g.period_s ? kMaxRatePeriodSeconds : kMaxRateLimit;
    std::optional<int64_t> n = get_int(v, field);
    if (!n || *n < 1 || *n > max) {
      error = "\"" + name + "." + field + "\" must be a whole number in [1, " +
              std::to_string(max) + "]";
      return std::nullopt;
    }
    *target = *n;
  }
  return std::optional<GroupLimits>{g};
}

ParsedRateLimits refuse(std::string error) {
  return ParsedRateLimits{RateLimitConfig{}, "RATE_LIMITS is invalid: " + std::move(error)};
}

}  // namespace

const GroupLimits* RateLimitConfig::find(std::string_view group) const {
  if (!enabled || group.empty()) return nullptr;
  for (const auto& [name, limits] : groups) {
    if (name == group) return limits ? &*limits : nullptr;
  }
  return fallback ? &*fallback : nullptr;
}

ParsedRateLimits parse_rate_limits(std::string_view text) {
  text = ascii_trim(text);
  ParsedRateLimits out;
  if (text.empty()) return out;
  if (ascii_iequals(text, "off")) {
    out.config.enabled = false;
    return out;
  }
  std::optional<json> doc = parse_json(text, 4);
  if (!doc || !doc->is_object()) return refuse("expected \"off\" or a JSON object of groups");
  if (doc->size() > kMaxGroups) return refuse("more than 32 groups");
  std::string error;
  // "default" first: the other groups start from it.
  GroupLimits base;
  if (const json* d = find(*doc, "default")) {
    auto g = read_group("default", *d, GroupLimits{}, error);
    if (!g) return refuse(error);
    out.config.fallback = *g;
    if (*g) base = **g;
  }
  for (auto it = doc->begin(); it != doc->end(); ++it) {
    const std::string& name = it.key();
    if (name == "default") continue;
    if (!valid_group_name(name)) {
      return refuse("group name \"" + name + "\" (use a-z, 0-9, _ and -, at most 32)");
    }
    auto g = read_group(name, it.value(), base, error);
    if (!g) return refuse(error);
    out.config.groups.emplace_back(name, *g);
  }
  return out;
}

}  // namespace ec
