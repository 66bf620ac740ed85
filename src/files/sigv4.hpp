// AWS Signature Version 4, as R2's S3-compatible endpoint speaks it
// (https://{account}.r2.cloudflarestorage.com/{bucket}/{key}, region "auto", service "s3").
//
// Each step of the algorithm is its own function so the tests can pin every intermediate against
// AWS's published examples (canonical request, string to sign, signing key, signature), and the
// presigned-URL builder is only a composition of them. Nothing here reads a clock: the signing
// time is a parameter.
#pragma once

#include "crypto/sha256.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ec {

struct SigV4Header {
  std::string name;   // any case; canonicalised to lowercase
  std::string value;  // trimmed, inner runs of spaces collapsed to one when canonicalised
};

using SigV4Query = std::vector<std::pair<std::string, std::string>>;  // decoded name/value pairs

// AWS UriEncode(): every byte except the RFC 3986 unreserved set (A-Z a-z 0-9 - . _ ~) becomes
// %XX with uppercase hex; a space is "%20", never '+'. keep_slash leaves '/' alone (S3 object
// paths); query names and values encode it.
std::string sigv4_uri_encode(std::string_view bytes, bool keep_slash);

// Epoch seconds → "YYYYMMDD'T'HHMMSS'Z'" (UTC), the X-Amz-Date format. Years 0000–9999.
std::string amz_date(int64_t epoch_s);

// "{date8}/{region}/{service}/aws4_request"; date8 is the first 8 characters of the amz date.
std::string sigv4_credential_scope(std::string_view amz_date, std::string_view region,
                                   std::string_view service);

// Query pairs → the canonical query string: names and values UriEncode()d, sorted by encoded
// name then encoded value, joined with '&' (a pair with an empty value is "name=").
std::string sigv4_canonical_query(const SigV4Query& query);

// "host;x-amz-date": lowercase names, sorted, ';'-joined.
std::string sigv4_signed_headers(const std::vector<SigV4Header>& headers);

// The canonical request:
//   METHOD \n canonical_uri \n canonical_query \n (name:value\n)* \n signed_headers \n payload_hash
// canonical_uri is already encoded (see sigv4_canonical_uri); headers are canonicalised here.
std::string sigv4_canonical_request(std::string_view method, std::string_view canonical_uri,
                                    std::string_view canonical_query,
                                    const std::vector<SigV4Header>& headers,
                                    std::string_view payload_hash_hex);

// A raw object path ("/bucket/photos/a b.jpg") → its canonical URI: each segment UriEncode()d,
// '/' kept, no dot-segment normalisation (S3 keys are opaque; "a/../b" is a key, not a path).
std::string sigv4_canonical_uri(std::string_view raw_path);

// "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{hex(sha256(canonical_request))}".
std::string sigv4_string_to_sign(std::string_view amz_date, std::string_view credential_scope,
                                 std::string_view canonical_request);

// kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date8), region), service), "aws4_request").
Digest sigv4_signing_key(std::string_view secret_access_key, std::string_view date8,
                         std::string_view region, std::string_view service);

// hex(HMAC(signing_key, string_to_sign)), lowercase.
std::string sigv4_signature(const Digest& signing_key, std::string_view string_to_sign);

// The Authorization header value for a header-signed request.
std::string sigv4_authorization(std::string_view access_key_id, std::string_view credential_scope,
                                std::string_view signed_headers, std::string_view signature);

// Hex SHA-256 of the empty payload, and the constant presigned URLs sign instead of a payload.
inline constexpr std::string_view kSigV4EmptyPayloadSha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
inline constexpr std::string_view kSigV4UnsignedPayload = "UNSIGNED-PAYLOAD";

inline constexpr int64_t kSigV4MinExpires = 1;
inline constexpr int64_t kSigV4MaxExpires = 604800;  // seven days: the signing key's lifetime

struct SigV4Params {
  std::string access_key_id;
  std::string secret_access_key;
  std::string region = "auto";  // R2
  std::string service = "s3";
  std::string host;  // "{account}.r2.cloudflarestorage.com"; signed as the host header
  std::string method = "GET";
  std::string path;         // raw (unencoded) "/{bucket}/{key}"; encoded by the signer
  int64_t now_s = 0;        // signing time, epoch seconds
  int64_t expires_s = 900;  // X-Amz-Expires, clamped to [1, 604800]
  std::vector<SigV4Header> extra_headers;  // signed beside host; the client must send them as-is
  SigV4Query extra_query;                  // further (decoded) query pairs, signed too
};

// The presigned URL "https://{host}{canonical_uri}?{canonical query}&X-Amz-Signature={sig}".
// The X-Amz-* parameters and extra_query are sorted into one canonical query string, which is
// also the URL's query, so what the client sends is byte-for-byte what was signed.
std::string sigv4_presign_url(const SigV4Params& p);

// R2 helpers: the account's S3 endpoint host and a raw object path for sigv4_presign_url.
std::string r2_endpoint_host(std::string_view account_id);
std::string r2_object_path(std::string_view bucket, std::string_view key);

}  // namespace ec
