// HTML → text with a small tolerant tokenizer. Not a conforming HTML parser: it only needs to
// find the readable text, the headings and the block boundaries, and it must stay linear on
// hostile input (every scan either consumes what it scanned or ends the document).
#include "core/ascii.hpp"
#include "extract/internal.hpp"

#include <array>
#include <cstdint>

namespace ec::extract_detail {
namespace {

struct NamedEntity {
  std::string_view name;
  std::string_view text;
};

// The entities real pages use; &nbsp; becomes a plain space so it collapses like one.
constexpr std::array<NamedEntity, 52> kEntities{{
    {"amp", "&"},         {"lt", "<"},          {"gt", ">"},          {"quot", "\""},
    {"apos", "'"},        {"nbsp", " "},        {"copy", "\u00A9"},   {"reg", "\u00AE"},
    {"trade", "\u2122"},  {"mdash", "\u2014"},  {"ndash", "\u2013"},  {"hellip", "\u2026"},
    {"rsquo", "\u2019"},  {"lsquo", "\u2018"},  {"ldquo", "\u201C"},  {"rdquo", "\u201D"},
    {"laquo", "\u00AB"},  {"raquo", "\u00BB"},  {"bull", "\u2022"},   {"middot", "\u00B7"},
    {"eacute", "\u00E9"}, {"egrave", "\u00E8"}, {"ecirc", "\u00EA"},  {"aacute", "\u00E1"},
    {"agrave", "\u00E0"}, {"iacute", "\u00ED"}, {"oacute", "\u00F3"}, {"uacute", "\u00FA"},
    {"auml", "\u00E4"},   {"ouml", "\u00F6"},   {"uuml", "\u00FC"},   {"Auml", "\u00C4"},
    {"Ouml", "\u00D6"},   {"Uuml", "\u00DC"},   {"Eacute", "\u00C9"}, {"ccedil", "\u00E7"},
    {"ntilde", "\u00F1"}, {"szlig", "\u00DF"},  {"euro", "\u20AC"},   {"pound", "\u00A3"},
    {"yen", "\u00A5"},    {"cent", "\u00A2"},   {"deg", "\u00B0"},    {"times", "\u00D7"},
    {"divide", "\u00F7"}, {"sect", "\u00A7"},   {"para", "\u00B6"},   {"shy", ""},
    {"ensp", " "},        {"emsp", " "},        {"thinsp", " "},      {"zwj", ""},
}};

constexpr bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
constexpr bool is_digit(char c) { return c >= '0' && c <= '9'; }
constexpr bool is_hex(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// Decodes one reference starting at s[i] == '&'; returns the bytes consumed (0: a literal '&').
size_t decode_entity(std::string_view s, size_t i, std::string& out) {
  size_t p = i + 1;
  if (p < s.size() && s[p] == '#') {
    bool hex = p + 1 < s.size() && (s[p + 1] == 'x' || s[p + 1] == 'X');
    p += hex ? 2 : 1;
    size_t start = p;
    uint32_t cp = 0;
    while (p < s.size() && (hex ? is_hex(s[p]) : is_digit(s[p])) && p - start < 8) {
      char c = s[p++];
      uint32_t d = is_digit(c) ? static_cast<uint32_t>(c - '0')
                               : static_cast<uint32_t>(ascii_lower(c) - 'a' + 10);
      cp = cp * (hex ? 16 : 10) + d;
    }
    if (p == start) return 0;
    if (p < s.size() && s[p] == ';') ++p;
    append_utf8(out, cp == 0 ? 0xFFFD : cp);  // append_utf8 maps surrogates and > 10FFFF
    return p - i;
  }
  size_t start = p;
  while (p < s.size() && (is_alpha(s[p]) || is_digit(s[p])) && p - start < 10) ++p;
  std::string_view name = s.substr(start, p - start);
  bool semi = p < s.size() && s[p] == ';';
  for (const NamedEntity& e : kEntities) {
    if (e.name != name) continue;
    // Without ';' only the legacy entities browsers still accept ("AT&T" stays as is).
    bool legacy = name == "amp" || name == "lt" || name == "gt" || name == "quot" || name == "nbsp";
    if (!semi && !legacy) return 0;
    out.append(e.text);
    return p - i + (semi ? 1 : 0);
  }
  return 0;
}

std::string decode_entities(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '&') {
      if (size_t used = decode_entity(s, i, out); used > 0) {
        i += used - 1;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

// Elements whose whole subtree is dropped. header/footer only count as site chrome outside
// <article>/<main>, where they usually hold the article's own title and byline.
enum SkipKind : uint8_t { kNav = 1, kHeader, kFooter, kSvg, kNoscript, kTemplate };

SkipKind skip_kind(std::string_view n) {
  if (n == "nav") return kNav;
  if (n == "header") return kHeader;
  if (n == "footer") return kFooter;
  if (n == "svg") return kSvg;
  if (n == "noscript") return kNoscript;
  if (n == "template") return kTemplate;
  return SkipKind{0};
}

bool is_raw_text(std::string_view n) {
  return n == "script" || n == "style" || n == "title" || n == "textarea" || n == "xmp" ||
         n == "iframe" || n == "noembed" || n == "noframes";
}

bool is_paragraph_block(std::string_view n) {
  for (std::string_view b :
       {"p", "section", "article", "main", "aside", "blockquote", "table", "ul", "ol", "dl",
        "figure", "form", "address", "details", "fieldset", "hr", "center", "body"}) {
    if (n == b) return true;
  }
  return false;
}

bool is_line_block(std::string_view n) {
  for (std::string_view b :
       {"div", "br", "tr", "dt", "dd", "figcaption", "summary", "caption", "option", "legend"}) {
    if (n == b) return true;
  }
  return false;
}

class HtmlExtractor {
 public:
  explicit HtmlExtractor(std::string_view s) : s_(s) {}

  ExtractedText run() {
    size_t text_start = 0;
    size_t search = 0;
    while (true) {
      size_t lt = s_.find('<', search);
      if (lt == std::string_view::npos) {
        emit_text(s_.substr(text_start));
        break;
      }
      if (!starts_markup(lt)) {  // a stray '<' is text; keep scanning past it
        search = lt + 1;
        continue;
      }
      emit_text(s_.substr(text_start, lt - text_start));
      pos_ = lt;
      markup();
      text_start = search = pos_;
      if (pos_ >= s_.size()) break;
    }
    ExtractedText r = b_.finish("html");
    add_title_heading(r);
    return r;
  }

 private:
  bool starts_markup(size_t lt) const {
    if (lt + 1 >= s_.size()) return false;
    char c = s_[lt + 1];
    if (c == '!' || c == '?' || is_alpha(c)) return true;
    return c == '/' && lt + 2 < s_.size() && is_alpha(s_[lt + 2]);
  }

  // Consumes one comment, declaration or tag at pos_. Anything unterminated ends the document,
  // which is what browsers do and what keeps hostile input linear.
  void markup() {
    std::string_view rest = s_.substr(pos_);
    if (rest.starts_with("<!--")) {
      size_t e = s_.find("-->", pos_ + 4);
      pos_ = e == std::string_view::npos ? s_.size() : e + 3;
      return;
    }
    if (rest[1] == '!' || rest[1] == '?') {
      size_t e = s_.find('>', pos_);
      pos_ = e == std::string_view::npos ? s_.size() : e + 1;
      return;
    }
    bool end = rest[1] == '/';
    size_t p = pos_ + (end ? 2 : 1);
    std::string name;
    while (p < s_.size() && !is_space(s_[p]) && s_[p] != '/' && s_[p] != '>') {
      if (name.size() < 16) name.push_back(ascii_lower(s_[p]));
      ++p;
    }
    bool self_closing = false;
    char last = 0;
    while (p < s_.size() && s_[p] != '>') {
      char c = s_[p];
      if ((c == '"' || c == '\'') && last == '=') {
        size_t q = s_.find(c, p + 1);
        p = q == std::string_view::npos ? s_.size() : q + 1;
        last = c;
        continue;
      }
      if (!is_space(c)) {
        self_closing = c == '/';
        last = c;
      }
      ++p;
    }
    if (p >= s_.size()) {
      pos_ = s_.size();
      return;
    }
    pos_ = p + 1;
    tag(name, end, self_closing);
  }

  // Skips a raw-text element's body up to its end tag, returning the body.
  std::string_view raw_body(std::string_view name) {
    size_t start = pos_;
    for (size_t p = s_.find("</", pos_); p != std::string_view::npos; p = s_.find("</", p + 2)) {
      if (ascii_iequals(s_.substr(p + 2, name.size()), name)) {
        size_t gt = s_.find('>', p);
        pos_ = gt == std::string_view::npos ? s_.size() : gt + 1;
        return s_.substr(start, p - start);
      }
    }
    pos_ = s_.size();  // unterminated <script>: nothing after it is text
    return s_.substr(start);
  }

  void tag(std::string_view name, bool end, bool self_closing) {
    if (!end && is_raw_text(name)) {
      std::string_view body = raw_body(name);
      if (name == "title" && title_.empty() && skip_.empty()) {
        title_ = collapse_spaces(decode_entities(body.substr(0, 4 * kMaxTitleBytes)));
      }
      return;
    }
    if (SkipKind k = skip_kind(name); k != 0) {
      if (end) {
        for (size_t i = skip_.size(); i > 0; --i) {
          if (skip_[i - 1] == k) {
            skip_.resize(i - 1);
            break;
          }
        }
      } else if (!self_closing &&
                 (!skip_.empty() || ((k != kHeader && k != kFooter) || scope_depth_ == 0))) {
        skip_.push_back(k);
      }
      return;
    }
    if (!skip_.empty()) return;
    if (name == "article" || name == "main") {
      if (!end) ++scope_depth_;
      if (end && scope_depth_ > 0) --scope_depth_;
    }
    if (name.size() == 2 && name[0] == 'h' && name[1] >= '1' && name[1] <= '6') {
      if (end) {
        b_.end_heading();
      } else {
        b_.begin_heading(name[1] - '0');
      }
    } else if (name == "pre") {
      b_.paragraph_break();
      if (end) {
        if (pre_depth_ > 0) --pre_depth_;
      } else {
        ++pre_depth_;
        pre_start_ = true;
      }
    } else if (name == "li") {
      b_.line_break();
      if (!end) b_.line_prefix("- ");
    } else if (name == "td" || name == "th") {
      if (!end && !b_.line_empty()) {
        b_.space();
        b_.text("|");
        b_.space();
      }
    } else if (is_paragraph_block(name)) {
      b_.paragraph_break();
    } else if (is_line_block(name)) {
      b_.line_break();
    }
  }

  void emit_text(std::string_view raw) {
    if (raw.empty() || !skip_.empty()) return;
    std::string t = decode_entities(raw);
    std::string_view v = t;
    if (pre_depth_ > 0) {
      if (pre_start_ && v.starts_with('\n')) v.remove_prefix(1);  // as the HTML spec says
      pre_start_ = false;
      int newlines = 0;
      size_t start = 0;
      for (size_t i = 0; i <= v.size(); ++i) {
        if (i < v.size() && v[i] != '\n') continue;
        if (i > start) {
          if (newlines >= 2) b_.paragraph_break();
          if (newlines == 1) b_.line_break();
          b_.text(v.substr(start, i - start));
          newlines = 0;
        }
        if (i < v.size()) ++newlines;
        start = i + 1;
      }
      if (newlines >= 2) b_.paragraph_break();
      if (newlines == 1) b_.line_break();
      return;
    }
    size_t i = 0;
    while (i < v.size()) {
      if (is_space(v[i])) {
        b_.space();
        while (i < v.size() && is_space(v[i])) ++i;
        continue;
      }
      size_t start = i;
      while (i < v.size() && !is_space(v[i])) ++i;
      b_.text(v.substr(start, i - start));
    }
  }

  // <title> stands in for the missing <h1> as the document's first line and top heading.
  void add_title_heading(ExtractedText& r) const {
    for (const Heading& h : r.headings) {
      if (h.level == 1) return;
    }
    std::string title(utf8_prefix(title_, kMaxTitleBytes));
    if (title.empty()) return;
    size_t shift = title.size() + (r.text.empty() ? 0 : 2);
    r.text = title + (r.text.empty() ? "" : "\n\n") + r.text;
    for (Heading& h : r.headings) h.offset += shift;
    r.headings.insert(r.headings.begin(), Heading{1, title, 0});
  }

  std::string_view s_;
  size_t pos_ = 0;
  TextBuilder b_;
  std::vector<uint8_t> skip_;  // open dropped elements (SkipKind), innermost last
  int scope_depth_ = 0;
  int pre_depth_ = 0;
  bool pre_start_ = false;
  std::string title_;
};

}  // namespace

ExtractedText extract_html(std::string_view utf8) { return HtmlExtractor(utf8).run(); }

}  // namespace ec::extract_detail
