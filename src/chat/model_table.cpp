#include "chat/model_table.hpp"

#include "chat/local_answerer.hpp"
#include "core/ascii.hpp"
#include "core/json.hpp"

#include <optional>
#include <utility>

namespace ec {

std::string canonical_provider(std::string_view name) {
  std::string n = ascii_lower(std::string(name));
  for (std::string_view p : kProviders) {
    if (n == p) return n;
  }
  if (n == "gemini") return std::string(kProviderGoogle);
  if (n == "workers_ai" || n == "workersai" || n == "cloudflare") {
    return std::string(kProviderWorkersAi);
  }
  if (n == "openai_compatible" || n == "compatible") {
    return std::string(kProviderOpenAiCompatible);
  }
  return {};
}

std::string quote_for_message(std::string_view s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size() && i < 64; ++i) {
    char c = s[i];
    out += (c >= ' ' && c <= '~' && c != '"' && c != '\\') ? c : '?';
  }
  if (s.size() > 64) out += "...";
  out += '"';
  return out;
}

bool valid_model_id(std::string_view id) {
  if (id.empty() || id.size() > kMaxModelIdBytes) return false;
  for (char c : id) {
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum && std::string_view("._:/@-").find(c) == std::string_view::npos) return false;
  }
  return true;
}

namespace {

ModelInfo entry(std::string_view provider, std::string_view model, size_t context_window,
                size_t max_output, double in_per_1k, double out_per_1k, double speed,
                bool is_default) {
  ModelInfo m;
  m.provider = std::string(provider);
  m.model = std::string(model);
  m.context_window = context_window;
  m.max_output = max_output;
  m.price_in_per_1k = in_per_1k;
  m.price_out_per_1k = out_per_1k;
  m.speed_rank = speed;
  m.is_default = is_default;
  return m;
}

}  // namespace

ModelTable builtin_model_table(std::string_view compatible_model) {
  if (compatible_model.empty()) compatible_model = kDefaultCompatibleModel;
  ModelTable t;
  // Workers AI: $0.282/$0.827 and $0.293/$2.253 per M tokens; context as the model pages list.
  t.models.push_back(entry(kProviderWorkersAi, "@cf/meta/llama-3.1-8b-instruct", 7968, 2048,
                           0.000282, 0.000827, 80, true));
  t.models.push_back(entry(kProviderWorkersAi, "@cf/meta/llama-3.3-70b-instruct-fp8-fast", 24000,
                           2048, 0.000293, 0.002253, 60, false));
  // OpenAI list prices: $0.15/$0.60, $2.50/$10, $0.40/$1.60 per M tokens.
  t.models.push_back(
      entry(kProviderOpenAi, "gpt-4o-mini", 128000, 16384, 0.00015, 0.0006, 85, true));
  t.models.push_back(entry(kProviderOpenAi, "gpt-4o", 128000, 16384, 0.0025, 0.01, 80, false));
  t.models.push_back(
      entry(kProviderOpenAi, "gpt-4.1-mini", 1047576, 32768, 0.0004, 0.0016, 70, false));
  // Gemini: $0.10/$0.40 and $1.25/$5 (prompts <= 128k) per M tokens.
  t.models.push_back(
      entry(kProviderGoogle, "gemini-2.0-flash", 1048576, 8192, 0.0001, 0.0004, 180, true));
  t.models.push_back(
      entry(kProviderGoogle, "gemini-1.5-pro", 2097152, 8192, 0.00125, 0.005, 60, false));
  // Self-hosted: no per-token price; speed is a guess for a small model on one GPU.
  t.models.push_back(
      entry(kProviderOpenAiCompatible, compatible_model, 8192, 1024, 0, 0, 30, true));
  // The extractive answerer: sources are its whole input, so a large window helps it.
  t.models.push_back(entry(kProviderLocal, local_model_name(), 32768, 1024, 0, 0, 0, true));
  return t;
}

