// OpenAI Chat Completions on the wire (also spoken by Ollama, llama.cpp, vLLM and other
// "OpenAI-compatible" servers, which is how edgechat reaches a real local model).
//
// Request: POST {endpoint} with `stream: true` and `stream_options: {include_usage: true}`, so the
// stream ends with one extra chunk whose `choices` is [] and whose `usage` holds the totals
// (every earlier chunk has `usage: null`), then `data: [DONE]`
// (platform.openai.com/docs/api-reference/chat/streaming; ChatCompletionStreamOptions).
// Chunks: {"choices":[{"index":0,"delta":{"content":"…"},"finish_reason":null}],"usage":null};
// errors mid-stream arrive as {"error":{"message","type","code"}}.
#pragma once

#include "core/error.hpp"
#include "providers/chat_types.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace ec {

inline constexpr std::string_view kOpenAiDefaultBaseUrl = "https://api.openai.com";

struct OpenAiOptions {
  std::string base_url = std::string(kOpenAiDefaultBaseUrl);
  std::string api_key;  // empty: no Authorization header (local servers need none)
};

// The endpoint for a base URL. Trailing '/' are dropped; then if the last path segment is already
// an API version ("v1", "v1beta", "v4" — 'v' then a digit) or "openai" (Gemini's and Groq's
// OpenAI-compatible bases end so), "/chat/completions" is appended; otherwise
// "/v1/chat/completions". So "https://api.openai.com" and "http://localhost:11434/v1" both work.
std::string openai_chat_url(std::string_view base_url);

// The request. The body carries `max_completion_tokens` for api.openai.com (newer OpenAI models
// reject `max_tokens`) and `max_tokens` elsewhere (what compatible servers understand). The API
// key appears only in the Authorization header.
ProviderHttpRequest openai_chat_request(const ChatRequest& req, const OpenAiOptions& opt);

// One SSE event's data → normalised pieces (see StreamPiece). "[DONE]" yields nothing (the finish
// piece came from `finish_reason`); malformed JSON yields one "provider.bad_stream" error piece.
std::vector<StreamPiece> openai_stream_pieces(std::string_view data);

// A non-streamed response body → the answer. 502 "provider.error" for an error object,
// 502 "provider.bad_reply" for anything unparseable.
Result<ChatCompletion> parse_openai_completion(std::string_view body);

}  // namespace ec
