// Time formatting from the envelope's clock (the core never reads a clock of its own).
#pragma once

#include <cstdint>
#include <string>

namespace ec {

// Milliseconds since the Unix epoch → "2026-11-22T19:53:41.123Z" (UTC, RFC 3339).
std::string iso8601_ms(int64_t epoch_ms);

}  // namespace ec
