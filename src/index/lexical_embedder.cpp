// Lexical hashed n-gram embedder: see lexical_embedder.hpp for the feature set and why it is
// deterministic. Everything here is integer arithmetic except the final accumulation, which runs in
// a fixed order with basic IEEE double operations only.
#include "index/lexical_embedder.hpp"

#include "core/det_math.hpp"
#include "core/utf8.hpp"

#include <algorithm>
#include <array>
#include <cmath>

#if defined(__clang__)
#pragma clang fp contract(off)  // a fused multiply-add would make native and Wasm results differ
#endif

namespace ec {
namespace {

constexpr uint64_t kFnvOffset = 0xcbf29ce484222325ULL;
constexpr uint64_t kFnvPrime = 0x100000001b3ULL;
// Distinct seeds keep the unigram "ab" and the trigram "ab" (and so on) apart.
constexpr uint64_t kUnigramSeed = kFnvOffset;
constexpr uint64_t kTrigramSeed = kFnvOffset ^ 0x5452494752414d53ULL;
constexpr uint64_t kBigramSalt = 0x424947524140d5a1ULL;

uint64_t fnv1a(std::string_view bytes, uint64_t seed) {
  uint64_t h = seed;
  for (char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= kFnvPrime;
  }
  return h;
}

// MurmurHash3's 64-bit finaliser: every input bit affects every output bit, so both the dimension
// (a modulus) and the sign (the top bit) are well distributed.
constexpr uint64_t fmix64(uint64_t k) {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdULL;
  k ^= k >> 33;
  k *= 0xc4ceb9fe1a85ec53ULL;
  k ^= k >> 33;
  return k;
}

// A feature id keeps its weight class in the low two bits; dimension and sign use the rest.
enum WeightClass : uint64_t { kUnigram = 0, kStopUnigram = 1, kBigram = 2, kTrigram = 3 };
constexpr double kClassWeight[4] = {1.0, 0.15, 0.6, 0.35};

constexpr uint64_t feature_id(uint64_t mixed, WeightClass cls) {
  return (mixed & ~uint64_t{3}) | cls;
}

// Function words dominate raw term counts without telling documents apart; their unigrams keep a
// small weight (a query of only stop words still matches something) and they get no trigrams.
constexpr std::array<std::string_view, 55> kStopWords = {
    "a",    "an",   "and",   "are",  "as",    "at",    "be",    "but",  "by",   "can",  "do",
    "for",  "from", "has",   "have", "he",    "her",   "his",   "how",  "i",    "if",   "in",
    "is",   "it",   "its",   "my",   "not",   "of",    "on",    "or",   "our",  "she",  "so",
    "that", "the",  "their", "them", "then",  "there", "these", "they", "this", "to",   "was",
    "we",   "were", "what",  "when", "where", "which", "who",   "why",  "will", "with", "you"};
static_assert(std::is_sorted(kStopWords.begin(), kStopWords.end()));

bool is_stop_word(std::string_view w) {
  return std::binary_search(kStopWords.begin(), kStopWords.end(), w);
}

// U+00C0..U+00FF and U+0100..U+017F folded to lower-case base letters. Upper-case codes expand:
// A=ae T=th S=ss J=ij O=oe; '*' (U+00D7 '×', U+00F7 '÷') separates words.
constexpr char kLatin1Fold[] = "aaaaaaAceeeeiiiidnooooo*ouuuuyTSaaaaaaAceeeeiiiidnooooo*ouuuuyTy";
constexpr char kLatinExtAFold[] =
    "aaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiiiiiiiiiJJjjkkklllllll"
    "lllnnnnnnnnnooooooOOrrrrrrssssssssttttttuuuuuuuuuuuuwwyyyzzzzzzs";
static_assert(sizeof(kLatin1Fold) == 65 && sizeof(kLatinExtAFold) == 129);

std::string_view expand_fold(const char& c) {
  switch (c) {
    case 'A':
      return "ae";
    case 'T':
      return "th";
    case 'S':
      return "ss";
    case 'J':
      return "ij";
    case 'O':
      return "oe";
    default:
      return std::string_view(&c, 1);
  }
}

// Greek letters with tonos/dialytika (and capitals thereof) to the plain lower-case letter, and
// final sigma to sigma. Other code points are returned unchanged.
uint32_t fold_greek_accent(uint32_t u) {
  struct Fold {
    uint16_t from, to;
  };
  static constexpr Fold kGreek[] = {{0x386, 0x3B1}, {0x3AC, 0x3B1}, {0x388, 0x3B5}, {0x3AD, 0x3B5},
                                    {0x389, 0x3B7}, {0x3AE, 0x3B7}, {0x38A, 0x3B9}, {0x3AA, 0x3B9},
                                    {0x3AF, 0x3B9}, {0x3CA, 0x3B9}, {0x390, 0x3B9}, {0x38C, 0x3BF},
                                    {0x3CC, 0x3BF}, {0x38E, 0x3C5}, {0x3AB, 0x3C5}, {0x3CD, 0x3C5},
                                    {0x3CB, 0x3C5}, {0x3B0, 0x3C5}, {0x38F, 0x3C9}, {0x3CE, 0x3C9},
                                    {0x3C2, 0x3C3}};
  for (const Fold& f : kGreek) {
    if (f.from == u) return f.to;
  }
  return u;
}

// Appends the folded form of a word code point to `word`, recording code point starts. Combining
// marks are dropped so decomposed "e\u0301" folds like precomposed "é".
void append_folded(uint32_t cp, std::string& word, std::vector<uint32_t>& cp_starts) {
  const auto push_ascii = [&](char c) {
    cp_starts.push_back(static_cast<uint32_t>(word.size()));
    word += c;
  };
  if (cp < 0x80) {
    push_ascii((cp >= 'A' && cp <= 'Z') ? static_cast<char>(cp + 32) : static_cast<char>(cp));
    return;
  }
  if (cp >= 0xC0 && cp <= 0x17F) {
    const char c = cp <= 0xFF ? kLatin1Fold[cp - 0xC0] : kLatinExtAFold[cp - 0x100];
    for (char e : expand_fold(c)) push_ascii(e);
    return;
  }
  if (cp >= 0x300 && cp <= 0x36F) return;
  uint32_t u = cp;
  if ((u >= 0x391 && u <= 0x3A9) || (u >= 0x410 && u <= 0x42F)) {
    u += 0x20;  // Greek and basic Cyrillic capitals
  } else if (u >= 0x400 && u <= 0x40F) {
    u += 0x50;  // Cyrillic Ѐ..Џ
  } else if (u >= 0x386 && u <= 0x3CE) {
    u = fold_greek_accent(u);
  }
  cp_starts.push_back(static_cast<uint32_t>(word.size()));
  append_utf8(word, u);
}

// Splits text into folded words and calls on_word(scratch) for each. scratch.word holds the word
// framed by boundary markers '\x02' and '\x03' (control bytes never occur inside a word), and
// scratch.cp_starts the start of each code point including both markers, plus the end offset.
template <typename OnWord>
void for_each_word(std::string_view text, LexicalScratch& s, OnWord&& on_word) {
  // A character cut in half by the limit decodes as invalid, i.e. as a separator.
  text = text.substr(0, std::min(text.size(), kMaxLexicalInputBytes));

  const auto reset = [&] {
    s.word.assign(1, '\x02');
    s.cp_starts.assign(1, 0);
  };
  const auto flush = [&] {
    if (s.cp_starts.size() > 1) {
      s.cp_starts.push_back(static_cast<uint32_t>(s.word.size()));
      s.word += '\x03';
      s.cp_starts.push_back(static_cast<uint32_t>(s.word.size()));
      on_word(s);
    }
    reset();
  };
  reset();
  for (size_t i = 0; i < text.size();) {
    uint32_t cp = 0;
    i += decode_utf8(text, i, cp);
    if (is_word_separator(cp)) {
      flush();
    } else {
      append_folded(cp, s.word, s.cp_starts);
    }
  }
  flush();
}

void collect_features(std::string_view text, LexicalScratch& s) {
  // English text yields about 1.2 features per byte (a word of c letters plus a separator gives c
  // trigrams, a unigram and a bigram), so one reservation almost always suffices.
  const size_t bytes = std::min(text.size(), kMaxLexicalInputBytes);
  s.features.clear();
  s.features.reserve(bytes + bytes / 4 + 16);
  bool have_prev = false;
  uint64_t prev = 0;
  for_each_word(text, s, [&](LexicalScratch& w) {
    const std::string_view framed = w.word;
    const std::string_view core = framed.substr(1, framed.size() - 2);
    const bool stop = is_stop_word(core);
    const uint64_t uni = fmix64(fnv1a(core, kUnigramSeed));
    w.features.push_back(feature_id(uni, stop ? kStopUnigram : kUnigram));
    if (have_prev) {
      w.features.push_back(
          feature_id(fmix64((prev * 0x9E3779B97F4A7C15ULL + uni) ^ kBigramSalt), kBigram));
    }
    prev = uni;
    have_prev = true;
    if (stop) return;
    // cp_starts has one entry per code point (markers included) plus the end offset.
    const size_t cps = w.cp_starts.size() - 1;
    for (size_t j = 0; j + 3 <= cps; ++j) {
      const std::string_view tri =
          framed.substr(w.cp_starts[j], w.cp_starts[j + 3] - w.cp_starts[j]);
      w.features.push_back(feature_id(fmix64(fnv1a(tri, kTrigramSeed)), kTrigram));
    }
  });
}

}  // namespace

void embed_lexical(std::string_view text, float* out, LexicalScratch& s) {
  collect_features(text, s);
  std::sort(s.features.begin(), s.features.end());  // groups equal features; order is fixed
  s.acc.assign(kEmbeddingDims, 0.0);
  for (size_t i = 0; i < s.features.size();) {
    size_t j = i + 1;
    while (j < s.features.size() && s.features[j] == s.features[i]) ++j;
    const uint64_t id = s.features[i];
    const double tf_weight = 1.0 + deterministic_ln(static_cast<double>(j - i));
    const double w = kClassWeight[id & 3] * tf_weight;
    const size_t dim = static_cast<size_t>((id >> 2) % kEmbeddingDims);
    s.acc[dim] += (id >> 63) ? -w : w;
    i = j;
  }
  double sq = 0;
  for (double v : s.acc) sq += v * v;
  if (sq == 0) {
    std::fill(out, out + kEmbeddingDims, 0.0f);
    return;
  }
  const double norm = std::sqrt(sq);  // sqrt is correctly rounded by IEEE 754
  for (size_t d = 0; d < kEmbeddingDims; ++d) out[d] = static_cast<float>(s.acc[d] / norm);
}

void embed_lexical(std::string_view text, float* out) {
  LexicalScratch scratch;
  embed_lexical(text, out, scratch);
}

std::vector<std::string> lexical_words(std::string_view text) {
  std::vector<std::string> words;
  LexicalScratch scratch;
  for_each_word(text, scratch, [&](LexicalScratch& w) {
    words.emplace_back(std::string_view(w.word).substr(1, w.word.size() - 2));
  });
  return words;
}

bool is_word_separator(uint32_t cp) {
  if (cp == kUtf8Invalid) return true;
  if (cp < 0x80) {
    return !((cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z'));
  }
  return cp < 0xC0                          // Latin-1 controls, NBSP, symbols, « » ¿ ¡
         || cp == 0xD7 || cp == 0xF7        // × ÷
         || (cp >= 0x2000 && cp <= 0x2BFF)  // punctuation, currency, arrows, math, shapes
         || (cp >= 0x2E00 && cp <= 0x2E7F)  // supplemental punctuation
         || (cp >= 0x3000 && cp <= 0x303F)  // CJK symbols and punctuation
         || cp == 0xFEFF || (cp >= 0xFFF0 && cp <= 0xFFFF)  // BOM, specials
         || (cp >= 0x1F000 && cp <= 0x1FAFF);               // emoji and pictographs
}

}  // namespace ec
