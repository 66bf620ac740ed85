#include "extract/pdf/text.hpp"

#include <cmath>

namespace ec {

namespace {

struct Matrix {
  double a = 1, b = 0, c = 0, d = 1, e = 0, f = 0;
  Matrix times(const Matrix& m) const {  // this × m
    return {a * m.a + b * m.c, a * m.b + b * m.d,       c * m.a + d * m.c,
            c * m.b + d * m.d, e * m.a + f * m.c + m.e, e * m.b + f * m.d + m.f};
  }
};

Matrix translate(double x, double y) { return {1, 0, 0, 1, x, y}; }

class Interpreter {
 public:
  Interpreter(PdfDocument& doc, PdfTextPass& pass, std::vector<PdfLine>& lines)
      : doc_(doc), pass_(pass), lines_(lines) {}

  void run(std::string_view content, const PdfObj& resources, int depth);

 private:
  struct Graphics {
    Matrix ctm;
    const PdfFont* font = nullptr;
    double size = 0, char_space = 0, word_space = 0, leading = 0;
  };
  void op(const std::string& name, const PdfObj& resources, int depth);
  void show(const std::string& bytes);
  void next_line(double tx, double ty) {
    tlm_ = translate(tx, ty).times(tlm_);
    tm_ = tlm_;
  }
  double num(size_t i) const { return i < args_.size() ? args_[i].number() : 0.0; }
  const PdfFont* font(const PdfObj& resources, const std::string& name);
  void draw_form(const PdfObj& resources, const std::string& name, int depth);

