// Worker-signed URLs: a capability to PUT or GET one R2 object through the worker's own routes
// (e.g. /api/r2/upload), signed with HMAC-SHA-256 in the core. Unlike an S3 presigned URL they
// need no R2 API token, so the same code works under `wrangler dev --local` and in production.
//
// The MAC binds the method, object key, expiry, size limit, content type and grant id. The
// signed text is a versioned, newline-joined list whose free-text fields are percent-encoded, so
// no field can contain the separator and two different grants never sign the same text:
//
//   v1 \n METHOD \n enc(key) \n exp \n max \n enc(ct) \n enc(gid)
//
// Use a secret dedicated to this purpose (not one that also MACs sessions), so a MAC made here
// can never be replayed as another kind of token.
#pragma once

#include "core/error.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace ec {

struct PresignGrant {
  std::string method;        // "PUT" / "GET" (exact, case-sensitive, as HTTP methods are)
  std::string key;           // R2 object key, e.g. "u1/d1/report.pdf"
  int64_t expires_s = 0;     // epoch seconds; the URL is refused from this second on
  int64_t max_bytes = 0;     // upload size limit; <= 0 means no limit
  std::string content_type;  // the Content-Type the upload must carry ("" = any)
  std::string grant_id;      // random (from the envelope), for one-time-use tracking
};

// The text the MAC covers (exposed for tests and for documentation of the wire format).
std::string presign_canonical_string(const PresignGrant& g);

// "{base_url}{path}?key=…&exp=…&max=…&ct=…&gid=…&sig=…". A trailing '/' on base_url is dropped.
// Values are RFC 3986 percent-encoded (unreserved characters kept), sig is base64url(HMAC).
std::string presign_worker_url(std::string_view base_url, std::string_view path,
                               const PresignGrant& g, std::string_view secret);

// Checks a request against its raw query (without '?'). Every parameter must be present exactly
// once, integers in their one canonical spelling; the MAC is recomputed with the *request's*
// method and compared in constant time. Errors (all 403):
//   files.bad_signature — missing/duplicated/malformed parameter, wrong MAC, other method
//   files.url_expired   — genuine URL, now_s >= exp (checked only after the MAC verifies)
Result<PresignGrant> verify_worker_url(std::string_view method, std::string_view query,
                                       int64_t now_s, std::string_view secret);

// True if an upload of `bytes` fits the grant's limit.
inline bool grant_allows_size(const PresignGrant& g, int64_t bytes) {
  return g.max_bytes <= 0 || (bytes >= 0 && bytes <= g.max_bytes);
}

}  // namespace ec
