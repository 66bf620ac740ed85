// The offline embedder: a LEXICAL (not neural) text embedding built from hashed word and character
// n-grams. It stands in for Workers AI embeddings when no AI binding is available (DESIGN §4), so
// `npm start` retrieves something sensible with no account. It matches shared words and word
// fragments (retrieve ~ retrieval), never meaning (car !~ automobile); responses name it by
// kLexicalEmbedderModel so nobody mistakes it for a neural model.
//
// Features (all on case- and diacritic-folded text, see lexical_words):
//   - word unigrams (English stop words down-weighted),
//   - word bigrams of adjacent words,
//   - character 3-grams of each word with boundary markers ("^ca", "cat", "at$"), counted in code
//     points so non-Latin scripts get whole-character trigrams.
// Each feature is hashed with 64-bit FNV-1a, finalised by the MurmurHash3 fmix64 mixer (FNV alone
// has weak low bits), to one of kEmbeddingDims dimensions with a hash-derived sign (±1, the
// "hashing trick", so collisions cancel in expectation instead of adding up). A feature seen tf
// times contributes weight * (1 + ln tf); the vector is then L2-normalised.
//
// Deterministic across native and Wasm builds: no std::hash, no libm transcendental (ln is computed
// with basic IEEE operations only), a fixed summation order, and no FMA contraction.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ec {

inline constexpr size_t kEmbeddingDims = 768;

// Stable model id, recorded next to every stored vector: vectors from different models or versions
// must never be compared. Bump the version whenever features, weights or hashing change.
inline constexpr std::string_view kLexicalEmbedderModel = "edgechat-lexical-hash-768-v1";

// Only this many leading bytes are embedded, as neural embedders stop at their token limit;
// callers chunk documents long before this.
inline constexpr size_t kMaxLexicalInputBytes = 256 * 1024;

// Reusable working memory. Keeping one per worker makes embedding allocation-free after warm-up.
struct LexicalScratch {
  std::vector<uint64_t> features;   // hashed feature ids (low 2 bits: weight class)
  std::vector<double> acc;          // kEmbeddingDims accumulators
  std::string word;                 // current folded word, with trigram boundary markers
  std::vector<uint32_t> cp_starts;  // byte offset of each code point in `word`
};

// Writes kEmbeddingDims floats to out: unit L2 norm, or all zeros when the text has no word
// characters (empty, whitespace, punctuation only).
void embed_lexical(std::string_view text, float* out, LexicalScratch& scratch);
void embed_lexical(std::string_view text, float* out);

// The folded words the embedder sees, in order: ASCII and Latin-1/Latin Extended-A letters are
// lower-cased and stripped of diacritics ("Ærø Café" -> "aero", "cafe"; "ß" -> "ss"), Greek and
// Cyrillic capitals are lower-cased, combining marks (U+0300..U+036F) are dropped, and words are
// split at ASCII non-alphanumerics, Latin-1 symbols, general/CJK punctuation and invalid UTF-8.
// Other scripts pass through unchanged. Exposed for tests and keyword search.
std::vector<std::string> lexical_words(std::string_view text);

// True for the code points lexical_words splits at (ASCII non-alphanumerics, Latin-1 symbols,
// general and CJK punctuation, emoji; kUtf8Invalid too). The FTS5 query builder uses the same set
// to approximate SQLite's unicode61 tokenizer.
bool is_word_separator(uint32_t cp);

}  // namespace ec
