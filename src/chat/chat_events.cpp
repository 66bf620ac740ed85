#include "chat/chat_events.hpp"

#include "providers/sse.hpp"

namespace ec {

std::string chat_event(std::string_view name, int64_t id, const json& data) {
  return sse_event(name, dump_json(data), std::to_string(id));
}

std::string chat_delta_event(int64_t id, std::string_view text) {
  std::string out = "event: delta\nid: " + std::to_string(id) + "\ndata: {\"text\":";
  append_json_string(out, text);  // escapes CR and LF, so the data is one line
  out += "}\n\n";
  return out;
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
  // Built by hand (one per upstream chunk); the same bytes chunk_base + dump_json would make.
  std::string out = "data: {\"id\":";
  append_json_string(out, h.id);
  out += ",\"object\":\"chat.completion.chunk\",\"created\":" + std::to_string(h.created_s) +
         ",\"model\":";
  append_json_string(out, h.model);
  out += ",\"system_fingerprint\":null,\"choices\":[{\"index\":0,\"delta\":{";
  if (first) out += "\"role\":\"assistant\",";
  out += "\"content\":";
  append_json_string(out, text);
  out += "},\"logprobs\":null,\"finish_reason\":null}]}\n\n";
  return out;
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
