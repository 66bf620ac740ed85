// The content-stream interpreter (ISO 32000-1 §9.4): text objects, text state and positioning,
// graphics-state matrices, and Form XObjects, turned into lines of text. Line breaks come from
// the baseline moving, word spaces from horizontal jumps and large negative TJ kerning.
#pragma once

#include "extract/pdf/document.hpp"
#include "extract/pdf/font.hpp"

#include <map>
#include <string>
#include <vector>

namespace ec {

struct PdfLine {
  std::string text;
  double size = 0;                // largest font size on the line, in device units
  size_t chars = 0;               // characters drawn
  size_t bold_chars = 0;          // of which in a bold font
  bool paragraph_before = false;  // a vertical gap larger than ordinary line spacing precedes it
};

// State shared by every page of one extraction pass: fonts and the work budget.
struct PdfTextPass {
  std::map<uint32_t, PdfFont> fonts;     // by font dictionary object number
  std::vector<uint32_t> missing;         // streams that still need inflating
  size_t work_left = size_t{256} << 20;  // content bytes the pass may still interpret
};

// Appends the text of one page (its /Contents interpreted with `resources`) to `lines`.
void pdf_page_text(PdfDocument& doc, const PdfObj& page, const PdfObj& resources, PdfTextPass& pass,
                   std::vector<PdfLine>& lines);

}  // namespace ec
