// Chunking in one forward pass per chunk window instead of LangChain's split-then-merge.
//
// LangChain splits a text on its coarsest separator, merges the small pieces greedily and recurses
// into the pieces that are still too big. Cutting each chunk at the *last* occurrence of the
// coarsest separator inside the window of max_chars code points gives the same boundaries (a small
// piece followed by a too-big one ends a chunk early in both), but needs no piece lists, no
// recursion and no allocation: each byte is classified once per window it falls in, and windows
// overlap only by the overlap region plus the tail after a cut.
#include "text/chunker.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <utility>

namespace ec {
namespace {

using u8 = unsigned char;

// ASCII byte classes, one table lookup per byte in the hot loop.
enum : uint8_t { kWs = 1, kNewline = 2, kStop = 4 };

constexpr std::array<uint8_t, 256> make_classes() {
  std::array<uint8_t, 256> c{};
  c[' '] = c['\t'] = c['\r'] = c['\f'] = c['\v'] = kWs;
  c['\n'] = kWs | kNewline;
  c['.'] = c['!'] = c['?'] = kStop;
  return c;
}
constexpr std::array<uint8_t, 256> kClass = make_classes();

inline bool is_ws(u8 b) { return (kClass[b] & kWs) != 0; }
inline bool is_cont(u8 b) { return (b & 0xC0) == 0x80; }

// Length of the code point at p: the length of a well-formed UTF-8 sequence (Unicode Table 3-7:
// no overlongs, no surrogates, nothing above U+10FFFF), or 1 for ASCII and for any byte that does
// not start one. `avail` bytes may be read, so a sequence truncated by the end is never overrun.
inline size_t cp_len(const u8* p, size_t avail) {
  const u8 b = p[0];
  if (b < 0xC2) return 1;  // ASCII, stray continuation byte, or overlong 2-byte lead
  if (b < 0xE0) return (avail >= 2 && is_cont(p[1])) ? 2 : 1;
  if (b < 0xF0) {
    if (avail < 3) return 1;
    const u8 lo = b == 0xE0 ? 0xA0 : 0x80, hi = b == 0xED ? 0x9F : 0xBF;
    return (p[1] >= lo && p[1] <= hi && is_cont(p[2])) ? 3 : 1;
  }
  if (b < 0xF5) {
    if (avail < 4) return 1;
    const u8 lo = b == 0xF0 ? 0x90 : 0x80, hi = b == 0xF4 ? 0x8F : 0xBF;
    return (p[1] >= lo && p[1] <= hi && is_cont(p[2]) && is_cont(p[3])) ? 4 : 1;
  }
  return 1;
}

// The ideographic sentence ends 。！？ (U+3002, U+FF01, U+FF1F): CJK prose has no space after
// them, so they end a sentence by themselves.
inline bool is_cjk_stop(const u8* p) {
  return (p[0] == 0xE3 && p[1] == 0x80 && p[2] == 0x82) ||
         (p[0] == 0xEF && p[1] == 0xBC && (p[2] == 0x81 || p[2] == 0x9F));
}

// Eight bytes at a time (SWAR): portable C++ that compiles to plain 64-bit ops natively and in
// Wasm. Both targets are little-endian, which the byte order of the bit tricks below assumes.
constexpr uint64_t kOnes = 0x0101010101010101ULL, kHigh = 0x8080808080808080ULL;

inline uint64_t load8(const u8* p) {
  uint64_t w;
  std::memcpy(&w, p, 8);
  return w;
}

// In valid UTF-8 every byte that is not a continuation byte (10xxxxxx) starts a code point.
inline size_t count_starts(uint64_t w) {
  return 8 - static_cast<size_t>(std::popcount(w & ~(w << 1) & kHigh));
}

inline bool has_byte(uint64_t w, u8 b) {
  const uint64_t x = w ^ (kOnes * b);
  return ((x - kOnes) & ~x & kHigh) != 0;
}

bool is_valid_utf8(const u8* t, size_t n) {
  for (size_t i = 0; i < n;) {
    if (n - i >= 8 && (load8(t + i) & kHigh) == 0) {
      i += 8;
    } else if (t[i] < 0x80) {
      ++i;
    } else {
      const size_t len = cp_len(t + i, n - i);
      if (len == 1) return false;
      i += len;
    }
  }
  return true;
}

class Chunker {
 public:
  Chunker(const std::string& text, const ChunkOptions& opt, std::vector<Chunk>& out)
      : t_(reinterpret_cast<const u8*>(text.data())),
        n_(text.size()),
        valid_(is_valid_utf8(t_, n_)),
        opt_(opt),
        out_(out) {}

