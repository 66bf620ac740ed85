#include "limits/rate_key.hpp"

#include "auth/api_keys.hpp"
#include "auth/service.hpp"
#include "core/ascii.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

namespace ec {

namespace {

constexpr std::string_view kUnknown = "unknown";

std::optional<int> hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return std::nullopt;
}

// Dotted quad, each part 1–3 decimal digits ≤ 255.
std::optional<std::array<uint8_t, 4>> parse_ipv4(std::string_view s) {
  std::array<uint8_t, 4> out{};
  for (size_t part = 0; part < 4; ++part) {
    size_t dot = part < 3 ? s.find('.') : s.size();
    if (dot == std::string_view::npos || dot == 0 || dot > 3) return std::nullopt;
    int v = 0;
    for (char c : s.substr(0, dot)) {
      if (c < '0' || c > '9') return std::nullopt;
      v = v * 10 + (c - '0');
    }
    if (v > 255) return std::nullopt;
    out[part] = static_cast<uint8_t>(v);
    s.remove_prefix(part < 3 ? dot + 1 : dot);
  }
  return out;
}

std::string ipv4_text(const std::array<uint8_t, 4>& a) {
  return std::to_string(a[0]) + "." + std::to_string(a[1]) + "." + std::to_string(a[2]) + "." +
         std::to_string(a[3]);
}

// Hextets separated by ':' (each 1–4 hex digits, the last group may be a dotted quad), appended to
// `out`; false if malformed or more than `max` hextets.
bool parse_hextets(std::string_view s, std::vector<uint16_t>& out, size_t max) {
  if (s.empty()) return true;
  for (;;) {
    size_t colon = s.find(':');
    std::string_view group = s.substr(0, colon);
    if (colon == std::string_view::npos && group.find('.') != std::string_view::npos) {
      auto v4 = parse_ipv4(group);
      if (!v4) return false;
      out.push_back(static_cast<uint16_t>(((*v4)[0] << 8) | (*v4)[1]));
      out.push_back(static_cast<uint16_t>(((*v4)[2] << 8) | (*v4)[3]));
      return out.size() <= max;
    }
    if (group.empty() || group.size() > 4) return false;
    unsigned v = 0;
    for (char c : group) {
      std::optional<int> d = hex_digit(c);
      if (!d) return false;
      v = (v << 4) | static_cast<unsigned>(*d);
    }
    out.push_back(static_cast<uint16_t>(v));
    if (out.size() > max) return false;
    if (colon == std::string_view::npos) return true;
    s.remove_prefix(colon + 1);
  }
}

std::optional<std::array<uint16_t, 8>> parse_ipv6(std::string_view s) {
  std::vector<uint16_t> head, tail;
  size_t gap = s.find("::");
  if (gap == std::string_view::npos) {
    if (!parse_hextets(s, head, 8) || head.size() != 8) return std::nullopt;
  } else {
    std::string_view rest = s.substr(gap + 2);
    if (rest.find("::") != std::string_view::npos) return std::nullopt;
    if (!parse_hextets(s.substr(0, gap), head, 7) || !parse_hextets(rest, tail, 7) ||
        head.size() + tail.size() > 7) {
      return std::nullopt;
    }
  }
  std::array<uint16_t, 8> out{};
  for (size_t i = 0; i < head.size(); ++i) out[i] = head[i];
  for (size_t i = 0; i < tail.size(); ++i) out[8 - tail.size() + i] = tail[i];
  return out;
}

std::string normalise_address(std::string_view s) {
  s = ascii_trim(s);
  if (s.empty() || s.size() > 64) return std::string(kUnknown);
  if (auto v4 = parse_ipv4(s)) return ipv4_text(*v4);
  // "[2001:db8::1]:443" and "fe80::1%eth0" as some proxies write them.
  if (s.front() == '[') {
    size_t close = s.find(']');
    if (close == std::string_view::npos) return std::string(kUnknown);
    s = s.substr(1, close - 1);
  }
  s = s.substr(0, s.find('%'));
  auto v6 = parse_ipv6(s);
  if (!v6) return std::string(kUnknown);
  const auto& h = *v6;
  // ::ffff:a.b.c.d is an IPv4 client seen through a dual-stack socket.
  if (h[0] == 0 && h[1] == 0 && h[2] == 0 && h[3] == 0 && h[4] == 0 && h[5] == 0xffff) {
    return ipv4_text({static_cast<uint8_t>(h[6] >> 8), static_cast<uint8_t>(h[6] & 0xff),
                      static_cast<uint8_t>(h[7] >> 8), static_cast<uint8_t>(h[7] & 0xff)});
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < 4; ++i) {
    bool lead = true;
    for (int shift = 12; shift >= 0; shift -= 4) {
      int d = (h[i] >> shift) & 0xf;
      if (lead && d == 0 && shift > 0) continue;
      lead = false;
      out.push_back(kHex[d]);
    }
    out.push_back(':');
  }
  out += ":/64";
  return out;
}

}  // namespace

std::string client_address(const std::string* cf_connecting_ip,
                           const std::string* x_forwarded_for) {
  if (cf_connecting_ip != nullptr && !ascii_trim(*cf_connecting_ip).empty()) {
    return normalise_address(*cf_connecting_ip);
  }
  if (x_forwarded_for != nullptr) {
    std::string_view first = *x_forwarded_for;
    return normalise_address(first.substr(0, first.find(',')));
  }
  return std::string(kUnknown);
}

std::string rate_limit_name(std::string_view group, const RateSubject& subject) {
  std::string_view kind = subject.kind == RateSubject::Kind::kUser     ? ":u:"
                          : subject.kind == RateSubject::Kind::kApiKey ? ":k:"
                                                                       : ":ip:";
  std::string out = "rl1:";
  out.append(group).append(kind).append(subject.id);
  return out;
}

Task<RateSubject> rate_subject(Ctx& ctx, bool by_address) {
  std::optional<std::string> token =
      by_address ? std::nullopt : bearer_token(ctx.request().header("authorization"));
  if (token && is_api_key_token(*token)) {
    // A key of the right shape counts as itself; its hash is what D1 stores, so nothing here
    // could reveal the key. Looking it up is the handler's job (one query, not two).
    if (token->size() == kApiKeyChars) {
      co_return RateSubject{RateSubject::Kind::kApiKey, api_key_hash(*token).substr(0, 32)};
    }
  } else if (token) {
    AuthState& st = auth_state();
    Result<AccessClaims> claims =
        co_await st.verifier.verify(ctx, st.cfg, st.ring, std::move(*token));
    if (claims.ok()) co_return RateSubject{RateSubject::Kind::kUser, claims->sub};
  }
  co_return RateSubject{RateSubject::Kind::kAddress,
                        client_address(ctx.request().header("cf-connecting-ip"),
                                       ctx.request().header("x-forwarded-for"))};
}

}  // namespace ec
