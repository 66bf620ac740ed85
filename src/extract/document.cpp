#include "extract/document.hpp"

#include "bindings/sched.hpp"
#include "extract/pdf/extract.hpp"
#include "extract/text.hpp"

namespace ec {

Task<Result<ExtractedText>> extract_document(Ctx& ctx, std::string bytes, std::string content_type,
                                             std::string filename) {
  DocFormat fmt = detect_format(content_type, filename, bytes);
  if (fmt == DocFormat::kPdf) co_return co_await extract_pdf(ctx, std::move(bytes));
  if (fmt == DocFormat::kUnsupported) {
    co_return api_error(Err::extract_unsupported_format,
                        "This file type cannot be indexed (supported: text, Markdown, HTML, "
                        "JSON, CSV and text-based PDF)");
  }
  Result<std::unique_ptr<TextExtraction>> x = TextExtraction::start(bytes, fmt);
  if (!x.ok()) co_return x.take_error();
  bytes = std::string();  // decoded: the source is no longer needed
  // A slice of extraction, then a yield, so that other requests are served in between.
  const size_t slice = yield_slice_bytes(ctx);
  for (x.value()->step(slice); !x.value()->done(); x.value()->step(slice)) {
    co_await yield_to_host(ctx);
  }
  co_return x.value()->finish();
}

}  // namespace ec
