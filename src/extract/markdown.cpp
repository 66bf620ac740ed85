// Markdown → readable text. Line-oriented block pass (headings, fences, lists, quotes, tables)
// plus an inline pass that strips markup only where CommonMark would treat it as markup, so
// "snake_case", "2 * 3" and unmatched brackets survive untouched.
#include "extract/internal.hpp"

#include <algorithm>
#include <map>
#include <memory>

namespace ec::extract_detail {
namespace {

constexpr bool is_punct(char c) {
  return (c >= '!' && c <= '/') || (c >= ':' && c <= '@') || (c >= '[' && c <= '`') ||
         (c >= '{' && c <= '~');
}
constexpr bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

constexpr int kMaxLinkNesting = 8;        // link text rendered recursively at most this deep
constexpr size_t kMaxDestination = 2048;  // a "(url)" longer than this is not a link

struct Delim {
  size_t out_pos;
  size_t len;
  char ch;
  bool open;
  bool close;
  bool removed = false;
};

class InlineRenderer {
 public:
  InlineRenderer(std::string_view s, int depth) : s_(s), depth_(depth) { index(); }

  std::string render() {
    size_t i = 0;
    while (i < s_.size()) {
      char c = s_[i];
      if (c == '\\' && i + 1 < s_.size() && is_punct(s_[i + 1])) {
        out_.push_back(s_[i + 1]);
        i += 2;
      } else if (c == '`') {
        i = code_span(i);
      } else if (c == '[' || (c == '!' && i + 1 < s_.size() && s_[i + 1] == '[')) {
        i = link(i);
      } else if (c == '<') {
        i = angle(i);
      } else if (c == '*' || c == '_') {
        i = delimiter_run(i);
      } else {
        out_.push_back(c);
        ++i;
      }
    }
    return strip_paired_delimiters();
  }

 private:
  // Matching brackets and backtick runs, found once so that no scan is repeated per character.
  void index() {
    match_.assign(s_.size(), std::string_view::npos);
    std::vector<size_t> open;
    for (size_t i = 0; i < s_.size(); ++i) {
      if (s_[i] == '\\') {
        ++i;
      } else if (s_[i] == '[') {
        open.push_back(i);
      } else if (s_[i] == ']' && !open.empty()) {
        match_[open.back()] = i;
        open.pop_back();
      } else if (s_[i] == '`') {
        size_t j = i;
        while (j < s_.size() && s_[j] == '`') ++j;
        runs_by_len_[j - i].push_back(i);
        i = j - 1;
      }
    }
  }

  size_t code_span(size_t i) {
    size_t n = 0;
    while (i + n < s_.size() && s_[i + n] == '`') ++n;
    const std::vector<size_t>& runs = runs_by_len_[n];
    auto it = std::upper_bound(runs.begin(), runs.end(), i);
    if (it == runs.end()) {  // no closing run: the backticks are literal
      out_.append(n, '`');
      return i + n;
    }
    std::string_view code = s_.substr(i + n, *it - i - n);
    if (code.size() >= 2 && code.front() == ' ' && code.back() == ' ') {
      code = code.substr(1, code.size() - 2);
    }
    out_.append(code);
    return *it + n;
  }

  size_t link(size_t i) {
    bool image = s_[i] == '!';
    size_t open = image ? i + 1 : i;
    size_t close = match_[open];
    size_t end = std::string_view::npos;
    if (close != std::string_view::npos && close + 1 < s_.size()) {
      char next = s_[close + 1];
      if (next == '(') {
        int depth = 0;
        size_t limit = std::min(s_.size(), close + 2 + kMaxDestination);
        for (size_t p = close + 1; p < limit; ++p) {
          if (s_[p] == '(') ++depth;
          if (s_[p] == ')' && --depth == 0) {
            end = p + 1;
            break;
          }
        }
      } else if (next == '[' && match_[close + 1] != std::string_view::npos) {
        end = match_[close + 1] + 1;  // reference link [text][ref]
      }
    }
    if (end == std::string_view::npos) {  // not a link: the brackets are text
      out_.append(s_.substr(i, open + 1 - i));
      return open + 1;
    }
    std::string_view label = s_.substr(open + 1, close - open - 1);
    if (depth_ < kMaxLinkNesting) {
      out_.append(InlineRenderer(label, depth_ + 1).render());
    } else {
      out_.append(label);
    }
    return end;
  }

