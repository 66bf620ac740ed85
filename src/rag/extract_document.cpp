#include "rag/extract_document.hpp"

#include "rag/extract_text.hpp"
#include "rag/pdf_extract.hpp"

namespace ec {

Task<Result<ExtractedText>> extract_document(Ctx& ctx, std::string bytes, std::string content_type,
                                             std::string filename) {
  DocFormat fmt = detect_format(content_type, filename, bytes);
  if (fmt == DocFormat::kPdf) co_return co_await extract_pdf(ctx, std::move(bytes));
  if (fmt == DocFormat::kUnsupported) {
    co_return api_error(422, "extract.unsupported_format",
                        "This file type cannot be indexed (supported: text, Markdown, HTML, "
                        "JSON, CSV and text-based PDF)");
  }
  co_return extract_text(bytes, fmt);
}

}  // namespace ec
