// The model router over deployments described by their env: which provider/model answers first,
// what follows as fallback, the errors for unknown/unconfigured choices, MODELS overrides, the
// per-request API key's reach, call costs, /v1/models and the OpenAI `model` string.
#include <catch2/catch.hpp>

#include "chat/local_answerer.hpp"
#include "chat/model_router.hpp"
#include "core/context.hpp"

#include <set>
#include <string>
#include <vector>

using namespace ec;

namespace {

struct Deployment {
  explicit Deployment(Env e = {}, std::string key = "", std::string provider = "")
      : env(std::move(e)), request_key(std::move(key)), request_provider(std::move(provider)) {}

  Env env;
  std::string request_key;
  std::string request_provider;

  ModelTable table() const {
    Ctx ctx(1, Envelope{}, env);
    return load_model_table(ctx);
  }
  std::vector<ProviderEndpoint> endpoints() const {
    Ctx ctx(1, Envelope{}, env);
    return provider_endpoints(ctx, request_key, request_provider);
  }
  RouteDefaults defaults() const {
    Ctx ctx(1, Envelope{}, env);
    return route_defaults(ctx);
  }
  Result<std::vector<Candidate>> route(RouteRequest req) const {
    return route_models(table(), endpoints(), req, defaults());
  }
};

Env everything() {
  return Env{{"EDGECHAT_BINDINGS", "AI,DB"},
             {"OPENAI_API_KEY", "sk-env"},
             {"GEMINI_API_KEY", "gm-env"},
             {"OPENAI_BASE_URL", "http://127.0.0.1:11434/v1"}};
}

RouteRequest req(std::string provider, std::string model, std::string policy = "",
                 bool fallback = true) {
  RouteRequest r;
  r.provider = std::move(provider);
  r.model = std::move(model);
  r.policy = std::move(policy);
  r.fallback = fallback;
  return r;
}

// "provider/model" per candidate, in order.
std::vector<std::string> names(const Result<std::vector<Candidate>>& r) {
  REQUIRE(r.ok());
  std::vector<std::string> out;
  for (const Candidate& c : r.value()) out.push_back(c.info.provider + "/" + c.info.model);
  return out;
}

std::string first(const Result<std::vector<Candidate>>& r) { return names(r).front(); }

const std::string kLocal = "local/" + local_model_name();
const std::string kWa8b = "workers-ai/@cf/meta/llama-3.1-8b-instruct";

}  // namespace

TEST_CASE("router: the built-in table has one valid default per provider", "[model_router]") {
  ModelTable t = builtin_model_table("");
  for (std::string_view p : kProviders) {
    int defaults = 0;
    for (const ModelInfo& m : t.models) {
      if (m.provider == p && m.is_default) ++defaults;
      CHECK(valid_model_id(m.model));
    }
    CHECK(defaults == 1);
  }
  CHECK(default_model(t, kProviderOpenAiCompatible)->model == "llama3.1");
  CHECK(default_model(t, kProviderLocal)->model == local_model_name());
  CHECK(default_model(t, kProviderLocal)->price_in_per_1k == 0);
  CHECK(t.warnings.empty());
}

TEST_CASE("router: with nothing configured only local answers", "[model_router]") {
  Deployment d;
  CHECK(names(d.route(req("", ""))) == std::vector<std::string>{kLocal});
  CHECK(names(d.route(req("", "", "cheapest"))) == std::vector<std::string>{kLocal});
  CHECK(names(d.route(req("", "", "fastest"))) == std::vector<std::string>{kLocal});
  auto eps = d.endpoints();
  REQUIRE(eps.size() == 5);
  for (const ProviderEndpoint& e : eps) CHECK(e.available == (e.provider == kProviderLocal));
}

