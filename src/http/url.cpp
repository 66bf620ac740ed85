#include "http/url.hpp"

#include "crypto/encoding.hpp"

namespace ec {

namespace {}  // namespace

std::optional<std::string> percent_decode(std::string_view in, bool plus_as_space) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (in.size() - i < 3) return std::nullopt;  // needs '%' plus two hex digits
      int hi = hex_digit_value(in[i + 1]);
      int lo = hex_digit_value(in[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (c == '+' && plus_as_space) {
      c = ' ';
    }
    if (c == '\0') return std::nullopt;
    out.push_back(c);
  }
  return out;
}

QueryParams parse_query(std::string_view raw) {
  QueryParams params;
  size_t pos = 0;
  while (pos <= raw.size() && params.size() < kMaxQueryParams) {
    size_t amp = raw.find('&', pos);
    if (amp == std::string_view::npos) amp = raw.size();
    std::string_view pair = raw.substr(pos, amp - pos);
    pos = amp + 1;
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string_view raw_name = pair.substr(0, eq);
    std::string_view raw_value =
        eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
    std::optional<std::string> name = percent_decode(raw_name, /*plus_as_space=*/true);
    if (!name || name->empty()) continue;
    std::optional<std::string> value = percent_decode(raw_value, /*plus_as_space=*/true);
    if (!value) continue;
    params.emplace_back(std::move(*name), std::move(*value));
  }
  return params;
}

const std::string* query_param(const QueryParams& params, std::string_view name) {
  for (const auto& [key, value] : params) {
    if (key == name) return &value;
  }
  return nullptr;
}

}  // namespace ec
