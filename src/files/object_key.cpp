#include "files/object_key.hpp"

#include <cstdint>

namespace ec {

namespace {

bool is_continuation(unsigned char c) { return (c & 0xC0) == 0x80; }

// Length of the well-formed UTF-8 sequence at s[i] (RFC 3629: no overlongs, no surrogates,
// nothing above U+10FFFF), or 0 if it is malformed. *cp receives the code point.
size_t utf8_sequence(std::string_view s, size_t i, uint32_t* cp) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const unsigned char lead = b(0);
  if (lead < 0x80) {
    *cp = lead;
    return 1;
  }
  // Sequence length, the payload bits of the lead byte, and the smallest code point that needs
  // this many bytes (anything below it is an overlong spelling).
  size_t len = 0;
  uint32_t min = 0;
  if ((lead & 0xE0) == 0xC0) {
    len = 2;
    min = 0x80;
    *cp = lead & 0x1F;
  } else if ((lead & 0xF0) == 0xE0) {
    len = 3;
    min = 0x800;
    *cp = lead & 0x0F;
  } else if ((lead & 0xF8) == 0xF0) {
    len = 4;
    min = 0x10000;
    *cp = lead & 0x07;
  } else {
    return 0;  // a continuation byte or 0xF8..0xFF where a sequence should start
  }
  if (s.size() - i < len) return 0;
  for (size_t k = 1; k < len; ++k) {
    if (!is_continuation(b(k))) return 0;
    *cp = (*cp << 6) | (b(k) & 0x3F);
  }
  if (*cp < min || *cp > 0x10FFFF || (*cp >= 0xD800 && *cp <= 0xDFFF)) return 0;
  return len;
}

// Code points that must not survive into a filename: controls, characters that are illegal or
// special in common filesystems and URLs, and invisible characters that reorder or break the
// displayed name.
bool is_unsafe(uint32_t cp) {
  constexpr std::string_view kForbiddenAscii = "<>:\"|?*%";
  if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F)) return true;  // C0, DEL, C1
  if (cp < 0x80) return kForbiddenAscii.find(static_cast<char>(cp)) != std::string_view::npos;
  return cp == 0x200E || cp == 0x200F ||    // LRM, RLM
         (cp >= 0x202A && cp <= 0x202E) ||  // bidi embeddings and overrides
         (cp >= 0x2066 && cp <= 0x2069) ||  // bidi isolates
         cp == 0x2028 || cp == 0x2029 ||    // line / paragraph separator
         cp == 0xFEFF;                      // BOM / zero-width no-break space
}

bool is_trimmed(char c) { return c == '.' || c == ' '; }

void trim_trailing(std::string& s) {
  while (!s.empty() && is_trimmed(s.back())) s.pop_back();
}

// Largest n <= limit such that s[0, n) ends on a code point boundary (s is valid UTF-8).
size_t boundary_at_most(std::string_view s, size_t limit) {
  if (s.size() <= limit) return s.size();
  size_t n = limit;
  while (n > 0 && is_continuation(static_cast<unsigned char>(s[n]))) --n;
  return n;
}

// Extensions longer than this are treated as part of the name when truncating.
constexpr size_t kMaxKeptExtension = 32;

std::string truncate_name(std::string name) {
  if (name.size() <= kMaxFilenameBytes) return name;
  const size_t dot = name.rfind('.');
  if (dot != std::string::npos && dot > 0 && name.size() - dot <= kMaxKeptExtension) {
    std::string ext = name.substr(dot);
    std::string stem = name.substr(0, dot);
    stem.resize(boundary_at_most(stem, kMaxFilenameBytes - ext.size()));
    trim_trailing(stem);
    if (!stem.empty()) return stem + ext;
  }
  name.resize(boundary_at_most(name, kMaxFilenameBytes));
  trim_trailing(name);
  return name;
}

// A clean key segment: non-empty, not hidden/relative, no separators, escapes or controls.
bool is_clean_segment(std::string_view seg) {
  if (seg.empty() || seg.front() == '.') return false;
  for (char ch : seg) {
    auto c = static_cast<unsigned char>(ch);
    if (c == '/' || c == '\\' || c == '%' || c < 0x20 || c == 0x7F) return false;
  }
  return true;
}

}  // namespace

Result<std::string> sanitize_filename(std::string_view name) {
  for (size_t i = 0; i < name.size();) {
    uint32_t cp = 0;
    const size_t len = utf8_sequence(name, i, &cp);
    if (len == 0) {
      return api_error(Err::files_invalid_filename);
    }
    i += len;
  }
  // Both separators, whatever the client OS: a Windows path arrives with '\'.
  const size_t sep = name.find_last_of("/\\");
  if (sep != std::string_view::npos) name.remove_prefix(sep + 1);

  std::string out;
  out.reserve(name.size());
  for (size_t i = 0; i < name.size();) {
    uint32_t cp = 0;
    const size_t len = utf8_sequence(name, i, &cp);
    if (is_unsafe(cp)) {
      out.push_back('_');
    } else if (cp == '.' && !out.empty() && out.back() == '.') {
      // collapse ".." (and longer runs) to a single '.'
    } else if (out.empty() && cp < 0x80 && is_trimmed(static_cast<char>(cp))) {
      // no leading dots (hidden files, "..") and no leading spaces
    } else {
      out.append(name.substr(i, len));
    }
    i += len;
  }
  trim_trailing(out);
  out = truncate_name(std::move(out));
  if (out.empty()) return std::string("file");
  return out;
}

std::string object_key(std::string_view user_id, std::string_view doc_id,
                       std::string_view safe_filename) {
  std::string key;
  key.reserve(user_id.size() + doc_id.size() + safe_filename.size() + 2);
  key.append(user_id).append("/").append(doc_id).append("/").append(safe_filename);
  return key;
}

bool key_belongs_to(std::string_view key, std::string_view user_id) {
  if (!is_clean_segment(user_id)) return false;
  if (key.size() <= user_id.size() || key.substr(0, user_id.size()) != user_id ||
      key[user_id.size()] != '/') {
    return false;
  }
  size_t segments = 0;
  size_t start = 0;
  while (true) {
    const size_t slash = key.find('/', start);
    const std::string_view seg =
        key.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (!is_clean_segment(seg)) return false;
    ++segments;
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return segments >= 3;  // user, document, filename
}

}  // namespace ec
