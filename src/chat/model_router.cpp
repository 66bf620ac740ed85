#include "chat/model_router.hpp"

#include "bindings/available.hpp"
#include "chat/local_answerer.hpp"
#include "core/ascii.hpp"
#include "providers/wire_gemini.hpp"
#include "providers/wire_openai.hpp"

#include <algorithm>
#include <utility>

namespace ec {

namespace {

std::string env_value(const Ctx& ctx, std::string_view key) {
  return std::string(ascii_trim(ctx.env(key)));
}

bool takes_api_key(std::string_view provider) {
  return provider == kProviderOpenAi || provider == kProviderGoogle ||
         provider == kProviderOpenAiCompatible;
}

ProviderEndpoint make_endpoint(std::string_view provider, std::string base_url, std::string api_key,
                               bool available) {
  ProviderEndpoint e;
  e.provider = std::string(provider);
  e.base_url = std::move(base_url);
  e.api_key = std::move(api_key);
  e.available = available;
  return e;
}

}  // namespace

std::vector<ProviderEndpoint> provider_endpoints(const Ctx& ctx, const std::string& request_api_key,
                                                 const std::string& request_provider) {
  std::vector<ProviderEndpoint> eps;
  eps.push_back(make_endpoint(kProviderWorkersAi, "", "", has_binding(ctx, "AI")));

  std::string openai_base = env_value(ctx, "OPENAI_API_BASE_URL");
  if (openai_base.empty()) openai_base = std::string(kOpenAiDefaultBaseUrl);
  std::string openai_key = env_value(ctx, "OPENAI_API_KEY");
  bool openai_on = !openai_key.empty();
  eps.push_back(
      make_endpoint(kProviderOpenAi, std::move(openai_base), std::move(openai_key), openai_on));

  std::string gemini_base = env_value(ctx, "GEMINI_BASE_URL");
  if (gemini_base.empty()) gemini_base = std::string(kGeminiDefaultBaseUrl);
  std::string gemini_key = env_value(ctx, "GEMINI_API_KEY");
  if (gemini_key.empty()) gemini_key = env_value(ctx, "GOOGLE_API_KEY");
  bool gemini_on = !gemini_key.empty();
  eps.push_back(
      make_endpoint(kProviderGoogle, std::move(gemini_base), std::move(gemini_key), gemini_on));

  std::string compatible_base = env_value(ctx, "OPENAI_BASE_URL");
  bool compatible_on = !compatible_base.empty();
  eps.push_back(make_endpoint(kProviderOpenAiCompatible, std::move(compatible_base),
                              env_value(ctx, "OPENAI_COMPATIBLE_API_KEY"), compatible_on));

  eps.push_back(make_endpoint(kProviderLocal, "", "", true));

  std::string_view key = ascii_trim(request_api_key);
  if (!key.empty()) {
    std::string target = canonical_provider(ascii_trim(request_provider));
    if (!takes_api_key(target)) target = std::string(kProviderOpenAi);
    for (ProviderEndpoint& e : eps) {
      if (e.provider != target) continue;
      e.api_key = std::string(key);
      e.request_key = true;
      e.available = target != kProviderOpenAiCompatible || !e.base_url.empty();
    }
  }
  return eps;
}

std::string_view provider_requirement(std::string_view provider) {
  if (provider == kProviderWorkersAi) {
    return "bind Workers AI as \"AI\" (wrangler.toml: [ai] binding = \"AI\")";
  }
  if (provider == kProviderOpenAi) return "set OPENAI_API_KEY (or send an apiKey)";
  if (provider == kProviderGoogle) {
    return "set GEMINI_API_KEY or GOOGLE_API_KEY (or send an apiKey)";
  }
  if (provider == kProviderOpenAiCompatible) {
    return "set OPENAI_BASE_URL (e.g. http://localhost:11434/v1 for Ollama)";
  }
  return {};
}

RouteDefaults route_defaults(const Ctx& ctx) {
  RouteDefaults d;
  d.provider = env_value(ctx, "DEFAULT_PROVIDER");
  d.model = env_value(ctx, "DEFAULT_MODEL");
  if (ascii_iequals(d.provider, "auto")) d.provider.clear();
  if (ascii_iequals(d.model, "auto")) d.model.clear();
  return d;
}

namespace {

enum class Policy { kDefault, kCheapest, kFastest };

ApiError route_error(Err code, std::string message, std::string_view field) {
  ApiError e = api_error(code, message);
  e.fields = json::object();
  e.fields[std::string(field)] = std::move(message);
  return e;
}

std::string provider_list() {
  std::string out;
  for (std::string_view p : kProviders) {
    if (!out.empty()) out += ", ";
    out += p;
  }
  return out;
}

size_t provider_index(std::string_view provider) {
  for (size_t i = 0; i < kProviders.size(); ++i) {
    if (kProviders[i] == provider) return i;
  }
  return kProviders.size();
}

// The routing decisions over one deployment's table and endpoints.
class Router {
 public:
  Router(const ModelTable& table, const std::vector<ProviderEndpoint>& endpoints)
      : table_(table), endpoints_(endpoints) {}

