#include "files/presign.hpp"

#include "crypto/ct.hpp"
#include "crypto/encoding.hpp"
#include "crypto/sha256.hpp"
#include "files/sigv4.hpp"
#include "http/url.hpp"

#include <array>
#include <optional>

namespace ec {

namespace {

std::string encode(std::string_view s) { return sigv4_uri_encode(s, /*keep_slash=*/false); }

// Only the spelling std::to_string produces: optional '-', no '+', no leading zeros, no "-0",
// no overflow. A lenient parse would give one grant several URLs that all verify.
std::optional<int64_t> parse_canonical_int(std::string_view s) {
  bool negative = !s.empty() && s.front() == '-';
  std::string_view digits = negative ? s.substr(1) : s;
  if (digits.empty() || digits.size() > 19) return std::nullopt;
  if (digits.size() > 1 && digits.front() == '0') return std::nullopt;
  if (negative && digits == "0") return std::nullopt;
  uint64_t v = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');  // 19 digits cannot overflow uint64_t
  }
  const uint64_t limit = negative ? uint64_t{1} << 63 : (uint64_t{1} << 63) - 1;
  if (v > limit) return std::nullopt;
  if (!negative) return static_cast<int64_t>(v);
  return v == (uint64_t{1} << 63) ? INT64_MIN : -static_cast<int64_t>(v);
}

ApiError bad_signature() { return api_error(Err::files_bad_signature); }

std::string sign(const PresignGrant& g, std::string_view secret) {
  return base64url_encode(digest_bytes(hmac_sha256(secret, presign_canonical_string(g))));
}

}  // namespace

std::string presign_canonical_string(const PresignGrant& g) {
  std::string out = "v1\n";
  out.append(g.method).append("\n");
  out.append(encode(g.key)).append("\n");
  out.append(std::to_string(g.expires_s)).append("\n");
  out.append(std::to_string(g.max_bytes)).append("\n");
  out.append(encode(g.content_type)).append("\n");
  out.append(encode(g.grant_id));
  return out;
}

std::string presign_worker_url(std::string_view base_url, std::string_view path,
                               const PresignGrant& g, std::string_view secret) {
  while (!base_url.empty() && base_url.back() == '/') base_url.remove_suffix(1);
  std::string url(base_url);
  if (path.empty() || path.front() != '/') url.push_back('/');
  url.append(path);
  url.append("?key=").append(encode(g.key));
  url.append("&exp=").append(std::to_string(g.expires_s));
  url.append("&max=").append(std::to_string(g.max_bytes));
  url.append("&ct=").append(encode(g.content_type));
  url.append("&gid=").append(encode(g.grant_id));
  url.append("&sig=").append(sign(g, secret));
  return url;
}

Result<PresignGrant> verify_worker_url(std::string_view method, std::string_view query,
                                       int64_t now_s, std::string_view secret) {
  static constexpr std::array<std::string_view, 6> kNames = {"key", "exp", "max",
                                                             "ct",  "gid", "sig"};
  std::array<const std::string*, 6> found{};
  const QueryParams params = parse_query(query);
  for (const auto& [name, value] : params) {
    for (size_t i = 0; i < kNames.size(); ++i) {
      if (name != kNames[i]) continue;
      if (found[i] != nullptr) return bad_signature();  // a second "key=" must not be ignored
      found[i] = &value;
    }
  }
  for (const std::string* v : found) {
    if (v == nullptr) return bad_signature();
  }
  const std::optional<int64_t> exp = parse_canonical_int(*found[1]);
  const std::optional<int64_t> max = parse_canonical_int(*found[2]);
  if (!exp || !max) return bad_signature();

  PresignGrant g;
  g.method = std::string(method);
  g.key = *found[0];
  g.expires_s = *exp;
  g.max_bytes = *max;
  g.content_type = *found[3];
  g.grant_id = *found[4];
  // An empty secret would let anyone sign; an empty key names no object.
  if (secret.empty() || g.key.empty()) return bad_signature();

  // The MAC comes first: an expired-but-genuine URL and a forged one must not be told apart by
  // anyone who cannot sign.
  if (!constant_time_equal(sign(g, secret), *found[5])) return bad_signature();
  if (now_s >= g.expires_s) {
    return api_error(Err::files_url_expired);
  }
  return g;
}

}  // namespace ec