  // Every non-whitespace byte lands in exactly one chunk's new content, so the loop ends.
  void section(size_t begin, size_t end, const std::vector<std::string>& path) {
    size_t content = skip_ws(begin, end);
    size_t prev_start = 0, prev_end = 0;
    bool first = true;
    while (content < end) {
      const size_t start = first ? content : overlap_start(prev_start, prev_end, content);
      const size_t cut =
          valid_ ? find_cut_fast(start, content, end) : find_cut(start, content, end);
      size_t stop = cut;
      while (stop > content && is_ws(t_[stop - 1])) --stop;
      emit(start, stop, path);
      prev_start = start;
      prev_end = stop;
      first = false;
      content = skip_ws(cut, end);
    }
  }

  // Sections this small (in code points) are packed with their small neighbours into one chunk of
  // at most max_chars: a heading flood ("# w1\n# w2\n…") would otherwise become one chunk (and
  // one embedding, one D1 row) per line. Larger sections keep their own chunks, so ordinary
  // documents chunk as before. The pack's heading path is its first section's.
  // path(): the section's heading path, built only when a chunk needs it (a flood of small
  // sections would otherwise copy every title once per heading).
  template <class PathFn>
  void add_section(size_t begin, size_t end, PathFn&& path) {
    const size_t first = skip_ws(begin, end);
    size_t last = end;
    while (last > first && is_ws(t_[last - 1])) --last;
    if (first == last) return;  // whitespace only
    const size_t small = opt_.max_chars / kSmallSectionDivisor;
    const size_t chars = count_chars(first, last, small);
    if (chars >= small) {
      flush_pack();
      section(begin, end, path());
      return;
    }
    // Only ASCII whitespace lies between the pack and this section: one code point per byte.
    if (pack_open_ && pack_chars_ + (first - pack_end_) + chars <= opt_.max_chars) {
      pack_chars_ += (first - pack_end_) + chars;
      pack_end_ = last;
      return;
    }
    flush_pack();
    pack_open_ = true;
    pack_start_ = first;
    pack_end_ = last;
    pack_chars_ = chars;
    pack_path_ = path();
  }

  void flush_pack() {
    if (!pack_open_) return;
    emit(pack_start_, pack_end_, pack_path_);
    pack_open_ = false;
  }

  bool is_boundary(size_t p) const {
    if (p == 0 || p >= n_ || !is_cont(t_[p])) return true;
    for (size_t k = 1; k <= 3 && k <= p; ++k) {
      const size_t lead = p - k;
      if (!is_cont(t_[lead])) return cp_len(t_ + lead, n_ - lead) <= k;
    }
    return true;  // a run of continuation bytes: each one stands alone
  }

 private:
  // An eighth of the budget (64 of the default 512): a heading with a word or two under it. A
  // real section, even a short paragraph under its heading, is larger and keeps its own chunks
  // and heading path.
  static constexpr size_t kSmallSectionDivisor = 8;

  // Code points in [from, to), counting stops once `limit` is reached.
  size_t count_chars(size_t from, size_t to, size_t limit) const {
    size_t n = 0;
    for (size_t i = from; i < to && n < limit; ++n) i += t_[i] < 0x80 ? 1 : cp_len(t_ + i, n_ - i);
    return n;
  }

  size_t skip_ws(size_t p, size_t end) const {
    while (p < end && is_ws(t_[p])) ++p;
    return p;
  }

  // The code-point boundary before boundary p (p > 0).
  size_t prev_boundary(size_t p) const {
    for (size_t k = 2; k <= 4 && k <= p; ++k) {
      const size_t lead = p - k;
      if (!is_cont(t_[lead])) return cp_len(t_ + lead, n_ - lead) == k ? lead : p - 1;
    }
    return p - 1;
  }

