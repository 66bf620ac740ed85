// Which embedder and which vector store this deployment uses (DESIGN §4), and batched embedding.
//   EMBEDDINGS   = auto | workers-ai | local   (auto: Workers AI when the AI binding exists)
//   VECTOR_STORE = auto | vectorize | local    (auto: Vectorize when VECTOR_INDEX exists)
// Every stored vector records its model; vectors of different models are never compared.
#pragma once

#include "core/context.hpp"
#include "core/error.hpp"
#include "core/task.hpp"

#include <string>
#include <vector>

namespace ec {

// Chunks per batch with the local embedder, and so per D1 write of chunk rows: each batch's write
// (rows, vectors and their keyword index, in local D1 beside the Worker) and the SQL built for it
// are stretches other requests wait on. Bench section 11, /health p99 during the 100,000-heading
// ingest over idle, 2 KiB yield slices: 64 per batch 2.27-2.39×, 16 per batch 1.63-1.94×.
inline constexpr size_t kLexicalEmbedBatch = 16;

struct EmbedderChoice {
  bool workers_ai = false;
  std::string model;  // kWorkersAiEmbedModel or kLexicalEmbedderModel
  size_t batch = 64;  // texts per embedding call
};

EmbedderChoice choose_embedder(const Ctx& ctx);
bool use_vectorize(const Ctx& ctx);

// texts.size() rows of kEmbeddingDims floats, unit length (row-major). Workers AI calls are split
// into batches of at most kWorkersAiEmbedBatch.
Task<Result<std::vector<float>>> embed_texts(Ctx& ctx, EmbedderChoice choice,
                                             std::vector<std::string> texts);

}  // namespace ec
