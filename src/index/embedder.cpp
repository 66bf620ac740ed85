#include "index/embedder.hpp"

#include "bindings/ai.hpp"
#include "bindings/available.hpp"
#include "bindings/sched.hpp"
#include "index/lexical_embedder.hpp"

#include <algorithm>
#include <cmath>

namespace ec {

EmbedderChoice choose_embedder(const Ctx& ctx) {
  std::string_view mode = ctx.env("EMBEDDINGS", "auto");
  EmbedderChoice c;
  c.workers_ai = mode == "workers-ai" || (mode == "auto" && has_binding(ctx, "AI"));
  c.model = c.workers_ai ? std::string(kWorkersAiEmbedModel) : std::string(kLexicalEmbedderModel);
  c.batch = c.workers_ai ? kWorkersAiEmbedBatch : kLexicalEmbedBatch;
  return c;
}

bool use_vectorize(const Ctx& ctx) {
  std::string_view mode = ctx.env("VECTOR_STORE", "auto");
  return mode == "vectorize" || (mode == "auto" && has_binding(ctx, "VECTOR_INDEX"));
}

namespace {

// bge vectors come back normalised already; re-normalising keeps "dot product = cosine" true for
// any model the binding returns.
void normalise(float* v, size_t dims) {
  double s = 0;
  for (size_t i = 0; i < dims; ++i) s += static_cast<double>(v[i]) * v[i];
  if (s <= 0) return;
  const float inv = static_cast<float>(1.0 / std::sqrt(s));
  for (size_t i = 0; i < dims; ++i) v[i] *= inv;
}

}  // namespace

Task<Result<std::vector<float>>> embed_texts(Ctx& ctx, EmbedderChoice choice,
                                             std::vector<std::string> texts) {
  std::vector<float> out(texts.size() * kEmbeddingDims);
  if (!choice.workers_ai) {
    LexicalScratch scratch;
    // A batch of chunks is a long CPU stretch: slice it, and start with a yield too, so that an
    // ingest's D1 answers (which resume the core at once) never chain two slices back to back.
    // A search's query is far below one slice: it never waits.
    size_t total = 0;
    for (const std::string& t : texts) total += t.size();
    const size_t slice = yield_slice_bytes(ctx);
    size_t since_yield = total > slice ? slice : 0;
    for (size_t i = 0; i < texts.size(); ++i) {
      if (since_yield >= slice) {
        co_await yield_to_host(ctx);
        since_yield = 0;
      }
      embed_lexical(texts[i], out.data() + i * kEmbeddingDims, scratch);
      since_yield += texts[i].size();
    }
    co_return out;
  }
  for (size_t start = 0; start < texts.size(); start += kWorkersAiEmbedBatch) {
    size_t end = std::min(texts.size(), start + kWorkersAiEmbedBatch);
    std::vector<std::string> part;
    for (size_t i = start; i < end; ++i) {
      // The model refuses empty inputs; a chunk is never empty, a query may be whitespace.
      part.push_back(texts[i].empty() ? std::string(" ") : std::move(texts[i]));
    }
    Result<EmbedBatch> b = co_await ai_embed(ctx, choice.model, std::move(part));
    if (!b.ok()) co_return b.take_error();
    if (b.value().dims != kEmbeddingDims) {
      co_return api_error(Err::ai_bad_reply, "The embedding model returned unexpected dims");
    }
    std::copy(b.value().values.begin(), b.value().values.end(),
              out.begin() + static_cast<std::ptrdiff_t>(start * kEmbeddingDims));
  }
  for (size_t i = 0; i < texts.size(); ++i)
    normalise(out.data() + i * kEmbeddingDims, kEmbeddingDims);
  co_return out;
}

}  // namespace ec
