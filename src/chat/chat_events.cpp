#include "chat/chat_events.hpp"

#include "providers/sse.hpp"

namespace ec {

std::string chat_event(std::string_view name, int64_t id, const json& data) {
  return sse_event(name, dump_json(data), std::to_string(id));
}

namespace {

json chunk_base(const OpenAiChunkHead& h) {
  return {{"id", h.id},
          {"object", "chat.completion.chunk"},
          {"created", h.created_s},
          {"model", h.model},
          {"system_fingerprint", nullptr}};
}

std::string data_line(const json& j) { return "data: " + dump_json(j) + "\n\n"; }

}  // namespace

std::string openai_delta_chunk(const OpenAiChunkHead& h, std::string_view text, bool first) {
  json delta = json::object();
  if (first) delta["role"] = "assistant";
  delta["content"] = std::string(text);
  json c = chunk_base(h);
  c["choices"] = json::array({{{"index", 0},
                               {"delta", std::move(delta)},
                               {"logprobs", nullptr},
                               {"finish_reason", nullptr}}});
  return data_line(c);
}

std::string openai_finish_chunk(const OpenAiChunkHead& h, std::string_view finish_reason) {
  json c = chunk_base(h);
  c["choices"] =
      json::array({{{"index", 0},
                    {"delta", json::object()},
                    {"logprobs", nullptr},
                    {"finish_reason", std::string(openai_finish_reason(finish_reason))}}});
  return data_line(c);
}

std::string openai_usage_chunk(const OpenAiChunkHead& h, int64_t tokens_in, int64_t tokens_out) {
  json c = chunk_base(h);
  c["choices"] = json::array();
  c["usage"] = {{"prompt_tokens", tokens_in},
                {"completion_tokens", tokens_out},
                {"total_tokens", tokens_in + tokens_out}};
  return data_line(c);
}

std::string openai_error_chunk(std::string_view code, std::string_view message) {
  return data_line(
      {{"error",
        {{"message", std::string(message)}, {"type", "api_error"}, {"code", std::string(code)}}}});
}

json openai_completion_json(const OpenAiChunkHead& h, std::string_view text,
                            std::string_view finish_reason, int64_t tokens_in, int64_t tokens_out) {
  return {{"id", h.id},
          {"object", "chat.completion"},
          {"created", h.created_s},
          {"model", h.model},
          {"system_fingerprint", nullptr},
          {"choices",
           json::array(
               {{{"index", 0},
                 {"message",
                  {{"role", "assistant"}, {"content", std::string(text)}, {"refusal", nullptr}}},
                 {"logprobs", nullptr},
                 {"finish_reason", std::string(openai_finish_reason(finish_reason))}}})},
          {"usage",
           {{"prompt_tokens", tokens_in},
            {"completion_tokens", tokens_out},
            {"total_tokens", tokens_in + tokens_out}}}};
}

std::string_view openai_finish_reason(std::string_view reason) {
  if (reason == "length" || reason == "content_filter" || reason == "tool_calls") return reason;
  return "stop";
}

}  // namespace ec
