// Workers AI text generation, which is a binding call rather than HTTP: the core emits an
// `ai.run` effect with env.AI.run(model, input)'s input, and with `stream: true` the binding
// returns a text/event-stream (developers.cloudflare.com/workers-ai/features/streaming/):
//   data: {"response":"New"}
//   data: {"response":" York"}
//   data: {"response":"","usage":{"prompt_tokens":n,"completion_tokens":m,"total_tokens":t}}
//   data: [DONE]
// Some newer models on Workers AI stream OpenAI-shaped chunks (`choices[].delta`) instead; those
// are read with the OpenAI normaliser.
#pragma once

#include "core/error.hpp"
#include "providers/chat_types.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace ec {

struct WorkersAiRun {
  std::string model;  // "@cf/meta/llama-3.1-8b-instruct"
  json input;         // {messages:[{role,content}], max_tokens?, temperature?, stream}
};

WorkersAiRun workers_ai_chat_input(const ChatRequest& req);

// One SSE event's data → pieces. "[DONE]" is Workers AI's only end signal (its native chunks carry
// no finish reason), so it yields finish("stop"); a consumer keeps the first finish piece it sees.
// Malformed JSON → one "provider.bad_stream" error piece; {"error": …} → "provider.error".
std::vector<StreamPiece> workers_ai_stream_pieces(std::string_view data);

// A non-streamed env.AI.run result ({"response": "...", "usage": {...}}) → the answer.
Result<ChatCompletion> parse_workers_ai_completion(const json& reply);

}  // namespace ec
