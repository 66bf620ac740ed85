// Keyword search input: turns arbitrary user text into an SQLite FTS5 MATCH expression that can
// only ever mean "any of these words", for the chunk table
//   CREATE VIRTUAL TABLE ... USING fts5(text, tokenize='unicode61 remove_diacritics 2').
//
// FTS5 queries are a language (AND/OR/NOT, NEAR(...), column filters "col:", prefix "*", initial
// token "^", parentheses, "+"); passing user text through would let a query like `NEAR(a b` or
// `text:` fail with a syntax error or change what is searched. Every term is therefore emitted as
// an FTS5 string ("..."), inside which FTS5 recognises no syntax at all.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ec {

// Only this many leading bytes of the query are read, and longer terms are dropped: no real word
// is that long, and the bounds keep the expression (and FTS5's work on it) small.
inline constexpr size_t kMaxFtsQueryBytes = 64 * 1024;
inline constexpr size_t kMaxFtsTermBytes = 128;

// Splits user_query the way unicode61 would (ASCII letters and digits and non-ASCII letters form
// words; ASCII punctuation, Latin-1 and general punctuation, symbols, emoji and invalid UTF-8
// separate them), lower-cases ASCII, drops duplicates (first occurrence wins), keeps the first
// max_terms, quotes each term (doubling any '"') and joins them with " OR ".
//
// OR, not AND (FTS5's implicit operator): a question rarely shares every word with the passage
// that answers it, so AND would miss most relevant chunks; bm25() already ranks chunks that match
// more (and rarer) terms higher, which gives the precision back. Stop words are kept: bm25's IDF
// makes them nearly free, and some queries consist of little else ("The Who").
//
// Returns "" when there are no terms; callers then skip keyword search (an empty MATCH is an
// FTS5 syntax error).
std::string fts5_match_query(std::string_view user_query, size_t max_terms = 32);

}  // namespace ec