  // Counted back from `content` (not from prev_end) so that even after a long whitespace run the
  // window keeps at least max_chars - overlap code points of new text: progress is guaranteed.
  size_t overlap_start(size_t prev_start, size_t prev_end, size_t content) const {
    size_t lo = content;
    for (size_t k = 0; k < opt_.overlap && lo > prev_start; ++k) lo = prev_boundary(lo);
    if (lo >= prev_end) return content;  // the overlap budget is spent on whitespace
    // Prefer starting at a word: the first word start at or after lo, strictly after prev_start
    // (repeating the whole previous chunk, e.g. a lone title line, is not an overlap).
    if (lo > prev_start && is_ws(t_[lo - 1])) return skip_ws(lo, prev_end);
    for (size_t p = lo; p < prev_end; ++p) {
      if (is_ws(t_[p])) return skip_ws(p, prev_end);
    }
    return lo > prev_start ? lo : content;  // one long word: keep the code-point start
  }

  // Returns where the chunk that starts at `start` ends: in the window of max_chars code points,
  // the last blank line, else the last newline, else the last sentence end, else the last space,
  // else the window's end. Only cuts after `content` count, so every chunk has new text.
  //
  // For valid UTF-8 the same answer is found without looking at every byte: count code points a
  // word at a time, look for newlines a word at a time (prose has few), and only then walk back
  // from the window's end to the nearest sentence end, which is usually close.
  size_t find_cut_fast(size_t start, size_t content, size_t end) const {
    const size_t max = opt_.max_chars;
    size_t i = start, count = 0;
    while (end - i >= 8) {
      const size_t c = count_starts(load8(t_ + i));
      if (count + c >= max) break;
      count += c;
      i += 8;
    }
    for (; i < end; ++i) {  // i may be mid code point here; its continuation bytes are skipped
      if (is_cont(t_[i])) continue;
      if (count == max) break;
      ++count;
    }
    if (i >= end) return end;
    const size_t limit = i;  // < end, so t_[limit] and the peek at limit + 1 below are in range

    const size_t line = last_newline(content + 1, limit + 1);
    if (line != kNpos) {
      for (size_t q = line; q != kNpos; q = last_newline(content + 1, q)) {
        if (q + 1 < end && t_[q + 1] == '\n') return q;
      }
      return line;
    }
    size_t space = 0;
    for (size_t j = limit; j > content; --j) {
      if (is_ws(t_[j])) {
        if (kClass[t_[j - 1]] & kStop) return j;
        if (space == 0) space = j;
      }
      if (t_[j - 1] >= 0x80 && j - start >= 3 && is_cjk_stop(t_ + j - 3)) return j;
    }
    return space != 0 ? space : limit;
  }

  static constexpr size_t kNpos = static_cast<size_t>(-1);

  // The last '\n' in [lo, hi), or kNpos.
  size_t last_newline(size_t lo, size_t hi) const {
    size_t i = hi;
    while (i > lo) {
      if (i - lo >= 8 && !has_byte(load8(t_ + i - 8), '\n')) {
        i -= 8;
        continue;
      }
      if (t_[--i] == '\n') return i;
    }
    return kNpos;
  }

  // The general scan, for invalid UTF-8, where code points can only be found by decoding.
  size_t find_cut(size_t start, size_t content, size_t end) const {
    size_t para = 0, line = 0, sentence = 0, space = 0;  // 0 = none (a cut is always > content)
    size_t i = start, count = 0;
    const size_t max = opt_.max_chars;
    while (i < end && count < max) {
      const u8 b = t_[i];
      if (b < 0x80) {
        if (kClass[b] != 0 && i > content) classify(i, end, para, line, sentence, space);
        ++i;
      } else {
        const size_t len = cp_len(t_ + i, end - i);
        if (len == 3 && i + 3 > content && is_cjk_stop(t_ + i)) sentence = i + 3;
        i += len;
      }
      ++count;
    }
    if (i >= end) return end;  // the rest of the section fits
    // A separator right at the window's end still lets the text before it fit.
    if (kClass[t_[i]] != 0) classify(i, end, para, line, sentence, space);
    if (para) return para;
    if (line) return line;
    if (sentence) return sentence;
    if (space) return space;
    return i;
  }

  // Records the separator that starts at i (i > content, t_[i] is ASCII with a class).
  void classify(size_t i, size_t end, size_t& para, size_t& line, size_t& sentence,
                size_t& space) const {
    const uint8_t c = kClass[t_[i]];
    if (c & kNewline) {
      line = i;
      if (i + 1 < end && t_[i + 1] == '\n') para = i;
    } else if (c & kWs) {
      space = i;
      if (kClass[t_[i - 1]] & kStop) sentence = i;
    }
  }