TEST_CASE("router: default choice follows the environment", "[model_router]") {
  SECTION("workers-ai when AI is bound, then the rest in provider order, then local") {
    Deployment d{everything()};
    CHECK(names(d.route(req("", ""))) ==
          std::vector<std::string>{kWa8b, "openai/gpt-4o-mini", "google/gemini-2.0-flash",
                                   "openai-compatible/llama3.1", kLocal});
  }
  SECTION("openai when keyed and AI is not bound") {
    Deployment d{{{"EDGECHAT_BINDINGS", "BUCKET,DB"}, {"OPENAI_API_KEY", "sk"}}};
    CHECK(names(d.route(req("", ""))) == std::vector<std::string>{"openai/gpt-4o-mini", kLocal});
  }
  SECTION("google with GEMINI_API_KEY or GOOGLE_API_KEY") {
    Deployment a{{{"GEMINI_API_KEY", "g"}}};
    Deployment b{{{"GOOGLE_API_KEY", "g"}}};
    CHECK(first(a.route(req("", ""))) == "google/gemini-2.0-flash");
    CHECK(first(b.route(req("", ""))) == "google/gemini-2.0-flash");
  }
  SECTION("openai-compatible with OPENAI_BASE_URL, its model from OPENAI_MODEL") {
    Deployment d{{{"OPENAI_BASE_URL", "http://localhost:8080"}, {"OPENAI_MODEL", "qwen2.5:7b"}}};
    CHECK(names(d.route(req("", ""))) ==
          std::vector<std::string>{"openai-compatible/qwen2.5:7b", kLocal});
    auto eps = d.endpoints();
    CHECK(eps[3].base_url == "http://localhost:8080");
    CHECK(eps[3].api_key.empty());
  }
  SECTION("a binding named like AI but longer does not count") {
    Deployment d{{{"EDGECHAT_BINDINGS", "AI_GATEWAY,DB"}}};
    CHECK(first(d.route(req("", ""))) == kLocal);
  }
}

TEST_CASE("router: DEFAULT_PROVIDER and DEFAULT_MODEL", "[model_router]") {
  Env env = everything();
  SECTION("provider and model") {
    env["DEFAULT_PROVIDER"] = "google";
    env["DEFAULT_MODEL"] = "gemini-1.5-pro";
    CHECK(names(Deployment{env}.route(req("", ""))) ==
          std::vector<std::string>{"google/gemini-1.5-pro", kWa8b, "openai/gpt-4o-mini",
                                   "openai-compatible/llama3.1", kLocal});
  }
  SECTION("provider alone takes its default model") {
    env["DEFAULT_PROVIDER"] = "openai";
    CHECK(first(Deployment{env}.route(req("", ""))) == "openai/gpt-4o-mini");
  }
  SECTION("model alone finds its provider") {
    env["DEFAULT_MODEL"] = "gpt-4.1-mini";
    CHECK(first(Deployment{env}.route(req("", ""))) == "openai/gpt-4.1-mini");
  }
  SECTION("an unusable default is skipped") {
    env.erase("OPENAI_API_KEY");
    env["DEFAULT_PROVIDER"] = "openai";
    CHECK(first(Deployment{env}.route(req("", ""))) == kWa8b);
    env["DEFAULT_PROVIDER"] = "nonsense";
    CHECK(first(Deployment{env}.route(req("", ""))) == kWa8b);
  }
  SECTION("auto means unset") {
    env["DEFAULT_PROVIDER"] = "auto";
    CHECK(first(Deployment{env}.route(req("", ""))) == kWa8b);
  }
  SECTION("an explicit request wins over the default") {
    env["DEFAULT_PROVIDER"] = "google";
    CHECK(first(Deployment{env}.route(req("openai", ""))) == "openai/gpt-4o-mini");
  }
  SECTION("the default does not apply to other policies") {
    env["DEFAULT_PROVIDER"] = "openai";
    env["DEFAULT_MODEL"] = "gpt-4o";
    CHECK(first(Deployment{env}.route(req("", "", "fastest"))) == "google/gemini-2.0-flash");
  }
}

TEST_CASE("router: an explicit provider and model", "[model_router]") {
  Deployment d{everything()};
  CHECK(first(d.route(req("openai", "gpt-4o"))) == "openai/gpt-4o");
  CHECK(first(d.route(req("google", ""))) == "google/gemini-2.0-flash");
  CHECK(first(d.route(req("gemini", "gemini-1.5-pro"))) == "google/gemini-1.5-pro");
  CHECK(first(d.route(req("OpenAI", "gpt-4o"))) == "openai/gpt-4o");
  CHECK(first(d.route(req("local", ""))) == kLocal);
  CHECK(first(d.route(req("local", local_model_name()))) == kLocal);
  // The prefix only repeats the provider.
  CHECK(first(d.route(req("openai", "openai/gpt-4o"))) == "openai/gpt-4o");
  CHECK(first(d.route(req("gemini", "google/gemini-1.5-pro"))) == "google/gemini-1.5-pro");
  CHECK(first(d.route(req("google", "gemini/gemini-1.5-pro"))) == "google/gemini-1.5-pro");

  auto r = d.route(req("openai", "gpt-4o"));
  REQUIRE(r.ok());
  const Candidate& c = r.value().front();
  CHECK(c.info.listed);
  CHECK(c.info.context_window == 128000);
  CHECK(c.info.price_out_per_1k == Approx(0.01));
  CHECK(c.endpoint.provider == "openai");
  CHECK(c.endpoint.base_url == "https://api.openai.com");
  CHECK(c.endpoint.api_key == "sk-env");
  CHECK_FALSE(c.endpoint.request_key);
}

