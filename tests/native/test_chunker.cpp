// chunk_text: its guarantees checked as properties over thousands of generated texts (prose,
// headings, multi-byte UTF-8, over-long words, whitespace runs, invalid bytes), then exact
// boundaries on small cases and a few realistic passages.
#include "support/utf8_oracle.hpp"

#include <catch2/catch.hpp>

#include "text/chunker.hpp"

#include <algorithm>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

using ec::Chunk;
using ec::ChunkOptions;
using ec::ExtractedText;
using ec::Heading;

using ec::testing::ref_seq_len;
using ec::testing::valid_utf8;

namespace {

constexpr size_t kNone = static_cast<size_t>(-1);

bool ws(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// Code-point index of every byte offset that is a code-point boundary (kNone inside one); each
// invalid byte counts as one code point.
std::vector<size_t> cp_index(std::string_view s) {
  std::vector<size_t> idx(s.size() + 1, kNone);
  size_t i = 0, n = 0;
  while (i < s.size()) {
    idx[i] = n++;
    const size_t len = ref_seq_len(s, i);
    i += len == 0 ? 1 : len;
  }
  idx[s.size()] = n;
  return idx;
}

// Titles of the headings in effect at byte p (headings at offsets <= p; level L closes >= L).
std::vector<std::string> ref_path(const ExtractedText& doc, size_t p) {
  std::vector<const Heading*> open;
  for (const Heading& h : doc.headings) {
    if (h.offset > p) break;
    while (!open.empty() && open.back()->level >= h.level) open.pop_back();
    open.push_back(&h);
  }
  std::vector<std::string> out;
  for (const Heading* h : open) out.push_back(h->title);
  return out;
}

size_t section_of(const ExtractedText& doc, size_t p) {
  size_t s = 0;
  while (s < doc.headings.size() && doc.headings[s].offset <= p) ++s;
  return s;
}

// The first violated guarantee, or "" when all hold. Assumes doc.headings are well formed.
std::string violation(const ExtractedText& doc, const ChunkOptions& opt,
                      const std::vector<Chunk>& cs) {
  const std::string& t = doc.text;
  const std::vector<size_t> idx = cp_index(t);
  const bool input_valid = valid_utf8(t);
  std::vector<int> cover(t.size() + 1, 0);
  for (size_t k = 0; k < cs.size(); ++k) {
    const Chunk& c = cs[k];
    const std::string at = "chunk " + std::to_string(k) + ": ";
    if (c.index != k) return at + "index " + std::to_string(c.index);
    if (!(c.start < c.end && c.end <= t.size())) return at + "bad byte range";
    if (idx[c.start] == kNone || idx[c.end] == kNone) return at + "not on a code-point boundary";
    if (c.char_start != idx[c.start] || c.char_end != idx[c.end]) return at + "char offsets";
    if (c.char_end - c.char_start > opt.max_chars) return at + "longer than max_chars";
    if (ws(t[c.start]) || ws(t[c.end - 1])) return at + "not trimmed / whitespace only";
    const std::string_view text = std::string_view(t).substr(c.start, c.end - c.start);
    if (input_valid && !valid_utf8(text)) return at + "invalid UTF-8";
    if (section_of(doc, c.start) != section_of(doc, c.end - 1)) {
      // Only a pack of whole small sections may straddle headings: it shares no text with its
      // neighbours, and each of its sections is under max_chars / 8 code points.
      if (k > 0 && cs[k - 1].end > c.start) return at + "pack overlaps the previous chunk";
      if (k + 1 < cs.size() && cs[k + 1].start < c.end) return at + "pack overlaps the next one";
      for (size_t s = section_of(doc, c.start); s <= section_of(doc, c.end - 1); ++s) {
        const size_t lo = std::max(c.start, s == 0 ? size_t{0} : doc.headings[s - 1].offset);
        size_t hi = std::min(c.end, s < doc.headings.size() ? doc.headings[s].offset : c.end);
        while (hi > lo && ws(t[hi - 1])) --hi;
        if (lo < hi && idx[hi] - idx[lo] >= std::max<size_t>(opt.max_chars / 8, 1))
          return at + "packs a section that is not small";
      }
    }
    if (c.heading_path != ref_path(doc, c.start)) return at + "heading path";
    ++cover[c.start];
    --cover[c.end];
    if (k == 0 || section_of(doc, cs[k - 1].start) != section_of(doc, c.start)) continue;
    const Chunk& p = cs[k - 1];
    if (c.start <= p.start || c.end <= p.end) return at + "goes backwards";
    if (c.start < p.end) {
      if (p.char_end - c.char_start > opt.overlap) return at + "overlap too long";
      // A mid-word start is only allowed when the overlap window has no word boundary.
      const bool mid_word = !ws(t[c.start - 1]);
      if (mid_word && std::any_of(t.begin() + c.start, t.begin() + p.end, ws))
        return at + "overlap not snapped to a word";
    }
  }
  int depth = 0;
  for (size_t i = 0; i < t.size(); ++i) {
    depth += cover[i];
    if (depth == 0 && !ws(t[i])) return "byte " + std::to_string(i) + " not covered";
  }
  return "";
}

std::vector<Chunk> chunks_of(const ExtractedText& doc, ChunkOptions opt) {
  auto r = ec::chunk_text(doc, opt);
  REQUIRE(r.ok());
  return std::move(r.value());
}

std::vector<std::string> texts_of(const ExtractedText& doc, const std::vector<Chunk>& cs) {
  std::vector<std::string> out;
  for (const Chunk& c : cs) out.emplace_back(ec::chunk_view(doc, c));
  return out;
}

using Strings = std::vector<std::string>;
Strings split(const std::string& text, ChunkOptions opt) {
  const ExtractedText doc{text, {}, "text"};
  return texts_of(doc, chunks_of(doc, opt));
}

// {start, end, char_start, char_end} of each chunk.
using Ranges = std::vector<std::vector<size_t>>;
Ranges ranges(const ExtractedText& doc, ChunkOptions opt) {
  Ranges out;
  for (const Chunk& c : chunks_of(doc, opt))
    out.push_back({c.start, c.end, c.char_start, c.char_end});
  return out;
}

ExtractedText plain(std::string text) { return ExtractedText{std::move(text), {}, "text"}; }

// Markdown-like documents with everything the chunker must survive.
class Gen {
 public:
  explicit Gen(uint32_t seed) : rng_(seed) {}
  size_t pick(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }

  std::string word(size_t max_chars) {
    static const char* kPieces[] = {"é", "ñ", "Ω", "ж", "日本", "語", "😀", "🚀", "👍🏽", "ß"};
    std::string w;
    // Now and then a word longer than a whole chunk.
    const size_t len = pick(40) == 0 ? 1 + pick(3 * max_chars) : 1 + pick(9);
    for (size_t i = 0; i < len; ++i) {
      if (pick(5) == 0)
        w += kPieces[pick(std::size(kPieces))];
      else
        w += static_cast<char>('a' + pick(26));
    }
    return w;
  }

  ExtractedText doc(size_t max_chars) {
    static const char* kGaps[] = {" ", " ", " ", " ", "  ", "\t", " \t  ", "\n"};
    static const char* kEnds[] = {". ", "! ", "? ", "。", "！", "？", ".\n", " "};
    static const char* kParas[] = {"\n\n", "\n", "\n\n\n", "\n \n\n", "   \n\n"};
    ExtractedText d;
    d.format = "markdown";
    std::string& t = d.text;
    const size_t paras = pick(12);
    for (size_t p = 0; p < paras; ++p) {
      if (pick(4) == 0) {
        Heading h{static_cast<int>(1 + pick(4)), word(8), t.size()};
        t += std::string(h.level, '#') + " " + h.title + "\n\n";
        d.headings.push_back(std::move(h));
      }
      const size_t sentences = 1 + pick(6);
      for (size_t s = 0; s < sentences; ++s) {
        const size_t words = 1 + pick(15);
        for (size_t w = 0; w < words; ++w) t += word(max_chars) + kGaps[pick(std::size(kGaps))];
        t += kEnds[pick(std::size(kEnds))];
      }
      t += kParas[pick(std::size(kParas))];
      if (pick(15) == 0) t += std::string(1 + pick(3 * max_chars), pick(2) ? ' ' : '\n');
    }
    return d;
  }

  // Arbitrary bytes, biased towards the ones UTF-8 decoding gets wrong.
  std::string bytes() {
    static const char* kTricky[] = {"\xE2\x82",
                                    "\xF0\x9F\x98",
                                    "\xC0\xAF",
                                    "\xED\xA0\x80",
                                    "\xF4\x90\x80\x80",
                                    "\x80",
                                    "\xFF",
                                    "😀",
                                    "é",
                                    " ",
                                    "\n\n"};
    std::string s;
    const size_t n = pick(200);
    for (size_t i = 0; i < n; ++i) {
      if (pick(3) == 0)
        s += kTricky[pick(std::size(kTricky))];
      else if (pick(2) == 0)
        s += static_cast<char>(pick(256));
      else
        s += static_cast<char>('a' + pick(26));
    }
    return s;
  }

 private:
  std::mt19937 rng_;
};

const ChunkOptions kOptionSets[] = {{512, 64}, {100, 20}, {32, 8},  {10, 3}, {5, 0},
                                    {1, 0},    {2, 1},    {64, 63}, {40, 0}, {8192, 1024}};

// Documents for large budgets hold words longer than the budget, so they are big: fewer of them
// keep the suite fast under sanitizers without losing any kind of input.
uint32_t seeds_for(const ChunkOptions& opt) { return opt.max_chars >= 512 ? 25 : 120; }

}  // namespace

TEST_CASE("chunk_text: properties hold over generated Markdown-like documents", "[chunker]") {
  for (const ChunkOptions& opt : kOptionSets) {
    for (uint32_t seed = 1; seed <= seeds_for(opt); ++seed) {
      Gen gen(seed * 7919 + static_cast<uint32_t>(opt.max_chars));
      const ExtractedText doc = gen.doc(opt.max_chars);
      INFO("max_chars=" << opt.max_chars << " overlap=" << opt.overlap << " seed=" << seed);
      REQUIRE(valid_utf8(doc.text));
      const std::vector<Chunk> cs = chunks_of(doc, opt);
      REQUIRE(violation(doc, opt, cs) == "");
    }
  }
}

TEST_CASE("chunk_text: properties hold over invalid UTF-8 and arbitrary bytes", "[chunker]") {
  for (const ChunkOptions& opt : kOptionSets) {
    for (uint32_t seed = 1; seed <= 100; ++seed) {
      Gen gen(seed);
      const ExtractedText doc = plain(gen.bytes());
      INFO("max_chars=" << opt.max_chars << " overlap=" << opt.overlap << " seed=" << seed);
      REQUIRE(violation(doc, opt, chunks_of(doc, opt)) == "");
    }
  }
}

// Valid UTF-8 takes a word-at-a-time path; one invalid byte in a section of its own sends the
// whole text through the byte-by-byte decoder. Both must cut the other sections identically.
TEST_CASE("chunk_text: the fast path for valid UTF-8 agrees with the general path", "[chunker]") {
  for (const ChunkOptions& opt : kOptionSets) {
    for (uint32_t seed = 1; seed <= seeds_for(opt) / 2; ++seed) {
      Gen gen(seed);
      const ExtractedText doc = gen.doc(opt.max_chars);
      ExtractedText tainted = doc;
      tainted.headings.push_back(Heading{1, "tail", doc.text.size() + 2});
      // Large enough (max_chars / 4 ≥ max_chars / 8) not to be packed with a small section
      // before it.
      tainted.text += "\n\n\xFF" + std::string(opt.max_chars / 4, 'z');
      INFO("max_chars=" << opt.max_chars << " overlap=" << opt.overlap << " seed=" << seed);
      const std::vector<Chunk> fast = chunks_of(doc, opt);
      std::vector<Chunk> general = chunks_of(tainted, opt);
      REQUIRE_FALSE(general.empty());
      general.pop_back();  // the "\xFF" chunk
      auto same = [](const Chunk& a, const Chunk& b) {
        return a.start == b.start && a.end == b.end && a.char_start == b.char_start &&
               a.char_end == b.char_end && a.heading_path == b.heading_path;
      };
      REQUIRE(general.size() == fast.size());
      REQUIRE(std::equal(fast.begin(), fast.end(), general.begin(), same));
    }
  }
}

TEST_CASE("chunk_text: the property checker itself catches broken chunk lists", "[chunker]") {
  const ExtractedText doc = plain("héllo wörld 😀 again");
  const ChunkOptions opt{8, 2};
  std::vector<Chunk> cs = chunks_of(doc, opt);
  REQUIRE(violation(doc, opt, cs) == "");
  REQUIRE(cs.size() >= 3);
  auto broken = [&](auto mutate) {
    std::vector<Chunk> copy = cs;
    mutate(copy);
    return violation(doc, opt, copy);
  };
  CHECK(broken([](auto& v) { v.pop_back(); }) != "");                 // coverage
  CHECK(broken([](auto& v) { v[1].index = 7; }) != "");               // index
  CHECK(broken([](auto& v) { v[0].end = 2; }) != "");                 // inside 'é'
  CHECK(broken([](auto& v) { v[0].char_end += 1; }) != "");           // char offsets
  CHECK(broken([](auto& v) { v[1].start = v[0].start; }) != "");      // backwards
  CHECK(broken([](auto& v) { v[0].heading_path = {"x"}; }) != "");    // path
  CHECK(broken([&](auto& v) { v[0].end = doc.text.size(); }) != "");  // too long
}

TEST_CASE("chunk_text: option validation", "[chunker]") {
  const ExtractedText doc = plain("some text");
  auto error_fields = [&](ChunkOptions opt) {
    auto r = ec::chunk_text(doc, opt);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().status == 400);
    CHECK(r.error().code == "validation.failed");
    return r.error().fields;
  };
  CHECK(error_fields({0, 0}).contains("max_chars"));
  CHECK(error_fields({8193, 64}).contains("max_chars"));
  CHECK(error_fields({64, 64}).contains("overlap"));
  CHECK(error_fields({64, 100}).contains("overlap"));
  CHECK_FALSE(error_fields({64, 100}).contains("max_chars"));
  CHECK(ec::chunk_text(doc, {8192, 8191}).ok());
  CHECK(ec::chunk_text(doc, {1, 0}).ok());
  CHECK(ec::chunk_text(doc, {}).ok());
  CHECK(ChunkOptions{}.max_chars == 512);
  CHECK(ChunkOptions{}.overlap == 64);
}

