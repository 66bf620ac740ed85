#include "billing/credit_amount.hpp"

#include <charconv>
#include <cmath>

namespace ec {

namespace {

std::optional<int64_t> parse_decimal(std::string_view s) {
  bool negative = false;
  if (!s.empty() && (s.front() == '-' || s.front() == '+')) {
    negative = s.front() == '-';
    s.remove_prefix(1);
  }
  size_t dot = s.find('.');
  std::string_view whole = s.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? std::string_view() : s.substr(dot + 1);
  if (whole.empty() && frac.empty()) return std::nullopt;
  if (frac.size() > 6 || whole.size() > 13) return std::nullopt;
  if (dot != std::string_view::npos && frac.empty()) return std::nullopt;  // "1." is a typo
  int64_t w = 0;
  if (!whole.empty()) {
    auto [p, ec] = std::from_chars(whole.data(), whole.data() + whole.size(), w);
    if (ec != std::errc() || p != whole.data() + whole.size()) return std::nullopt;
  }
  int64_t f = 0;
  for (char c : frac) {
    if (c < '0' || c > '9') return std::nullopt;
    f = f * 10 + (c - '0');
  }
  for (size_t i = frac.size(); i < 6; ++i) f *= 10;
  int64_t v = w * kMicroPerCredit + f;
  return negative ? -v : v;
}

}  // namespace

std::optional<int64_t> parse_credit_amount(const json& v, bool allow_negative) {
  std::optional<int64_t> micros;
  if (v.is_number_integer()) {
    const int64_t n = v.get<int64_t>();
    if (n > kMaxCreditMicros / kMicroPerCredit || n < -kMaxCreditMicros / kMicroPerCredit)
      return std::nullopt;
    micros = n * kMicroPerCredit;
  } else if (v.is_number_float()) {
    const double d = v.get<double>();
    if (!std::isfinite(d) || std::fabs(d) * kMicroPerCredit > static_cast<double>(kMaxCreditMicros))
      return std::nullopt;
    const double scaled = d * kMicroPerCredit;
    // More than 6 decimals is a mistake, not something to round silently.
    if (std::fabs(scaled - std::round(scaled)) > 1e-6) return std::nullopt;
    micros = static_cast<int64_t>(std::llround(scaled));
  } else if (v.is_string()) {
    micros = parse_decimal(v.get_ref<const std::string&>());
  }
  if (!micros || *micros > kMaxCreditMicros || *micros < -kMaxCreditMicros) return std::nullopt;
  if (*micros < 0 && !allow_negative) return std::nullopt;
  return micros;
}

std::string format_credits(int64_t micros) {
  const bool negative = micros < 0;
  const uint64_t m =
      negative ? static_cast<uint64_t>(-(micros + 1)) + 1 : static_cast<uint64_t>(micros);
  std::string out = negative ? "-" : "";
  out += std::to_string(m / kMicroPerCredit);
  uint64_t frac = m % kMicroPerCredit;
  if (frac != 0) {
    std::string digits = std::to_string(frac);
    digits.insert(0, 6 - digits.size(), '0');
    while (digits.back() == '0') digits.pop_back();
    out += "." + digits;
  }
  return out;
}

json credits_json(int64_t micros) {
  if (micros % kMicroPerCredit == 0) return micros / kMicroPerCredit;
  return static_cast<double>(micros) / static_cast<double>(kMicroPerCredit);
}

int64_t token_price_micros(double credits_per_1k, int64_t tokens) {
  if (!(credits_per_1k > 0) || tokens <= 0) return 0;
  // Micro-credits per 1k tokens, rounded to the nearest micro (prices carry no finer detail).
  const double per_1k = std::round(std::min(credits_per_1k, 1e6) * kMicroPerCredit);
  const double t = static_cast<double>(std::min(tokens, kMaxTokens));
  // Integer-valued doubles below 2^53 are exact; ceil of the division rounds the cost up.
  const double cost = std::ceil(per_1k * t / 1000.0);
  return cost >= static_cast<double>(kMaxCreditMicros) ? kMaxCreditMicros
                                                       : static_cast<int64_t>(cost);
}

}  // namespace ec