  PdfDocument& doc_;
  PdfTextPass& pass_;
  std::vector<PdfLine>& lines_;
  std::vector<PdfObj> args_;
  Graphics gs_;
  std::vector<Graphics> stack_;
  Matrix tm_, tlm_;
  bool have_last_ = false;
  double last_x_ = 0, last_y_ = 0, last_size_ = 0;
  std::vector<PdfGlyph> glyphs_;
  std::map<std::string, PdfFont> direct_fonts_;
};

const PdfFont* Interpreter::font(const PdfObj& resources, const std::string& name) {
  const PdfObj* fonts = doc_.deref_get(resources, "Font");
  const PdfObj* entry = fonts ? fonts->get(name) : nullptr;
  if (entry == nullptr) return nullptr;
  const PdfObj& dict = doc_.deref(*entry);
  if (!dict.is_dict()) return nullptr;
  if (entry->is_ref()) {
    auto it = pass_.fonts.find(entry->ref_num());
    if (it == pass_.fonts.end())
      it = pass_.fonts.emplace(entry->ref_num(), PdfFont::load(doc_, dict, pass_.missing)).first;
    return &it->second;
  }
  auto it = direct_fonts_.find(name);
  if (it == direct_fonts_.end())
    it = direct_fonts_.emplace(name, PdfFont::load(doc_, dict, pass_.missing)).first;
  return &it->second;
}

void Interpreter::show(const std::string& bytes) {
  if (gs_.font == nullptr) return;
  Matrix trm = tm_.times(gs_.ctm);
  double size = std::fabs(gs_.size) * std::hypot(trm.c, trm.d);
  if (size <= 0) size = 1;
  double x = trm.e, y = trm.f;
  if (lines_.empty()) lines_.emplace_back();
  if (have_last_) {
    double dy = y - last_y_;
    double height = size > last_size_ ? size : last_size_;
    if (std::fabs(dy) > 0.5 * height) {
      PdfLine next;
      next.paragraph_before = std::fabs(dy) > 1.8 * height;
      lines_.push_back(std::move(next));
    } else if (x - last_x_ > 0.15 * size && !lines_.back().text.empty() &&
               lines_.back().text.back() != ' ') {
      lines_.back().text += ' ';
    }
  }
  glyphs_.clear();
  gs_.font->decode(bytes, glyphs_);
  PdfLine& line = lines_.back();
  // Generators (ghostscript among them) often set word gaps with Tc/Tw inside one string, so a
  // gap wider than a sixth of an em after a glyph is a word break too.
  double gap = 0.15 * std::fabs(gs_.size);
  for (size_t i = 0; i < glyphs_.size(); ++i) {
    const PdfGlyph& g = glyphs_[i];
    if (!(g.text == " " && (line.text.empty() || line.text.back() == ' '))) line.text += g.text;
    line.chars += 1;
    if (gs_.font->bold()) line.bold_chars += 1;
    double extra = gs_.char_space + (g.word_space ? gs_.word_space : 0.0);
    if (extra > gap && i + 1 < glyphs_.size() && !line.text.empty() && line.text.back() != ' ')
      line.text += ' ';
    tm_ = translate(g.width * gs_.size + extra, 0).times(tm_);
  }
  if (size > line.size) line.size = size;
  Matrix end = tm_.times(gs_.ctm);
  have_last_ = true;
  last_x_ = end.e;
  last_y_ = end.f;
  last_size_ = size;
}

void Interpreter::draw_form(const PdfObj& resources, const std::string& name, int depth) {
  const PdfObj* xobjects = doc_.deref_get(resources, "XObject");
  const PdfObj* entry = xobjects ? xobjects->get(name) : nullptr;
  if (entry == nullptr || !entry->is_ref() || depth >= 8) return;
  const PdfObj& form = doc_.deref(*entry);
  const PdfObj* subtype = form.get("Subtype");
  if (!subtype || !subtype->is_name("Form")) return;  // images carry no text
  std::string_view content;
  PdfStream s = doc_.stream(entry->ref_num(), &content);
  if (s == PdfStream::kNeedsInflate) pass_.missing.push_back(entry->ref_num());
  if (s != PdfStream::kReady) return;
  Graphics saved = gs_;
  if (const PdfObj* m = doc_.deref_get(form, "Matrix");
      m && m->is_array() && m->items.size() == 6) {
    Matrix fm{m->items[0].number(), m->items[1].number(), m->items[2].number(),
              m->items[3].number(), m->items[4].number(), m->items[5].number()};
    gs_.ctm = fm.times(gs_.ctm);
  }
  const PdfObj* own = doc_.deref_get(form, "Resources");
  PdfObj form_resources = own && own->is_dict() ? *own : resources;
  run(content, form_resources, depth + 1);
  gs_ = saved;
}

void Interpreter::op(const std::string& name, const PdfObj& resources, int depth) {
  if (name == "BT") {
    tm_ = tlm_ = Matrix{};
  } else if (name == "Tf" && args_.size() >= 2 && args_[0].is_name()) {
    gs_.font = font(resources, args_[0].str);
    gs_.size = num(1);
  } else if (name == "Tj" && !args_.empty() && args_.back().is_string()) {
    show(args_.back().str);
  } else if ((name == "'" || name == "\"") && !args_.empty() && args_.back().is_string()) {
    if (name == "\"" && args_.size() >= 3) {
      gs_.word_space = num(0);
      gs_.char_space = num(1);
    }
    next_line(0, -gs_.leading);
    show(args_.back().str);
  } else if (name == "TJ" && !args_.empty() && args_.back().is_array()) {
    for (const PdfObj& item : args_.back().items) {
      if (item.is_string()) {
        show(item.str);
      } else if (item.is_number()) {
        // A large negative adjustment moves right by a word gap: the generator's way of
        // writing a space without the space glyph.
        tm_ = translate(-item.number() / 1000 * gs_.size, 0).times(tm_);
        if (item.number() < -250 && !lines_.empty() && !lines_.back().text.empty() &&
            lines_.back().text.back() != ' ') {
          lines_.back().text += ' ';
        }
      }
    }
  } else if (name == "Td" || name == "TD") {
    if (name == "TD") gs_.leading = -num(1);
    next_line(num(0), num(1));
  } else if (name == "T*") {
    next_line(0, -gs_.leading);
  } else if (name == "Tm" && args_.size() >= 6) {
    tm_ = tlm_ = Matrix{num(0), num(1), num(2), num(3), num(4), num(5)};
  } else if (name == "TL") {
    gs_.leading = num(0);
  } else if (name == "Tc") {
    gs_.char_space = num(0);
  } else if (name == "Tw") {
    gs_.word_space = num(0);
  } else if (name == "cm" && args_.size() >= 6) {
    gs_.ctm = Matrix{num(0), num(1), num(2), num(3), num(4), num(5)}.times(gs_.ctm);
  } else if (name == "q") {
    if (stack_.size() < 64) stack_.push_back(gs_);
  } else if (name == "Q") {
    if (!stack_.empty()) {
      gs_ = stack_.back();
      stack_.pop_back();
    }
  } else if (name == "Do" && !args_.empty() && args_[0].is_name()) {
    draw_form(resources, args_[0].str, depth);
  }
  // Tz (horizontal scaling) and every graphics operator are deliberately ignored.
}

void Interpreter::run(std::string_view content, const PdfObj& resources, int depth) {
  if (content.size() > pass_.work_left) content = content.substr(0, pass_.work_left);
  pass_.work_left -= content.size();
  PdfLexer lex(content);
  args_.clear();
  while (true) {
    PdfToken t = lex.next();
    if (t.kind == PdfToken::Kind::kEnd) break;
    if (t.kind == PdfToken::Kind::kKeyword && t.text != "true" && t.text != "false" &&
        t.text != "null") {
      if (t.text == "ID") {
        // Inline image data is binary: skip to the "EI" that ends it.
        size_t at = lex.pos() + 1;
        while (at + 2 <= content.size()) {
          size_t ei = content.find("EI", at);
          if (ei == std::string_view::npos) {
            at = content.size();
            break;
          }
          at = ei + 2;
          if (pdf_is_whitespace(content[ei - 1]) &&
              (at == content.size() || pdf_is_whitespace(content[at]))) {
            break;
          }
        }
        lex.seek(at);
      } else {
        op(t.text, resources, depth);
      }
      args_.clear();
      continue;
    }
    if (t.kind == PdfToken::Kind::kJunk || t.kind == PdfToken::Kind::kArrayClose ||
        t.kind == PdfToken::Kind::kDictClose) {
      continue;
    }
    PdfParseBudget budget{16, 100000};
    auto v = pdf_parse_object(lex, budget, std::move(t));
    if (!v) continue;
    if (args_.size() >= 64) args_.clear();  // no operator takes this many operands
    args_.push_back(std::move(*v));
  }
}

}  // namespace

void pdf_page_text(PdfDocument& doc, const PdfObj& page, const PdfObj& resources, PdfTextPass& pass,
                   std::vector<PdfLine>& lines) {
  std::string content;
  const PdfObj* contents = page.get("Contents");
  std::vector<const PdfObj*> parts;
  const PdfObj& resolved = contents ? doc.deref(*contents) : PdfObj{};
  if (contents && contents->is_ref() && !resolved.is_array()) parts.push_back(contents);
  if (resolved.is_array()) {
    for (const PdfObj& p : resolved.items) parts.push_back(&p);
  }
  for (const PdfObj* p : parts) {
    if (!p->is_ref()) continue;
    std::string_view data;
    PdfStream s = doc.stream(p->ref_num(), &data);
    if (s == PdfStream::kNeedsInflate) pass.missing.push_back(p->ref_num());
    if (s != PdfStream::kReady || content.size() + data.size() > pass.work_left) continue;
    content.append(data);
    content += '\n';  // streams of one page concatenate, split only between tokens
  }
  // Fonts and forms of the page are requested up front so one round trip covers most pages.
  if (const PdfObj* fonts = doc.deref_get(resources, "Font"); fonts && fonts->is_dict()) {
    for (const PdfObj& f : fonts->items) {
      const PdfObj& dict = doc.deref(f);
      const PdfObj* tu = dict.get("ToUnicode");
      std::string_view ignored;
      if (tu && tu->is_ref() && doc.stream(tu->ref_num(), &ignored) == PdfStream::kNeedsInflate)
        pass.missing.push_back(tu->ref_num());
    }
  }
  Interpreter interp(doc, pass, lines);
  interp.run(content, resources, 0);
}

}  // namespace ec
