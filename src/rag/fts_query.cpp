#include "rag/fts_query.hpp"

#include "core/utf8.hpp"

#include <cstdint>
#include <unordered_set>
#include <vector>

namespace ec {
namespace {

// The separators unicode61 would also split on, approximated by block (a full Unicode category
// table is not worth its size here): getting one wrong only changes how a term is grouped, never
// safety, because every term is quoted and FTS5 re-tokenises the quoted text itself.
bool is_separator(uint32_t cp) {
  if (cp == kUtf8Invalid) return true;
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
  user_query = user_query.substr(0, utf8_prefix_bytes(user_query, kMaxFtsQueryBytes));

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
    uint32_t cp = 0;
    const size_t len = decode_utf8(user_query, i, cp);
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
