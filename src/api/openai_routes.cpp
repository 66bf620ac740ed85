// OpenAI-compatible API, so the official openai SDK and the Vercel AI SDK work against edgechat
// unchanged (baseURL = https://<host>/v1, apiKey = an edgechat API key or access token):
//   POST /v1/chat/completions  {model, messages, stream?, stream_options?, max_tokens?,
//                               max_completion_tokens?, temperature?, edgechat?}
//   GET  /v1/models
// `model` is routed like a chat's provider/model ("gpt-4o-mini", "openai/gpt-4o-mini",
// "workers-ai/@cf/meta/llama-3.1-8b-instruct", "local", "auto"). RAG is opt-in through the
// extension field `edgechat: {rag: true, documentIds?, topK?}`: the last user message is the
// question and the answer cites the user's documents. Stateless: nothing is stored.
#include "api/caller.hpp"
#include "api/gateway.hpp"
#include "api/routes.hpp"
#include "auth/service.hpp"
#include "chat/answer_billing.hpp"
#include "chat/chat_events.hpp"
#include "chat/chat_turn.hpp"
#include "chat/model_router.hpp"
#include "crypto/random_id.hpp"
#include "http/stream.hpp"

namespace ec {

namespace {

constexpr size_t kMaxMessages = 256;

// The request's top-level fields; parse_completion keeps the per-message rules.
const Schema kCompletionSchema = {
    field("model").string().required().length(1, 200).describe("A model id (see GET /v1/models)"),
    field("messages").array().required().length(1, static_cast<int64_t>(kMaxMessages)),
    field("stream").boolean().nullable(),
    field("stream_options").object().nullable(),
    field("max_tokens").integer().length(1, 32768).nullable(),
    field("max_completion_tokens").integer().length(1, 32768).nullable(),
    field("temperature").number().length(0, 2).nullable(),
    field("edgechat").object().nullable().describe("RAG: {rag, documentIds, topK}"),
};

// Message content: a string, or an array of parts of which only text parts are read.
std::optional<std::string> content_text(const json& c) {
  if (c.is_string()) return c.get<std::string>();
  if (c.is_null()) return std::string();
  if (!c.is_array()) return std::nullopt;
  std::string out;
  for (const json& part : c) {
    if (!part.is_object()) return std::nullopt;
    if (string_or(part, "type", "") != "text") continue;
    const std::string* t = get_string(part, "text");
    if (t == nullptr) return std::nullopt;
    if (!out.empty()) out += "\n";
    out += *t;
  }
  return out;
}

struct CompletionRequest {
  AnswerSpec spec;
  RouteRequest route;
};

Result<CompletionRequest> parse_completion(const json& body, const User& u) {
  CompletionRequest cr;
  AnswerSpec& s = cr.spec;
  s.user_id = u.id;
  s.use_documents = false;
  s.resumable = false;
  s.route_name = "completions";
  const std::string* model = get_string(body, "model");
  if (model == nullptr || model->empty() || model->size() > 200) {
    return field_error("model", "required: a model id (see GET /v1/models)");
  }
  cr.route = route_request_for_model(*model);
  const json* messages = get_array(body, "messages");
  if (messages == nullptr || messages->empty() || messages->size() > kMaxMessages) {
    return field_error("messages", "an array of 1 to 256 messages");
  }
  std::vector<ChatTurn> turns;
  size_t total = 0;
  for (const json& m : *messages) {
    if (!m.is_object()) return field_error("messages", "each message is an object");
    std::string role = string_or(m, "role", "");
    if (role == "developer") role = "system";
    if (role != "system" && role != "user" && role != "assistant") {
      return field_error("messages", "roles are system, developer, user or assistant");
    }
    const json* c = find(m, "content");
    std::optional<std::string> text = c ? content_text(*c) : std::nullopt;
    if (!text) return field_error("messages", "content is a string or an array of text parts");
    total += text->size();
    if (total > 512 * 1024) return field_error("messages", "at most 512 KiB of text in all");
    if (role == "system") {
      if (!s.system_prompt.empty()) s.system_prompt += "\n\n";
      s.system_prompt += *text;
    } else {
      turns.push_back({role, std::move(*text)});
    }
  }
  if (turns.empty() || turns.back().role != "user") {
    return field_error("messages", "the last message must be from the user");
  }
  s.question = std::move(turns.back().content);
  turns.pop_back();
  s.history = std::move(turns);
  for (std::string_view key : {"max_completion_tokens", "max_tokens"}) {
    if (const json* v = find(body, key); v != nullptr && !v->is_null()) {
      std::optional<int64_t> n = get_int(body, key);
      if (!n || *n < 1 || *n > 32768) return field_error(key, "an integer from 1 to 32768");
      s.max_tokens = static_cast<int>(*n);
      break;
    }
  }
  if (const json* v = find(body, "temperature"); v != nullptr && !v->is_null()) {
    std::optional<double> t = get_number(body, "temperature");
    if (!t || !(*t >= 0 && *t <= 2)) return field_error("temperature", "a number from 0 to 2");
    s.temperature = *t;
  }
  if (const json* st = find(body, "stream"); st != nullptr && !st->is_null()) {
    if (!st->is_boolean()) return field_error("stream", "true or false");
    s.format = st->get<bool>() ? AnswerFormat::kOpenAiChunks : AnswerFormat::kBuffered;
  } else {
    s.format = AnswerFormat::kBuffered;
  }
  if (const json* so = get_object(body, "stream_options")) {
    s.openai_include_usage = get_bool(*so, "include_usage").value_or(false);
  }
  if (const json* ext = find(body, "edgechat"); ext != nullptr && !ext->is_null()) {
    if (!ext->is_object()) return field_error("edgechat", "an object {rag, documentIds, topK}");
    s.use_documents = get_bool(*ext, "rag").value_or(false);
    if (const json* ids = get_array(*ext, "documentIds")) {
      for (const json& id : *ids) {
        if (!id.is_string() || s.document_ids.size() >= 50) {
          return field_error("edgechat.documentIds", "at most 50 document ids");
        }
        s.document_ids.push_back(id.get<std::string>());
      }
    }
    if (const json* k = find(*ext, "topK"); k != nullptr && !k->is_null()) {
      std::optional<int64_t> n = get_int(*ext, "topK");
      if (!n || *n < 1 || *n > 20) return field_error("edgechat.topK", "an integer from 1 to 20");
      s.top_k = static_cast<size_t>(*n);
    }
  }
  return cr;
}

Task<Result<Response>> do_completions(Call& call) {
  const User& user = signed_in(call);
  Result<CompletionRequest> cr = parse_completion(call.body, user);
  if (!cr.ok()) co_return cr.take_error();
  AnswerSpec spec = std::move(cr.value().spec);
  std::vector<ProviderEndpoint> endpoints =
      provider_endpoints(call.ctx, "", cr.value().route.provider);
  Result<std::vector<Candidate>> picked = route_models(load_model_table(call.ctx), endpoints,
                                                       cr.value().route, route_defaults(call.ctx));
  if (!picked.ok()) co_return picked.take_error();
  for (const Candidate& c : picked.value()) spec.candidates.push_back(provider_target(c));
  spec.openai_id = co_await new_id(call.ctx, "chatcmpl-");
  const AnswerFormat format = spec.format;
  const std::string id = spec.openai_id;
  const int64_t created = call.ctx.now_s();
  Result<AnswerOutcome> done = co_await run_answer(call.ctx, std::move(spec));
  if (!done.ok()) co_return done.take_error();
  if (format != AnswerFormat::kBuffered) co_return sse_head();
  const AnswerOutcome& a = done.value();
  Response r = json_reply(200, openai_completion_json({id, created, a.model}, a.text,
                                                      a.finish_reason, a.tokens_in, a.tokens_out));
  add_answer_billing_headers(r, a);
  co_return r;
}

Task<Result<Response>> do_models(Call& call) {
  co_return json_reply(
      200, models_list_json(load_model_table(call.ctx), provider_endpoints(call.ctx, "", ""),
                            call.ctx.now_s()));
}

}  // namespace

bool add_openai_routes(HttpApp& app) {
  return add_routes(
      app,
      {
          post("/v1/chat/completions", do_completions)
              .user()
              .rate(kRateAi)
              .json(kCompletionSchema)
              .doc("Create a chat completion (OpenAI wire format; stream: true for SSE chunks)",
                   {"OpenAI-compatible"})
              .answers(200, "ChatCompletion")
              .answers(200, "ChatCompletionChunk", "text/event-stream")
              .errors({"chat.unknown_provider", "chat.provider_unavailable", "chat.unknown_model",
                       "chat.invalid_model", "chat.unknown_policy", "chat.bad_provider",
                       "chat.no_provider", "credits.insufficient", "provider.error",
                       "provider.bad_reply", "provider.bad_stream", "provider.blocked",
                       "upstream.timeout", "upstream.unreachable", "ai.unavailable", "ai.bad_reply",
                       "http.stream_unavailable", "storage.unavailable"}),
          get("/v1/models", do_models)
              .user()
              .doc("List the models the configured providers offer", {"OpenAI-compatible"})
              .answers(200, "ModelList"),
      });
}

}  // namespace ec
