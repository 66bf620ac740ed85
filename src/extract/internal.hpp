// Shared machinery of the text extractors (private to src/extract/*.cpp). Every extractor
// writes through TextBuilder, which owns the output invariants (no trailing spaces, exactly one
// blank line between paragraphs, heading offsets at the start of the heading line), so no
// extractor has to re-establish them by post-processing and shifting offsets.
#pragma once

#include "core/utf8.hpp"

#include "core/error.hpp"
#include "extract/extracted.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ec::extract_detail {

// Longest heading title kept; a hostile <h1> spanning megabytes must not be copied twice.
inline constexpr size_t kMaxTitleBytes = 512;

// Bytes → valid UTF-8: UTF-8 BOM dropped, UTF-16LE/BE with BOM decoded, invalid sequences →
// U+FFFD, CRLF/CR/FF → "\n", other C0 controls and DEL dropped (they carry no text and would
// only confuse the chunker and the embedder).
std::string decode_to_utf8(std::string_view bytes);

// The longest prefix of s of at most max bytes that does not cut a UTF-8 sequence.
std::string_view utf8_prefix(std::string_view s, size_t max);

// Trims and collapses runs of ASCII whitespace to one space.
std::string collapse_spaces(std::string_view s);

constexpr bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

class TextBuilder {
 public:
  // Appends to the current line; `s` must not contain '\n'.
  void text(std::string_view s);
  // A collapsible space: one ' ' before the next text, unless that text starts a line.
  void space() { pending_space_ = true; }
  void line_break();
  void paragraph_break();
  // Emitted before the first text of the next line (HTML "<li>" → "- "); dropped if none comes.
  void line_prefix(std::string_view p) { prefix_ = p; }
  // A heading spans its own paragraph; its text arrives through text() between begin and end.
  void begin_heading(int level);
  void end_heading();
  void heading(int level, std::string_view title);
  bool in_heading() const { return capturing_; }
  bool line_empty() const { return pending_ > 0 || out_.empty() || out_.back() == '\n'; }
  size_t size() const { return out_.size(); }
  ExtractedText finish(std::string_view format);

 private:
  std::string out_;
  std::vector<Heading> headings_;
  std::string prefix_;
  int pending_ = 0;  // newlines owed before the next text: 1 = line break, 2 = paragraph break
  bool pending_space_ = false;
  bool capturing_ = false;
  bool capture_started_ = false;
  int capture_level_ = 1;
  size_t capture_offset_ = 0;
  std::string capture_title_;
};

// JSON and CSV repeat keys and header names on every line, so a hostile input (a 1 MB key over a
// million-element array) could multiply into gigabytes; they stop emitting past this budget.
inline size_t output_budget(size_t input_size) {
  return input_size > (size_t{1} << 20) / 4 ? input_size * 4 : size_t{1} << 20;
}

ExtractedText extract_plain(std::string_view utf8);
ExtractedText extract_markdown(std::string_view utf8);

// Markdown extraction in slices (it reads line by line, so it can stop between lines): owns the
// decoded text; step() reads at least `budget` more bytes of it, whole lines at a time.
class MarkdownExtractor;
class MarkdownSlices {
 public:
  explicit MarkdownSlices(std::string utf8);
  ~MarkdownSlices();
  MarkdownSlices(MarkdownSlices&&) = delete;
  bool done() const;
  void step(size_t budget);
  ExtractedText finish();

 private:
  std::string utf8_;
  std::unique_ptr<MarkdownExtractor> m_;
};
ExtractedText extract_html(std::string_view utf8);
Result<ExtractedText> extract_json(std::string_view utf8);
ExtractedText extract_csv(std::string_view utf8);

}  // namespace ec::extract_detail