  // Autolinks keep their address; inline HTML tags and comments are dropped; anything else is a
  // literal '<'.
  size_t angle(size_t i) {
    if (gt_ == std::string_view::npos - 1 || (gt_ != std::string_view::npos && gt_ < i)) {
      gt_ = s_.find('>', i);
    }
    // A '<' before the '>' means this one is literal; checking that first keeps "<<<<…>" linear.
    size_t next_lt = s_.find('<', i + 1);
    if (gt_ == std::string_view::npos || next_lt < gt_) {
      out_.push_back('<');
      return i + 1;
    }
    std::string_view inner = s_.substr(i + 1, gt_ - i - 1);
    bool has_space = inner.find_first_of(" \t") != std::string_view::npos;
    size_t colon = inner.find(':');
    bool scheme =
        colon != std::string_view::npos && colon > 1 &&
        std::all_of(inner.begin(), inner.begin() + static_cast<ptrdiff_t>(colon),
                    [](char c) { return is_alnum(c) || c == '+' || c == '.' || c == '-'; });
    if (!has_space && (scheme || inner.find('@') != std::string_view::npos)) {
      out_.append(inner);
      return gt_ + 1;
    }
    bool tag =
        ((!inner.empty() && is_alnum(inner[0]) && !(inner[0] >= '0' && inner[0] <= '9')) ||
         (inner.size() > 1 && inner[0] == '/' && is_alnum(inner[1])) || inner.starts_with("!--"));
    if (tag) return gt_ + 1;
    out_.push_back('<');
    return i + 1;
  }

  size_t delimiter_run(size_t i) {
    char ch = s_[i];
    size_t j = i;
    while (j < s_.size() && s_[j] == ch) ++j;
    char prev = i > 0 ? s_[i - 1] : ' ';
    char next = j < s_.size() ? s_[j] : ' ';
    bool prev_ws = is_space(prev), next_ws = is_space(next);
    bool left = !next_ws && (!is_punct(next) || prev_ws || is_punct(prev));
    bool right = !prev_ws && (!is_punct(prev) || next_ws || is_punct(next));
    bool open = ch == '*' ? left : left && (!right || is_punct(prev));
    bool close = ch == '*' ? right : right && (!left || is_punct(next));
    delims_.push_back(Delim{out_.size(), j - i, ch, open, close});
    out_.append(j - i, ch);
    return j;
  }

  std::string strip_paired_delimiters() {
    std::vector<size_t> star, under;  // indices of unmatched openers
    for (size_t k = 0; k < delims_.size(); ++k) {
      Delim& d = delims_[k];
      std::vector<size_t>& stack = d.ch == '*' ? star : under;
      if (d.close && !stack.empty()) {
        delims_[stack.back()].removed = true;
        d.removed = true;
        stack.pop_back();
      } else if (d.open) {
        stack.push_back(k);
      }
    }
    std::string result;
    result.reserve(out_.size());
    size_t from = 0;
    for (const Delim& d : delims_) {
      if (!d.removed) continue;
      result.append(out_, from, d.out_pos - from);
      from = d.out_pos + d.len;
    }
    result.append(out_, from, std::string::npos);
    return result;
  }

