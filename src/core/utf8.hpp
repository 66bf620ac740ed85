// UTF-8 helpers shared by the text pipeline (extraction, chunking, lexical embedding, graphs,
// summaries, FTS queries).
//
// Encoding: append_utf8 turns surrogates and values above U+10FFFF into U+FFFD, so the output is
// always valid UTF-8 whatever a decoder (HTML entities, PDF CMaps, …) produced.
//
// Decoding policy (decode_utf8): only well-formed sequences decode, i.e. no overlong forms, no
// surrogates (U+D800..U+DFFF), nothing above U+10FFFF and no truncated sequence. Anything else is
// consumed one byte at a time: each invalid byte is one unit of length 1 whose code point is
// kUtf8Invalid. That value lies above U+10FFFF, so a caller can tell it apart from every real code
// point (including a literal U+FFFD in the input), and append_utf8 writes it as U+FFFD.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ec {

inline void append_utf8(std::string& out, uint32_t cp) {
  if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// The code point decode_utf8 reports for an invalid byte (see the file comment).
inline constexpr uint32_t kUtf8Invalid = 0xFFFFFFFF;

// Decodes the sequence starting at s[i] (requires i < s.size()) into cp and returns its length in
// bytes (1..4). For an invalid byte, cp = kUtf8Invalid and the length is 1.
inline size_t decode_utf8(std::string_view s, size_t i, uint32_t& cp) {
  const auto b = static_cast<unsigned char>(s[i]);
  cp = kUtf8Invalid;
  if (b < 0x80) {
    cp = b;
    return 1;
  }
  const size_t n = (b & 0xE0) == 0xC0 ? 2 : (b & 0xF0) == 0xE0 ? 3 : (b & 0xF8) == 0xF0 ? 4 : 0;
  if (n == 0 || s.size() - i < n) return 1;
  uint32_t v = b & (0x7Fu >> n);
  for (size_t k = 1; k < n; ++k) {
    const auto c = static_cast<unsigned char>(s[i + k]);
    if ((c & 0xC0) != 0x80) return 1;
    v = (v << 6) | (c & 0x3F);
  }
  const uint32_t min = n == 2 ? 0x80 : n == 3 ? 0x800 : 0x10000;
  if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 1;
  cp = v;
  return n;
}

// The largest n <= max_bytes such that s[0, n) does not end inside a code point: n == s.size(), or
// s[n] is not a continuation byte (10xxxxxx). On valid UTF-8 that is a code-point boundary.
inline size_t utf8_prefix_bytes(std::string_view s, size_t max_bytes) {
  if (s.size() <= max_bytes) return s.size();
  size_t n = max_bytes;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return n;
}

// The byte length of the first max_chars code points of s (all of s if it has fewer), counting
// every byte that is not a continuation byte (10xxxxxx) as the start of a code point, and the
// continuation bytes after it as part of it. On valid UTF-8 this is exactly max_chars code points.
inline size_t utf8_prefix_chars(std::string_view s, size_t max_chars) {
  size_t i = 0;
  for (size_t n = 0; i < s.size() && n < max_chars; ++n) {
    ++i;
    while (i < s.size() && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) ++i;
  }
  return i;
}

// Appends s with every invalid byte (decode_utf8's policy) replaced by U+FFFD, so the result
// always serialises as JSON.
inline void append_utf8_scrubbed(std::string& out, std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    uint32_t cp = 0;
    const size_t n = decode_utf8(s, i, cp);
    if (cp == kUtf8Invalid) {
      append_utf8(out, cp);
    } else {
      out.append(s.substr(i, n));
    }
    i += n;
  }
}

inline std::string utf8_scrubbed(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  append_utf8_scrubbed(out, s);
  return out;
}

inline bool utf8_valid(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    uint32_t cp = 0;
    i += decode_utf8(s, i, cp);
    if (cp == kUtf8Invalid) return false;
  }
  return true;
}

}  // namespace ec
