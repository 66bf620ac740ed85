// Which provider and model answer a chat, and what to try when that one fails (seed 003's model
// router; seed 000's per-request provider/model/apiKey; /v1/models). Pure: the deployment's state
// arrives as a ModelTable (model_table.hpp), the providers' endpoints and RouteDefaults, each read
// from the env by a thin Ctx function, so the decisions are tested on plain structs.
//
// Availability (provider_endpoints):
//   workers-ai         the `AI` binding is bound
//   openai             OPENAI_API_KEY is set (base OPENAI_API_BASE_URL, default api.openai.com)
//   google             GEMINI_API_KEY or GOOGLE_API_KEY is set (base GEMINI_BASE_URL)
//   openai-compatible  OPENAI_BASE_URL is set (key OPENAI_COMPATIBLE_API_KEY, optional)
//   local              always
// A per-request API key (seed 000's apiKey) goes to the request's provider if that one takes keys
// (openai, google, openai-compatible), else to openai, replacing the env key for this call only:
// it makes openai/google available, and openai-compatible still needs its base URL. It lives in
// that one endpoint (request_key = true), so it reaches at most one Candidate; nothing here logs,
// stores or echoes it. Env values are trimmed (a secret piped into `wrangler secret put` may end
// with a newline).
//
// The first candidate (route_models):
//   - Explicit: req.provider and/or req.model. A provider must be known (400
//     chat.unknown_provider, listing the five) and available (400 chat.provider_unavailable, naming
//     what to set: it is the deployment's configuration, not a transient outage, so not 503). A
//     model the table lacks is still allowed for an explicit provider (providers add models faster
//     than tables do), with that provider's default model's limits and, so that billing never
//     undercharges, the highest per-token prices the table lists for that provider; `listed` is
//     false. `local` has one model and rejects others (400 chat.unknown_model). A model without a
//     provider is looked up in the table: an exact id match wins (so Groq's "openai/gpt-oss-120b",
//     listed under openai-compatible via MODELS, is not split), preferring available providers in
//     provider order; otherwise "provider/model" is split at the first '/' when the prefix is a
//     provider; a bare provider name means its default model; anything else is 400
//     chat.unknown_model (the message says to write provider/model or add it to MODELS). Model ids
//     must pass valid_model_id (400 chat.invalid_model).
//   - A per-request key with no explicit choice: the key's provider, default model (a caller who
//     brings a key expects it to be used).
//   - Otherwise by policy ("" = "default", "cheapest", "fastest"; else 400 chat.unknown_policy):
//       default   DEFAULT_PROVIDER / DEFAULT_MODEL (as an explicit choice) when set and usable,
//                 silently skipped when not; then the first available of workers-ai, openai,
//                 google, openai-compatible, with its default model; then local.
//       cheapest  the lowest typical_call_cost over every listed model of the available providers.
//       fastest   the highest speed_rank over the same models.
//     Ties go to the faster (cheapest) or cheaper (fastest) model, then provider order, then table
//     order. `local` is never ranked: it is an extractive answerer, not an LLM, and would always
//     "win" on price; it is chosen by policy only when nothing else is available.
// Fallback (req.fallback): then the default model of every other available provider (not the
// first candidate's, whose failures are usually provider-wide: key, quota, outage), ordered as the
// policy ranks them (default: provider order), and last `local`, so a chat always gets an answer,
// and each answer names the provider and model that gave it. No provider appears twice. Without
// fallback, or when the first candidate is local (which cannot fail), the list has exactly one.
//
// /v1/models (models_list_json): OpenAI's list format over the listed models of the available
// providers, in provider order, each provider's default first. `id` is the model id as-is and
// `owned_by` the provider; when two available providers list the same id, the first keeps the
// bare id (which route_models resolves to it) and later ones are listed as "provider/model".
#pragma once

#include "chat/model_table.hpp"
#include "core/context.hpp"
#include "core/error.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ec {

struct ProviderEndpoint {
  std::string provider;
  std::string base_url;  // empty for workers-ai (a binding) and local
  std::string api_key;   // secret: never log, store or echo
  bool available = false;
  bool request_key = false;  // api_key came with the request
};

// One endpoint per provider, in kProviders order. request_provider may be any spelling that
// canonical_provider accepts, or empty.
std::vector<ProviderEndpoint> provider_endpoints(const Ctx& ctx, const std::string& request_api_key,
                                                 const std::string& request_provider);

// What to configure to make a provider available ("set OPENAI_API_KEY"), for error messages and
// health output. Empty for local and for unknown names.
std::string_view provider_requirement(std::string_view provider);

// The deployment's default choice: DEFAULT_PROVIDER / DEFAULT_MODEL ("auto" counts as unset).
struct RouteDefaults {
  std::string provider;
  std::string model;
};
RouteDefaults route_defaults(const Ctx& ctx);

struct RouteRequest {
  std::string provider;  // "" = not chosen
  std::string model;     // "" = the provider's default; may be "provider/model"
  std::string policy;    // "" | default | cheapest | fastest
  bool fallback = true;
};

struct Candidate {
  ModelInfo info;
  ProviderEndpoint endpoint;
};

// Ordered candidates to try (never empty on success).
Result<std::vector<Candidate>> route_models(const ModelTable& table,
                                            const std::vector<ProviderEndpoint>& endpoints,
                                            const RouteRequest& req,
                                            const RouteDefaults& defaults = {});

// The `model` of an OpenAI-style request → a RouteRequest (fallback on). Whitespace is trimmed.
//   "", "auto", "default"           → policy default
//   "auto:cheapest", "auto:fastest"  → that policy
//   a provider name ("local", "openai", "gemini", …) → that provider, its default model
//   anything else                    → model, left for route_models to resolve (so an id that
//                                      contains '/' is split only if the table does not list it)
RouteRequest route_request_for_model(std::string_view model);

// {object:"list", data:[{id, object:"model", created, owned_by}]}.
json models_list_json(const ModelTable& table, const std::vector<ProviderEndpoint>& endpoints,
                      int64_t created_s);

}  // namespace ec
