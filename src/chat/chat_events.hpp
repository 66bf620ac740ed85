// The two SSE dialects edgechat speaks to clients, formatted in one place:
//
// edgechat events (POST /api/v1/chats/:id/messages, seed 001's /api/chat, /api/v1/streams/:id),
// whatever provider answered. Every event has `id: N`, its 1-based position in the stream, which
// is also its position in the resumable log, so a reconnect with `Last-Event-ID: N` resumes
// exactly after it. `data` is one JSON object:
//   start    {chatId, messageId, replyTo, streamId, createdAt}
//   sources  {sources: [{n, documentId, title, chunkIndex, headingPath, snippet, score}]}
//   delta    {text}                                   the next piece of the answer
//   usage    {tokensIn, tokensOut, provider, model, estimated}
//   done     {messageId, status, provider, model, finishReason, citations, attempts}
//   error    {code, message, partial, messageId}      the last event of a failed generation
//
// OpenAI chunks (POST /v1/chat/completions with stream: true): chat.completion.chunk objects as
// OpenAI sends them, ending with `data: [DONE]`, so the openai and Vercel AI SDKs read them as is.
#pragma once

#include "core/json.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace ec {

// `event: <name>\nid: <id>\ndata: <json>\n\n`.
std::string chat_event(std::string_view name, int64_t id, const json& data);

// The `delta` event ({"text": …}), built by hand: it is the one event sent per upstream chunk.
std::string chat_delta_event(int64_t id, std::string_view text);

struct OpenAiChunkHead {
  std::string id;  // "chatcmpl-…"
  int64_t created_s = 0;
  std::string model;
};
// A delta chunk; the first one of a stream also carries role "assistant".
std::string openai_delta_chunk(const OpenAiChunkHead& h, std::string_view text, bool first);
// The final chunk with finish_reason (and empty delta).
std::string openai_finish_chunk(const OpenAiChunkHead& h, std::string_view finish_reason);
// The usage chunk sent when the request asked for stream_options.include_usage (choices: []).
std::string openai_usage_chunk(const OpenAiChunkHead& h, int64_t tokens_in, int64_t tokens_out);
// An in-stream error, as OpenAI sends one: data: {"error": {message, type, code}}.
std::string openai_error_chunk(std::string_view code, std::string_view message);
inline constexpr std::string_view kOpenAiDoneLine = "data: [DONE]\n\n";

// A whole chat.completion object (non-streamed).
json openai_completion_json(const OpenAiChunkHead& h, std::string_view text,
                            std::string_view finish_reason, int64_t tokens_in, int64_t tokens_out);

// finish reasons in OpenAI's vocabulary ("stop", "length", "content_filter", "tool_calls").
std::string_view openai_finish_reason(std::string_view reason);

}  // namespace ec
