// Dispatcher, format detection, byte decoding, the output builder and the plain-text extractor.
#include "extract/text.hpp"

#include "core/ascii.hpp"
#include "core/json.hpp"
#include "extract/internal.hpp"

#include <algorithm>

namespace ec {
namespace extract_detail {

namespace {

// Applies the newline and control-character rules to one decoded code point.
class CodePointSink {
 public:
  explicit CodePointSink(std::string& out) : out_(out) {}
  void put(uint32_t cp) {
    bool was_cr = prev_cr_;
    prev_cr_ = cp == '\r';
    if (cp == '\n' && was_cr) return;
    if (cp == '\r' || cp == '\f' || cp == '\v') cp = '\n';
    if ((cp < 0x20 && cp != '\n' && cp != '\t') || cp == 0x7F) return;
    append_utf8(out_, cp);
  }

 private:
  std::string& out_;
  bool prev_cr_ = false;
};

void decode_utf16(std::string_view b, bool little_endian, CodePointSink& sink) {
  auto unit = [&](size_t i) -> uint32_t {
    auto lo = static_cast<unsigned char>(b[little_endian ? i : i + 1]);
    auto hi = static_cast<unsigned char>(b[little_endian ? i + 1 : i]);
    return static_cast<uint32_t>(hi) << 8 | lo;
  };
  size_t i = 0;
  while (i + 1 < b.size()) {
    uint32_t u = unit(i);
    i += 2;
    if (u >= 0xD800 && u <= 0xDBFF && i + 1 < b.size()) {
      uint32_t u2 = unit(i);
      if (u2 >= 0xDC00 && u2 <= 0xDFFF) {
        i += 2;
        sink.put(0x10000 + ((u - 0xD800) << 10) + (u2 - 0xDC00));
        continue;
      }
    }
    sink.put(u);  // a lone surrogate becomes U+FFFD in append_utf8
  }
  if (i < b.size()) sink.put(0xFFFD);  // odd trailing byte
}

void decode_utf8(std::string_view b, CodePointSink& sink) {
  size_t i = 0;
  while (i < b.size()) {
    auto c = static_cast<unsigned char>(b[i]);
    if (c < 0x80) {
      sink.put(c);
      ++i;
      continue;
    }
    size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
    uint32_t cp = len == 4 ? (c & 0x07u) : len == 3 ? (c & 0x0Fu) : (c & 0x1Fu);
    bool ok = len != 0 && c <= 0xF4 && i + len <= b.size();
    for (size_t k = 1; ok && k < len; ++k) {
      auto cc = static_cast<unsigned char>(b[i + k]);
      ok = (cc & 0xC0) == 0x80;
      cp = cp << 6 | (cc & 0x3Fu);
    }
    // Overlong forms, surrogates and values past U+10FFFF are invalid UTF-8 as well.
    static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (ok && (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))) ok = false;
    if (!ok) {
      sink.put(0xFFFD);
      ++i;  // resynchronise on the next byte
      continue;
    }
    sink.put(cp);
    i += len;
  }
}

}  // namespace

std::string decode_to_utf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  CodePointSink sink(out);
  if (bytes.starts_with("\xFF\xFE")) {
    decode_utf16(bytes.substr(2), true, sink);
  } else if (bytes.starts_with("\xFE\xFF")) {
    decode_utf16(bytes.substr(2), false, sink);
  } else {
    if (bytes.starts_with("\xEF\xBB\xBF")) bytes.remove_prefix(3);
    decode_utf8(bytes, sink);
  }
  return out;
}

std::string_view utf8_prefix(std::string_view s, size_t max) {
  if (s.size() <= max) return s;
  size_t cut = max;  // s[cut] is the first byte dropped; back up while it continues a sequence
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return s.substr(0, cut);
}

