// The lexical embedder: deterministic, unit norm, folds case and diacritics, ranks shared words
// above unrelated text, and does not allocate per token.
#include <catch2/catch.hpp>

#include "index/lexical_embedder.hpp"

#include <array>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define EC_TEST_HAS_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define EC_TEST_HAS_ASAN 1
#endif
// The allocation-count test needs ASan's malloc hooks (the native-debug preset has them).
#if defined(EC_TEST_HAS_ASAN) && __has_include(<sanitizer/allocator_interface.h>)
#include <sanitizer/allocator_interface.h>
#define EC_TEST_COUNT_MALLOCS 1
#endif

using ec::embed_lexical;
using ec::kEmbeddingDims;
using ec::lexical_words;

namespace {

using Vec = std::array<float, kEmbeddingDims>;

Vec embed(std::string_view text) {
  Vec v;
  v.fill(-7.0f);  // garbage, so a function that forgets to write some output is caught
  embed_lexical(text, v.data());
  return v;
}

double dot(const Vec& a, const Vec& b) {
  double s = 0;
  for (size_t i = 0; i < kEmbeddingDims; ++i) s += double{a[i]} * double{b[i]};
  return s;
}

double norm(const Vec& a) { return std::sqrt(dot(a, a)); }

bool bitwise_equal(const Vec& a, const Vec& b) {
  return std::memcmp(a.data(), b.data(), sizeof(float) * kEmbeddingDims) == 0;
}

// FNV-1a over the float bit patterns: pins the exact output so a change in hashing, weights or
// float evaluation (native vs Wasm, compiler upgrade) shows up as a failing test.
uint64_t fingerprint(const Vec& v) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (float f : v) {
    uint32_t bits = 0;
    std::memcpy(&bits, &f, 4);
    for (int b = 0; b < 4; ++b) {
      h ^= (bits >> (8 * b)) & 0xFF;
      h *= 0x100000001b3ULL;
    }
  }
  return h;
}

std::string long_text(size_t words) {
  static const char* const kVocab[] = {"edge",   "worker", "vector", "índice", "Straße",
                                       "search", "token",  "query",  "the",    "document",
                                       "chunk",  "rank",   "fusion", "café",   "retrieval"};
  std::string s;
  for (size_t i = 0; i < words; ++i) {
    s += kVocab[(i * 7 + i / 13) % 15];
    s += (i % 11 == 10) ? ". " : " ";
  }
  return s;
}

}  // namespace

TEST_CASE("embed_lexical is deterministic and pinned", "[lexical_embedder]") {
  const std::string text = "Cloudflare Workers run WebAssembly at the edge; D1 stores the vectors.";
  const Vec a = embed(text);
  const Vec b = embed(text);
  CHECK(bitwise_equal(a, b));
  ec::LexicalScratch scratch;
  Vec c;
  embed_lexical("something else entirely", c.data(), scratch);
  embed_lexical(text, c.data(), scratch);  // a dirty scratch must not leak into the result
  CHECK(bitwise_equal(a, c));
  // Golden value: the same on every platform and build (see fingerprint()).
  CHECK(fingerprint(a) == 0xe6557a4ab1e7a523ULL);
}

TEST_CASE("embed_lexical output has unit L2 norm", "[lexical_embedder]") {
  const char* const texts[] = {"a",
                               "hello",
                               "The quick brown fox jumps over the lazy dog.",
                               "the the the the the",
                               "日本語のテキストも埋め込める",
                               "x1 y2 z3 1234567890 GPT-4o",
                               "Ünïcödé façade — naïve résumé"};
  for (const char* t : texts) {
    INFO(t);
    CHECK(std::fabs(norm(embed(t)) - 1.0) <= 1e-5);
  }
  const std::string big = long_text(5000);
  CHECK(std::fabs(norm(embed(big)) - 1.0) <= 1e-5);
}

TEST_CASE("text without word characters embeds to all zeros", "[lexical_embedder]") {
  for (const char* t : {"", " ", "\t\n\r  ", "... !!! ???", "\xE2\x80\x94 \xC2\xA0 \xFF\xFE"}) {
    INFO("input: " << t);
    const Vec v = embed(t);
    size_t nonzero = 0;
    for (float f : v) nonzero += (f != 0.0f);
    CHECK(nonzero == 0);
  }
}

TEST_CASE("related texts score higher than unrelated ones", "[lexical_embedder]") {
  struct Triple {
    const char* anchor;
    const char* related;
    const char* unrelated;
  };
  const Triple triples[] = {
      {"How do I reset my password?", "Password reset instructions for your account",
       "The quarterly revenue grew by twelve percent"},
      {"Cloudflare Workers run JavaScript at the edge",
       "Running JavaScript on Cloudflare's edge workers",
       "My grandmother bakes apple pie on Sundays"},
      {"retrieval augmented generation", "retrieving documents to augment generation",
       "the weather in Paris is sunny today"},
      {"refund policy for annual subscriptions", "Can I get a refund on my annual subscription?",
       "Install the SDK with npm and import the client"},
      {"Wie setze ich mein Passwort zurück?", "Passwort zurücksetzen",
       "Wie wird das Wetter morgen?"},
  };
  for (const Triple& t : triples) {
    INFO(t.anchor);
    const Vec a = embed(t.anchor);
    const double related = dot(a, embed(t.related));
    const double unrelated = dot(a, embed(t.unrelated));
    CHECK(related > unrelated);
    CHECK(related > 0.1);
  }
  // Word order matters a little (bigrams) but not much.
  const Vec x = embed("dog bites man");
  const Vec y = embed("man bites dog");
  CHECK(dot(x, y) < 0.9999);
  CHECK(dot(x, y) > 0.5);
}

