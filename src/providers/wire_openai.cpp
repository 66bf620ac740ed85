#include "providers/wire_openai.hpp"

#include "core/json.hpp"

#include <cmath>

namespace ec {

namespace {

bool is_version_segment(std::string_view seg) {
  return (seg.size() >= 2 && seg[0] == 'v' && seg[1] >= '0' && seg[1] <= '9') || seg == "openai";
}

// Host of an absolute URL, lowercased ("" if none).
std::string url_host(std::string_view url) {
  const size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return "";
  std::string_view rest = url.substr(scheme + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  const size_t at = rest.rfind('@');
  if (at != std::string_view::npos) rest.remove_prefix(at + 1);
  rest = rest.substr(0, rest.find(':'));
  std::string host;
  for (char c : rest) host.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c);
  return host;
}

// "provider.error" with the provider's own code/type in front of its message, for logs.
std::string describe_error(const json& err) {
  if (err.is_string()) return err.get_ref<const std::string&>();
  std::string msg = string_or(err, "message", "provider reported an error");
  std::string code = string_or(err, "code", string_or(err, "type", ""));
  return code.empty() ? msg : code + ": " + msg;
}

}  // namespace

std::string openai_chat_url(std::string_view base_url) {
  while (!base_url.empty() && base_url.back() == '/') base_url.remove_suffix(1);
  std::string url(base_url);
  const size_t slash = base_url.rfind('/');
  const std::string_view last =
      slash == std::string_view::npos ? base_url : base_url.substr(slash + 1);
  const bool has_path =
      base_url.find("://") == std::string_view::npos || slash > base_url.find("://") + 2;
  url += (has_path && is_version_segment(last)) ? "/chat/completions" : "/v1/chat/completions";
  return url;
}

ProviderHttpRequest openai_chat_request(const ChatRequest& req, const OpenAiOptions& opt) {
  json messages = json::array();
  for (const ChatMessage& m : req.messages) {
    messages.push_back({{"role", std::string(role_name(m.role))}, {"content", m.content}});
  }
  json body = {{"model", req.model}, {"messages", std::move(messages)}, {"stream", req.stream}};
  if (req.stream) body["stream_options"] = {{"include_usage", true}};
  if (req.max_tokens > 0) {
    const bool official = url_host(opt.base_url) == "api.openai.com";
    body[official ? "max_completion_tokens" : "max_tokens"] = req.max_tokens;
  }
  if (req.temperature >= 0 && std::isfinite(req.temperature)) body["temperature"] = req.temperature;

  ProviderHttpRequest out;
  out.method = "POST";
  out.url = openai_chat_url(opt.base_url);
  out.headers.emplace_back("content-type", "application/json");
  out.headers.emplace_back("accept", req.stream ? "text/event-stream" : "application/json");
  if (!opt.api_key.empty()) out.headers.emplace_back("authorization", "Bearer " + opt.api_key);
  out.body = dump_json(body);
  return out;
}

std::vector<StreamPiece> openai_stream_pieces(std::string_view data) {
  std::vector<StreamPiece> out;
  if (is_done_sentinel(data)) return out;
  std::optional<json> chunk = parse_json(data);
  if (!chunk || !chunk->is_object()) {
    out.push_back(error_piece(Err::provider_bad_stream, "unparseable OpenAI stream chunk"));
    return out;
  }
  if (const json* err = find(*chunk, "error"); err != nullptr && !err->is_null()) {
    out.push_back(error_piece(Err::provider_error, describe_error(*err)));
    return out;
  }
  const json* choices = get_array(*chunk, "choices");
  if (choices != nullptr && !choices->empty()) {
    const json& choice = (*choices)[0];
    if (const json* delta = get_object(choice, "delta")) {
      if (const std::string* text = get_string(*delta, "content"); text && !text->empty()) {
        out.push_back(delta_piece(*text));
      }
    }
    if (const std::string* reason = get_string(choice, "finish_reason"); reason != nullptr) {
      out.push_back(finish_piece(*reason));
    }
  }
  if (const json* usage = get_object(*chunk, "usage")) {
    out.push_back(usage_piece(get_int(*usage, "prompt_tokens").value_or(0),
                              get_int(*usage, "completion_tokens").value_or(0)));
  }
  return out;
}

Result<ChatCompletion> parse_openai_completion(std::string_view body) {
  std::optional<json> doc = parse_json(body);
  if (!doc || !doc->is_object()) {
    return api_error(Err::provider_bad_reply, "unparseable OpenAI response");
  }
  if (const json* err = find(*doc, "error"); err != nullptr && !err->is_null()) {
    return api_error(Err::provider_error, describe_error(*err));
  }
  const json* choices = get_array(*doc, "choices");
  if (choices == nullptr || choices->empty()) {
    return api_error(Err::provider_bad_reply, "OpenAI response has no choices");
  }
  const json& choice = (*choices)[0];
  const json* message = get_object(choice, "message");
  if (message == nullptr) {
    return api_error(Err::provider_bad_reply, "OpenAI response has no message");
  }
  ChatCompletion c;
  c.text = string_or(*message, "content", "");  // null content (a refusal or tool call) is ""
  c.finish_reason = string_or(choice, "finish_reason", "");
  if (const json* usage = get_object(*doc, "usage")) {
    c.tokens_in = get_int(*usage, "prompt_tokens").value_or(0);
    c.tokens_out = get_int(*usage, "completion_tokens").value_or(0);
  }
  return c;
}

}  // namespace ec
