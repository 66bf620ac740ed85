#include "http/range.hpp"

#include "core/ascii.hpp"

#include <charconv>

namespace ec {

namespace {

std::optional<int64_t> parse_pos(std::string_view s) {
  if (s.empty() || s.size() > 18) return std::nullopt;
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < 0) return std::nullopt;
  return v;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

RangeDecision decide_range(const std::string* header, int64_t size) {
  RangeDecision full;
  if (header == nullptr) return full;
  std::string_view h = trim(*header);
  if (h.size() < 6 || !ascii_iequals(h.substr(0, 6), "bytes=")) return full;
  std::string_view spec = trim(h.substr(6));
  if (spec.find(',') != std::string_view::npos) return full;  // several ranges: send it all
  size_t dash = spec.find('-');
  if (dash == std::string_view::npos) return full;
  std::string_view first = trim(spec.substr(0, dash));
  std::string_view last = trim(spec.substr(dash + 1));
  RangeDecision d;
  d.kind = RangeDecision::kPartial;
  if (first.empty()) {  // suffix: the last N bytes
    std::optional<int64_t> n = parse_pos(last);
    if (!n) return full;
    if (*n == 0 || size == 0) return {RangeDecision::kUnsatisfiable, {}};
    int64_t len = *n < size ? *n : size;
    d.range = {size - len, len};
    return d;
  }
  std::optional<int64_t> a = parse_pos(first);
  if (!a) return full;
  std::optional<int64_t> b;
  if (!last.empty()) {
    b = parse_pos(last);
    if (!b || *b < *a) return full;  // "5-3" is invalid: ignore the header
  }
  if (*a >= size) return {RangeDecision::kUnsatisfiable, {}};
  int64_t end = (b && *b < size - 1) ? *b : size - 1;
  d.range = {*a, end - *a + 1};
  return d;
}

std::string content_range(const ByteRange& r, int64_t size) {
  return "bytes " + std::to_string(r.offset) + "-" + std::to_string(r.offset + r.length - 1) + "/" +
         std::to_string(size);
}

std::string attachment_disposition(std::string_view filename) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string ascii;
  std::string encoded;
  for (unsigned char c : filename) {
    bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '-' || c == '_';
    ascii.push_back(
        c < 0x80 && c >= 0x20 && c != '"' && c != '\\' && c != 0x7f ? static_cast<char>(c) : '_');
    if (plain) {
      encoded.push_back(static_cast<char>(c));
    } else {
      encoded.push_back('%');
      encoded.push_back(kHex[c >> 4]);
      encoded.push_back(kHex[c & 15]);
    }
  }
  if (ascii.empty()) ascii = "file";
  return "attachment; filename=\"" + ascii + "\"; filename*=UTF-8''" + encoded;
}

}  // namespace ec
