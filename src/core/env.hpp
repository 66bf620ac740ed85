// Integer settings from the Worker's env (README "Configuration" lists them). Every layer reads
// some, so the parsing lives here rather than in the first domain that needed it.
#pragma once

#include "core/context.hpp"

#include <cstdint>
#include <string_view>

namespace ec {

// Parses a positive integer env value, falling back when absent or malformed (0 counts as unset).
int64_t env_int(const Env& env, std::string_view key, int64_t fallback);

// An integer setting that may legitimately be 0 (env_int treats 0 as unset): `fallback` when
// absent or not a non-negative integer.
int64_t env_count(const Ctx& ctx, std::string_view key, int64_t fallback);

}  // namespace ec
