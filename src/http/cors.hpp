// CORS from ALLOWED_ORIGINS (seed 003's gateway rules).
//   ALLOWED_ORIGINS="*"                         any origin, without credentials (the spec forbids
//   both) ALLOWED_ORIGINS="https://a.com,https://b.com"  exactly these, echoed back, with
//   credentials unset/empty                                 no cross-origin access
#pragma once

#include "core/envelope.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace ec {

struct CorsPolicy {
  bool any_origin = false;
  std::vector<std::string> origins;

  static CorsPolicy parse(std::string_view allowed_origins);
  bool allows(std::string_view origin) const;
};

inline constexpr std::string_view kCorsAllowMethods = "GET,HEAD,POST,PUT,DELETE,OPTIONS,PATCH";
// Location: where a 201/202 answer's new resource lives, which a browser client could not read
// otherwise (it is not a CORS-safelisted response header).
inline constexpr std::string_view kCorsExposeHeaders =
    "Content-Type, Content-Disposition, Location, X-Request-Id, X-Credits-Used, X-Credits-Balance, "
    "X-Tokens-In, X-Tokens-Out, X-Provider, X-Model, Retry-After, X-RateLimit-Limit, "
    "X-RateLimit-Remaining, X-RateLimit-Reset, X-Export-Count, X-Export-Truncated, "
    "X-Export-Next-Cursor, X-Credits-Reserved, Idempotent-Replayed";

// Adds Access-Control-Allow-Origin (+ credentials, Vary, expose) to a response for `origin`.
void apply_cors(const CorsPolicy& p, const std::string* origin, Response& r);

// A preflight answer (OPTIONS with Access-Control-Request-Method). `requested_headers` is the
// Access-Control-Request-Headers value; only well-formed header names are echoed back.
Response preflight_reply(const CorsPolicy& p, std::string_view origin,
                         const std::string* requested_headers);

}  // namespace ec