TEST_CASE("router: a model the table lacks is allowed for an explicit provider", "[model_router]") {
  Deployment d{everything()};
  auto r = d.route(req("openai", "gpt-5-nano"));
  REQUIRE(r.ok());
  const ModelInfo& m = r.value().front().info;
  CHECK(m.provider == "openai");
  CHECK(m.model == "gpt-5-nano");
  CHECK_FALSE(m.listed);
  CHECK_FALSE(m.is_default);
  // The default model's limits, the provider's dearest prices (gpt-4o's).
  CHECK(m.context_window == 128000);
  CHECK(m.max_output == 16384);
  CHECK(m.price_in_per_1k == Approx(0.0025));
  CHECK(m.price_out_per_1k == Approx(0.01));
  CHECK(m.speed_rank == 0);

  auto wa = d.route(req("workers-ai", "@cf/qwen/qwen1.5-14b-chat-awq"));
  CHECK(first(wa) == "workers-ai/@cf/qwen/qwen1.5-14b-chat-awq");
  CHECK(wa.value().front().info.context_window == 7968);

  auto ollama = d.route(req("openai-compatible", "mistral:7b"));
  CHECK(first(ollama) == "openai-compatible/mistral:7b");
  CHECK(ollama.value().front().info.price_in_per_1k == 0);

  auto local = d.route(req("local", "gpt-4o"));
  REQUIRE_FALSE(local.ok());
  CHECK(local.error().code == "chat.unknown_model");
  CHECK(local.error().status == 400);
}

TEST_CASE("router: an unknown provider is a 400 listing the providers", "[model_router]") {
  Deployment d{everything()};
  auto r = d.route(req("groq", "llama3"));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().status == 400);
  CHECK(r.error().code == "chat.unknown_provider");
  CHECK_THAT(r.error().message, !Catch::Contains("groq"));
  CHECK_THAT(r.error().message,
             Catch::Contains("workers-ai, openai, google, openai-compatible, local"));
  CHECK(r.error().fields.contains("provider"));
}

TEST_CASE("router: an unconfigured provider is a 400 naming what to set", "[model_router]") {
  Deployment d;
  struct Case {
    std::string provider;
    std::string needle;
  };
  for (const Case& c :
       {Case{"openai", "OPENAI_API_KEY"}, Case{"google", "GEMINI_API_KEY"},
        Case{"google", "GOOGLE_API_KEY"}, Case{"openai-compatible", "OPENAI_BASE_URL"},
        Case{"workers-ai", "\"AI\""}}) {
    auto r = d.route(req(c.provider, ""));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().status == 400);
    CHECK(r.error().code == "chat.provider_unavailable");
    CHECK_THAT(r.error().message, Catch::Contains(c.needle));
    CHECK_THAT(r.error().message, Catch::Contains("\"" + c.provider + "\""));
  }
  // A listed model whose provider is not configured, named without its provider.
  auto r = d.route(req("", "gpt-4o"));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == "chat.provider_unavailable");
  CHECK_THAT(r.error().message, Catch::Contains("OPENAI_API_KEY"));
}

TEST_CASE("router: model ids with and without a provider prefix", "[model_router]") {
  Env env = everything();
  // Groq lists OpenAI's open-weight model under an id that starts with "openai/".
  env["MODELS"] = R"([{"provider":"openai-compatible","model":"openai/gpt-oss-120b"}])";
  Deployment d{env};
  CHECK(first(d.route(req("", "gpt-4o-mini"))) == "openai/gpt-4o-mini");
  CHECK(first(d.route(req("", "openai/gpt-4o-mini"))) == "openai/gpt-4o-mini");
  CHECK(first(d.route(req("", "gemini/gemini-1.5-pro"))) == "google/gemini-1.5-pro");
  CHECK(first(d.route(req("", "@cf/meta/llama-3.1-8b-instruct"))) == kWa8b);
  CHECK(first(d.route(req("", "workers-ai/@cf/meta/llama-3.1-8b-instruct"))) == kWa8b);
  CHECK(first(d.route(req("", "openai/gpt-oss-120b"))) == "openai-compatible/openai/gpt-oss-120b");
  CHECK(first(d.route(req("", "openai-compatible/phi4"))) == "openai-compatible/phi4");
  CHECK(first(d.route(req("", "openai/gpt-5"))) == "openai/gpt-5");  // unlisted, explicit provider
  CHECK(first(d.route(req("", "openai/"))) == "openai/gpt-4o-mini");
  CHECK(first(d.route(req("", "local"))) == kLocal);
  CHECK(first(d.route(req("", "google"))) == "google/gemini-2.0-flash");

  auto unknown = d.route(req("", "mystery-model"));
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error().code == "chat.unknown_model");
  CHECK_THAT(unknown.error().message, Catch::Contains("provider/model"));
  CHECK_THAT(unknown.error().message, Catch::Contains("MODELS"));
  CHECK_THAT(unknown.error().message, !Catch::Contains("mystery"));

  auto unknown_prefix = d.route(req("", "groq/llama3"));
  REQUIRE_FALSE(unknown_prefix.ok());
  CHECK(unknown_prefix.error().code == "chat.unknown_model");

  for (const std::string& bad : std::vector<std::string>{
           "has space", "tab\there", std::string(257, 'a'), "caf\xc3\xa9", "gpt\r\nx-a: b",
           "lf\nonly", std::string("nul\0x", 5), "<script>", "a;b", "quote\"d", "back\\slash"}) {
    auto r = d.route(req("openai", bad));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == "chat.invalid_model");
    CHECK(r.error().message.find(bad) == std::string::npos);
  }
}

