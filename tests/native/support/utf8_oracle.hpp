// A reference UTF-8 validator for tests, written independently of src/core/utf8.hpp so the two
// can check each other: RFC 3629 (no overlongs, no surrogates, nothing above U+10FFFF).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ec::testing {

// Length of the well-formed sequence at s[i], or 0 when it is invalid.
inline size_t ref_seq_len(std::string_view s, size_t i) {
  const auto b = static_cast<unsigned char>(s[i]);
  if (b < 0x80) return 1;
  const size_t len = (b & 0xE0) == 0xC0 ? 2 : (b & 0xF0) == 0xE0 ? 3 : (b & 0xF8) == 0xF0 ? 4 : 0;
  if (len == 0) return 0;
  const uint32_t min = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
  uint32_t cp = b & (0x7F >> len);
  if (i + len > s.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    const auto c = static_cast<unsigned char>(s[i + k]);
    if ((c & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (c & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

inline bool valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const size_t len = ref_seq_len(s, i);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

}  // namespace ec::testing
