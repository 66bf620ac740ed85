// Turns the lines of each page into ExtractedText: lines joined with '\n', paragraphs and pages
// separated by "\n\n", and headings guessed from typography (larger or all-bold short lines),
// which is all a PDF says about structure unless it is tagged.
#pragma once

#include "core/error.hpp"
#include "extract/extracted.hpp"
#include "extract/pdf/text.hpp"

#include <vector>

namespace ec {

// extract.no_text when no page has any visible character (e.g. a scanned document).
Result<ExtractedText> pdf_layout_text(const std::vector<std::vector<PdfLine>>& pages);

}  // namespace ec