TEST_CASE("router: cheapest and fastest policies", "[model_router]") {
  SECTION("cheapest: self-hosted first, then by typical RAG call cost") {
    Deployment d{everything()};
    CHECK(names(d.route(req("", "", "cheapest"))) ==
          std::vector<std::string>{"openai-compatible/llama3.1", "google/gemini-2.0-flash",
                                   "openai/gpt-4o-mini", kWa8b, kLocal});
  }
  SECTION("cheapest ranks every listed model, not only defaults") {
    Env env = everything();
    env.erase("OPENAI_BASE_URL");
    env["MODELS"] = R"([{"provider":"openai","model":"gpt-4.1-nano","priceInPer1k":0.00001,
                         "priceOutPer1k":0.00004,"speed":100}])";
    Deployment d{env};
    CHECK(
        names(d.route(req("", "", "cheapest"))) ==
        std::vector<std::string>{"openai/gpt-4.1-nano", "google/gemini-2.0-flash", kWa8b, kLocal});
  }
  SECTION("fastest: by speed, fallback defaults by speed") {
    Deployment d{everything()};
    CHECK(names(d.route(req("", "", "fastest"))) ==
          std::vector<std::string>{"google/gemini-2.0-flash", "openai/gpt-4o-mini", kWa8b,
                                   "openai-compatible/llama3.1", kLocal});
  }
  SECTION("equal speed goes to the cheaper; equal price to the faster") {
    Env env = everything();
    env["MODELS"] = R"([{"provider":"openai","model":"gpt-4o","speed":180},
                        {"provider":"openai","model":"gpt-4o-mini","priceInPer1k":0,
                         "priceOutPer1k":0,"speed":10}])";
    Deployment d{env};
    CHECK(first(d.route(req("", "", "fastest"))) == "google/gemini-2.0-flash");
    CHECK(names(d.route(req("", "", "cheapest")))[0] == "openai-compatible/llama3.1");
    CHECK(names(d.route(req("", "", "cheapest")))[1] == "openai/gpt-4o-mini");
  }
  SECTION("local is never ranked, however cheap or fast") {
    Env env = {{"OPENAI_API_KEY", "sk"}};
    env["MODELS"] =
        R"([{"provider":"local","model":")" + local_model_name() + R"(","speed":1000000}])";
    Deployment d{env};
    CHECK(first(d.route(req("", "", "fastest"))) == "openai/gpt-4o-mini");
    CHECK(first(d.route(req("", "", "cheapest"))) == "openai/gpt-4o-mini");
  }
  SECTION("an explicit model keeps its place; the fallback follows the policy") {
    Deployment d{everything()};
    CHECK(names(d.route(req("openai", "gpt-4o", "cheapest"))) ==
          std::vector<std::string>{"openai/gpt-4o", "openai-compatible/llama3.1",
                                   "google/gemini-2.0-flash", kWa8b, kLocal});
  }
  SECTION("an unknown policy is a 400") {
    auto r = Deployment{everything()}.route(req("", "", "smartest"));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == "chat.unknown_policy");
    CHECK(r.error().status == 400);
    CHECK(first(Deployment{everything()}.route(req("", "", "Default"))) == kWa8b);
  }
}

