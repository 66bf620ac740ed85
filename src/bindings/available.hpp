// Which bindings this Worker has. They stay in JS, but the shim lists their names in
// EDGECHAT_BINDINGS (js-shim/core.js), so the core can choose, e.g., Vectorize or its local index,
// Workers AI or the lexical embedder, the RATE_LIMITER Durable Object or none.
#pragma once

#include "core/context.hpp"

#include <string_view>

namespace ec {

bool has_binding(const Ctx& ctx, std::string_view name);

}  // namespace ec