  void emit(size_t start, size_t stop, const std::vector<std::string>& path) {
    Chunk c;
    c.index = out_.size();
    c.start = start;
    c.end = stop;
    c.char_start = advance(start_cursor_, start);
    c.char_end = advance(end_cursor_, stop);
    c.heading_path = path;
    out_.push_back(std::move(c));
  }

  // Chunk starts and chunk ends each only move forward, so two cursors turn byte offsets into
  // code-point offsets in O(n) overall.
  struct Cursor {
    size_t byte = 0;
    size_t cp = 0;
  };
  size_t advance(Cursor& c, size_t to) const {
    size_t i = c.byte, cp = c.cp;
    if (valid_) {  // both ends are code-point boundaries, so counting starts is exact
      for (; to - i >= 8; i += 8) cp += count_starts(load8(t_ + i));
      for (; i < to; ++i) cp += is_cont(t_[i]) ? 0 : 1;
    }
    while (i < to) {
      if (to - i >= 8 && (load8(t_ + i) & kHigh) == 0) {  // prose is mostly ASCII
        i += 8;
        cp += 8;
        continue;
      }
      i += t_[i] < 0x80 ? 1 : cp_len(t_ + i, n_ - i);
      ++cp;
    }
    c.byte = i;
    c.cp = cp;
    return cp;
  }

  const u8* t_;
  size_t n_;
  bool valid_;  // whole text is valid UTF-8: enables the word-at-a-time paths
  ChunkOptions opt_;
  std::vector<Chunk>& out_;
  Cursor start_cursor_, end_cursor_;
  bool pack_open_ = false;  // small sections waiting to be emitted as one chunk (add_section)
  size_t pack_start_ = 0, pack_end_ = 0, pack_chars_ = 0;
  std::vector<std::string> pack_path_;
};

// Applies one heading to the stack of open ones: a heading of level L closes every open heading
// of level >= L.
void open_heading(std::vector<const Heading*>& open, const Heading& h) {
  while (!open.empty() && open.back()->level >= h.level) open.pop_back();
  open.push_back(&h);
}

}  // namespace

Status validate_chunk_options(const ChunkOptions& opt) {
  json fields = json::object();
  if (opt.max_chars == 0 || opt.max_chars > kMaxChunkChars) {
    fields["max_chars"] = "must be between 1 and " + std::to_string(kMaxChunkChars);
  }
  if (opt.overlap >= opt.max_chars) fields["overlap"] = "must be less than max_chars";
  if (fields.empty()) return ok_status();
  ApiError e = api_error(Err::validation_failed, "Invalid chunking options");
  e.fields = std::move(fields);
  return e;
}

Result<std::vector<Chunk>> chunk_text(const ExtractedText& doc, const ChunkOptions& opt) {
  Status valid = validate_chunk_options(opt);
  if (!valid) return valid.take_error();

  std::vector<Chunk> out;
  const size_t n = doc.text.size();
  if (n == 0) return out;
  // Chunks advance by at least max_chars - overlap code points except where a section or a
  // coarse separator ends one early; this bound avoids regrowth for prose.
  out.reserve(n / (opt.max_chars - opt.overlap) + doc.headings.size() + 1);

  Chunker chunker(doc.text, opt, out);
  std::vector<const Heading*> open;
  std::vector<std::string> path;
  bool path_stale = false;
  auto current_path = [&]() -> const std::vector<std::string>& {
    if (path_stale) {
      path.clear();
      for (const Heading* o : open) path.push_back(o->title);
      path_stale = false;
    }
    return path;
  };
  size_t begin = 0, h = 0;
  // Heading offsets come from extractors of untrusted files: clamp them into order and onto
  // code-point boundaries instead of trusting them.
  auto offset_of = [&](size_t k) {
    size_t off = std::clamp(doc.headings[k].offset, begin, n);
    while (!chunker.is_boundary(off)) ++off;
    return off;
  };
  while (true) {
    while (h < doc.headings.size() && offset_of(h) <= begin) {
      open_heading(open, doc.headings[h++]);
      path_stale = true;
    }
    const size_t end = h < doc.headings.size() ? offset_of(h) : n;
    chunker.add_section(begin, end, current_path);
    if (end >= n) break;
    begin = end;
  }
  chunker.flush_pack();
  return out;
}

}  // namespace ec
