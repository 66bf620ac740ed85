// Workers KV as typed calls. KV is a cache here, never a source of truth: it is eventually
// consistent and allows one write per second per key (DESIGN.md §5).
#pragma once

#include "core/context.hpp"
#include "core/task.hpp"

#include <optional>
#include <string>

namespace ec {

// nullopt on a miss *or* when KV is unavailable: a cache miss is always safe to fall back from.
Task<std::optional<std::string>> kv_get(Ctx& ctx, std::string key);
// Best effort; returns whether the write was accepted. ttl_s ≥ 60 (KV's minimum) or 0 for none.
Task<bool> kv_put(Ctx& ctx, std::string key, std::string value, int64_t ttl_s);
Task<bool> kv_delete(Ctx& ctx, std::string key);

}  // namespace ec
