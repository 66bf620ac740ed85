// What every text extractor (plain, Markdown, HTML, JSON, CSV, PDF) produces: UTF-8 text plus the
// headings found in it, so the chunker can give each chunk its heading path.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace ec {

struct Heading {
  int level = 1;      // 1 = top level (Markdown '#', HTML <h1>, …)
  std::string title;  // plain text, whitespace collapsed
  size_t offset = 0;  // byte offset in ExtractedText::text where the heading's section starts
};

struct ExtractedText {
  std::string text;               // valid UTF-8, '\n' line ends, paragraphs separated by "\n\n"
  std::vector<Heading> headings;  // in document order, offsets non-decreasing
  std::string format;             // "text", "markdown", "html", "json", "csv", "pdf"
};

}  // namespace ec
