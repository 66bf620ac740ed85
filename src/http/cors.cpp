#include "http/cors.hpp"

namespace ec {

namespace {

constexpr std::string_view kBaseAllowHeaders =
    "Authorization, Content-Type, X-User-Email, x-user-email, X-Admin-Key, X-Admin-Token, "
    "X-Request-Id, Idempotency-Key, Last-Event-ID";

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// RFC 9110 token characters: a requested header list that is anything else is not echoed.
bool is_token_list(std::string_view s) {
  if (s.size() > 1024) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == ',' || c == ' ' || c == '.';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

CorsPolicy CorsPolicy::parse(std::string_view allowed) {
  CorsPolicy p;
  while (!allowed.empty()) {
    size_t comma = allowed.find(',');
    std::string_view item = trim(allowed.substr(0, comma));
    if (item == "*") {
      p.any_origin = true;
    } else if (!item.empty()) {
      while (!item.empty() && item.back() == '/') item.remove_suffix(1);
      p.origins.emplace_back(item);
    }
    if (comma == std::string_view::npos) break;
    allowed.remove_prefix(comma + 1);
  }
  return p;
}

bool CorsPolicy::allows(std::string_view origin) const {
  if (any_origin) return true;
  for (const auto& o : origins) {
    if (o == origin) return true;
  }
  return false;
}

void apply_cors(const CorsPolicy& p, const std::string* origin, Response& r) {
  if (origin == nullptr || !p.allows(*origin)) return;
  if (!p.origins.empty() && !p.any_origin) {
    r.headers.emplace_back("access-control-allow-origin", *origin);
    r.headers.emplace_back("access-control-allow-credentials", "true");
    r.headers.emplace_back("vary", "Origin");
  } else {
    r.headers.emplace_back("access-control-allow-origin", "*");
  }
  r.headers.emplace_back("access-control-expose-headers", std::string(kCorsExposeHeaders));
}

Response preflight_reply(const CorsPolicy& p, std::string_view origin,
                         const std::string* requested_headers) {
  Response r;
  r.status = 204;
  std::string origin_copy(origin);
  apply_cors(p, &origin_copy, r);
  r.headers.emplace_back("access-control-allow-methods", std::string(kCorsAllowMethods));
  std::string allow(kBaseAllowHeaders);
  if (requested_headers != nullptr && is_token_list(*requested_headers) &&
      !trim(*requested_headers).empty()) {
    allow += ", ";
    allow += trim(*requested_headers);
  }
  r.headers.emplace_back("access-control-allow-headers", std::move(allow));
  r.headers.emplace_back("access-control-max-age", "600");
  return r;
}

}  // namespace ec