std::string collapse_spaces(std::string_view s) {
  std::string out;
  bool space = false;
  for (char c : s) {
    if (is_space(c)) {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

void TextBuilder::text(std::string_view s) {
  if (s.empty()) return;
  if (pending_ > 0) {
    while (!out_.empty() && (out_.back() == ' ' || out_.back() == '\t')) out_.pop_back();
    if (!out_.empty()) {
      // A whitespace-only line left behind a '\n': count it against the newlines owed.
      int have = 0;
      for (size_t i = out_.size(); i > 0 && out_[i - 1] == '\n' && have < 2; --i) ++have;
      out_.append(static_cast<size_t>(std::max(0, pending_ - have)), '\n');
    }
    pending_ = 0;
    pending_space_ = false;
  }
  bool at_line_start = out_.empty() || out_.back() == '\n';
  if (at_line_start) {
    pending_space_ = false;
    if (capturing_ && !capture_started_) {
      capture_started_ = true;
      capture_offset_ = out_.size();
    }
    out_.append(prefix_);
    prefix_.clear();
  }
  if (pending_space_) {
    out_.push_back(' ');
    if (capturing_) capture_title_.push_back(' ');
    pending_space_ = false;
  }
  if (capturing_ && capture_title_.size() < kMaxTitleBytes) capture_title_.append(s);
  out_.append(s);
}

void TextBuilder::line_break() {
  pending_ = std::max(pending_, 1);
  prefix_.clear();
}

void TextBuilder::paragraph_break() {
  pending_ = 2;
  prefix_.clear();
}

void TextBuilder::begin_heading(int level) {
  if (capturing_) end_heading();
  paragraph_break();
  capturing_ = true;
  capture_started_ = false;
  capture_level_ = level;
  capture_title_.clear();
}

void TextBuilder::end_heading() {
  if (!capturing_) return;
  capturing_ = false;
  std::string title(utf8_prefix(collapse_spaces(capture_title_), kMaxTitleBytes));
  if (capture_started_ && !title.empty()) {
    headings_.push_back(Heading{capture_level_, std::move(title), capture_offset_});
  }
  paragraph_break();
}

void TextBuilder::heading(int level, std::string_view title) {
  begin_heading(level);
  text(title);
  end_heading();
}

ExtractedText TextBuilder::finish(std::string_view format) {
  if (capturing_) end_heading();
  while (!out_.empty() && is_space(out_.back())) out_.pop_back();
  ExtractedText r;
  r.text = std::move(out_);
  r.headings = std::move(headings_);
  r.format = std::string(format);
  return r;
}

ExtractedText extract_plain(std::string_view utf8) {
  TextBuilder b;
  size_t pos = 0;
  while (pos <= utf8.size()) {
    size_t nl = std::min(utf8.find('\n', pos), utf8.size());
    std::string_view line = utf8.substr(pos, nl - pos);
    pos = nl + 1;
    if (line.find_first_not_of(" \t") == std::string_view::npos) {
      b.paragraph_break();
    } else {
      b.line_break();
      b.text(line);
    }
  }
  return b.finish("text");
}

}  // namespace extract_detail

namespace {

DocFormat from_content_type(std::string_view ct) {
  ct = ct.substr(0, ct.find(';'));
  while (!ct.empty() && extract_detail::is_space(ct.back())) ct.remove_suffix(1);
  while (!ct.empty() && extract_detail::is_space(ct.front())) ct.remove_prefix(1);
  std::string t = ascii_lower(std::string(ct));
  if (t == "text/plain") return DocFormat::kText;
  if (t == "text/markdown" || t == "text/x-markdown") return DocFormat::kMarkdown;
  if (t == "text/html" || t == "application/xhtml+xml") return DocFormat::kHtml;
  if (t == "application/json" || t == "text/json" || t.ends_with("+json")) return DocFormat::kJson;
  if (t == "text/csv" || t == "application/csv" || t == "text/tab-separated-values") {
    return DocFormat::kCsv;
  }
  if (t == "application/pdf") return DocFormat::kPdf;
  return DocFormat::kUnsupported;  // unknown or generic: let the filename decide
}

DocFormat from_filename(std::string_view name) {
  size_t slash = name.find_last_of("/\\");
  if (slash != std::string_view::npos) name.remove_prefix(slash + 1);
  size_t dot = name.rfind('.');
  if (dot == std::string_view::npos || dot == 0) return DocFormat::kUnsupported;
  std::string ext = ascii_lower(std::string(name.substr(dot + 1)));
  if (ext == "txt" || ext == "text") return DocFormat::kText;
  if (ext == "md" || ext == "markdown") return DocFormat::kMarkdown;
  if (ext == "html" || ext == "htm") return DocFormat::kHtml;
  if (ext == "json") return DocFormat::kJson;
  if (ext == "csv" || ext == "tsv") return DocFormat::kCsv;
  if (ext == "pdf") return DocFormat::kPdf;
  return DocFormat::kUnsupported;
}

bool istarts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && ascii_iequals(s.substr(0, prefix.size()), prefix);
}

// Text if the first 4 KB has no control bytes besides whitespace and decodes as UTF-8 (a
// sequence cut by the 4 KB window is not held against it).
bool looks_like_text(std::string_view head) {
  if (head.empty()) return false;
  std::string decoded = extract_detail::decode_to_utf8(head);
  size_t bad = 0;
  for (size_t i = decoded.find("\xEF\xBF\xBD"); i != std::string::npos;
       i = decoded.find("\xEF\xBF\xBD", i + 3)) {
    ++bad;
  }
  for (char c : head) {
    auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && !extract_detail::is_space(c)) || u == 0x7F) return false;
  }
  return bad <= 3;
}