TEST_CASE("router: fallback lists end with local, without duplicates", "[model_router]") {
  std::vector<Env> envs = {Env{}, everything(), Env{{"OPENAI_API_KEY", "k"}},
                           Env{{"EDGECHAT_BINDINGS", "AI"}, {"GEMINI_API_KEY", "g"}}};
  std::vector<RouteRequest> reqs = {
      req("", ""),           req("", "", "cheapest"),      req("", "", "fastest"),
      req("local", ""),      req("openai", "gpt-4o"),      req("", "gemini-1.5-pro"),
      req("workers-ai", ""), req("", "openai/gpt-4o-mini")};
  for (const Env& env : envs) {
    Deployment d{env};
    for (const RouteRequest& r : reqs) {
      auto routed = d.route(r);
      if (!routed.ok()) {
        CHECK(routed.error().code == "chat.provider_unavailable");
        continue;
      }
      std::vector<std::string> n = names(routed);
      CHECK(n.back() == kLocal);
      std::set<std::string> providers;
      for (const Candidate& c : routed.value()) providers.insert(c.info.provider);
      CHECK(providers.size() == n.size());
      for (const Candidate& c : routed.value()) CHECK(c.endpoint.available);

      RouteRequest single = r;
      single.fallback = false;
      auto one = d.route(single);
      REQUIRE(one.ok());
      CHECK(one.value().size() == 1);
      CHECK(names(one).front() == n.front());
    }
  }
  CHECK(names(Deployment{everything()}.route(req("local", ""))) ==
        std::vector<std::string>{kLocal});
}

TEST_CASE("router: MODELS overrides and extends the table", "[model_router]") {
  Env env = everything();
  env["MODELS"] = R"([
    {"provider":"openai","model":"gpt-4o","priceInPer1k":0.002},
    {"provider":"workers-ai","model":"@cf/mistral/mistral-7b-instruct-v0.2","contextWindow":32000,
     "maxOutput":4096,"priceInPer1k":0.0001,"priceOutPer1k":0.0002,"speed":95,"default":true},
    {"provider":"gemini","model":"gemini-2.5-flash","speed":250}
  ])";
  Deployment d{env};
  ModelTable t = d.table();
  CHECK(t.warnings.empty());

  const ModelInfo* gpt4o = find_model(t, "openai", "gpt-4o");
  REQUIRE(gpt4o != nullptr);
  CHECK(gpt4o->price_in_per_1k == Approx(0.002));
  CHECK(gpt4o->price_out_per_1k == Approx(0.01));  // untouched
  CHECK(gpt4o->context_window == 128000);

  const ModelInfo* mistral = default_model(t, "workers-ai");
  REQUIRE(mistral != nullptr);
  CHECK(mistral->model == "@cf/mistral/mistral-7b-instruct-v0.2");
  CHECK(mistral->context_window == 32000);
  CHECK(mistral->max_output == 4096);
  CHECK(mistral->speed_rank == 95);
  CHECK_FALSE(find_model(t, "workers-ai", "@cf/meta/llama-3.1-8b-instruct")->is_default);

  const ModelInfo* flash25 = find_model(t, "google", "gemini-2.5-flash");
  REQUIRE(flash25 != nullptr);
  CHECK(flash25->context_window == 8192);  // ModelInfo defaults for what is not given
  CHECK(flash25->max_output == 1024);
  CHECK_FALSE(flash25->is_default);

  CHECK(first(d.route(req("", ""))) == "workers-ai/@cf/mistral/mistral-7b-instruct-v0.2");
  CHECK(first(d.route(req("", "", "fastest"))) == "google/gemini-2.5-flash");
}