  std::string_view s_;
  int depth_;
  std::string out_;
  std::vector<size_t> match_;
  std::map<size_t, std::vector<size_t>> runs_by_len_;
  std::vector<Delim> delims_;
  size_t gt_ = std::string_view::npos - 1;  // cached position of the next '>' (npos-1: unknown)
};

std::string render_inline(std::string_view s) { return InlineRenderer(s, 0).render(); }

size_t indent_of(std::string_view line) {
  size_t n = 0;
  while (n < line.size() && line[n] == ' ') ++n;
  return n;
}

bool all_of_char(std::string_view s, char c) {
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return !s.empty() && s.find_first_not_of(c) == std::string_view::npos;
}

bool is_thematic_break(std::string_view t) {
  for (char c : {'-', '*', '_'}) {
    size_t count = 0;
    bool only = true;
    for (char x : t) {
      if (x == c)
        ++count;
      else if (x != ' ' && x != '\t')
        only = false;
    }
    if (only && count >= 3) return true;
  }
  return false;
}

bool is_table_delimiter(std::string_view t) {
  return t.find('|') != std::string_view::npos && t.find('-') != std::string_view::npos &&
         t.find_first_not_of("|:- \t") == std::string_view::npos;
}

// "- x", "* x", "+ x", "1. x", "1) x": returns the marker length including its space, or 0.
size_t list_marker(std::string_view t) {
  if (t.size() >= 2 && (t[0] == '-' || t[0] == '*' || t[0] == '+') &&
      (t[1] == ' ' || t[1] == '\t')) {
    return 2;
  }
  size_t d = 0;
  while (d < t.size() && d < 9 && t[d] >= '0' && t[d] <= '9') ++d;
  if (d > 0 && d + 1 < t.size() && (t[d] == '.' || t[d] == ')') && t[d + 1] == ' ') return d + 2;
  return 0;
}

}  // namespace

class MarkdownExtractor {
 public:
  explicit MarkdownExtractor(std::string_view text) : text_(text) {}

  bool done() const { return pos_ > text_.size(); }

  // Reads whole lines until at least `budget` bytes of input have been read (or the end).
  void step(size_t budget) {
    const size_t stop =
        budget >= text_.size() - std::min(pos_, text_.size()) ? text_.size() + 1 : pos_ + budget;
    while (pos_ <= text_.size() && pos_ < stop) {
      size_t nl = std::min(text_.find('\n', pos_), text_.size());
      line(text_.substr(pos_, nl - pos_));
      pos_ = nl + 1;
    }
  }

  ExtractedText finish() {
    flush_paragraph();
    return b_.finish("markdown");
  }

 private:
  void line(std::string_view raw) {
    while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\t')) raw.remove_suffix(1);
    if (fence_len_ > 0) return fenced_line(raw);
    bool had_comment = false;
    std::string without_comments = strip_comments(raw, had_comment);
    std::string_view l = without_comments;
    if (had_comment && l.find_first_not_of(" \t") == std::string_view::npos) return;
    size_t ind = indent_of(l);
    // Blockquote markers go; the quoted line is then read like any other.
    bool quote = ind < 4 && l.substr(ind).starts_with('>');
    if (quote != in_quote_) {  // entering or leaving a quote ends the paragraph
      flush_paragraph();
      b_.paragraph_break();
      in_quote_ = quote;
    }
    if (quote) {
      while (l.substr(indent_of(l)).starts_with('>')) {
        l.remove_prefix(indent_of(l) + 1);
        if (l.starts_with(' ')) l.remove_prefix(1);
      }
      ind = indent_of(l);
    }
    std::string_view t = l.substr(ind);
    if (t.empty()) {
      flush_paragraph();
      b_.paragraph_break();
      prev_blank_ = true;
      return;
    }
    bool was_blank = prev_blank_;
    prev_blank_ = false;
    if (ind >= 4 || l.starts_with('\t')) {
      if ((was_blank || in_code_) && !in_list_ && para_.empty()) {
        in_code_ = true;  // indented code block: verbatim, minus one indent level
        b_.line_break();
        b_.text(l.substr(l.starts_with('\t') ? 1 : 4));
        return;
      }
    }
    in_code_ = false;
    if (ind < 4 && (t.starts_with("```") || t.starts_with("~~~"))) {
      flush_paragraph();
      b_.paragraph_break();
      fence_char_ = t[0];
      fence_len_ = std::min(t.find_first_not_of(fence_char_), t.size());
      return;
    }
    if (ind < 4 && !para_.empty() && (all_of_char(t, '=') || all_of_char(t, '-'))) {
      std::string title;  // setext heading: the paragraph above is the title
      for (const std::string& p : para_) title += (title.empty() ? "" : " ") + p;
      para_.clear();
      b_.heading(t[0] == '=' ? 1 : 2, title);
      return;
    }
    if (ind < 4 && is_thematic_break(t)) {
      flush_paragraph();
      b_.paragraph_break();
      return;
    }
    if (ind < 4 && t.starts_with('#')) {
      size_t level = std::min(t.find_first_not_of('#'), t.size());
      if (level <= 6 && (level == t.size() || t[level] == ' ' || t[level] == '\t')) {
        std::string_view content = t.substr(level);
        size_t hashes = content.find_last_not_of('#');  // optional closing "##"
        if (hashes != std::string_view::npos &&
            (content[hashes] == ' ' || content[hashes] == '\t')) {
          content = content.substr(0, hashes);
        }
        while (!content.empty() && is_space(content.front())) content.remove_prefix(1);
        while (!content.empty() && is_space(content.back())) content.remove_suffix(1);
        flush_paragraph();
        b_.heading(static_cast<int>(level), render_inline(content));
        in_list_ = false;
        return;
      }
    }
    if (ind < 4 && para_.empty() && t.starts_with('[') && t.find("]:") != std::string_view::npos &&
        t.find("]:") < t.find(' ')) {
      return;  // link reference definition: only a target for [text][ref]
    }
    if (is_table_delimiter(t)) return;
    if (size_t m = list_marker(t); m > 0) {
      flush_paragraph();
      std::string item(l.substr(0, ind));
      item += (t[0] == '*' || t[0] == '+') ? std::string("- ") : std::string(t.substr(0, m));
      item += render_inline(t.substr(m));
      b_.line_break();
      b_.text(item);
      in_list_ = true;
      return;
    }
    if (in_list_ && (ind > 0 || !was_blank)) {  // continuation of a list item
      b_.line_break();
      b_.text(std::string(l.substr(0, ind)) + render_inline(t));
      return;
    }
    in_list_ = false;
    para_.push_back(render_inline(t));
  }