TEST_CASE("chunk_text: empty, blank and short texts", "[chunker]") {
  CHECK(chunks_of(plain(""), {}).empty());
  CHECK(chunks_of(plain(" \n\n\t  \n"), {}).empty());
  const auto cs = chunks_of(plain("  Hello, world.  \n"), {});
  REQUIRE(cs.size() == 1);
  CHECK(cs[0].heading_path.empty());
  CHECK(ranges(plain("  Hello, world.  \n"), {}) == Ranges{{2, 15, 2, 15}});
}

TEST_CASE("chunk_text: prefers blank lines, then lines, then sentences, then words", "[chunker]") {
  const ChunkOptions opt{30, 0};
  CHECK(split("First para here.\nline two\n\nSecond para.", opt) ==
        Strings{"First para here.\nline two", "Second para."});
  // The blank line wins even though a later single newline would give a fuller chunk.
  CHECK(split("Intro para.\n\nline one\nline two\nline three", opt) ==
        Strings{"Intro para.", "line one\nline two\nline three"});
  CHECK(split("one line of text\nanother line of text\nthird", opt) ==
        Strings{"one line of text", "another line of text\nthird"});
  CHECK(split("Short one. Then another! And a third? Yes.", opt) ==
        Strings{"Short one. Then another!", "And a third? Yes."});
  CHECK(split("alpha beta gamma delta epsilon zeta eta theta", {16, 0}) ==
        Strings{"alpha beta gamma", "delta epsilon", "zeta eta theta"});
  CHECK(split("東京です。大阪です。京都です。", {12, 0}) ==
        Strings{"東京です。大阪です。", "京都です。"});
}

