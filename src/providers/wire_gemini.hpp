// Google Gemini (Generative Language API v1beta) on the wire.
//
// Request: POST {base}/v1beta/models/{model}:streamGenerateContent?alt=sse (":generateContent"
// when not streaming), key in the `x-goog-api-key` header (never in the URL, where it would land
// in logs). Body: `contents` of {role: "user"|"model", parts: [{text}]}, the system prompt as
// `systemInstruction`, and `generationConfig{maxOutputTokens, temperature}`
// (ai.google.dev/api/generate-content).
//
// With alt=sse every event's data is a whole GenerateContentResponse:
// {"candidates":[{"content":{"role":"model","parts":[{"text":"…"}]},"finishReason":"STOP"}],
//  "usageMetadata":{"promptTokenCount":n,"candidatesTokenCount":m,"thoughtsTokenCount":t}}
// There is no [DONE] sentinel: the stream simply ends. Errors are google.rpc.Status objects,
// {"error":{"code":429,"message":"…","status":"RESOURCE_EXHAUSTED"}}.
#pragma once

#include "core/error.hpp"
#include "providers/chat_types.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace ec {

inline constexpr std::string_view kGeminiDefaultBaseUrl =
    "https://generativelanguage.googleapis.com";

struct GeminiOptions {
  std::string base_url = std::string(kGeminiDefaultBaseUrl);  // a fake server's, in tests
  std::string api_key;
};

// Gemini has no "system" turn: system messages are joined (blank line between) into
// systemInstruction; "assistant" becomes "model"; consecutive turns of the same role are merged
// into one content with several parts (Gemini expects alternating turns). A leading "models/" on
// the model name is accepted and stripped; other bytes outside [A-Za-z0-9._-] are %-encoded.
ProviderHttpRequest gemini_chat_request(const ChatRequest& req, const GeminiOptions& opt);

// One SSE event's data → pieces. Text parts marked `thought: true` (thinking summaries) are not
// answer text and are skipped. tokens_out counts candidates + thoughts tokens (both are billed
// as output). finishReason maps STOP→stop, MAX_TOKENS→length, SAFETY/RECITATION/BLOCKLIST/
// PROHIBITED_CONTENT/SPII→content_filter, anything else lowercased. A prompt blocked outright
// (promptFeedback.blockReason, no candidates) is an error piece "provider.blocked".
std::vector<StreamPiece> gemini_stream_pieces(std::string_view data);

// A non-streamed generateContent body → the answer; errors as for parse_openai_completion, plus
// 502 "provider.blocked" for a blocked prompt.
Result<ChatCompletion> parse_gemini_completion(std::string_view body);

}  // namespace ec
