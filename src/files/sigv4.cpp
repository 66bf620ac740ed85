#include "files/sigv4.hpp"

#include "core/time.hpp"
#include "crypto/encoding.hpp"

#include <algorithm>

namespace ec {

namespace {

bool is_unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = ascii_lower(c);
  return out;
}

bool is_space(char c) { return c == ' ' || c == '\t'; }

// Trim(): leading/trailing whitespace removed, inner runs collapsed to a single space (the
// canonical header value rule; without it a proxy that reflows spaces breaks the signature).
std::string canonical_header_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  bool pending_space = false;
  for (char c : v) {
    if (is_space(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(c);
  }
  return out;
}

// Lowercased names, sorted; repeated names merged into one comma-separated value (AWS's rule
// for a header sent more than once).
std::vector<std::pair<std::string, std::string>> canonical_headers(
    const std::vector<SigV4Header>& headers) {
  std::vector<std::pair<std::string, std::string>> sorted;
  sorted.reserve(headers.size());
  for (const SigV4Header& h : headers) {
    sorted.emplace_back(lowercase(h.name), canonical_header_value(h.value));
  }
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::pair<std::string, std::string>> merged;
  for (auto& [name, value] : sorted) {
    if (!merged.empty() && merged.back().first == name) {
      merged.back().second += ',';
      merged.back().second += value;
    } else {
      merged.emplace_back(std::move(name), std::move(value));
    }
  }
  return merged;
}

std::string hex_sha256(std::string_view data) { return hex_encode(digest_bytes(sha256(data))); }

}  // namespace

std::string sigv4_uri_encode(std::string_view bytes, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(bytes.size() * 3);
  for (char ch : bytes) {
    auto c = static_cast<unsigned char>(ch);
    if (is_unreserved(c) || (keep_slash && c == '/')) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

std::string amz_date(int64_t epoch_s) {
  // iso8601_ms gives "YYYY-MM-DDTHH:MM:SS.mmmZ"; keep the digits AWS wants, drop the rest.
  const std::string iso = iso8601_ms(epoch_s * 1000);
  std::string out;
  out.reserve(16);
  out.append(iso, 0, 4).append(iso, 5, 2).append(iso, 8, 2);
  out.push_back('T');
  out.append(iso, 11, 2).append(iso, 14, 2).append(iso, 17, 2);
  out.push_back('Z');
  return out;
}

std::string sigv4_credential_scope(std::string_view amz_date, std::string_view region,
                                   std::string_view service) {
  std::string scope(amz_date.substr(0, 8));
  scope.append("/").append(region).append("/").append(service).append("/aws4_request");
  return scope;
}

std::string sigv4_canonical_query(const SigV4Query& query) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(query.size());
  for (const auto& [name, value] : query) {
    encoded.emplace_back(sigv4_uri_encode(name, false), sigv4_uri_encode(value, false));
  }
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [name, value] : encoded) {
    if (!out.empty()) out.push_back('&');
    out.append(name).append("=").append(value);
  }
  return out;
}

std::string sigv4_signed_headers(const std::vector<SigV4Header>& headers) {
  std::string out;
  for (const auto& [name, value] : canonical_headers(headers)) {
    if (!out.empty()) out.push_back(';');
    out.append(name);
  }
  return out;
}

std::string sigv4_canonical_request(std::string_view method, std::string_view canonical_uri,
                                    std::string_view canonical_query,
                                    const std::vector<SigV4Header>& headers,
                                    std::string_view payload_hash_hex) {
  std::string out;
  out.append(method).append("\n");
  out.append(canonical_uri.empty() ? std::string_view("/") : canonical_uri).append("\n");
  out.append(canonical_query).append("\n");
  for (const auto& [name, value] : canonical_headers(headers)) {
    out.append(name).append(":").append(value).append("\n");
  }
  out.append("\n");
  out.append(sigv4_signed_headers(headers)).append("\n");
  out.append(payload_hash_hex);
  return out;
}

std::string sigv4_canonical_uri(std::string_view raw_path) {
  if (raw_path.empty()) return "/";
  std::string out = sigv4_uri_encode(raw_path, /*keep_slash=*/true);
  if (out.front() != '/') out.insert(out.begin(), '/');
  return out;
}

std::string sigv4_string_to_sign(std::string_view amz_date, std::string_view credential_scope,
                                 std::string_view canonical_request) {
  std::string out = "AWS4-HMAC-SHA256\n";
  out.append(amz_date).append("\n");
  out.append(credential_scope).append("\n");
  out.append(hex_sha256(canonical_request));
  return out;
}

Digest sigv4_signing_key(std::string_view secret_access_key, std::string_view date8,
                         std::string_view region, std::string_view service) {
  std::string secret = "AWS4";
  secret.append(secret_access_key);
  Digest k_date = hmac_sha256(secret, date8);
  Digest k_region = hmac_sha256(digest_bytes(k_date), region);
  Digest k_service = hmac_sha256(digest_bytes(k_region), service);
  return hmac_sha256(digest_bytes(k_service), "aws4_request");
}

std::string sigv4_signature(const Digest& signing_key, std::string_view string_to_sign) {
  return hex_encode(digest_bytes(hmac_sha256(digest_bytes(signing_key), string_to_sign)));
}

std::string sigv4_authorization(std::string_view access_key_id, std::string_view credential_scope,
                                std::string_view signed_headers, std::string_view signature) {
  std::string out = "AWS4-HMAC-SHA256 Credential=";
  out.append(access_key_id).append("/").append(credential_scope);
  out.append(", SignedHeaders=").append(signed_headers);
  out.append(", Signature=").append(signature);
  return out;
}

std::string sigv4_presign_url(const SigV4Params& p) {
  const std::string date = amz_date(p.now_s);
  const std::string scope = sigv4_credential_scope(date, p.region, p.service);
  const int64_t expires = std::clamp(p.expires_s, kSigV4MinExpires, kSigV4MaxExpires);

  std::vector<SigV4Header> headers;
  headers.reserve(p.extra_headers.size() + 1);
  headers.push_back({"host", p.host});
  for (const SigV4Header& h : p.extra_headers) {
    if (lowercase(h.name) != "host") headers.push_back(h);  // host is always p.host
  }
  const std::string signed_headers = sigv4_signed_headers(headers);

  SigV4Query query = p.extra_query;
  query.emplace_back("X-Amz-Algorithm", "AWS4-HMAC-SHA256");
  query.emplace_back("X-Amz-Credential", p.access_key_id + "/" + scope);
  query.emplace_back("X-Amz-Date", date);
  query.emplace_back("X-Amz-Expires", std::to_string(expires));
  query.emplace_back("X-Amz-SignedHeaders", signed_headers);
  const std::string canonical_query = sigv4_canonical_query(query);

  const std::string canonical_uri = sigv4_canonical_uri(p.path);
  const std::string request = sigv4_canonical_request(p.method, canonical_uri, canonical_query,
                                                      headers, kSigV4UnsignedPayload);
  const std::string to_sign = sigv4_string_to_sign(date, scope, request);
  const Digest key = sigv4_signing_key(p.secret_access_key, date.substr(0, 8), p.region, p.service);

  std::string url = "https://";
  url.append(p.host).append(canonical_uri).append("?").append(canonical_query);
  url.append("&X-Amz-Signature=").append(sigv4_signature(key, to_sign));
  return url;
}

std::string r2_endpoint_host(std::string_view account_id) {
  std::string host(account_id);
  host.append(".r2.cloudflarestorage.com");
  return host;
}

std::string r2_object_path(std::string_view bucket, std::string_view key) {
  std::string path = "/";
  path.append(bucket).append("/").append(key);
  return path;
}

}  // namespace ec
