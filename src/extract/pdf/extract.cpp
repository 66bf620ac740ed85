#include "extract/pdf/extract.hpp"

#include "crypto/encoding.hpp"
#include "extract/pdf/layout.hpp"

#include <algorithm>

namespace ec {

namespace {

constexpr size_t kMaxPages = 10000;
constexpr int kMaxTreeDepth = 32;

bool contains(const std::vector<uint32_t>& v, uint32_t x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

}  // namespace

void PdfExtractor::feed(std::string bytes) {
  if (phase_ != Phase::kStart) return;
  bytes_ = std::move(bytes);
  doc_ = std::make_unique<PdfDocument>(bytes_);
  Status loaded = doc_->load();
  if (!loaded) {
    result_ = loaded.take_error();
    phase_ = Phase::kDone;
    return;
  }
  phase_ = Phase::kStructure;
  std::vector<uint32_t> needed;
  for (uint32_t id : doc_->structure_streams()) {
    std::string_view ignored;
    if (doc_->stream(id, &ignored) == PdfStream::kNeedsInflate) needed.push_back(id);
  }
  queue_needed(needed);
  if (queue_.empty()) advance();
}

void PdfExtractor::queue_needed(const std::vector<uint32_t>& ids) {
  for (uint32_t id : ids) {
    if (!contains(queue_, id) && !contains(outstanding_, id)) queue_.push_back(id);
  }
}

std::vector<PdfInflateRequest> PdfExtractor::pending_inflates() {
  // Loops because skipping streams over budget runs another text pass, which may queue more
  // (bounded by kMaxTextPasses).
  while (outstanding_.empty() && !queue_.empty()) {
    // Pack a batch whose limits fit the remaining budget, so one batch cannot blow it. A
    // stream's limit scales with its compressed size: real text rarely inflates beyond 256×.
    size_t reserved = 0;
    std::vector<uint32_t> rest;
    for (uint32_t id : queue_) {
      size_t in = doc_->inflate_input(id).size();
      size_t max = std::min({kMaxInflate, std::max<size_t>(size_t{1} << 20, in * 256)});
      if (reserved + max <= inflate_left_ || (outstanding_.empty() && inflate_left_ > 0)) {
        outstanding_.push_back(id);
        reserved += std::min(max, inflate_left_);
      } else {
        rest.push_back(id);
      }
    }
    if (outstanding_.empty() && !queue_.empty()) {
      // The budget is spent: every remaining stream is skipped.
      std::vector<uint32_t> skipped = std::move(queue_);
      queue_.clear();
      for (uint32_t id : skipped) doc_->provide_inflated(id, std::nullopt);
      advance();
    } else {
      queue_ = std::move(rest);
    }
  }
  std::vector<PdfInflateRequest> out;
  size_t share = inflate_left_;
  for (uint32_t id : outstanding_) {
    size_t in = doc_->inflate_input(id).size();
    size_t max = std::min({kMaxInflate, std::max<size_t>(size_t{1} << 20, in * 256), share});
    out.push_back(PdfInflateRequest{id, doc_->inflate_input(id), max});
  }
  return out;
}

void PdfExtractor::provide(uint32_t id, std::optional<std::string> inflated) {
  auto it = std::find(outstanding_.begin(), outstanding_.end(), id);
  if (it == outstanding_.end()) return;
  outstanding_.erase(it);
  if (inflated && inflated->size() > inflate_left_) inflated.reset();
  if (inflated) inflate_left_ -= inflated->size();
  doc_->provide_inflated(id, std::move(inflated));
  if (outstanding_.empty() && queue_.empty()) advance();
}

void PdfExtractor::advance() {
  if (phase_ == Phase::kStructure) {
    doc_->finish_structure();
    phase_ = Phase::kText;
  }
  while (phase_ == Phase::kText && queue_.empty()) {
    if (text_pass()) finish();
  }
}

bool PdfExtractor::text_pass() {
  ++passes_;
  pages_.clear();
  visited_.clear();
  pass_ = PdfTextPass{};
  const PdfObj* root = doc_->deref_get(doc_->trailer(), "Root");
  const PdfObj* pages = root ? doc_->deref_get(*root, "Pages") : nullptr;
  if (pages && pages->is_dict()) walk_pages(*pages, PdfObj{}, 0);
  if (pages_.empty()) {
    // No usable page tree (truncated or broken file): every /Type /Page object in file order.
    for (uint32_t num : doc_->scanned()) {
      if (pages_.size() >= kMaxPages || contains(visited_, num)) continue;
      const PdfObj* page = doc_->object(num);
      const PdfObj* type = page ? page->get("Type") : nullptr;
      if (!type || !type->is_name("Page")) continue;
      visited_.push_back(num);
      // Resources are inherited: climb /Parent (bounded) when the page has none of its own.
      const PdfObj* res = doc_->deref_get(*page, "Resources");
      const PdfObj* up = page;
      for (int hops = 0; !res && up && hops < kMaxTreeDepth; ++hops) {
        up = doc_->deref_get(*up, "Parent");
        if (up) res = doc_->deref_get(*up, "Resources");
      }
      pages_.emplace_back();
      pdf_page_text(*doc_, *page, res ? *res : PdfObj{}, pass_, pages_.back());
    }
  }
  std::vector<uint32_t> missing;
  std::string_view ignored;
  for (uint32_t id : pass_.missing) {
    if (doc_->stream(id, &ignored) == PdfStream::kNeedsInflate) missing.push_back(id);
  }
  if (missing.empty() || passes_ >= kMaxTextPasses) return true;
  queue_needed(missing);
  return false;
}

void PdfExtractor::walk_pages(const PdfObj& node, const PdfObj& resources, int depth) {
  if (depth > kMaxTreeDepth || pages_.size() >= kMaxPages) return;
  const PdfObj* own = doc_->deref_get(node, "Resources");
  const PdfObj& res = own && own->is_dict() ? *own : resources;
  const PdfObj* kids = doc_->deref_get(node, "Kids");
  const PdfObj* type = node.get("Type");
  if (kids && kids->is_array() && !(type && type->is_name("Page"))) {
    for (const PdfObj& kid : kids->items) {
      // Each node once: a /Kids cycle or a shared subtree cannot multiply the work.
      if (!kid.is_ref() || contains(visited_, kid.ref_num())) continue;
      visited_.push_back(kid.ref_num());
      const PdfObj& child = doc_->deref(kid);
      if (child.is_dict()) walk_pages(child, res, depth + 1);
    }
    return;
  }
  pages_.emplace_back();
  pdf_page_text(*doc_, node, res, pass_, pages_.back());
}

void PdfExtractor::finish() {
  phase_ = Phase::kDone;
  if (pages_.empty()) {
    result_ = api_error(Err::extract_malformed, "the PDF has no readable pages");
    return;
  }
  result_ = pdf_layout_text(pages_);
}

Result<ExtractedText> PdfExtractor::take_result() {
  if (!result_) return api_error(Err::extract_malformed, "the PDF could not be read");
  Result<ExtractedText> out = std::move(*result_);
  result_.reset();
  return out;
}

Task<Result<ExtractedText>> extract_pdf(Ctx& ctx, std::string bytes) {
  PdfExtractor extractor;
  extractor.feed(std::move(bytes));
  while (!extractor.done()) {
    std::vector<PdfInflateRequest> batch = extractor.pending_inflates();
    if (batch.empty()) break;  // cannot happen while not done; guards against a stall
    std::vector<Effect> effects;
    std::vector<uint32_t> ids;
    for (const PdfInflateRequest& r : batch) {
      ids.push_back(r.id);
      effects.push_back(
          make_effect("zlib.inflate", {{"data", base64url_encode(r.data)}, {"max", r.max}}));
    }
    batch.clear();  // its views die with the next provide()
    std::vector<EffectResult> results = co_await ctx.all(std::move(effects));
    for (size_t i = 0; i < ids.size(); ++i) {
      bool ok = i < results.size() && results[i].ok();
      extractor.provide(ids[i],
                        ok ? std::optional<std::string>(std::move(results[i].data)) : std::nullopt);
    }
  }
  co_return extractor.take_result();
}

}  // namespace ec