namespace {

constexpr int64_t kMaxTokens = 100'000'000;
constexpr double kMaxPricePer1k = 1'000'000;
constexpr double kMaxSpeed = 1'000'000'000;

// One MODELS entry's fields, each present only if given.
struct EntryFields {
  std::string provider;
  std::string model;
  std::optional<size_t> context_window;
  std::optional<size_t> max_output;
  std::optional<double> price_in;
  std::optional<double> price_out;
  std::optional<double> speed;
  std::optional<bool> is_default;
};

bool read_size(const json& e, std::string_view key, std::optional<size_t>& out,
               std::string& problem) {
  if (find(e, key) == nullptr) return true;
  std::optional<int64_t> v = get_int(e, key);
  if (!v || *v < 1 || *v > kMaxTokens) {
    problem = std::string(key) + " must be an integer from 1 to 100000000";
    return false;
  }
  out = static_cast<size_t>(*v);
  return true;
}

bool read_number(const json& e, std::string_view key, double max, std::optional<double>& out,
                 std::string& problem) {
  if (find(e, key) == nullptr) return true;
  std::optional<double> v = get_number(e, key);
  if (!v || !(*v >= 0 && *v <= max)) {  // also rejects NaN and infinities
    problem = std::string(key) + " must be a number >= 0";
    return false;
  }
  out = *v;
  return true;
}

// Reads entry e, or says what is wrong with it. Unknown keys become warnings of their own.
std::optional<EntryFields> read_entry(const json& e, const std::string& where,
                                      std::vector<std::string>& warnings, std::string& problem) {
  if (!e.is_object()) {
    problem = "not an object";
    return std::nullopt;
  }
  EntryFields f;
  const std::string* provider = get_string(e, "provider");
  if (provider == nullptr) {
    problem = "provider (a string) is required";
    return std::nullopt;
  }
  f.provider = canonical_provider(*provider);
  if (f.provider.empty()) {
    problem = "unknown provider " + quote_for_message(*provider);
    return std::nullopt;
  }
  const std::string* model = get_string(e, "model");
  if (model == nullptr || !valid_model_id(*model)) {
    problem = "model must be " + std::string(kModelIdRule);
    return std::nullopt;
  }
  f.model = *model;
  if (f.provider == kProviderLocal && f.model != local_model_name()) {
    problem = "the local provider has one model, " + local_model_name();
    return std::nullopt;
  }
  if (!read_size(e, "contextWindow", f.context_window, problem) ||
      !read_size(e, "maxOutput", f.max_output, problem) ||
      !read_number(e, "priceInPer1k", kMaxPricePer1k, f.price_in, problem) ||
      !read_number(e, "priceOutPer1k", kMaxPricePer1k, f.price_out, problem) ||
      !read_number(e, "speed", kMaxSpeed, f.speed, problem)) {
    return std::nullopt;
  }
  if (find(e, "default") != nullptr) {
    f.is_default = get_bool(e, "default");
    if (!f.is_default) {
      problem = "default must be true or false";
      return std::nullopt;
    }
  }
  for (const auto& item : e.items()) {
    const std::string& k = item.key();
    if (k != "provider" && k != "model" && k != "contextWindow" && k != "maxOutput" &&
        k != "priceInPer1k" && k != "priceOutPer1k" && k != "speed" && k != "default") {
      warnings.push_back(where + ": unknown field " + quote_for_message(k) + " ignored");
    }
  }
  return f;
}

void merge_entry(ModelTable& table, EntryFields f) {
  ModelInfo* m = nullptr;
  for (ModelInfo& x : table.models) {
    if (x.provider == f.provider && x.model == f.model) m = &x;
  }
  if (m == nullptr) {
    ModelInfo fresh;
    fresh.provider = f.provider;
    fresh.model = f.model;
    table.models.push_back(std::move(fresh));
    m = &table.models.back();
  }
  if (f.context_window) m->context_window = *f.context_window;
  if (f.max_output) m->max_output = *f.max_output;
  if (f.price_in) m->price_in_per_1k = *f.price_in;
  if (f.price_out) m->price_out_per_1k = *f.price_out;
  if (f.speed) m->speed_rank = *f.speed;
  if (f.is_default.value_or(false)) {
    for (ModelInfo& x : table.models) {
      if (x.provider == f.provider) x.is_default = false;
    }
  }
  if (f.is_default) m->is_default = *f.is_default;
}

// Exactly one default per provider that has models: the first one marked, else the first.
void settle_defaults(ModelTable& table) {
  for (std::string_view p : kProviders) {
    ModelInfo* first = nullptr;
    bool seen = false;
    for (ModelInfo& m : table.models) {
      if (m.provider != p) continue;
      if (first == nullptr) first = &m;
      if (m.is_default && seen) m.is_default = false;
      if (m.is_default) seen = true;
    }
    if (first != nullptr && !seen) first->is_default = true;
  }
}

}  // namespace

