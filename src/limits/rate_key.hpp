// Who a request counts against. One Durable Object holds one counter, named by the route group and
// the caller, so groups count separately:
//   signed in   the user id of a valid access token           "rl1:<group>:u:<user id>"
//   API key     a hash of the key ("ec_…"), no D1 lookup      "rl1:<group>:k:<32 hex>"
//   otherwise   the client address                            "rl1:<group>:ip:<address>"
// The address is CF-Connecting-IP, which Cloudflare's edge always sets (and wrangler dev too); only
// without it the first X-Forwarded-For hop, which a client can write itself, so that is for
// local setups behind a proxy. IPv6 addresses count per /64, the block one subscriber usually
// holds. Anything unparseable is "unknown": one shared counter rather than one per made-up value.
#pragma once

#include "core/context.hpp"
#include "core/task.hpp"

#include <string>
#include <string_view>

namespace ec {

struct RateSubject {
  enum class Kind { kAddress, kUser, kApiKey };
  Kind kind = Kind::kAddress;
  std::string id;  // the address, the user id or the key's hash prefix

  bool signed_in() const { return kind != Kind::kAddress; }
};

// "203.0.113.7", "2001:db8:1:2::/64", or "unknown".
std::string client_address(const std::string* cf_connecting_ip, const std::string* x_forwarded_for);

// The Durable Object name for a subject in a group.
std::string rate_limit_name(std::string_view group, const RateSubject& subject);

// The request's subject. A bearer access token counts as its user only once it verifies (through
// the per-instance verification cache the handler then hits as well); an invalid one counts as
// its address. `by_address` ignores credentials: for routes that hand them out (sign-in, sign-up),
// where a made-up bearer must not buy a fresh allowance.
Task<RateSubject> rate_subject(Ctx& ctx, bool by_address);

}  // namespace ec