TEST_CASE("chunk_text: overlap snaps forward to a word start", "[chunker]") {
  CHECK(split("alpha beta gamma delta epsilon zeta eta theta", {20, 8}) ==
        Strings{"alpha beta gamma", "gamma delta epsilon", "epsilon zeta eta", "eta theta"});
  // A lone title line is not repeated as the next chunk's overlap.
  CHECK(split("Title\n\nfirst words of a long paragraph", {24, 8}) ==
        Strings{"Title", "first words of a long", "a long paragraph"});
}

TEST_CASE("chunk_text: words longer than a chunk split on code points", "[chunker]") {
  CHECK(ranges(plain(std::string(25, 'x')), {10, 3}) ==
        Ranges{{0, 10, 0, 10}, {7, 17, 7, 17}, {14, 24, 14, 24}, {21, 25, 21, 25}});
  std::string emoji;
  for (int i = 0; i < 12; ++i) emoji += "😀";
  CHECK(ranges(plain(emoji), {5, 0}) == Ranges{{0, 20, 0, 5}, {20, 40, 5, 10}, {40, 48, 10, 12}});
}

TEST_CASE("chunk_text: each invalid byte is one code point", "[chunker]") {
  const ExtractedText doc = plain(
      "ab\xE2\x82"
      "cd\xF0\x9F\x98");  // truncated 3- and 4-byte
  CHECK(ranges(doc, {3, 0}) == Ranges{{0, 3, 0, 3}, {3, 6, 3, 6}, {6, 9, 6, 9}});
  CHECK(ranges(plain("\xC0\xAF \xED\xA0\x80"), {8, 2}) ==
        Ranges{{0, 6, 0, 6}});  // overlong, surrogate
}

