// RATE_LIMITS: how many requests each route group allows per caller. Unset, every group allows
// 10 requests a minute to an anonymous caller and 30 to a signed-in one (seed 001's limiter).
//   RATE_LIMITS=off                         no limits at all
//   RATE_LIMITS={"default":{"anonymous":10,"user":30,"periodSeconds":60},
//                "ai":{"user":20},"auth":"off"}
// A group's missing fields come from "default", and default's from the seed's numbers; a group
// that is not named uses default's limits but still counts on its own. "off" (or false) turns one
// group off. Limits are whole numbers in [1, 1000000], periodSeconds in [1, 2592000] (30 days).
// Anything else (a typo'd field, a bad number, malformed JSON) makes the whole value invalid: the
// defaults apply and the first limited request logs why.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ec {

inline constexpr int64_t kSeedAnonymousLimit = 10;
inline constexpr int64_t kSeedUserLimit = 30;
inline constexpr int64_t kSeedPeriodSeconds = 60;
inline constexpr int64_t kMaxRateLimit = 1'000'000;
inline constexpr int64_t kMaxRatePeriodSeconds = 30 * 24 * 60 * 60;

struct GroupLimits {
  int64_t anonymous = kSeedAnonymousLimit;  // per client address
  int64_t user = kSeedUserLimit;            // per signed-in user or API key
  int64_t period_s = kSeedPeriodSeconds;
};

struct RateLimitConfig {
  bool enabled = true;
  std::optional<GroupLimits> fallback =
      GroupLimits{};  // "default": groups not named; nullopt = off
  std::vector<std::pair<std::string, std::optional<GroupLimits>>> groups;  // named; nullopt = off

  // The limits of a route group, or nullptr when it is not limited: limits are off (altogether
  // or for the group) or the group is empty (an exempt route).
  const GroupLimits* find(std::string_view group) const;
};

struct ParsedRateLimits {
  RateLimitConfig config;  // the defaults when `error` is set
  std::string error;       // why the value was refused; empty when it was accepted
};

ParsedRateLimits parse_rate_limits(std::string_view text);

}  // namespace ec
