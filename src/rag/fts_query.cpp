#include "rag/fts_query.hpp"

#include <algorithm>
#include <cstdint>
#include <unordered_set>
#include <vector>

namespace ec {
namespace {

using u8 = unsigned char;

// Decodes the well-formed UTF-8 sequence at s[i] (no overlongs, surrogates or values above
// U+10FFFF), setting len; returns -1 with len = 1 if none starts there.
int32_t decode(std::string_view s, size_t i, size_t& len) {
  const auto b = static_cast<u8>(s[i]);
  len = 1;
  if (b < 0x80) return b;
  const size_t n = (b & 0xE0) == 0xC0 ? 2 : (b & 0xF0) == 0xE0 ? 3 : (b & 0xF8) == 0xF0 ? 4 : 0;
  if (n == 0 || s.size() - i < n) return -1;
  uint32_t cp = b & (0x7F >> n);
  for (size_t k = 1; k < n; ++k) {
    const auto c = static_cast<u8>(s[i + k]);
    if ((c & 0xC0) != 0x80) return -1;
    cp = (cp << 6) | (c & 0x3F);
  }
  const uint32_t min = n == 2 ? 0x80 : n == 3 ? 0x800 : 0x10000;
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return -1;
  len = n;
  return static_cast<int32_t>(cp);
}

// The separators unicode61 would also split on, approximated by block (a full Unicode category
// table is not worth its size here): getting one wrong only changes how a term is grouped, never
// safety, because every term is quoted and FTS5 re-tokenises the quoted text itself.
bool is_separator(int32_t cp) {
  if (cp < 0) return true;  // invalid UTF-8
  if (cp < 0x80) {
    return !((cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z'));
  }
  return cp < 0xC0                          // C1 controls, NBSP, Latin-1 punctuation and symbols
         || cp == 0xD7 || cp == 0xF7        // × ÷
         || (cp >= 0x2000 && cp <= 0x2BFF)  // punctuation, currency, arrows, math, shapes
         || (cp >= 0x2E00 && cp <= 0x2E7F)  // supplemental punctuation
         || (cp >= 0x3000 && cp <= 0x303F)  // CJK symbols and punctuation
         || cp == 0xFEFF || (cp >= 0xFFF0 && cp <= 0xFFFF)  // BOM, specials
         || (cp >= 0x1F000 && cp <= 0x1FAFF);               // emoji and pictographs
}

void append_quoted(std::string& out, std::string_view term) {
  out.push_back('"');
  for (char c : term) {
    // Unreachable with the separators above ('"' splits words); kept so the quoting stays correct
    // on its own if the tokenizer ever changes.
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

}  // namespace

std::string fts5_match_query(std::string_view user_query, size_t max_terms) {
  if (max_terms == 0) return {};
  user_query = user_query.substr(0, std::min(user_query.size(), kMaxFtsQueryBytes));

  std::vector<std::string> terms;  // in first-occurrence order
  std::unordered_set<std::string> seen;
  std::string term;
  const auto flush = [&] {
    if (!term.empty() && term.size() <= kMaxFtsTermBytes && seen.insert(term).second) {
      terms.push_back(term);
    }
    term.clear();
  };
  for (size_t i = 0; i < user_query.size() && terms.size() < max_terms;) {
    size_t len = 1;
    const int32_t cp = decode(user_query, i, len);
    if (is_separator(cp)) {
      flush();
    } else if (cp < 0x80) {
      const char c = static_cast<char>(cp);
      term.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c);
    } else {
      term.append(user_query.substr(i, len));
    }
    i += len;
  }
  if (terms.size() < max_terms) flush();

  std::string out;
  for (const std::string& t : terms) {
    if (!out.empty()) out += " OR ";
    append_quoted(out, t);
  }
  return out;
}

}  // namespace ec
