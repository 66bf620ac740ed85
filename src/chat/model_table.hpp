// The models edgechat can route a chat to, with the limits and prices the router and the
// cost/perf advisor need (seed 003: "model router with cost/perf advisor"). Pure: the only input
// besides the built-in table is the text of two env vars, read by load_model_table().
//
// Providers (fixed, in this order everywhere a provider order matters):
//   workers-ai         Workers AI through the `AI` binding
//   openai             api.openai.com (or OPENAI_API_BASE_URL), key OPENAI_API_KEY
//   google             Gemini (or GEMINI_BASE_URL), key GEMINI_API_KEY or GOOGLE_API_KEY
//   openai-compatible  any OpenAI-style server at OPENAI_BASE_URL (Groq, Ollama, llama.cpp, vLLM)
//   local              the built-in extractive answerer (local_answerer.hpp); always there
//
// Built-in entries carry list prices in USD per 1k tokens (Workers AI's are its per-token
// prices converted from neurons) and rough typical output speeds in tokens/s. They go stale:
// deployments correct or extend them with MODELS, a JSON array of objects
//   {"provider":"openai","model":"gpt-4o","contextWindow":128000,"maxOutput":16384,
//    "priceInPer1k":0.0025,"priceOutPer1k":0.01,"speed":80,"default":true}
// where only provider and model are required. An entry naming a (provider, model) already in the
// table changes just the fields it gives; a new one is appended, missing fields taking the
// ModelInfo defaults. "default": true makes it its provider's default (clearing the old one); a
// provider left with no default gets its first model as default. Bad entries (not an object,
// unknown provider, missing/invalid model id, a field of the wrong type or out of range) are
// skipped with a warning; an unknown field is ignored with a warning (it is probably a typo); text
// that is not a JSON array is ignored as a whole. Warnings never contain secrets (MODELS holds
// none) and quote at most 64 bytes of any value.
//
// The openai-compatible provider's default model is OPENAI_MODEL (default "llama3.1"), priced 0:
// the deployment runs or rents that server itself. The local model is priced 0 and has speed 0:
// it is not an LLM and policies never rank it (model_router.hpp).
#pragma once

#include "core/context.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ec {

inline constexpr std::string_view kProviderWorkersAi = "workers-ai";
inline constexpr std::string_view kProviderOpenAi = "openai";
inline constexpr std::string_view kProviderGoogle = "google";
inline constexpr std::string_view kProviderOpenAiCompatible = "openai-compatible";
inline constexpr std::string_view kProviderLocal = "local";

// The provider order: automatic choice, fallback and /v1/models listing all follow it.
inline constexpr std::array<std::string_view, 5> kProviders = {
    kProviderWorkersAi, kProviderOpenAi, kProviderGoogle, kProviderOpenAiCompatible,
    kProviderLocal};

inline constexpr std::string_view kDefaultCompatibleModel = "llama3.1";
inline constexpr size_t kMaxModelsEntries = 256;
inline constexpr size_t kMaxModelIdBytes = 256;

struct ModelInfo {
  std::string provider;  // one of kProviders
  std::string model;     // the provider's model id, sent as-is
  size_t context_window = 8192;
  size_t max_output = 1024;
  double price_in_per_1k = 0;  // credits (USD-like units) per 1k input tokens
  double price_out_per_1k = 0;
  double speed_rank = 0;    // typical output tokens/s, higher is faster ("fastest" policy)
  bool is_default = false;  // the provider's default model
  bool listed = true;       // false: a model the table does not know, priced by its provider's
                            // dearest listed model (see route_models)
};

struct ModelTable {
  std::vector<ModelInfo> models;
  std::vector<std::string> warnings;  // from MODELS, for the caller to log once
};

// "gemini" → "google", "workers_ai"/"workersai"/"cloudflare" → "workers-ai",
// "openai_compatible"/"compatible" → "openai-compatible"; ASCII case-insensitive. Empty when the
// name is no provider.
std::string canonical_provider(std::string_view name);

// s for an error or log message: quoted, at most 64 bytes, bytes outside printable ASCII (and
// quotes, backslashes) as '?', "..." when cut.
std::string quote_for_message(std::string_view s);

// The one rule for a model id from a client or MODELS, checked before anything is charged or
// routed: "@cf/meta/llama-3.1-8b-instruct", "gpt-4o-mini", "llama3.1:8b", "openai/gpt-oss-120b".
// It is sent back in X-Model and stored, so nothing outside this set can ever reach a header.
inline constexpr std::string_view kModelIdRule =
    "1-256 characters of A-Z a-z 0-9 and . _ : / @ - (a model id such as gpt-4o-mini)";
bool valid_model_id(std::string_view id);

// The built-in entries, the openai-compatible default being compatible_model (kDefault… if
// empty). Exactly one default per provider.
ModelTable builtin_model_table(std::string_view compatible_model);

// Applies MODELS text (see above) to table; warnings are appended to table.warnings.
void apply_models_json(ModelTable& table, std::string_view models_json);

// builtin_model_table(OPENAI_MODEL) + apply_models_json(MODELS).
ModelTable load_model_table(const Ctx& ctx);

const ModelInfo* find_model(const ModelTable& table, std::string_view provider,
                            std::string_view model);
const ModelInfo* default_model(const ModelTable& table, std::string_view provider);
// The table's entry, or for a model it does not know (listed = false): the provider default's
// limits and the provider's dearest prices, so naming an unknown model never makes a call cheaper.
ModelInfo model_or_unlisted(const ModelTable& table, std::string_view provider,
                            std::string_view model);

// Cost of a finished call in credits from the table's prices; negative counts count as 0.
double call_cost(const ModelInfo& m, int64_t tokens_in, int64_t tokens_out);

// The cost of a RAG-shaped call (kTypicalTokensIn in, kTypicalTokensOut out): what the
// "cheapest" policy compares, since prompts with retrieved sources are mostly input.
inline constexpr int64_t kTypicalTokensIn = 3000;
inline constexpr int64_t kTypicalTokensOut = 500;
double typical_call_cost(const ModelInfo& m);

}  // namespace ec
