// Idempotency-Key for write requests (POST, PUT, PATCH, DELETE), as clients of payment-style APIs
// expect it: the first request with a key runs and its result is kept for IDEMPOTENCY_TTL_HOURS
// (default 24); a repeat with the same method, path and body gets that result again (with
// `Idempotent-Replayed: true`) without running anything; the same key with a different request is
// 422 idempotency.key_reused; a repeat while the first is still running is 409
// idempotency.in_progress (with Retry-After). Keys are per caller: the signed-in user (whatever
// token they present), the admin key, or else the client's IP.
//
// Results that say "try again" — 402, 429 and 5xx — are not kept, so a retry with the same key
// runs again. A streamed answer cannot be replayed (its events went to the first client and the
// resumable log), nor can one that handed out credentials (tokens, a new API key: keeping them
// would store secrets in clear): a repeat gets 409 idempotency.not_replayable. An entry whose
// request died mid-way is taken over by a repeat after kIdempotencyLockMs.
#pragma once

#include "http/pipeline.hpp"

namespace ec {

inline constexpr int64_t kIdempotencyLockMs = 60'000;

// Runs def.handler(call) under the request's Idempotency-Key, if it sent one on a write.
Task<Result<Response>> run_idempotent(Call& call, const RouteDef& def);

// 1–255 printable ASCII characters, no spaces.
bool valid_idempotency_key(std::string_view key);

}  // namespace ec
