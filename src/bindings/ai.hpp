// Workers AI (binding AI) as typed calls: batched embeddings, plain model runs and streamed runs.
// Failures map to 503 "ai.unavailable" (binding missing, capacity, network) or 502 "ai.bad_reply";
// callers with a local fallback (the lexical embedder) treat "unavailable" as the cue to use it.
#pragma once

#include "bindings/http_fetch.hpp"
#include "core/context.hpp"
#include "core/error.hpp"
#include "core/task.hpp"

#include <string>
#include <vector>

namespace ec {

inline constexpr std::string_view kWorkersAiEmbedModel = "@cf/baai/bge-base-en-v1.5";
// bge-base-en-v1.5 takes up to 100 texts per call; its inputs are truncated at 512 tokens.
inline constexpr size_t kWorkersAiEmbedBatch = 100;

struct EmbedBatch {
  size_t dims = 0;
  std::vector<float> values;  // texts.size() rows of dims floats, row-major
};

Task<Result<EmbedBatch>> ai_embed(Ctx& ctx, std::string model, std::vector<std::string> texts);
// env.AI.run(model, input) → its JSON reply.
Task<Result<json>> ai_run(Ctx& ctx, std::string model, json input);
// env.AI.run(model, {...input, stream: true}) → its text/event-stream, read like an upstream HTTP
// body: fetch_read for the next bytes ("" at the end), fetch_abort to cancel it. The status is
// always 200: a model that fails before streaming fails here instead.
Task<Result<UpstreamResponse>> ai_stream(Ctx& ctx, std::string model, json input);

bool is_unavailable(const ApiError& e);

}  // namespace ec
