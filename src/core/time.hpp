// Time formatting from the envelope's clock (the core never reads a clock of its own).
#pragma once

#include "core/json.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace ec {

// Milliseconds since the Unix epoch → "2026-11-22T19:53:41.123Z" (UTC, RFC 3339).
std::string iso8601_ms(int64_t epoch_ms);

// How an answer writes a point in time. The canonical API (/api/v1) writes ISO 8601 UTC with
// milliseconds, always; a seed's adapter that documented epoch milliseconds keeps them.
enum class TimeFormat { kIso8601, kEpochMs };
json time_json(int64_t epoch_ms, TimeFormat format);
// null when there is no such time.
json time_json(std::optional<int64_t> epoch_ms, TimeFormat format);

}  // namespace ec