void apply_models_json(ModelTable& table, std::string_view models_json) {
  std::optional<json> parsed = parse_json(models_json);
  if (!parsed || !parsed->is_array()) {
    table.warnings.push_back("MODELS is not a JSON array of model objects; ignored");
    return;
  }
  const json& entries = *parsed;
  for (size_t i = 0; i < entries.size(); ++i) {
    std::string where = "MODELS[" + std::to_string(i) + "]";
    if (i >= kMaxModelsEntries) {
      table.warnings.push_back("MODELS has more than " + std::to_string(kMaxModelsEntries) +
                               " entries; the rest are ignored");
      break;
    }
    std::string problem;
    std::optional<EntryFields> f = read_entry(entries[i], where, table.warnings, problem);
    if (!f) {
      table.warnings.push_back(where + ": " + problem + "; skipped");
      continue;
    }
    merge_entry(table, std::move(*f));
  }
  settle_defaults(table);
}

ModelTable load_model_table(const Ctx& ctx) {
  std::string_view compatible = ascii_trim(ctx.env("OPENAI_MODEL"));
  if (!valid_model_id(compatible)) compatible = kDefaultCompatibleModel;
  ModelTable table = builtin_model_table(compatible);
  std::string_view models = ascii_trim(ctx.env("MODELS"));
  if (!models.empty()) apply_models_json(table, models);
  return table;
}

const ModelInfo* find_model(const ModelTable& table, std::string_view provider,
                            std::string_view model) {
  for (const ModelInfo& m : table.models) {
    if (m.provider == provider && m.model == model) return &m;
  }
  return nullptr;
}

const ModelInfo* default_model(const ModelTable& table, std::string_view provider) {
  const ModelInfo* first = nullptr;
  for (const ModelInfo& m : table.models) {
    if (m.provider != provider) continue;
    if (m.is_default) return &m;
    if (first == nullptr) first = &m;
  }
  return first;
}

ModelInfo model_or_unlisted(const ModelTable& table, std::string_view provider,
                            std::string_view model) {
  if (const ModelInfo* m = find_model(table, provider, model)) return *m;
  ModelInfo m;
  m.provider = std::string(provider);
  m.model = std::string(model);
  m.listed = false;
  if (const ModelInfo* d = default_model(table, provider)) {
    m.context_window = d->context_window;
    m.max_output = d->max_output;
  }
  for (const ModelInfo& x : table.models) {
    if (x.provider != provider) continue;
    m.price_in_per_1k = std::max(m.price_in_per_1k, x.price_in_per_1k);
    m.price_out_per_1k = std::max(m.price_out_per_1k, x.price_out_per_1k);
  }
  return m;
}

double call_cost(const ModelInfo& m, int64_t tokens_in, int64_t tokens_out) {
  double in = tokens_in > 0 ? static_cast<double>(tokens_in) : 0.0;
  double out = tokens_out > 0 ? static_cast<double>(tokens_out) : 0.0;
  return in / 1000.0 * m.price_in_per_1k + out / 1000.0 * m.price_out_per_1k;
}

double typical_call_cost(const ModelInfo& m) {
  return call_cost(m, kTypicalTokensIn, kTypicalTokensOut);
}

}  // namespace ec