TEST_CASE("chunk_text: heading paths and sections on a Markdown example", "[chunker]") {
  ExtractedText doc{"", {}, "markdown"};
  auto add = [&](int level, std::string title, std::string body) {
    if (level > 0) {
      doc.headings.push_back(Heading{level, title, doc.text.size()});
      doc.text += std::string(level, '#') + " " + title + "\n\n";
    }
    doc.text += body + "\n\n";
  };
  add(0, "", "Intro text.");
  add(1, "Guide", "Guide intro.");
  add(2, "Install", "Run it.");
  add(3, "Linux", "Use apt.");
  add(2, "Usage", "Call it.");
  add(1, "FAQ", "Ask.");
  using P = std::vector<std::string>;
  // With the default 512 these six tiny sections pack into one chunk (see the heading-flood test);
  // a budget they are not small for shows the sections and paths of ordinary documents.
  const auto packed = chunks_of(doc, {});
  REQUIRE(violation(doc, {}, packed) == "");
  REQUIRE(packed.size() == 1);
  CHECK(packed[0].heading_path == P{});
  CHECK(ec::chunk_view(doc, packed[0]) ==
        std::string_view(doc.text).substr(0, doc.text.size() - 2));
  const ChunkOptions opt{40, 8};
  const auto cs = chunks_of(doc, opt);
  REQUIRE(violation(doc, opt, cs) == "");
  CHECK(texts_of(doc, cs) == P{"Intro text.", "# Guide\n\nGuide intro.", "## Install\n\nRun it.",
                               "### Linux\n\nUse apt.", "## Usage\n\nCall it.", "# FAQ\n\nAsk."});
  REQUIRE(cs.size() == 6);
  CHECK(cs[0].heading_path == P{});
  CHECK(cs[1].heading_path == P{"Guide"});
  CHECK(cs[2].heading_path == P{"Guide", "Install"});
  CHECK(cs[3].heading_path == P{"Guide", "Install", "Linux"});
  CHECK(cs[4].heading_path == P{"Guide", "Usage"});
  CHECK(cs[5].heading_path == P{"FAQ"});
}

