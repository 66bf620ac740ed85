#include "extract/pdf/font.hpp"

#include "core/utf8.hpp"
#include "extract/pdf/glyphs.hpp"

namespace ec {

void pdf_append_utf8(std::string& out, uint32_t cp) {
  static constexpr std::string_view kLigatures[] = {"ff", "fi", "fl", "ffi", "ffl", "st", "st"};
  if (cp >= 0xFB00 && cp <= 0xFB06) {
    out += kLigatures[cp - 0xFB00];
    return;
  }
  if (cp == '\t' || cp == 0xA0) cp = ' ';
  if (cp < 0x20 || cp == 0x7F || cp == 0xFEFF) return;
  append_utf8(out, cp);
}

std::string pdf_utf16be_to_utf8(std::u16string_view units) {
  std::string out;
  for (size_t i = 0; i < units.size(); ++i) {
    uint32_t u = units[i];
    if (u >= 0xD800 && u <= 0xDBFF && i + 1 < units.size() && units[i + 1] >= 0xDC00 &&
        units[i + 1] <= 0xDFFF) {
      u = 0x10000 + ((u - 0xD800) << 10) + (units[i + 1] - 0xDC00);
      ++i;
    }
    pdf_append_utf8(out, u);
  }
  return out;
}

namespace {

uint32_t code_of(std::string_view bytes) {
  uint32_t v = 0;
  for (size_t i = 0; i < bytes.size() && i < 4; ++i)
    v = (v << 8) | static_cast<unsigned char>(bytes[i]);
  return v;
}

std::u16string units_of(std::string_view bytes) {
  std::u16string out;
  for (size_t i = 0; i + 1 < bytes.size(); i += 2) {
    out += static_cast<char16_t>((static_cast<unsigned char>(bytes[i]) << 8) |
                                 static_cast<unsigned char>(bytes[i + 1]));
  }
  return out;
}

std::string_view strip_subset_tag(std::string_view name) {
  // Embedded subsets are named "ABCDEF+Times-Bold".
  if (name.size() > 7 && name[6] == '+') return name.substr(7);
  return name;
}

}  // namespace

PdfFont PdfFont::load(PdfDocument& doc, const PdfObj& font, std::vector<uint32_t>& missing) {
  PdfFont f;
  const PdfObj* subtype = doc.deref_get(font, "Subtype");
  f.composite_ = subtype && subtype->is_name("Type0");
  if (const PdfObj* base = doc.deref_get(font, "BaseFont"); base && base->is_name()) {
    std::string_view n = strip_subset_tag(base->str);
    f.bold_ = n.find("Bold") != std::string_view::npos ||
              n.find("Black") != std::string_view::npos ||
              n.find("Heavy") != std::string_view::npos;
  }
  if (f.composite_) {
    f.default_width_ = 1.0;
    const PdfObj* desc = doc.deref_get(font, "DescendantFonts");
    const PdfObj* cid =
        desc && desc->is_array() && !desc->items.empty() ? &doc.deref(desc->items[0]) : nullptr;
    if (cid && cid->is_dict()) {
      if (const PdfObj* dw = doc.deref_get(*cid, "DW"); dw && dw->is_number())
        f.default_width_ = dw->number() / 1000;
      // /W: "c [w1 w2 …]" or "c_first c_last w".
      const PdfObj* w = doc.deref_get(*cid, "W");
      for (size_t i = 0;
           w && w->is_array() && i + 1 < w->items.size() && f.widths_.size() < 65536;) {
        const PdfObj& a = doc.deref(w->items[i]);
        const PdfObj& b = doc.deref(w->items[i + 1]);
        if (b.is_array()) {
          for (size_t k = 0; k < b.items.size() && k < 65536; ++k)
            f.widths_[static_cast<uint32_t>(a.number()) + static_cast<uint32_t>(k)] =
                b.items[k].number() / 1000;
          i += 2;
        } else if (i + 2 < w->items.size()) {
          double width = doc.deref(w->items[i + 2]).number() / 1000;
          for (int64_t c = static_cast<int64_t>(a.number());
               c <= static_cast<int64_t>(b.number()) &&
               c - static_cast<int64_t>(a.number()) < 65536 && c >= 0;
               ++c)
            f.widths_[static_cast<uint32_t>(c)] = width;
          i += 3;
        } else {
          break;
        }
      }
    }
  } else {
    const uint16_t* table = pdf_encoding_table("StandardEncoding");
    const PdfObj* enc = doc.deref_get(font, "Encoding");
    const PdfObj* diffs = nullptr;
    if (enc && enc->is_name() && pdf_encoding_table(enc->str)) table = pdf_encoding_table(enc->str);
    if (enc && enc->is_dict()) {
      const PdfObj* base = doc.deref_get(*enc, "BaseEncoding");
      if (base && base->is_name() && pdf_encoding_table(base->str))
        table = pdf_encoding_table(base->str);
      diffs = doc.deref_get(*enc, "Differences");
    }
    for (int c = 0; c < 256; ++c) f.simple_[static_cast<size_t>(c)] = table[c];
    int code = 0;
    for (size_t i = 0; diffs && diffs->is_array() && i < diffs->items.size(); ++i) {
      const PdfObj& d = doc.deref(diffs->items[i]);
      if (d.is_int()) {
        code = static_cast<int>(d.integer);
      } else if (d.is_name()) {
        if (code >= 0 && code < 256)
          f.simple_[static_cast<size_t>(code)] = pdf_glyph_to_unicode(d.str);
        ++code;
      }
    }
    const PdfObj* first = doc.deref_get(font, "FirstChar");
    const PdfObj* widths = doc.deref_get(font, "Widths");
    if (first && widths && widths->is_array()) {
      for (size_t i = 0; i < widths->items.size() && i < 256; ++i)
        f.widths_[static_cast<uint32_t>(first->number()) + static_cast<uint32_t>(i)] =
            doc.deref(widths->items[i]).number() / 1000;
    }
  }
  if (const PdfObj* tu = font.get("ToUnicode"); tu && tu->is_ref()) {
    std::string_view cmap;
    PdfStream s = doc.stream(tu->ref_num(), &cmap);
    if (s == PdfStream::kReady) f.read_cmap(cmap);
    if (s == PdfStream::kNeedsInflate) missing.push_back(tu->ref_num());
  }
  return f;
}

void PdfFont::read_cmap(std::string_view cmap) {
  PdfLexer lex(cmap);
  enum { kNone, kSpace, kChar, kRange } section = kNone;
  std::vector<PdfToken> args;
  size_t entries = 0;
  for (int steps = 0; steps < 2000000; ++steps) {
    PdfToken t = lex.next();
    if (t.kind == PdfToken::Kind::kEnd || entries > 200000) break;
    if (t.kind == PdfToken::Kind::kKeyword) {
      if (t.text == "begincodespacerange")
        section = kSpace;
      else if (t.text == "beginbfchar")
        section = kChar;
      else if (t.text == "beginbfrange")
        section = kRange;
      else if (t.text.rfind("end", 0) == 0)
        section = kNone;
      args.clear();
      continue;
    }
    if (section == kNone) continue;
    if (section == kRange && t.kind == PdfToken::Kind::kArrayOpen) {
      // bfrange with one destination per code: read the array's strings.
      Range r{0, 0, {}, {}};
      for (PdfToken e = lex.next(); e.kind == PdfToken::Kind::kString && r.list.size() < 65536;
           e = lex.next())
        r.list.push_back(units_of(e.text));
      if (args.size() == 2) {
        r.lo = code_of(args[0].text);
        r.hi = code_of(args[1].text);
        if (r.lo <= r.hi) ranges_.push_back(std::move(r));
      }
      args.clear();
      ++entries;
      continue;
    }
    if (t.kind != PdfToken::Kind::kString) continue;
    args.push_back(std::move(t));
    if (section == kSpace && args.size() == 2) {
      int n = static_cast<int>(args[0].text.size());
      if (n >= 1 && n <= 4)
        spaces_.push_back(Space{n, code_of(args[0].text), code_of(args[1].text)});
      args.clear();
    } else if (section == kChar && args.size() == 2) {
      chars_[code_of(args[0].text)] = units_of(args[1].text);
      args.clear();
      ++entries;
    } else if (section == kRange && args.size() == 3) {
      Range r{code_of(args[0].text), code_of(args[1].text), units_of(args[2].text), {}};
      if (r.lo <= r.hi && !r.base.empty()) ranges_.push_back(std::move(r));
      args.clear();
      ++entries;
    }
  }
}

int PdfFont::code_length(std::string_view bytes, size_t at) const {
  for (const Space& s : spaces_) {
    if (at + static_cast<size_t>(s.bytes) > bytes.size()) continue;
    uint32_t c = code_of(bytes.substr(at, static_cast<size_t>(s.bytes)));
    if (c >= s.lo && c <= s.hi) return s.bytes;
  }
  return composite_ ? 2 : 1;
}

std::string PdfFont::unicode_for(uint32_t code) const {
  if (auto it = chars_.find(code); it != chars_.end()) return pdf_utf16be_to_utf8(it->second);
  for (const Range& r : ranges_) {
    if (code < r.lo || code > r.hi) continue;
    uint32_t k = code - r.lo;
    if (!r.list.empty()) return k < r.list.size() ? pdf_utf16be_to_utf8(r.list[k]) : std::string();
    std::u16string u = r.base;
    u.back() = static_cast<char16_t>(u.back() + k);
    return pdf_utf16be_to_utf8(u);
  }
  std::string out;
  if (!composite_ && code < 256) pdf_append_utf8(out, simple_[code]);
  return out;
}

double PdfFont::width_for(uint32_t code) const {
  auto it = widths_.find(code);
  return it != widths_.end() && it->second > 0 ? it->second : default_width_;
}

void PdfFont::decode(std::string_view bytes, std::vector<PdfGlyph>& out) const {
  for (size_t i = 0; i < bytes.size();) {
    int n = code_length(bytes, i);
    if (i + static_cast<size_t>(n) > bytes.size()) break;
    uint32_t code = code_of(bytes.substr(i, static_cast<size_t>(n)));
    out.push_back(PdfGlyph{unicode_for(code), width_for(code), n == 1 && code == 32});
    i += static_cast<size_t>(n);
  }
}

}  // namespace ec