TEST_CASE("router: bad MODELS entries are skipped and reported", "[model_router]") {
  ModelTable t = builtin_model_table("");
  size_t before = t.models.size();
  apply_models_json(t, R"([
    "gpt-4o",
    {"model":"x"},
    {"provider":"groq","model":"llama3"},
    {"provider":"openai"},
    {"provider":"openai","model":"has space"},
    {"provider":"openai","model":"a","contextWindow":0},
    {"provider":"openai","model":"b","maxOutput":"big"},
    {"provider":"openai","model":"c","priceInPer1k":-1},
    {"provider":"openai","model":"d","speed":"fast"},
    {"provider":"openai","model":"e","default":"yes"},
    {"provider":"local","model":"gpt-4o"},
    {"provider":"openai","model":"ok-one","pricein":1}
  ])");
  CHECK(t.models.size() == before + 1);
  REQUIRE(find_model(t, "openai", "ok-one") != nullptr);
  REQUIRE(t.warnings.size() == 12);
  CHECK_THAT(t.warnings[0], Catch::StartsWith("MODELS[0]: not an object"));
  CHECK_THAT(t.warnings[1], Catch::Contains("provider"));
  CHECK_THAT(t.warnings[2], Catch::Contains("unknown provider \"groq\""));
  CHECK_THAT(t.warnings[3], Catch::StartsWith("MODELS[3]: model"));
  CHECK_THAT(t.warnings[5], Catch::Contains("contextWindow"));
  CHECK_THAT(t.warnings[6], Catch::Contains("maxOutput"));
  CHECK_THAT(t.warnings[7], Catch::Contains("priceInPer1k"));
  CHECK_THAT(t.warnings[8], Catch::Contains("speed"));
  CHECK_THAT(t.warnings[9], Catch::Contains("default"));
  CHECK_THAT(t.warnings[10], Catch::Contains("local"));
  CHECK_THAT(t.warnings[11], Catch::Contains("unknown field \"pricein\" ignored"));
  for (size_t i = 0; i < 11; ++i) CHECK_THAT(t.warnings[i], Catch::EndsWith("skipped"));

  for (std::string bad : {"not json", "{\"provider\":\"openai\"}", "[1,2", "42"}) {
    ModelTable u = builtin_model_table("");
    apply_models_json(u, bad);
    CHECK(u.models.size() == before);
    REQUIRE(u.warnings.size() == 1);
    CHECK_THAT(u.warnings[0], Catch::Contains("ignored"));
  }

  // Through the env: warnings come back with the table, which still works.
  Deployment d{{{"MODELS", "[{\"provider\":\"nope\",\"model\":\"m\"}]"}}};
  ModelTable fromEnv = d.table();
  CHECK(fromEnv.warnings.size() == 1);
  CHECK(fromEnv.models.size() == before);
}

TEST_CASE("router: default:false on the only default falls back to the first model",
          "[model_router]") {
  ModelTable t = builtin_model_table("");
  apply_models_json(t, R"([{"provider":"openai","model":"gpt-4o-mini","default":false}])");
  CHECK(default_model(t, "openai")->model == "gpt-4o-mini");  // first openai entry again
  apply_models_json(t, R"([{"provider":"openai","model":"gpt-4.1-mini","default":true}])");
  CHECK(default_model(t, "openai")->model == "gpt-4.1-mini");
  int defaults = 0;
  for (const ModelInfo& m : t.models) defaults += (m.provider == "openai" && m.is_default);
  CHECK(defaults == 1);
}

TEST_CASE("router: a per-request key reaches one endpoint only", "[model_router]") {
  SECTION("it makes openai available and routes there first") {
    Deployment d{{{"EDGECHAT_BINDINGS", "AI"}, {"GEMINI_API_KEY", "gm-env"}}, "sk-user", ""};
    auto eps = d.endpoints();
    for (const ProviderEndpoint& e : eps) {
      CHECK(e.request_key == (e.provider == "openai"));
      if (e.provider != "openai") CHECK(e.api_key != "sk-user");
    }
    auto r = d.route(req("", ""));
    CHECK(names(r) ==
          std::vector<std::string>{"openai/gpt-4o-mini", kWa8b, "google/gemini-2.0-flash", kLocal});
    const std::vector<Candidate>& cs = r.value();
    CHECK(cs[0].endpoint.api_key == "sk-user");
    CHECK(cs[0].endpoint.request_key);
    for (size_t i = 1; i < cs.size(); ++i) {
      CHECK(cs[i].endpoint.api_key != "sk-user");
      CHECK_FALSE(cs[i].endpoint.request_key);
    }
    CHECK(cs[2].endpoint.api_key == "gm-env");
  }
  SECTION("it replaces the env key for this call") {
    Deployment d{{{"OPENAI_API_KEY", "sk-env"}}, " sk-user\n", "openai"};
    auto r = d.route(req("openai", "gpt-4o"));
    CHECK(r.value().front().endpoint.api_key == "sk-user");
    Deployment without{{{"OPENAI_API_KEY", "sk-env"}}};
    CHECK(without.route(req("openai", "")).value().front().endpoint.api_key == "sk-env");
  }
  SECTION("it goes to the requested provider when that one takes keys") {
    Deployment d{{}, "gm-user", "gemini"};
    auto r = d.route(req("gemini", ""));
    CHECK(names(r) == std::vector<std::string>{"google/gemini-2.0-flash", kLocal});
    CHECK(r.value().front().endpoint.api_key == "gm-user");
    CHECK_FALSE(d.endpoints()[1].available);  // openai stays off
  }
  SECTION("openai-compatible still needs its base URL") {
    Deployment off{{}, "secret-key-123", "openai-compatible"};
    auto r = off.route(req("openai-compatible", ""));
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.error().message, Catch::Contains("OPENAI_BASE_URL"));
    CHECK_THAT(r.error().message, !Catch::Contains("secret-key-123"));
    CHECK_THAT(r.error().fields.dump(), !Catch::Contains("secret-key-123"));
    Deployment on{{{"OPENAI_BASE_URL", "http://x"}}, "k", "openai-compatible"};
    CHECK(on.route(req("openai-compatible", "")).value().front().endpoint.api_key == "k");
  }
  SECTION("a key sent with workers-ai is an OpenAI key, for openai only") {
    Deployment d{{{"EDGECHAT_BINDINGS", "AI"}}, "sk-user", "workers-ai"};
    auto r = d.route(req("workers-ai", ""));
    CHECK(names(r) == std::vector<std::string>{kWa8b, "openai/gpt-4o-mini", kLocal});
    CHECK(r.value()[0].endpoint.api_key.empty());
    CHECK(r.value()[1].endpoint.api_key == "sk-user");
  }
  SECTION("an empty key changes nothing") {
    Deployment d{{}, "  ", ""};
    CHECK(first(d.route(req("", ""))) == kLocal);
  }
}