TEST_CASE("case and diacritics fold to the same embedding", "[lexical_embedder]") {
  CHECK(bitwise_equal(embed("CAFÉ Crème Brûlée"), embed("cafe creme brulee")));
  CHECK(bitwise_equal(embed("Ærø STRASSE"), embed("aero Straße")));
  CHECK(bitwise_equal(embed("Łódź, Kraków"), embed("lodz krakow")));
  // Decomposed (NFD) input folds like precomposed (NFC).
  CHECK(bitwise_equal(embed("cafe\xCC\x81"), embed("caf\xC3\xA9")));
  CHECK(bitwise_equal(embed("ΑΘΗΝΑ"), embed("αθηνα")));
  CHECK(bitwise_equal(embed("МОСКВА"), embed("москва")));
  CHECK_FALSE(bitwise_equal(embed("cafe"), embed("cafes")));
}

TEST_CASE("lexical_words folds and splits", "[lexical_embedder]") {
  using W = std::vector<std::string>;
  CHECK(lexical_words("Hello, World!") == W{"hello", "world"});
  CHECK(lexical_words("Ærø Straße þorn") == W{"aero", "strasse", "thorn"});
  CHECK(lexical_words("Œuvre IJssel ſ") == W{"oeuvre", "ijssel", "s"});
  CHECK(lexical_words("a\xC3\x97"
                      "b c\xC3\xB7"
                      "d") == W{"a", "b", "c", "d"});  // × ÷
  CHECK(lexical_words("x\xFFy") == W{"x", "y"});       // invalid byte
  CHECK(lexical_words("x\xC0\xAFy") == W{"x", "y"});   // overlong '/'
  CHECK(lexical_words("l\xE2\x80\x99"
                      "eau") == W{"l", "eau"});  // ’
  CHECK(lexical_words("e\xCC\x81t\xC3\xA9") == W{"ete"});
  CHECK(lexical_words("Σοφός ΆΫ") == W{"σοφοσ", "αυ"});  // tonos dropped, ς -> σ
  CHECK(lexical_words("snake_case gpt-4o") == W{"snake", "case", "gpt", "4o"});
  CHECK(lexical_words("日本語") == W{"日本語"});
  CHECK(lexical_words("  \n ").empty());
}

TEST_CASE("input beyond kMaxLexicalInputBytes is ignored", "[lexical_embedder]") {
  std::string base = long_text(ec::kMaxLexicalInputBytes / 5);
  REQUIRE(base.size() >= ec::kMaxLexicalInputBytes);
  base.resize(ec::kMaxLexicalInputBytes - 1);
  base.back() = ' ';
  const Vec a = embed(base + "zebra");
  CHECK(bitwise_equal(a, embed(base + "zulu")));  // only the 'z' is inside the limit
  std::string early = base + "zebra";
  early[0] = 'Z';
  early[1] = 'Z';
  CHECK_FALSE(bitwise_equal(a, embed(early)));
}

TEST_CASE("a reused scratch makes embedding allocation-free", "[lexical_embedder]") {
  const std::string text = long_text(5000) + " supercalifragilisticexpialidocious-and-more";
  ec::LexicalScratch scratch;
  Vec v;
  embed_lexical(text, v.data(), scratch);
  const uint64_t* features = scratch.features.data();
  const size_t capacity = scratch.features.capacity();
  embed_lexical(text, v.data(), scratch);
  CHECK(scratch.features.data() == features);
  CHECK(scratch.features.capacity() == capacity);
  // One reservation from the text size, not geometric growth per token.
  CHECK(capacity <= text.size() * 3);
}

#if defined(EC_TEST_COUNT_MALLOCS)
namespace {
bool g_counting = false;
size_t g_mallocs = 0;
void count_malloc(const volatile void*, size_t) {
  if (g_counting) ++g_mallocs;
}
void ignore_free(const volatile void*) {}

size_t mallocs_during(const auto& fn) {
  static const bool installed =
      __sanitizer_install_malloc_and_free_hooks(count_malloc, ignore_free) != 0;
  REQUIRE(installed);
  g_mallocs = 0;
  g_counting = true;
  fn();
  g_counting = false;
  return g_mallocs;
}
}  // namespace

TEST_CASE("embedding allocates O(1) times, not per token", "[lexical_embedder]") {
  const std::string text = long_text(8000);  // 8,000 words, ~55,000 features
  Vec v;
  ec::LexicalScratch scratch;
  const size_t fresh = mallocs_during([&] { embed_lexical(text, v.data(), scratch); });
  CHECK(fresh >= 1);  // the hook really counts
  CHECK(fresh <= 32);
  const size_t reused = mallocs_during([&] { embed_lexical(text, v.data(), scratch); });
  CHECK(reused == 0);
  const size_t convenience = mallocs_during([&] { embed_lexical(text, v.data()); });
  CHECK(convenience <= 32);
}
#endif
