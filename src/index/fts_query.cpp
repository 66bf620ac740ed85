#include "index/fts_query.hpp"

#include "index/lexical_embedder.hpp"

#include "core/utf8.hpp"

#include <cstdint>
#include <unordered_set>
#include <vector>

namespace ec {
namespace {

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
    if (is_word_separator(cp)) {
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
