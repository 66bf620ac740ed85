// The provider-neutral shapes of a chat call: what the chat service asks for (ChatRequest), what a
// provider's wire adapter turns it into (ProviderHttpRequest), and what every provider's stream is
// normalised to (StreamPiece). Keeping these apart from any one provider is what lets the chat
// service stream, bill and log without knowing which provider answered.
#pragma once

#include "bindings/fetch_request.hpp"
#include "core/error.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ec {

enum class ChatRole { system, user, assistant };

inline std::string_view role_name(ChatRole r) {
  switch (r) {
    case ChatRole::system:
      return "system";
    case ChatRole::user:
      return "user";
    case ChatRole::assistant:
      return "assistant";
  }
  return "user";
}

inline std::optional<ChatRole> parse_chat_role(std::string_view s) {
  if (s == "system") return ChatRole::system;
  if (s == "user") return ChatRole::user;
  if (s == "assistant") return ChatRole::assistant;
  return std::nullopt;
}

struct ChatMessage {
  ChatRole role = ChatRole::user;
  std::string content;
};

struct ChatRequest {
  std::string model;
  std::vector<ChatMessage> messages;
  int max_tokens = 1024;     // <= 0: let the provider choose (the field is omitted)
  double temperature = 0.7;  // < 0 (or NaN): provider default (the field is omitted)
  bool stream = true;
};

// What a provider's wire adapter produces: a plain outbound fetch (header names lowercase).
using ProviderHttpRequest = FetchRequest;

enum class PieceKind { delta, usage, finish, error };

// One normalised unit of a provider stream.
//  - delta:  `text` is the next piece of the answer (never empty).
//  - usage:  token totals *so far* for the whole request; a later usage piece replaces an earlier
//            one (Gemini repeats usageMetadata on every chunk), so consumers keep the last.
//  - finish: `finish_reason` in a common vocabulary: "stop", "length", "content_filter",
//            "tool_calls", or the provider's own word lowercased.
//  - error:  `error` is the catalog entry (Err::provider_error, provider_bad_stream,
//            provider_blocked, …) and `error_code` its code; `error_message` is the provider's
//            text, for logs.
struct StreamPiece {
  PieceKind kind = PieceKind::delta;
  std::string text;
  int64_t tokens_in = 0;
  int64_t tokens_out = 0;
  std::string finish_reason;
  Err error = Err::provider_error;  // kind == error only
  std::string error_code;
  std::string error_message;
};

// A whole (non-streamed) answer.
struct ChatCompletion {
  std::string text;
  int64_t tokens_in = 0;
  int64_t tokens_out = 0;
  std::string finish_reason;
};

inline StreamPiece delta_piece(std::string text) {
  StreamPiece p;
  p.kind = PieceKind::delta;
  p.text = std::move(text);
  return p;
}

inline StreamPiece usage_piece(int64_t in, int64_t out) {
  StreamPiece p;
  p.kind = PieceKind::usage;
  p.tokens_in = in;
  p.tokens_out = out;
  return p;
}

inline StreamPiece finish_piece(std::string reason) {
  StreamPiece p;
  p.kind = PieceKind::finish;
  p.finish_reason = std::move(reason);
  return p;
}

inline StreamPiece error_piece(Err code, std::string message) {
  StreamPiece p;
  p.kind = PieceKind::error;
  p.error = code;
  p.error_code = code_of(code);
  p.error_message = std::move(message);
  return p;
}

// The OpenAI-style end-of-stream sentinel (`data: [DONE]`), also used by Workers AI.
inline bool is_done_sentinel(std::string_view data) { return data == "[DONE]"; }

}  // namespace ec