TEST_CASE("chunk_text: hostile heading offsets are clamped, not trusted", "[chunker]") {
  ExtractedText doc = plain("héllo wörld. 日本語のテキスト。 more words here");
  doc.headings = {{1, "A", 2}, {2, "B", 40}, {1, "C", 7}, {3, "D", 5000}};  // 2: inside 'é'
  const auto cs = chunks_of(doc, {8, 2});
  REQUIRE_FALSE(cs.empty());
  const std::vector<size_t> idx = cp_index(doc.text);
  for (const Chunk& c : cs) {
    CHECK(idx[c.start] != kNone);
    CHECK(idx[c.end] != kNone);
    CHECK(valid_utf8(ec::chunk_view(doc, c)));
    CHECK(c.char_end - c.char_start <= 8);
  }
  CHECK(cs.back().end == doc.text.size());
}

// Realistic passages: sentences shorter than the budget must never be cut mid-sentence.
TEST_CASE("chunk_text: realistic passages end chunks at sentence ends", "[chunker]") {
  const ExtractedText en = plain(
      "Cloudflare Workers run JavaScript and WebAssembly at the edge. Each request gets a fresh "
      "isolate? No: isolates are reused across requests, which is why global state must be "
      "treated with care. Durable Objects give you a single point of coordination! They hold "
      "state in memory and persist it to storage.\n\nD1 is a SQLite database. It is the source "
      "of truth for users and documents. KV caches are eventually consistent.");
  const ExtractedText ja = plain(
      "東京は日本の首都です。人口は約千四百万人です。多くの企業が本社を置いています！"
      "観光客にも人気があります。夏は暑く、冬は比較的穏やかです。交通網が発達していますか？はい。");
  // Budgets chosen so that max_chars - overlap exceeds the longest sentence of each passage.
  const std::pair<const ExtractedText*, ChunkOptions> cases[] = {{&en, {120, 20}}, {&en, {160, 40}},
                                                                 {&en, {250, 64}}, {&ja, {40, 0}},
                                                                 {&ja, {30, 8}},   {&ja, {24, 5}}};
  for (const auto& [doc, opt] : cases) {
    const auto cs = chunks_of(*doc, opt);
    INFO(doc->text.substr(0, 20) << " max_chars=" << opt.max_chars);
    REQUIRE(violation(*doc, opt, cs) == "");
    REQUIRE(cs.size() >= 2);
    for (const std::string& s : texts_of(*doc, cs)) {
      const bool ends = s.ends_with(".") || s.ends_with("!") || s.ends_with("?") ||
                        s.ends_with("。") || s.ends_with("！") || s.ends_with("？");
      CHECK(ends);
    }
  }
}

