// Server-made ids: a short type prefix ("usr_", "fil_", "doc_") and 96 random bits in hex, drawn
// from the envelope's CSPRNG pool. Unguessable, so an id alone never grants access, and every
// lookup still checks the owner.
#pragma once

#include "core/context.hpp"
#include "crypto/encoding.hpp"

#include <string>
#include <string_view>

namespace ec {

inline Task<std::string> new_id(Ctx& ctx, std::string_view prefix) {
  std::string bytes = co_await ctx.random_bytes(12);
  co_return std::string(prefix) + hex_encode(bytes);
}

}  // namespace ec