TEST_CASE("router: env values are trimmed and endpoint bases overridable", "[model_router]") {
  Deployment d{{{"OPENAI_API_KEY", "sk-abc\n"},
                {"OPENAI_API_BASE_URL", "http://127.0.0.1:9000 "},
                {"GOOGLE_API_KEY", "g2"},
                {"GEMINI_BASE_URL", "http://127.0.0.1:9001"},
                {"OPENAI_BASE_URL", "http://127.0.0.1:9002/v1"},
                {"OPENAI_COMPATIBLE_API_KEY", "ck"}}};
  auto eps = d.endpoints();
  REQUIRE(eps.size() == 5);
  CHECK(eps[0].provider == "workers-ai");
  CHECK(eps[0].base_url.empty());
  CHECK(eps[1].api_key == "sk-abc");
  CHECK(eps[1].base_url == "http://127.0.0.1:9000");
  CHECK(eps[2].api_key == "g2");
  CHECK(eps[2].base_url == "http://127.0.0.1:9001");
  CHECK(eps[3].api_key == "ck");
  CHECK(eps[3].base_url == "http://127.0.0.1:9002/v1");
  CHECK(eps[4].provider == "local");

  Deployment defaults{
      {{"OPENAI_API_KEY", "k"}, {"GEMINI_API_KEY", "g1"}, {"GOOGLE_API_KEY", "g2"}}};
  auto e2 = defaults.endpoints();
  CHECK(e2[1].base_url == "https://api.openai.com");
  CHECK(e2[2].base_url == "https://generativelanguage.googleapis.com");
  CHECK(e2[2].api_key == "g1");  // GEMINI_API_KEY wins
}

TEST_CASE("router: call_cost arithmetic", "[model_router]") {
  ModelTable t = builtin_model_table("");
  const ModelInfo& gpt4o = *find_model(t, "openai", "gpt-4o");
  CHECK(call_cost(gpt4o, 1000, 500) == Approx(0.0025 + 0.005));
  CHECK(call_cost(gpt4o, 0, 0) == 0);
  CHECK(call_cost(gpt4o, -10, -10) == 0);
  CHECK(call_cost(gpt4o, 1, 0) == Approx(0.0000025));
  CHECK(call_cost(*default_model(t, "local"), 100000, 100000) == 0);
  CHECK(typical_call_cost(gpt4o) == Approx(3 * 0.0025 + 0.5 * 0.01));
  ModelInfo m;
  m.price_in_per_1k = 2;
  m.price_out_per_1k = 4;
  CHECK(call_cost(m, 1500, 250) == Approx(3 + 1));
}