namespace {

// One chunk per heading would make a 400 KB heading flood 100,000 chunks (and D1 rows).
void check_packed(const ExtractedText& doc, const ChunkOptions& opt) {
  const auto cs = chunks_of(doc, opt);
  REQUIRE(violation(doc, opt, cs) == "");
  const size_t chars = cp_index(doc.text).back();
  INFO("chars=" << chars << " chunks=" << cs.size());
  // Cuts at blank lines and the overlap leave each chunk a little short of the budget.
  CHECK(cs.size() <= chars * 5 / 4 / (opt.max_chars - opt.overlap) + 2);
  CHECK(cs.size() >= chars / (opt.max_chars + 1));
}

}  // namespace

TEST_CASE("chunk_text: a flood of one-word headings packs into full-size chunks", "[chunker]") {
  for (const std::string& mark : {std::string("# "), std::string("## ")}) {
    ExtractedText doc{"", {}, "markdown"};
    for (int i = 0; i < 20000; ++i) {
      doc.headings.push_back(
          Heading{static_cast<int>(mark.size() - 1), "w" + std::to_string(i), doc.text.size()});
      doc.text += mark + "w" + std::to_string(i) + "\n";
    }
    check_packed(doc, {});
    check_packed(doc, {100, 20});
    const auto cs = chunks_of(doc, {});
    CHECK(cs.front().heading_path == std::vector<std::string>{"w0"});  // its first section's
  }
}

TEST_CASE("chunk_text: one-word lines and tiny paragraphs make full-size chunks", "[chunker]") {
  std::string lines, paras;
  for (int i = 0; i < 20000; ++i) {
    lines += "word" + std::to_string(i) + "\n";
    paras += "wörd" + std::to_string(i) + ".\n\n";
  }
  check_packed(plain(lines), {});
  check_packed(plain(paras), {});
  check_packed(plain(paras), {64, 0});
}

TEST_CASE("chunk_text: small sections beside large ones keep their own chunks", "[chunker]") {
  ExtractedText doc{"", {}, "markdown"};
  const std::string body(300, 'x');
  for (int i = 0; i < 3; ++i) {
    doc.headings.push_back(Heading{1, "big" + std::to_string(i), doc.text.size()});
    doc.text += "# big\n\n" + body + "\n\n";
    doc.headings.push_back(Heading{2, "a", doc.text.size()});
    doc.text += "## a\n\n";
    doc.headings.push_back(Heading{2, "b", doc.text.size()});
    doc.text += "## b\n\n";
  }
  const auto cs = chunks_of(doc, {});
  REQUIRE(violation(doc, {}, cs) == "");
  REQUIRE(cs.size() == 6);  // each large section alone, each pair of small ones packed
  CHECK(ec::chunk_view(doc, cs[1]) == "## a\n\n## b");
  CHECK(cs[1].heading_path == std::vector<std::string>{"big0", "a"});
}

TEST_CASE("chunk_text: short real sections keep their own chunks and heading paths", "[chunker]") {
  ExtractedText doc{"", {}, "markdown"};
  doc.headings.push_back(Heading{1, "Sourdough", 0});
  doc.text =
      "# Sourdough\n\nFeed the sourdough starter with flour and water every day. A healthy starter "
      "doubles in size within eight hours.\n\n";
  doc.headings.push_back(Heading{2, "Baking", doc.text.size()});
  doc.text +=
      "## Baking\n\nBake the loaf in a preheated dutch oven at 250 degrees for twenty minutes "
      "with the lid on.";
  const auto cs = chunks_of(doc, {});
  REQUIRE(violation(doc, {}, cs) == "");
  REQUIRE(cs.size() == 2);
  CHECK(cs[1].heading_path == std::vector<std::string>{"Sourdough", "Baking"});
}
