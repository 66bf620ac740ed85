// Tokenizer and object parser for PDF syntax (ISO 32000-1 §7.2–7.3), shared by the file-structure
// parser and the content-stream interpreter. Every step consumes at least one byte and every
// container is bounded, so hostile input cannot loop or allocate without limit.
#pragma once

#include "extract/pdf/object.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace ec {

struct PdfToken {
  enum class Kind : uint8_t {
    kEnd,
    kInt,
    kReal,
    kString,
    kName,
    kKeyword,  // bare words: true, obj, R, stream, and content operators like Tj
    kArrayOpen,
    kArrayClose,
    kDictOpen,
    kDictClose,
    kJunk,  // a stray delimiter such as ')' or '{'; skipped by callers
  };
  Kind kind = Kind::kEnd;
  std::string text;  // decoded string bytes, name, or keyword
  int64_t integer = 0;
  double real = 0;
};

bool pdf_is_whitespace(char c);
bool pdf_is_delimiter(char c);

class PdfLexer {
 public:
  explicit PdfLexer(std::string_view data, size_t pos = 0) : data_(data), pos_(pos) {}

  PdfToken next();
  size_t pos() const { return pos_; }
  void seek(size_t pos) { pos_ = pos < data_.size() ? pos : data_.size(); }
  bool at_end() { return skip_space(), pos_ >= data_.size(); }
  std::string_view data() const { return data_; }
  void skip_space();

 private:
  PdfToken number();
  PdfToken literal_string();
  PdfToken hex_string();
  PdfToken name();

  std::string_view data_;
  size_t pos_;
};

// Limits for one parse: nesting depth and the total number of values created, so that a
// megabyte of "[[[[" or "0 0 0 …" costs bounded stack and memory.
struct PdfParseBudget {
  int max_depth = 64;
  size_t nodes_left = 200000;
};

// Parses one value at the lexer's position ("N G R" becomes a reference). nullopt on a syntax
// error or when the budget runs out; `first`, if given, is an already-read leading token.
std::optional<PdfObj> pdf_parse_object(PdfLexer& lex, PdfParseBudget& budget,
                                       std::optional<PdfToken> first = std::nullopt);

// Converts a token that is itself a value (number, string, name) to an object.
std::optional<PdfObj> pdf_token_value(const PdfToken& t);

}  // namespace ec