TEST_CASE("router: /v1/models lists the available models in OpenAI's format", "[model_router]") {
  Env env = {{"OPENAI_API_KEY", "k"}, {"OPENAI_BASE_URL", "http://x"}};
  // A compatible proxy that also serves gpt-4o-mini: the second listing is qualified.
  env["MODELS"] = R"([{"provider":"openai-compatible","model":"gpt-4o-mini"}])";
  Deployment d{env};
  json list = models_list_json(d.table(), d.endpoints(), 1700000000);
  CHECK(list["object"] == "list");
  REQUIRE(list["data"].is_array());
  std::vector<std::string> ids;
  for (const json& m : list["data"]) {
    CHECK(m.size() == 4);
    CHECK(m["object"] == "model");
    CHECK(m["created"] == 1700000000);
    CHECK(m["owned_by"].is_string());
    ids.push_back(m["id"].get<std::string>());
  }
  CHECK(ids == std::vector<std::string>{"gpt-4o-mini", "gpt-4o", "gpt-4.1-mini", "llama3.1",
                                        "openai-compatible/gpt-4o-mini", local_model_name()});
  CHECK(list["data"][0]["owned_by"] == "openai");
  CHECK(list["data"][4]["owned_by"] == "openai-compatible");
  CHECK(list["data"][5]["owned_by"] == "local");
  // Every listed id routes back to the model it names.
  for (size_t i = 0; i < ids.size(); ++i) {
    auto r = d.route(route_request_for_model(ids[i]));
    REQUIRE(r.ok());
    CHECK(r.value().front().info.provider == list["data"][i]["owned_by"].get<std::string>());
  }

  json bare = models_list_json(Deployment{}.table(), Deployment{}.endpoints(), 0);
  REQUIRE(bare["data"].size() == 1);
  CHECK(bare["data"][0]["id"] == local_model_name());
}

TEST_CASE("router: the OpenAI model string becomes a route request", "[model_router]") {
  struct Case {
    std::string in;
    std::string provider;
    std::string model;
    std::string policy;
  };
  for (const Case& c : {
           Case{"", "", "", ""},
           Case{"auto", "", "", ""},
           Case{" Auto ", "", "", ""},
           Case{"default", "", "", ""},
           Case{"auto:cheapest", "", "", "cheapest"},
           Case{"auto:fastest", "", "", "fastest"},
           Case{"local", "local", "", ""},
           Case{"gemini", "google", "", ""},
           Case{"openai-compatible", "openai-compatible", "", ""},
           Case{"gpt-4o-mini", "", "gpt-4o-mini", ""},
           Case{"openai/gpt-4o-mini", "", "openai/gpt-4o-mini", ""},
           Case{"workers-ai/@cf/meta/llama-3.1-8b-instruct", "",
                "workers-ai/@cf/meta/llama-3.1-8b-instruct", ""},
       }) {
    RouteRequest r = route_request_for_model(c.in);
    CHECK(r.provider == c.provider);
    CHECK(r.model == c.model);
    CHECK(r.policy == c.policy);
    CHECK(r.fallback);
  }
  Deployment d{everything()};
  CHECK(first(d.route(route_request_for_model("auto"))) == kWa8b);
  CHECK(first(d.route(route_request_for_model("auto:cheapest"))) == "openai-compatible/llama3.1");
  CHECK(first(d.route(route_request_for_model("local"))) == kLocal);
  CHECK(first(d.route(route_request_for_model("openai/gpt-4o-mini"))) == "openai/gpt-4o-mini");
  CHECK(first(d.route(route_request_for_model("workers-ai/@cf/meta/llama-3.1-8b-instruct"))) ==
        kWa8b);
}

TEST_CASE("model ids: one strict identifier rule for every route", "[model_router]") {
  for (const char* id : {"@cf/meta/llama-3.1-8b-instruct", "gpt-4o-mini", "gemini-1.5-flash",
                         "mistral:7b", "openai/gpt-oss-120b", "qwen2.5:7b-instruct-q4_K_M",
                         "meta-llama/llama-3.1-8b-instruct:free", "auto:cheapest"}) {
    INFO(id);
    CHECK(valid_model_id(id));
  }
  for (const std::string& bad : std::vector<std::string>{
           "", "a b", "x\r\ny", std::string("a\0b", 3), "a\x7f", "a;b", "a,b", "a\"b", "<b>", "a=b",
           std::string(kMaxModelIdBytes + 1, 'a'), "caf\xc3\xa9"}) {
    CHECK_FALSE(valid_model_id(bad));
  }
  CHECK(valid_model_id(std::string(kMaxModelIdBytes, 'a')));
}

TEST_CASE("router errors never echo the submitted provider, model or policy", "[model_router]") {
  Deployment d{everything()};
  auto provider = d.route(req("evil<provider>", ""));
  REQUIRE_FALSE(provider.ok());
  CHECK(provider.error().message.find("evil") == std::string::npos);
  CHECK(provider.error().fields.contains("provider"));
  auto model = d.route(req("", "evil-model-name"));
  REQUIRE_FALSE(model.ok());
  CHECK(model.error().message.find("evil") == std::string::npos);
  CHECK(model.error().fields.contains("model"));
  auto policy = d.route(req("", "", "evil-policy"));
  REQUIRE_FALSE(policy.ok());
  CHECK(policy.error().code == "chat.unknown_policy");
  CHECK(policy.error().message.find("evil") == std::string::npos);
  CHECK(policy.error().fields.dump().find("evil") == std::string::npos);
}
