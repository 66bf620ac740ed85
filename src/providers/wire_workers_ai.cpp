#include "providers/wire_workers_ai.hpp"

#include "core/json.hpp"
#include "providers/wire_openai.hpp"

#include <cmath>

namespace ec {

namespace {

std::string describe_error(const json& err) {
  if (err.is_string()) return err.get_ref<const std::string&>();
  return string_or(err, "message", "provider reported an error");
}

void read_usage(const json& doc, int64_t& in, int64_t& out, bool& has) {
  if (const json* u = get_object(doc, "usage")) {
    has = true;
    in = get_int(*u, "prompt_tokens").value_or(0);
    out = get_int(*u, "completion_tokens").value_or(0);
  }
}

}  // namespace

WorkersAiRun workers_ai_chat_input(const ChatRequest& req) {
  json messages = json::array();
  for (const ChatMessage& m : req.messages) {
    messages.push_back({{"role", std::string(role_name(m.role))}, {"content", m.content}});
  }
  json input = {{"messages", std::move(messages)}, {"stream", req.stream}};
  if (req.max_tokens > 0) input["max_tokens"] = req.max_tokens;
  if (req.temperature >= 0 && std::isfinite(req.temperature))
    input["temperature"] = req.temperature;
  return WorkersAiRun{req.model, std::move(input)};
}

std::vector<StreamPiece> workers_ai_stream_pieces(std::string_view data) {
  std::vector<StreamPiece> out;
  if (is_done_sentinel(data)) {
    out.push_back(finish_piece("stop"));
    return out;
  }
  std::optional<json> doc = parse_json(data);
  if (!doc || !doc->is_object()) {
    out.push_back(error_piece(Err::provider_bad_stream, "unparseable Workers AI stream chunk"));
    return out;
  }
  if (const json* err = find(*doc, "error"); err != nullptr && !err->is_null()) {
    out.push_back(error_piece(Err::provider_error, describe_error(*err)));
    return out;
  }
  if (find(*doc, "choices") != nullptr) return openai_stream_pieces(data);
  if (const std::string* text = get_string(*doc, "response"); text && !text->empty()) {
    out.push_back(delta_piece(*text));
  }
  int64_t in = 0, toks = 0;
  bool has = false;
  read_usage(*doc, in, toks, has);
  if (has) out.push_back(usage_piece(in, toks));
  return out;
}

Result<ChatCompletion> parse_workers_ai_completion(const json& reply) {
  if (!reply.is_object()) return api_error(Err::provider_bad_reply, "unexpected AI reply");
  if (const json* err = find(reply, "error"); err != nullptr && !err->is_null()) {
    return api_error(Err::provider_error, describe_error(*err));
  }
  ChatCompletion c;
  if (const std::string* text = get_string(reply, "response")) {
    c.text = *text;
  } else if (find(reply, "choices") != nullptr) {
    return parse_openai_completion(dump_json(reply));
  } else {
    return api_error(Err::provider_bad_reply, "AI reply has no response text");
  }
  bool has = false;
  read_usage(reply, c.tokens_in, c.tokens_out, has);
  c.finish_reason = "stop";
  return c;
}

}  // namespace ec
