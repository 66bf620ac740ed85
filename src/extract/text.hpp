// Text extraction for retrieval: turns an uploaded document into UTF-8 text plus headings. The
// extractors are pure functions of the bytes (no effects), except PDF, which needs an inflate
// effect and therefore lives in src/extract/pdf/.
#pragma once

#include "core/error.hpp"
#include "extract/extracted.hpp"

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace ec {

enum class DocFormat { kText, kMarkdown, kHtml, kJson, kCsv, kPdf, kUnsupported };

// Larger uploads are refused before any work is done ("extract.too_large", 413).
inline constexpr size_t kMaxExtractBytes = size_t{50} * 1024 * 1024;

// Decides the format from, in order: the Content-Type (parameters ignored, case-insensitive;
// generic types such as application/octet-stream defer to the next rule), the filename's
// extension, and finally the bytes themselves (%PDF-, an HTML doctype/<html>, JSON that parses,
// otherwise UTF-8 text without control bytes). kUnsupported when nothing matches.
DocFormat detect_format(std::string_view content_type, std::string_view filename,
                        std::string_view bytes);

// "text", "markdown", "html", "json", "csv", "pdf", "unsupported".
std::string_view format_name(DocFormat fmt);

// Extracts text from every format except PDF (422 "extract.unsupported_format" for kPdf and
// kUnsupported). Errors: 413 "extract.too_large", 422 "extract.binary" (NUL bytes in more than 1%
// of the first 4 KB), 422 "extract.malformed" (JSON that does not parse).
Result<ExtractedText> extract_text(std::string_view bytes, DocFormat fmt);

namespace extract_detail {
class MarkdownSlices;
}

// extract_text in slices, so that a large document does not hold the isolate in one stretch:
// start() checks and decodes the bytes (the errors above), step() does about `budget` more bytes
// of the work, finish() gives what extract_text would. Markdown (the format of posted content and
// of the heading floods) stops between lines; the other formats finish in their first step.
class TextExtraction {
 public:
  static Result<std::unique_ptr<TextExtraction>> start(std::string_view bytes, DocFormat fmt);
  ~TextExtraction();
  bool done() const;
  void step(size_t budget);
  Result<ExtractedText> finish();

 private:
  TextExtraction() = default;
  DocFormat fmt_ = DocFormat::kText;
  std::string utf8_;  // the decoded input, until a one-step format has run
  std::unique_ptr<extract_detail::MarkdownSlices> md_;
  std::optional<Result<ExtractedText>> out_;
};

}  // namespace ec