  bool available(std::string_view provider) const {
    if (provider == kProviderLocal) return true;
    const ProviderEndpoint* e = find_endpoint(provider);
    return e != nullptr && e->available;
  }

  Candidate candidate(ModelInfo info) const {
    const ProviderEndpoint* e = find_endpoint(info.provider);
    ProviderEndpoint ep =
        e != nullptr ? *e : make_endpoint(info.provider, "", "", info.provider == kProviderLocal);
    return Candidate{std::move(info), std::move(ep)};
  }

  ModelInfo local_model() const {
    if (const ModelInfo* m = default_model(table_, kProviderLocal)) return *m;
    ModelInfo m;
    m.provider = std::string(kProviderLocal);
    m.model = local_model_name();
    m.is_default = true;
    return m;
  }

  const ProviderEndpoint* request_key_endpoint() const {
    for (const ProviderEndpoint& e : endpoints_) {
      if (e.request_key && e.available) return &e;
    }
    return nullptr;
  }

  // An explicit provider and/or model (see the header for the rules).
  Result<ModelInfo> resolve(std::string_view provider_name, std::string_view model) const {
    if (!model.empty() && !valid_model_id(model)) {
      return route_error(Err::chat_invalid_model, "model must be " + std::string(kModelIdRule),
                         "model");
    }
    if (!provider_name.empty()) return resolve_for(provider_name, model);
    const ModelInfo* unavailable = nullptr;
    for (std::string_view p : kProviders) {
      const ModelInfo* m = find_model(table_, p, model);
      if (m == nullptr) continue;
      if (available(p)) return *m;
      if (unavailable == nullptr) unavailable = m;
    }
    if (unavailable != nullptr) return not_configured(unavailable->provider);
    size_t slash = model.find('/');
    if (slash != std::string_view::npos && !canonical_provider(model.substr(0, slash)).empty()) {
      return resolve_for(model.substr(0, slash), model.substr(slash + 1));
    }
    if (!canonical_provider(model).empty()) return resolve_for(model, "");
    return route_error(Err::chat_unknown_model,
                       "unknown model: write it as provider/model (providers: " + provider_list() +
                           ") or add it to MODELS",
                       "model");
  }

  // The listed models of available providers other than local, best first.
  std::vector<const ModelInfo*> ranked(Policy policy, bool defaults_only,
                                       std::string_view except_provider) const {
    std::vector<const ModelInfo*> out;
    for (const ModelInfo& m : table_.models) {
      if (m.provider == kProviderLocal || m.provider == except_provider) continue;
      if (defaults_only && !m.is_default) continue;
      if (available(m.provider)) out.push_back(&m);
    }
    std::stable_sort(out.begin(), out.end(), [policy](const ModelInfo* a, const ModelInfo* b) {
      double ca = typical_call_cost(*a);
      double cb = typical_call_cost(*b);
      if (policy == Policy::kCheapest && ca != cb) return ca < cb;
      if (policy != Policy::kDefault && a->speed_rank != b->speed_rank) {
        return a->speed_rank > b->speed_rank;
      }
      if (policy == Policy::kFastest && ca != cb) return ca < cb;
      return provider_index(a->provider) < provider_index(b->provider);
    });
    return out;
  }

 private:
  const ProviderEndpoint* find_endpoint(std::string_view provider) const {
    for (const ProviderEndpoint& e : endpoints_) {
      if (e.provider == provider) return &e;
    }
    return nullptr;
  }

  ApiError not_configured(std::string_view provider) const {
    return route_error(
        Err::chat_provider_unavailable,
        "provider \"" + std::string(provider) +
            "\" is not configured on this server: " + std::string(provider_requirement(provider)),
        "provider");
  }

  Result<ModelInfo> resolve_for(std::string_view provider_name, std::string_view model) const {
    std::string p = canonical_provider(provider_name);
    if (p.empty()) {
      return route_error(Err::chat_unknown_provider,
                         "unknown provider; providers: " + provider_list(), "provider");
    }
    if (!available(p)) return not_configured(p);
    if (model.empty()) {
      if (p == kProviderLocal) return local_model();
      if (const ModelInfo* d = default_model(table_, p)) return *d;
      return route_error(Err::chat_unknown_model, "no model is configured for provider " + p,
                         "model");
    }
    if (const ModelInfo* m = find_model(table_, p, model)) return *m;
    // "openai/gpt-4o" with provider "openai" (or "gemini/…" with "google"): the prefix only
    // repeats the provider.
    size_t slash = model.find('/');
    if (slash != std::string_view::npos && canonical_provider(model.substr(0, slash)) == p) {
      return resolve_for(p, model.substr(slash + 1));
    }
    if (p == kProviderLocal) {
      return route_error(Err::chat_unknown_model,
                         "the local provider has one model, " + local_model_name(), "model");
    }
    return unlisted(p, model);
  }