  void fenced_line(std::string_view raw) {
    std::string_view t = raw.substr(std::min(indent_of(raw), size_t{3}));
    size_t run = std::min(t.find_first_not_of(fence_char_), t.size());
    if (run >= fence_len_ && run == t.size()) {
      fence_len_ = 0;
      b_.paragraph_break();
      return;
    }
    if (raw.empty()) {
      b_.paragraph_break();
    } else {
      b_.line_break();
      b_.text(raw);
    }
  }

  // Removes <!-- … --> spans, which may run across lines.
  std::string strip_comments(std::string_view l, bool& had_comment) {
    std::string out;
    size_t i = 0;
    had_comment = in_comment_;
    if (in_comment_) {
      size_t e = l.find("-->");
      if (e == std::string_view::npos) return out;
      in_comment_ = false;
      i = e + 3;
    }
    while (i < l.size()) {
      size_t s = l.find("<!--", i);
      if (s == std::string_view::npos) break;
      out.append(l.substr(i, s - i));
      had_comment = true;
      size_t e = l.find("-->", s + 4);
      if (e == std::string_view::npos) {
        in_comment_ = true;
        return out;
      }
      i = e + 3;
    }
    if (i < l.size()) out.append(l.substr(i));
    return out;
  }

  void flush_paragraph() {
    for (const std::string& p : para_) {
      b_.line_break();
      b_.text(p);
    }
    para_.clear();
  }

  std::string_view text_;
  size_t pos_ = 0;  // start of the next line to read
  TextBuilder b_;
  std::vector<std::string> para_;  // rendered lines held back in case a setext underline follows
  size_t fence_len_ = 0;
  char fence_char_ = '`';
  bool in_comment_ = false;
  bool prev_blank_ = true;
  bool in_code_ = false;
  bool in_list_ = false;
  bool in_quote_ = false;
};

ExtractedText extract_markdown(std::string_view utf8) {
  MarkdownExtractor m(utf8);
  m.step(utf8.size() + 1);
  return m.finish();
}

MarkdownSlices::MarkdownSlices(std::string utf8)
    : utf8_(std::move(utf8)), m_(std::make_unique<MarkdownExtractor>(utf8_)) {}
MarkdownSlices::~MarkdownSlices() = default;
bool MarkdownSlices::done() const { return m_->done(); }
void MarkdownSlices::step(size_t budget) { m_->step(budget); }
ExtractedText MarkdownSlices::finish() { return m_->finish(); }

}  // namespace ec::extract_detail
