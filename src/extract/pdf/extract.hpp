// PDF → ExtractedText. PdfExtractor is the pure state machine: feed() the file, then repeatedly
// take pending_inflates(), inflate each (zlib-wrapped deflate), provide() the results, until
// done(). extract_pdf() is the coroutine routes call: it answers the inflates with
// "zlib.inflate" effects, batched with ctx.all().
#pragma once

#include "core/context.hpp"
#include "core/error.hpp"
#include "core/task.hpp"
#include "extract/extracted.hpp"
#include "extract/pdf/document.hpp"
#include "extract/pdf/text.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ec {

struct PdfInflateRequest {
  uint32_t id = 0;
  std::string_view data;  // zlib-wrapped deflate bytes; valid until the next provide()
  size_t max = 0;         // inflate at most this many bytes, or fail
};

class PdfExtractor {
 public:
  static constexpr size_t kMaxInflate = size_t{16} << 20;       // one stream
  static constexpr size_t kMaxTotalInflate = size_t{64} << 20;  // the whole file
  static constexpr int kMaxTextPasses = 8;  // forms inside forms each need a round trip

  void feed(std::string bytes);
  // The batch to inflate now (empty once done()). Asking again before providing every result
  // returns the same batch.
  std::vector<PdfInflateRequest> pending_inflates();
  // nullopt: the inflate failed (corrupt data, over the limit); the stream is skipped.
  void provide(uint32_t id, std::optional<std::string> inflated);
  bool done() const { return phase_ == Phase::kDone; }
  // Valid once done(): the text, or extract.malformed / extract.encrypted / extract.no_text.
  Result<ExtractedText> take_result();

 private:
  enum class Phase { kStart, kStructure, kText, kDone };
  void advance();
  void queue_needed(const std::vector<uint32_t>& ids);
  bool text_pass();  // true when finished
  void walk_pages(const PdfObj& node, const PdfObj& resources, int depth);
  void finish();

  Phase phase_ = Phase::kStart;
  std::string bytes_;
  std::unique_ptr<PdfDocument> doc_;
  std::vector<uint32_t> queue_;
  std::vector<uint32_t> outstanding_;
  size_t inflate_left_ = kMaxTotalInflate;
  int passes_ = 0;
  std::vector<uint32_t> visited_;
  std::vector<std::vector<PdfLine>> pages_;
  PdfTextPass pass_;
  std::optional<Result<ExtractedText>> result_;
};

Task<Result<ExtractedText>> extract_pdf(Ctx& ctx, std::string bytes);

}  // namespace ec
