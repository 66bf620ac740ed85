#include "extract/pdf/lexer.hpp"

#include "crypto/encoding.hpp"

#include <utility>

namespace ec {

bool pdf_is_whitespace(char c) {
  return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == '\0';
}

bool pdf_is_delimiter(char c) {
  switch (c) {
    case '(':
    case ')':
    case '<':
    case '>':
    case '[':
    case ']':
    case '{':
    case '}':
    case '/':
    case '%':
      return true;
    default:
      return false;
  }
}

namespace {

bool regular(char c) { return !pdf_is_whitespace(c) && !pdf_is_delimiter(c); }

}  // namespace

void PdfLexer::skip_space() {
  while (pos_ < data_.size()) {
    char c = data_[pos_];
    if (pdf_is_whitespace(c)) {
      ++pos_;
    } else if (c == '%') {
      while (pos_ < data_.size() && data_[pos_] != '\n' && data_[pos_] != '\r') ++pos_;
    } else {
      break;
    }
  }
}

PdfToken PdfLexer::next() {
  skip_space();
  PdfToken t;
  if (pos_ >= data_.size()) return t;
  char c = data_[pos_];
  if (c == '(') return literal_string();
  if (c == '<') {
    if (pos_ + 1 < data_.size() && data_[pos_ + 1] == '<') {
      pos_ += 2;
      t.kind = PdfToken::Kind::kDictOpen;
      return t;
    }
    return hex_string();
  }
  if (c == '>' && pos_ + 1 < data_.size() && data_[pos_ + 1] == '>') {
    pos_ += 2;
    t.kind = PdfToken::Kind::kDictClose;
    return t;
  }
  if (c == '/') return name();
  if (c == '[' || c == ']') {
    ++pos_;
    t.kind = c == '[' ? PdfToken::Kind::kArrayOpen : PdfToken::Kind::kArrayClose;
    return t;
  }
  if (pdf_is_delimiter(c)) {
    ++pos_;
    t.kind = PdfToken::Kind::kJunk;
    return t;
  }
  if ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.') return number();
  size_t start = pos_;
  while (pos_ < data_.size() && regular(data_[pos_]) && pos_ - start < 128) ++pos_;
  t.kind = PdfToken::Kind::kKeyword;
  t.text = std::string(data_.substr(start, pos_ - start));
  return t;
}

PdfToken PdfLexer::number() {
  // Lenient like real readers: "--5" and "1.2.3" still yield a number and always make progress.
  PdfToken t;
  bool neg = false, seen_dot = false, any_digit = false;
  double value = 0, scale = 1;
  size_t start = pos_;
  while (pos_ < data_.size()) {
    char c = data_[pos_];
    if (c >= '0' && c <= '9') {
      any_digit = true;
      if (seen_dot) {
        scale /= 10;
        value += (c - '0') * scale;
      } else if (value < 1e15) {
        value = value * 10 + (c - '0');
      }
    } else if (c == '-' || c == '+') {
      if (pos_ == start) neg = c == '-';
    } else if (c == '.') {
      seen_dot = true;
    } else {
      break;
    }
    ++pos_;
  }
  if (neg) value = -value;
  if (!any_digit) value = 0;
  if (seen_dot) {
    t.kind = PdfToken::Kind::kReal;
    t.real = value;
  } else {
    t.kind = PdfToken::Kind::kInt;
    t.integer = static_cast<int64_t>(value);
    t.real = value;
  }
  return t;
}

PdfToken PdfLexer::literal_string() {
  PdfToken t;
  t.kind = PdfToken::Kind::kString;
  ++pos_;  // '('
  int depth = 1;
  while (pos_ < data_.size()) {
    char c = data_[pos_++];
    if (c == '(') {
      ++depth;
    } else if (c == ')') {
      if (--depth == 0) break;
    } else if (c == '\\') {
      if (pos_ >= data_.size()) break;
      char e = data_[pos_++];
      switch (e) {
        case 'n':
          t.text += '\n';
          continue;
        case 'r':
          t.text += '\r';
          continue;
        case 't':
          t.text += '\t';
          continue;
        case 'b':
          t.text += '\b';
          continue;
        case 'f':
          t.text += '\f';
          continue;
        case '\r':  // a backslash before an end of line continues the string
          if (pos_ < data_.size() && data_[pos_] == '\n') ++pos_;
          continue;
        case '\n':
          continue;
        default:
          break;
      }
      if (e >= '0' && e <= '7') {
        int v = e - '0';
        for (int i = 0; i < 2 && pos_ < data_.size() && data_[pos_] >= '0' && data_[pos_] <= '7';
             ++i) {
          v = v * 8 + (data_[pos_++] - '0');
        }
        t.text += static_cast<char>(v & 0xff);
        continue;
      }
      t.text += e;
      continue;
    }
    t.text += c;
  }
  return t;
}

PdfToken PdfLexer::hex_string() {
  PdfToken t;
  t.kind = PdfToken::Kind::kString;
  ++pos_;  // '<'
  int hi = -1;
  while (pos_ < data_.size()) {
    char c = data_[pos_++];
    if (c == '>') break;
    int v = hex_digit_value(c);
    if (v < 0) continue;  // whitespace and junk are ignored, as readers do
    if (hi < 0) {
      hi = v;
    } else {
      t.text += static_cast<char>(hi * 16 + v);
      hi = -1;
    }
  }
  if (hi >= 0) t.text += static_cast<char>(hi * 16);  // odd digit count: a trailing 0 is implied
  return t;
}

PdfToken PdfLexer::name() {
  PdfToken t;
  t.kind = PdfToken::Kind::kName;
  ++pos_;  // '/'
  while (pos_ < data_.size() && regular(data_[pos_]) && t.text.size() < 256) {
    char c = data_[pos_++];
    if (c == '#' && pos_ + 1 < data_.size() && hex_digit_value(data_[pos_]) >= 0 &&
        hex_digit_value(data_[pos_ + 1]) >= 0) {
      c = static_cast<char>(hex_digit_value(data_[pos_]) * 16 + hex_digit_value(data_[pos_ + 1]));
      pos_ += 2;
    }
    t.text += c;
  }
  return t;
}

std::optional<PdfObj> pdf_token_value(const PdfToken& t) {
  PdfObj o;
  switch (t.kind) {
    case PdfToken::Kind::kInt:
      o.kind = PdfObj::Kind::kInt;
      o.integer = t.integer;
      return o;
    case PdfToken::Kind::kReal:
      o.kind = PdfObj::Kind::kReal;
      o.real = t.real;
      return o;
    case PdfToken::Kind::kString:
      o.kind = PdfObj::Kind::kString;
      o.str = t.text;
      return o;
    case PdfToken::Kind::kName:
      o.kind = PdfObj::Kind::kName;
      o.str = t.text;
      return o;
    case PdfToken::Kind::kKeyword:
      if (t.text == "true" || t.text == "false") {
        o.kind = PdfObj::Kind::kBool;
        o.boolean = t.text == "true";
        return o;
      }
      if (t.text == "null") return o;
      return std::nullopt;
    default:
      return std::nullopt;
  }
}

std::optional<PdfObj> pdf_parse_object(PdfLexer& lex, PdfParseBudget& budget,
                                       std::optional<PdfToken> first) {
  if (budget.nodes_left == 0 || budget.max_depth <= 0) return std::nullopt;
  --budget.nodes_left;
  PdfToken t = first ? std::move(*first) : lex.next();
  if (t.kind == PdfToken::Kind::kInt) {
    // "N G R" is a reference; look ahead two tokens and rewind if it is not.
    size_t save = lex.pos();
    PdfToken g = lex.next();
    if (g.kind == PdfToken::Kind::kInt) {
      PdfToken r = lex.next();
      if (r.kind == PdfToken::Kind::kKeyword && r.text == "R" && t.integer >= 0 &&
          t.integer <= 0x7fffffff && g.integer >= 0 && g.integer <= 65535) {
        PdfObj o;
        o.kind = PdfObj::Kind::kRef;
        o.integer = t.integer;
        o.gen = static_cast<uint32_t>(g.integer);
        return o;
      }
    }
    lex.seek(save);
    return pdf_token_value(t);
  }
  if (t.kind == PdfToken::Kind::kArrayOpen || t.kind == PdfToken::Kind::kDictOpen) {
    bool dict = t.kind == PdfToken::Kind::kDictOpen;
    PdfToken::Kind close = dict ? PdfToken::Kind::kDictClose : PdfToken::Kind::kArrayClose;
    PdfObj o;
    o.kind = dict ? PdfObj::Kind::kDict : PdfObj::Kind::kArray;
    --budget.max_depth;
    while (true) {
      PdfToken n = lex.next();
      if (n.kind == close) break;
      if (n.kind == PdfToken::Kind::kEnd || budget.nodes_left == 0) {
        ++budget.max_depth;
        return std::nullopt;
      }
      if (n.kind == PdfToken::Kind::kJunk) continue;
      if (n.kind == PdfToken::Kind::kKeyword && n.text != "true" && n.text != "false" &&
          n.text != "null") {
        // An operator inside a container ("endobj", "stream") means the container never closed.
        ++budget.max_depth;
        return std::nullopt;
      }
      if (dict) {
        if (n.kind != PdfToken::Kind::kName) continue;  // tolerate junk keys
        std::string key = std::move(n.text);
        auto v = pdf_parse_object(lex, budget);
        if (!v) {
          ++budget.max_depth;
          return std::nullopt;
        }
        o.keys.push_back(std::move(key));
        o.items.push_back(std::move(*v));
      } else {
        auto v = pdf_parse_object(lex, budget, std::move(n));
        if (!v) {
          ++budget.max_depth;
          return std::nullopt;
        }
        o.items.push_back(std::move(*v));
      }
    }
    ++budget.max_depth;
    return o;
  }
  return pdf_token_value(t);
}

}  // namespace ec
