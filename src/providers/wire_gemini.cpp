#include "providers/wire_gemini.hpp"

#include "core/json.hpp"

#include <cmath>

namespace ec {

namespace {

std::string encode_model(std::string_view model) {
  if (model.substr(0, 7) == "models/") model.remove_prefix(7);
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : model) {
    const bool safe = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '.' || c == '_' || c == '-';
    if (safe) {
      out.push_back(c);
    } else {
      const auto u = static_cast<unsigned char>(c);
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0xf]);
    }
  }
  return out;
}

std::string normalise_finish(std::string_view r) {
  if (r == "STOP") return "stop";
  if (r == "MAX_TOKENS") return "length";
  if (r == "SAFETY" || r == "RECITATION" || r == "BLOCKLIST" || r == "PROHIBITED_CONTENT" ||
      r == "SPII" || r == "IMAGE_SAFETY") {
    return "content_filter";
  }
  std::string out;
  for (char c : r) out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c);
  return out;
}

std::string describe_error(const json& err) {
  std::string msg = string_or(err, "message", "provider reported an error");
  std::string status = string_or(err, "status", "");
  return status.empty() ? msg : status + ": " + msg;
}

// The google.rpc.Status inside a body: {"error":{…}}, or [{"error":{…}}] (streaming without
// alt=sse returns a JSON array, and some proxies pass that shape through).
const json* find_error(const json& doc) {
  if (doc.is_array() && doc.size() == 1) return find_error(doc[0]);
  const json* err = get_object(doc, "error");
  return err;
}

// What one GenerateContentResponse says, shared by the stream and whole-body parsers.
struct GeminiChunk {
  std::string text;
  std::string finish_reason;
  std::string block_reason;
  bool has_usage = false;
  int64_t tokens_in = 0;
  int64_t tokens_out = 0;
};

GeminiChunk read_chunk(const json& doc) {
  GeminiChunk c;
  const json* candidates = get_array(doc, "candidates");
  if (candidates != nullptr && !candidates->empty()) {
    const json& cand = (*candidates)[0];
    if (const json* content = get_object(cand, "content")) {
      if (const json* parts = get_array(*content, "parts")) {
        for (const json& part : *parts) {
          if (get_bool(part, "thought").value_or(false)) continue;
          if (const std::string* t = get_string(part, "text")) c.text += *t;
        }
      }
    }
    if (const std::string* r = get_string(cand, "finishReason"); r && *r != "") {
      c.finish_reason = normalise_finish(*r);
    }
  } else if (const json* fb = get_object(doc, "promptFeedback")) {
    c.block_reason = string_or(*fb, "blockReason", "");
  }
  if (const json* u = get_object(doc, "usageMetadata")) {
    c.has_usage = true;
    c.tokens_in = get_int(*u, "promptTokenCount").value_or(0);
    c.tokens_out = get_int(*u, "candidatesTokenCount").value_or(0) +
                   get_int(*u, "thoughtsTokenCount").value_or(0);
  }
  return c;
}

}  // namespace

ProviderHttpRequest gemini_chat_request(const ChatRequest& req, const GeminiOptions& opt) {
  std::string system;
  json contents = json::array();
  std::string last_role;
  for (const ChatMessage& m : req.messages) {
    if (m.role == ChatRole::system) {
      if (!system.empty()) system += "\n\n";
      system += m.content;
      continue;
    }
    const std::string role = m.role == ChatRole::assistant ? "model" : "user";
    json part = {{"text", m.content}};
    if (role == last_role) {
      contents.back()["parts"].push_back(std::move(part));
    } else {
      contents.push_back({{"role", role}, {"parts", json::array({std::move(part)})}});
      last_role = role;
    }
  }
  json body = {{"contents", std::move(contents)}};
  if (!system.empty()) body["systemInstruction"] = {{"parts", json::array({{{"text", system}}})}};
  json config = json::object();
  if (req.max_tokens > 0) config["maxOutputTokens"] = req.max_tokens;
  if (req.temperature >= 0 && std::isfinite(req.temperature))
    config["temperature"] = req.temperature;
  if (!config.empty()) body["generationConfig"] = std::move(config);

  std::string_view base = opt.base_url;
  while (!base.empty() && base.back() == '/') base.remove_suffix(1);
  ProviderHttpRequest out;
  out.method = "POST";
  out.url = std::string(base) + "/v1beta/models/" + encode_model(req.model) +
            (req.stream ? ":streamGenerateContent?alt=sse" : ":generateContent");
  out.headers.emplace_back("content-type", "application/json");
  out.headers.emplace_back("accept", req.stream ? "text/event-stream" : "application/json");
  if (!opt.api_key.empty()) out.headers.emplace_back("x-goog-api-key", opt.api_key);
  out.body = dump_json(body);
  return out;
}

std::vector<StreamPiece> gemini_stream_pieces(std::string_view data) {
  std::vector<StreamPiece> out;
  std::optional<json> doc = parse_json(data);
  if (!doc || !(doc->is_object() || doc->is_array())) {
    out.push_back(error_piece(Err::provider_bad_stream, "unparseable Gemini stream chunk"));
    return out;
  }
  if (const json* err = find_error(*doc)) {
    out.push_back(error_piece(Err::provider_error, describe_error(*err)));
    return out;
  }
  if (!doc->is_object()) {
    out.push_back(error_piece(Err::provider_bad_stream, "unexpected Gemini stream chunk"));
    return out;
  }
  GeminiChunk c = read_chunk(*doc);
  if (!c.block_reason.empty()) {
    out.push_back(error_piece(Err::provider_blocked, "prompt blocked: " + c.block_reason));
  }
  if (!c.text.empty()) out.push_back(delta_piece(std::move(c.text)));
  if (!c.finish_reason.empty()) out.push_back(finish_piece(std::move(c.finish_reason)));
  if (c.has_usage) out.push_back(usage_piece(c.tokens_in, c.tokens_out));
  return out;
}

Result<ChatCompletion> parse_gemini_completion(std::string_view body) {
  std::optional<json> doc = parse_json(body);
  if (!doc) return api_error(Err::provider_bad_reply, "unparseable Gemini response");
  if (const json* err = find_error(*doc)) {
    return api_error(Err::provider_error, describe_error(*err));
  }
  if (!doc->is_object()) return api_error(Err::provider_bad_reply, "unexpected Gemini response");
  GeminiChunk c = read_chunk(*doc);
  if (!c.block_reason.empty()) {
    return api_error(Err::provider_blocked, "prompt blocked: " + c.block_reason);
  }
  if (get_array(*doc, "candidates") == nullptr) {
    return api_error(Err::provider_bad_reply, "Gemini response has no candidates");
  }
  return ChatCompletion{std::move(c.text), c.tokens_in, c.tokens_out, std::move(c.finish_reason)};
}

}  // namespace ec