DocFormat sniff(std::string_view bytes) {
  if (bytes.starts_with("%PDF-")) return DocFormat::kPdf;
  if (bytes.starts_with("\xFF\xFE") || bytes.starts_with("\xFE\xFF")) return DocFormat::kText;
  std::string_view b = bytes;
  if (b.starts_with("\xEF\xBB\xBF")) b.remove_prefix(3);
  size_t lead = 0;
  while (lead < b.size() && extract_detail::is_space(b[lead])) ++lead;
  b.remove_prefix(lead);
  if (istarts_with(b, "<!doctype html") || istarts_with(b, "<html")) return DocFormat::kHtml;
  if ((b.starts_with("{") || b.starts_with("[")) && parse_json(b).has_value()) {
    return DocFormat::kJson;
  }
  if (looks_like_text(bytes.substr(0, 4096))) return DocFormat::kText;
  return DocFormat::kUnsupported;
}

bool mostly_nul(std::string_view bytes) {
  std::string_view head = bytes.substr(0, 4096);
  size_t nul = static_cast<size_t>(std::count(head.begin(), head.end(), '\0'));
  return nul * 100 > head.size();
}

}  // namespace

DocFormat detect_format(std::string_view content_type, std::string_view filename,
                        std::string_view bytes) {
  if (DocFormat f = from_content_type(content_type); f != DocFormat::kUnsupported) return f;
  if (DocFormat f = from_filename(filename); f != DocFormat::kUnsupported) return f;
  return sniff(bytes);
}

std::string_view format_name(DocFormat fmt) {
  switch (fmt) {
    case DocFormat::kText:
      return "text";
    case DocFormat::kMarkdown:
      return "markdown";
    case DocFormat::kHtml:
      return "html";
    case DocFormat::kJson:
      return "json";
    case DocFormat::kCsv:
      return "csv";
    case DocFormat::kPdf:
      return "pdf";
    case DocFormat::kUnsupported:
      break;
  }
  return "unsupported";
}

Result<std::unique_ptr<TextExtraction>> TextExtraction::start(std::string_view bytes,
                                                              DocFormat fmt) {
  using namespace extract_detail;
  if (bytes.size() > kMaxExtractBytes) {
    return api_error(Err::extract_too_large, "document is larger than 50 MB");
  }
  if (fmt == DocFormat::kPdf || fmt == DocFormat::kUnsupported) {
    return api_error(Err::extract_unsupported_format,
                     "no text extractor for format '" + std::string(format_name(fmt)) + "'");
  }
  // UTF-16 is legitimately half NULs, so only text without a UTF-16 BOM is checked.
  bool utf16 = bytes.starts_with("\xFF\xFE") || bytes.starts_with("\xFE\xFF");
  if (!utf16 && mostly_nul(bytes)) {
    return api_error(Err::extract_binary);
  }
  std::unique_ptr<TextExtraction> x(new TextExtraction());
  x->fmt_ = fmt;
  if (fmt == DocFormat::kMarkdown) {
    x->md_ = std::make_unique<MarkdownSlices>(decode_to_utf8(bytes));
  } else {
    x->utf8_ = decode_to_utf8(bytes);
  }
  return x;
}

TextExtraction::~TextExtraction() = default;

bool TextExtraction::done() const { return md_ ? md_->done() : out_.has_value(); }

void TextExtraction::step(size_t budget) {
  using namespace extract_detail;
  if (md_) return md_->step(budget);
  if (out_) return;
  switch (fmt_) {
    case DocFormat::kText:
      out_.emplace(extract_plain(utf8_));
      break;
    case DocFormat::kHtml:
      out_.emplace(extract_html(utf8_));
      break;
    case DocFormat::kJson:
      out_.emplace(extract_json(utf8_));
      break;
    case DocFormat::kCsv:
      out_.emplace(extract_csv(utf8_));
      break;
    default:
      out_.emplace(api_error(Err::extract_unsupported_format, "no text extractor for this format"));
  }
  utf8_ = std::string();
}

Result<ExtractedText> TextExtraction::finish() {
  while (!done()) step(static_cast<size_t>(-1));
  if (md_) return md_->finish();
  return std::move(*out_);
}

Result<ExtractedText> extract_text(std::string_view bytes, DocFormat fmt) {
  Result<std::unique_ptr<TextExtraction>> x = TextExtraction::start(bytes, fmt);
  if (!x.ok()) return x.take_error();
  return x.value()->finish();
}

}  // namespace ec
