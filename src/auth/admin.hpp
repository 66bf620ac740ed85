// The operator's key for /api/admin/* and other admin-only routes (seed 003: X-Admin-Key, or
// X-Admin-Token, compared against the ADMIN_KEY secret). Admin access is a shared secret, not a
// user role: it works from scripts and cron jobs, and it never rides on a user's token.
#pragma once

#include "core/context.hpp"
#include "core/error.hpp"

namespace ec {

// ok when the request's X-Admin-Key (or X-Admin-Token) equals ADMIN_KEY. Otherwise:
//   401 admin.key_required  no key sent
//   403 admin.key_invalid   a key that is not the configured one
//   403 admin.disabled      ADMIN_KEY is not set (or shorter than 16 bytes): nothing can match
// The compare is over SHA-256 digests, in constant time, so neither the key's bytes nor its
// length leak through timing.
Status require_admin(const Ctx& ctx);

}  // namespace ec
