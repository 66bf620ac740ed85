// A font as far as text extraction cares: how its string bytes split into codes, what Unicode
// each code means (ToUnicode CMap first, then /Encoding with /Differences), and each code's
// advance width so the layout can tell a word gap from a kerning nudge.
#pragma once

#include "extract/pdf/document.hpp"

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace ec {

struct PdfGlyph {
  std::string text;         // UTF-8, possibly empty (unmapped code) or several characters
  double width = 0.5;       // in text space units per unit font size (glyph width / 1000)
  bool word_space = false;  // single-byte code 32: Tw applies
};

class PdfFont {
 public:
  // Reads a font dictionary. A /ToUnicode stream that still needs inflating is appended to
  // `missing` and the font falls back to its encoding for now.
  static PdfFont load(PdfDocument& doc, const PdfObj& font, std::vector<uint32_t>& missing);

  void decode(std::string_view bytes, std::vector<PdfGlyph>& out) const;
  bool bold() const { return bold_; }

  // Parses a ToUnicode CMap's codespace ranges, bfchar and bfrange sections.
  void read_cmap(std::string_view cmap);

 private:
  struct Space {
    int bytes;
    uint32_t lo, hi;
  };
  struct Range {
    uint32_t lo, hi;
    std::u16string base;               // destination of lo; later codes bump the last unit
    std::vector<std::u16string> list;  // or one destination per code
  };
  int code_length(std::string_view bytes, size_t at) const;
  std::string unicode_for(uint32_t code) const;
  double width_for(uint32_t code) const;

  bool composite_ = false;
  bool bold_ = false;
  std::array<uint32_t, 256> simple_{};  // code → Unicode for simple fonts
  std::vector<Space> spaces_;
  std::map<uint32_t, std::u16string> chars_;
  std::vector<Range> ranges_;
  std::map<uint32_t, double> widths_;
  double default_width_ = 0.5;
};

// Appends a code point as UTF-8; ligatures become their letters (search matches "fi", not
// U+FB01), controls are dropped and invalid values become U+FFFD.
void pdf_append_utf8(std::string& out, uint32_t cp);
std::string pdf_utf16be_to_utf8(std::u16string_view units);

}  // namespace ec