  ModelInfo unlisted(const std::string& provider, std::string_view model) const {
    return model_or_unlisted(table_, provider, model);
  }

  const ModelTable& table_;
  const std::vector<ProviderEndpoint>& endpoints_;
};

Result<Policy> parse_policy(std::string_view name) {
  if (name.empty() || ascii_iequals(name, "default")) return Policy::kDefault;
  if (ascii_iequals(name, "cheapest")) return Policy::kCheapest;
  if (ascii_iequals(name, "fastest")) return Policy::kFastest;
  return route_error(Err::chat_unknown_policy,
                     "unknown routing policy; policies: default, cheapest, fastest", "policy");
}

// The first candidate when the request names none.
ModelInfo policy_choice(const Router& router, Policy policy, const RouteDefaults& defaults) {
  if (policy == Policy::kDefault && (!defaults.provider.empty() || !defaults.model.empty())) {
    Result<ModelInfo> configured = router.resolve(defaults.provider, defaults.model);
    if (configured.ok()) return std::move(configured.value());
  }
  std::vector<const ModelInfo*> best = router.ranked(policy, policy == Policy::kDefault, "");
  if (!best.empty()) return *best.front();
  return router.local_model();
}

}  // namespace

Result<std::vector<Candidate>> route_models(const ModelTable& table,
                                            const std::vector<ProviderEndpoint>& endpoints,
                                            const RouteRequest& req,
                                            const RouteDefaults& defaults) {
  Result<Policy> policy = parse_policy(ascii_trim(req.policy));
  if (!policy.ok()) return policy.take_error();
  Router router(table, endpoints);

  std::string_view provider = ascii_trim(req.provider);
  std::string_view model = ascii_trim(req.model);
  ModelInfo first;
  if (!provider.empty() || !model.empty()) {
    Result<ModelInfo> chosen = router.resolve(provider, model);
    if (!chosen.ok()) return chosen.take_error();
    first = std::move(chosen.value());
  } else if (const ProviderEndpoint* keyed = router.request_key_endpoint()) {
    Result<ModelInfo> chosen = router.resolve(keyed->provider, "");
    if (!chosen.ok()) return chosen.take_error();
    first = std::move(chosen.value());
  } else {
    first = policy_choice(router, *policy, defaults);
  }

  std::vector<Candidate> out;
  std::string first_provider = first.provider;
  out.push_back(router.candidate(std::move(first)));
  // Local always answers, so nothing needs to follow it.
  if (!req.fallback || first_provider == kProviderLocal) return out;
  for (const ModelInfo* m : router.ranked(*policy, true, first_provider)) {
    out.push_back(router.candidate(*m));
  }
  out.push_back(router.candidate(router.local_model()));
  return out;
}

RouteRequest route_request_for_model(std::string_view model) {
  RouteRequest r;
  std::string_view s = ascii_trim(model);
  if (s.empty() || ascii_iequals(s, "auto") || ascii_iequals(s, "default")) return r;
  if (ascii_iequals(s, "auto:cheapest")) {
    r.policy = "cheapest";
  } else if (ascii_iequals(s, "auto:fastest")) {
    r.policy = "fastest";
  } else if (std::string p = canonical_provider(s); !p.empty()) {
    r.provider = std::move(p);
  } else {
    r.model = std::string(s);
  }
  return r;
}

json models_list_json(const ModelTable& table, const std::vector<ProviderEndpoint>& endpoints,
                      int64_t created_s) {
  Router router(table, endpoints);
  json data = json::array();
  std::vector<std::string> ids;
  auto add = [&](const ModelInfo& m) {
    std::string id = m.model;
    if (std::find(ids.begin(), ids.end(), id) != ids.end()) id = m.provider + "/" + m.model;
    ids.push_back(m.model);
    ids.push_back(id);
    data.push_back(json{{"id", std::move(id)},
                        {"object", "model"},
                        {"created", created_s},
                        {"owned_by", m.provider}});
  };
  for (std::string_view p : kProviders) {
    if (!router.available(p)) continue;
    for (const ModelInfo& m : table.models) {
      if (m.provider == p && m.is_default) add(m);
    }
    for (const ModelInfo& m : table.models) {
      if (m.provider == p && !m.is_default) add(m);
    }
  }
  return json{{"object", "list"}, {"data", std::move(data)}};
}

}  // namespace ec
