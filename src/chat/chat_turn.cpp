#include "chat/chat_turn.hpp"

#include "bindings/d1.hpp"
#include "chat/memory.hpp"
#include "core/utf8.hpp"
#include "http/validate.hpp"

namespace ec {

namespace {

// An optional string field: absent/null → "", a string within max_bytes → it, else an error.
std::optional<ApiError> opt_string(const json& body, std::string_view key, size_t max_bytes,
                                   std::string& out) {
  const json* v = find(body, key);
  if (v == nullptr || v->is_null()) return std::nullopt;
  if (!v->is_string() || v->get_ref<const std::string&>().size() > max_bytes) {
    return field_error(key, "a string of at most " + std::to_string(max_bytes) + " bytes");
  }
  out = v->get<std::string>();
  return std::nullopt;
}

std::optional<ApiError> opt_bool(const json& body, std::string_view key, bool& out) {
  const json* v = find(body, key);
  if (v == nullptr || v->is_null()) return std::nullopt;
  if (!v->is_boolean()) return field_error(key, "true or false");
  out = v->get<bool>();
  return std::nullopt;
}

}  // namespace

Result<TurnRequest> parse_turn_request(const json& body, std::string_view content_field) {
  TurnRequest t;
  const std::string* content = get_string(body, content_field);
  if (content == nullptr) return field_error(content_field, "required: the message text");
  if (content->size() > kMaxQuestionBytes) {
    return field_error(content_field, "at most " + std::to_string(kMaxQuestionBytes) + " bytes");
  }
  if (!utf8_valid(*content)) return field_error(content_field, "must be valid UTF-8");
  bool blank = true;
  for (char c : *content) blank = blank && (c == ' ' || c == '\n' || c == '\r' || c == '\t');
  if (blank) return field_error(content_field, "must not be empty");
  t.content = *content;
  for (auto [key, max, dst] :
       {std::tuple{"provider", size_t{64}, &t.provider}, std::tuple{"model", size_t{200}, &t.model},
        std::tuple{"policy", size_t{32}, &t.policy}, std::tuple{"apiKey", size_t{512}, &t.api_key},
        std::tuple{"memoryStreamId", size_t{128}, &t.memory_ref}}) {
    if (auto e = opt_string(body, key, max, *dst)) return *e;
  }
  if (!t.policy.empty() && t.policy != "default" && t.policy != "cheapest" &&
      t.policy != "fastest") {
    return field_error("policy", "one of default, cheapest, fastest");
  }
  for (auto [key, dst] :
       {std::pair{"useDocuments", &t.use_documents},
        std::pair{"recordTraining", &t.record_training}, std::pair{"fallback", &t.fallback},
        std::pair{"resumable", &t.resumable}}) {
    if (auto e = opt_bool(body, key, *dst)) return *e;
  }
  if (const json* ids = find(body, "documentIds"); ids != nullptr && !ids->is_null()) {
    if (!ids->is_array() || ids->size() > 50) {
      return field_error("documentIds", "an array of at most 50 document ids");
    }
    for (const json& id : *ids) {
      if (!id.is_string() || id.get_ref<const std::string&>().empty() ||
          id.get_ref<const std::string&>().size() > 128) {
        return field_error("documentIds", "document ids are non-empty strings");
      }
      t.document_ids.push_back(id.get<std::string>());
    }
  }
  if (const json* m = find(body, "maxTokens"); m != nullptr && !m->is_null()) {
    std::optional<int64_t> v = get_int(body, "maxTokens");
    if (!v || *v < 1 || *v > 32768) return field_error("maxTokens", "an integer from 1 to 32768");
    t.max_tokens = static_cast<int>(*v);
  }
  if (const json* m = find(body, "temperature"); m != nullptr && !m->is_null()) {
    std::optional<double> v = get_number(body, "temperature");
    if (!v || !(*v >= 0 && *v <= 2)) return field_error("temperature", "a number from 0 to 2");
    t.temperature = *v;
  }
  return t;
}

ProviderTarget provider_target(const Candidate& c) {
  ProviderTarget pt;
  pt.provider = c.info.provider;
  pt.model = c.info.model;
  pt.base_url = c.endpoint.base_url;
  pt.api_key = c.endpoint.api_key;
  pt.context_window = c.info.context_window;
  pt.max_output = c.info.max_output;
  pt.price_in_per_1k = c.info.price_in_per_1k;
  pt.price_out_per_1k = c.info.price_out_per_1k;
  return pt;
}

Task<Result<std::vector<ProviderTarget>>> turn_targets(Ctx& ctx, const TurnRequest& t) {
  ModelTable table = load_model_table(ctx);
  std::vector<ProviderEndpoint> endpoints = provider_endpoints(ctx, t.api_key, t.provider);
  RouteRequest rr;
  rr.provider = t.provider;
  rr.model = t.model;
  rr.policy = t.policy;
  rr.fallback = t.fallback;
  Result<std::vector<Candidate>> picked = route_models(table, endpoints, rr, route_defaults(ctx));
  if (!picked.ok()) co_return picked.take_error();
  std::vector<ProviderTarget> out;
  for (const Candidate& c : picked.value()) out.push_back(provider_target(c));
  co_return out;
}

Task<Result<AnswerSpec>> prepare_turn(Ctx& ctx, const User& user, const ChatRecord& chat,
                                      TurnRequest t, std::vector<ProviderTarget> targets,
                                      std::string reply_to, int64_t reply_seq) {
  AnswerSpec spec;
  spec.user_id = user.id;
  spec.chat_id = chat.id;
  spec.reply_to = reply_to;
  spec.question = t.content;
  spec.use_documents = t.use_documents;
  spec.document_ids = t.document_ids;
  spec.candidates = std::move(targets);
  spec.max_tokens = t.max_tokens;
  spec.temperature = t.temperature;
  spec.resumable = t.resumable;
  spec.record_training = t.record_training;
  spec.route_name = "chat";
  Result<std::vector<MessageRecord>> recent =
      co_await recent_messages(ctx, chat.id, kMaxHistoryMessages + 1);
  if (!recent.ok()) co_return recent.take_error();
  for (const MessageRecord& m : recent.value()) {
    if (m.seq >= reply_seq || m.id == reply_to) continue;  // the question itself, and later
    if (m.content.empty()) continue;
    spec.history.push_back({m.role, m.content});
  }
  std::string memory_ref = t.memory_ref.empty() ? chat.memory_stream_id : t.memory_ref;
  if (!memory_ref.empty()) {
    Result<MemoryContext> mem = co_await load_memory_context(ctx, user.id, memory_ref);
    if (!mem.ok()) {
      // An explicitly named stream that is missing is the caller's error; a remembered one that
      // has since been deleted or archived is simply not used.
      if (!t.memory_ref.empty()) co_return mem.take_error();
    } else {
      spec.memory_id = mem.value().id;
      spec.memory_summary = mem.value().summary;
      // Remembered on the chat, so its later turns keep using the stream without naming it.
      if (chat.memory_stream_id != spec.memory_id) {
        Result<RunMeta> kept = co_await d1_run(
            ctx,
            Stmt{"UPDATE chats SET memory_stream_id = ? WHERE id = ?", {spec.memory_id, chat.id}});
        (void)kept;
      }
    }
  }
  co_return spec;
}

}  // namespace ec
